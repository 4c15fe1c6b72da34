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
 * import { main } from "./main.ts";
 * const code = await main(processIo());
 * ```
 */
export function processIo(): CliIo {
  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  const proc = deno ? undefined : (globalThis as unknown as { process: NodeLikeProcess }).process;
  const listen = deno
    ? { on: deno.addSignalListener.bind(deno), off: deno.removeSignalListener.bind(deno) }
    : { on: proc!.on.bind(proc!), off: proc!.off.bind(proc!) };
  return {
    args: deno ? deno.args : proc!.argv.slice(2),
    env: deno ? deno.env.toObject() : proc!.env,
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
    onStopSignal(handler) {
      const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => [signal, () => handler(signal)] as const);
      for (const [signal, fn] of handlers) listen.on(signal, fn);
      return () => {
        for (const [signal, fn] of handlers) listen.off(signal, fn);
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
