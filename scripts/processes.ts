/**
 * ssepg server processes under Deno, Bun and Node, for the black-box suites, the test runner
 * and the benchmarks.
 *
 * @module
 */

const decoder = new TextDecoder();
/** The repository root. */
export const root: string = new URL("../", import.meta.url).pathname;

/** A runtime the suites can start servers under. */
export type Runtime = "deno" | "bun" | "node";

/** Every runtime, in the order suites run them. */
export const RUNTIMES: readonly Runtime[] = ["deno", "bun", "node"];

/** Finds an executable in node_modules/.bin, then on PATH. */
export function which(name: string): string | undefined {
  for (const dir of [`${root}node_modules/.bin`, ...(Deno.env.get("PATH") ?? "").split(":")]) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * The command that starts the ssepg CLI under `runtime`, or why it cannot.
 *
 * @returns `[executable, ...args]` or `{ missing }`.
 */
export function serverCommand(runtime: Runtime): string[] | { missing: string } {
  switch (runtime) {
    case "deno":
      return [Deno.execPath(), "run", "-A", `${root}mod.ts`];
    case "bun": {
      const bun = which("bun");
      return bun ? [bun, "run", `${root}mod.ts`] : { missing: "bun is not installed (npm install)" };
    }
    case "node": {
      const node = which("node");
      if (!node) return { missing: "node is not on PATH" };
      try {
        Deno.statSync(`${root}dist/cli.js`);
      } catch {
        return { missing: "dist/cli.js is missing (npm run build)" };
      }
      return [node, `${root}dist/cli.js`];
    }
  }
}

/** The runtimes the suites should cover, from `SSEPG_TEST_RUNTIMES` (default: all). */
export function runtimesUnderTest(): Runtime[] {
  const list = Deno.env.get("SSEPG_TEST_RUNTIMES");
  return list ? list.split(",").filter((r): r is Runtime => (RUNTIMES as string[]).includes(r)) : [...RUNTIMES];
}

/** A running server process. */
export interface ServerProcess {
  readonly runtime: Runtime;
  readonly url: string;
  readonly pid: number;
  readonly child: Deno.ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Servers `startProcess` started, by URL, until they exit. */
const running = new Map<string, ServerProcess>();

/**
 * Starts `ssepg serve` under `runtime` on 127.0.0.1 and a free port and waits for its
 * `ssepg listening on …` line.
 */
export async function startProcess(
  runtime: Runtime,
  options: { env?: Record<string, string>; args?: string[]; command?: string[]; cwd?: string; timeout?: number } = {},
): Promise<ServerProcess> {
  const command = options.command ?? serverCommand(runtime);
  if (!Array.isArray(command)) throw new Error(`Cannot start a ${runtime} server: ${command.missing}`);
  const [exe, ...base] = command;
  const child = new Deno.Command(exe, {
    args: [...base, ...(options.args ?? ["serve", "--port", "0", "--host", "127.0.0.1"])],
    cwd: options.cwd ?? root,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  void (async () => {
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk);
  })();
  const reader = child.stdout.getReader();
  let stdout = "";
  const deadline = Date.now() + (options.timeout ?? 30_000);
  while (!stdout.includes("\n")) {
    const left = deadline - Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), Math.max(0, left))),
    ]);
    clearTimeout(timer);
    if (next === "timeout" || next.done) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      throw new Error(
        `${runtime} server did not print its listening line: stdout ${JSON.stringify(stdout)}, stderr ${stderr}`,
      );
    }
    stdout += decoder.decode(next.value);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const { done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
    }
  })();
  const url = /ssepg listening on (http:\/\/\S+)/.exec(stdout)?.[1];
  if (!url) throw new Error(`Unexpected first line from the ${runtime} server: ${stdout}`);
  let exited: Promise<number> | undefined;
  const server: ServerProcess = {
    runtime,
    url,
    pid: child.pid,
    child,
    stderr: () => stderr,
    stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch { /* already gone */ }
        exited = child.status.then((s) => s.code);
      }
      return exited;
    },
  };
  running.set(url, server);
  void child.status.then(() => {
    if (running.get(url) === server) running.delete(url);
  });
  return server;
}

/**
 * The running server that `startProcess` started at `url`, so a suite that only knows its
 * servers' URLs can read their stderr; undefined for any other URL or once it exited.
 *
 * @example
 * ```ts
 * import { processAt } from "./processes.ts";
 * processAt("http://127.0.0.1:8080")?.stderr();
 * ```
 */
export function processAt(url: string): ServerProcess | undefined {
  return running.get(url);
}
