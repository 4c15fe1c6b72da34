/**
 * Runs a server or CLI command to its end (or stops it after a while) and collects its output,
 * for tests of what the process prints and how it exits.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * Runs `command` with `args`, sending SIGTERM after `ms` if it is still running.
 *
 * @param command The runtime's command (`serverCommand(runtime)`).
 * @param args Arguments after it.
 * @param env Extra environment (NO_COLOR is set).
 * @param ms How long before SIGTERM.
 * @returns The exit code and the decoded stdout and stderr.
 */
export async function runCommand(
  command: readonly string[],
  args: readonly string[],
  env: Record<string, string>,
  ms = 15_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(command[0], {
    args: [...command.slice(1), ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGTERM"), ms);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}
