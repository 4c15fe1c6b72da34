/**
 * The `ssepg` command: `ssepg [serve] [flags]`, `--help`, `--version`.
 *
 * Reads flags and environment (flags win), validates them (exit 2 before listening on a bad
 * value), starts the server and stops it gracefully on SIGINT or SIGTERM (exit 0).
 *
 * @module
 */

import { ConfigError, OPTIONS, type OptionSpec, resolveConfig } from "./config.ts";
import { formatDuration } from "./duration.ts";
import { securityPosture } from "./security.ts";
import type { EmbeddedPostgres } from "./serve/embedded_postgres.ts";
import { serve } from "./serve/mod.ts";
import { stderrLogger } from "./log.ts";
import { VERSION } from "./version.ts";

/** What the CLI needs from the process; {@link processIo} provides it for this runtime. */
export interface CliIo {
  /** Arguments after the program name. */
  readonly args: readonly string[];
  /** Environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes a line to stdout. */
  stdout(line: string): void;
  /** Writes a line to stderr. */
  stderr(line: string): void;
  /** Calls `handler` on SIGINT and SIGTERM; returns a function that stops listening. */
  onStopSignal(handler: (signal: string) => void): () => void;
}

class UsageError extends Error {}

interface ParsedArgs {
  command: string;
  flags: Record<string, string | boolean>;
  help: boolean;
  version: boolean;
}

const BY_FLAG = new Map<string, OptionSpec>(OPTIONS.map((o) => [o.flag, o]));

function parseArgs(args: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { command: "serve", flags: {}, help: false, version: false };
  let sawCommand = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") parsed.help = true;
    else if (arg === "--version" || arg === "-V") parsed.version = true;
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const flag = eq < 0 ? arg : arg.slice(0, eq);
      const spec = BY_FLAG.get(flag);
      if (!spec) throw new UsageError(`Unknown flag ${flag}; see ssepg --help`);
      if (eq >= 0) parsed.flags[spec.name] = arg.slice(eq + 1);
      else if (spec.kind === "bool") {
        const next = args[i + 1];
        if (next !== undefined && /^(true|false|1|0|yes|no|on|off)$/i.test(next)) parsed.flags[spec.name] = args[++i];
        else parsed.flags[spec.name] = true;
      } else {
        const next = args[i + 1];
        if (next === undefined) throw new UsageError(`Flag ${flag} needs a value`);
        parsed.flags[spec.name] = next;
        i++;
      }
    } else if (!sawCommand) {
      parsed.command = arg;
      sawCommand = true;
    } else throw new UsageError(`Unexpected argument ${JSON.stringify(arg)}; see ssepg --help`);
  }
  if (parsed.command !== "serve") {
    throw new UsageError(`Unknown command ${JSON.stringify(parsed.command)}; see ssepg --help`);
  }
  return parsed;
}

const GROUPS: Record<OptionSpec["group"], string> = {
  server: "Server",
  database: "Database",
  security: "Security",
  streams: "Streams",
  limits: "Limits",
  operations: "Operations",
};

/**
 * The `--help` text: usage, then every option grouped, with its env variable and default.
 *
 * @returns The help text.
 *
 * @example
 * ```ts
 * import { helpText } from "./cli.ts";
 * console.log(helpText());
 * ```
 */
export function helpText(): string {
  const lines = [
    `ssepg ${VERSION}: Server-Sent Events fan-out over PostgreSQL LISTEN/NOTIFY`,
    "",
    "Usage: ssepg [serve] [flags]",
    "       ssepg --help | --version",
    "",
    "Flags win over environment variables; durations take 250ms, 15s, 10m or milliseconds.",
  ];
  for (const [group, title] of Object.entries(GROUPS)) {
    lines.push("", `${title}:`);
    for (const o of OPTIONS.filter((x) => x.group === group)) {
      const value = o.kind === "bool" ? "" : o.kind === "duration" ? " <duration>" : " <value>";
      const shown = o.default === undefined
        ? "unset"
        : o.kind === "duration"
        ? formatDuration(o.default as number)
        : String(o.default);
      lines.push(`  ${(o.flag + value).padEnd(42)} ${o.help}`);
      lines.push(`  ${"".padEnd(42)} env ${o.env}, default ${shown}`);
    }
  }
  return lines.join("\n");
}

/**
 * Runs the CLI and resolves with the exit code (it does not exit by itself).
 *
 * @param io Arguments, environment, output and signals.
 * @returns 0 after a graceful stop or `--help`; 2 for bad usage or config; 1 when the server
 * could not start.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * const code = await main({ args: ["--version"], env: {}, stdout: console.log, stderr: console.error, onStopSignal: () => () => {} });
 * ```
 */
export async function main(io: CliIo): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(io.args);
  } catch (error) {
    io.stderr(`ssepg: ${(error as Error).message}`);
    return 2;
  }
  if (parsed.help) {
    io.stdout(helpText());
    return 0;
  }
  if (parsed.version) {
    io.stdout(`ssepg ${VERSION}`);
    return 0;
  }
  let config;
  try {
    config = resolveConfig({ env: io.env, flags: parsed.flags });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`ssepg: ${error.message}`);
      return 2;
    }
    throw error;
  }

  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = config.databaseUrl;
  if (config.embeddedPostgres && !databaseUrl) {
    const { startEmbeddedPostgres } = await import("./serve/embedded_postgres.ts");
    try {
      embedded = await startEmbeddedPostgres();
    } catch (error) {
      io.stderr(`ssepg: cannot start the embedded PostgreSQL: ${(error as Error).message}`);
      return 1;
    }
    databaseUrl = embedded.url;
    io.stderr(
      `ssepg: embedded PostgreSQL at ${databaseUrl} (more instances can join with --database-url ${databaseUrl})`,
    );
  }

  for (const line of securityPosture(config)) io.stderr(line);
  let server;
  try {
    server = await serve({ ...config, databaseUrl, logger: stderrLogger });
  } catch (error) {
    io.stderr(`ssepg: cannot start: ${(error as Error).message}`);
    await embedded?.stop();
    return 1;
  }

  const signal = await new Promise<string>((resolve) => {
    const off = io.onStopSignal((name) => {
      off();
      resolve(name);
    });
  });
  io.stderr(`ssepg: ${signal} received, draining for up to ${formatDuration(config.gracefulDrain)}`);
  await server.shutdown();
  await embedded?.stop();
  io.stderr("ssepg: stopped");
  return 0;
}

/**
 * The {@link CliIo} of the current runtime (Deno, Bun or Node).
 *
 * @returns Arguments, environment, console output and SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { main, processIo } from "./cli.ts";
 * const code = await main(processIo());
 * ```
 */
export function processIo(): CliIo {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  const stdout = (line: string) => console.log(line);
  const stderr = (line: string) => console.error(line);
  if (deno) {
    return {
      args: deno.args,
      env: deno.env.toObject(),
      stdout,
      stderr,
      onStopSignal(handler) {
        const onInt = () => handler("SIGINT");
        const onTerm = () => handler("SIGTERM");
        deno.addSignalListener("SIGINT", onInt);
        deno.addSignalListener("SIGTERM", onTerm);
        return () => {
          deno.removeSignalListener("SIGINT", onInt);
          deno.removeSignalListener("SIGTERM", onTerm);
        };
      },
    };
  }
  const proc = (globalThis as unknown as { process: NodeLikeProcess }).process;
  return {
    args: proc.argv.slice(2),
    env: proc.env,
    stdout,
    stderr,
    onStopSignal(handler) {
      const onInt = () => handler("SIGINT");
      const onTerm = () => handler("SIGTERM");
      proc.on("SIGINT", onInt);
      proc.on("SIGTERM", onTerm);
      return () => {
        proc.off("SIGINT", onInt);
        proc.off("SIGTERM", onTerm);
      };
    },
  };
}

/** The part of Deno's API the CLI uses, so the npm build type-checks without Deno's types. */
interface DenoLike {
  readonly args: string[];
  readonly env: { toObject(): Record<string, string> };
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  removeSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  exit(code: number): never;
}

interface NodeLikeProcess {
  argv: string[];
  env: Record<string, string | undefined>;
  exitCode?: number;
  on(event: string, handler: () => void): void;
  off(event: string, handler: () => void): void;
  exit(code: number): never;
}

/**
 * Runs the CLI for this process and exits with its code.
 *
 * @example
 * ```ts
 * import { runCli } from "./cli.ts";
 * if (import.meta.main) await runCli();
 * ```
 */
export async function runCli(): Promise<void> {
  const code = await main(processIo());
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (deno) deno.exit(code);
  (globalThis as unknown as { process: NodeLikeProcess }).process.exit(code);
}
