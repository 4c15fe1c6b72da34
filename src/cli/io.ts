/**
 * What the CLI needs from the process, and how each runtime provides it. Runtime detection
 * lives here and in src/serve/, nowhere else.
 *
 * @module
 */

/**
 * What the CLI needs from the process; `processIo()` provides it for this runtime.
 *
 * @example
 * ```ts
 * import type { CliIo } from "./io.ts";
 * const io: CliIo = { args: ["--version"], env: {}, stdout: console.log, stderr: console.error, onStopSignal: () => () => {} };
 * ```
 */
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

/**
 * The {@link CliIo} of the current runtime (Deno, Bun or Node).
 *
 * @returns Arguments, environment, console output and SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { processIo } from "./io.ts";
 * import { main } from "../cli.ts";
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
 * Ends the process with `code` on this runtime.
 *
 * @param code The exit code.
 *
 * @example
 * ```ts
 * import { exitProcess } from "./io.ts";
 * exitProcess(0);
 * ```
 */
export function exitProcess(code: number): never {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  if (deno) deno.exit(code);
  return (globalThis as unknown as { process: NodeLikeProcess }).process.exit(code);
}
