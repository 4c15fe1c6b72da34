/**
 * The `ssepg` command: `ssepg [serve] [flags]`, `ssepg publish`, `ssepg subscribe`, `ssepg sql`,
 * `--help`, `--version`.
 *
 * @module
 */

import { OPTIONS } from "../config/config.ts";
import { type FlagSpec, parseArgs, UsageError } from "./args.ts";
import { CLIENT_FLAGS, publishCommand, subscribeCommand } from "./client_commands.ts";
import { helpText } from "./help.ts";
import { type CliIo, exitProcess, processIo } from "./io.ts";
import { serveCommand } from "./serve_command.ts";
import { SQL_FLAGS, sqlCommand } from "./sql_command.ts";
import { VERSION } from "../version.ts";

export type { CliIo } from "./io.ts";
export { processIo } from "./io.ts";

const SERVE_FLAGS: FlagSpec[] = OPTIONS.map((o) => ({ flag: o.flag, key: o.name, bool: o.kind === "bool" }));

/**
 * Runs the CLI and resolves with the exit code (it does not exit by itself).
 *
 * @param io Arguments, environment, output and signals.
 * @returns 0 after a graceful stop, `--help` or a publish; 2 for bad usage or config; 1 when the
 * server could not start or a client command failed.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main({ args: ["--version"], env: {}, stdout: console.log, stderr: console.error, onStopSignal: () => () => {} });
 * ```
 */
export async function main(io: CliIo): Promise<number> {
  const command = ["serve", "publish", "subscribe", "sql"].includes(io.args[0]) ? io.args[0] : "serve";
  const rest = io.args[0] === command ? io.args.slice(1) : io.args;
  try {
    const parsed = parseArgs(rest, command === "serve" ? SERVE_FLAGS : command === "sql" ? SQL_FLAGS : CLIENT_FLAGS);
    if (parsed.help) {
      io.stdout(helpText());
      return 0;
    }
    if (parsed.version) {
      io.stdout(`ssepg ${VERSION}`);
      return 0;
    }
    switch (command) {
      case "publish":
        return await publishCommand(io, parsed.positionals, parsed.flags);
      case "subscribe":
        return await subscribeCommand(io, parsed.positionals, parsed.flags);
      case "sql":
        return await sqlCommand(io, parsed.positionals, parsed.flags);
      default:
        if (parsed.positionals.length > 0) {
          throw new UsageError(`Unknown command ${JSON.stringify(parsed.positionals[0])}; see ssepg --help`);
        }
        return await serveCommand(io, parsed.flags);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`ssepg: ${error.message}`);
    return 2;
  }
}

/**
 * Runs the CLI for this process and exits with its code.
 *
 * @example
 * ```ts
 * import { runCli } from "./main.ts";
 * if (import.meta.main) await runCli();
 * ```
 */
export async function runCli(): Promise<void> {
  exitProcess(await main(processIo()));
}
