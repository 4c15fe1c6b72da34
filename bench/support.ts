/**
 * What the benchmark scripts share: command-line flags, sleeping and reading a process's RSS.
 *
 * @module
 */

/**
 * The value after `--name` on the command line.
 *
 * @param name Flag name without dashes.
 * @param fallback Value when the flag is absent.
 * @returns The value.
 *
 * @example
 * ```ts
 * import { flag } from "./support.ts";
 * const connections = Number(flag("connections", "10000"));
 * ```
 */
export function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : fallback;
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms Delay.
 * @returns A promise.
 *
 * @example
 * ```ts
 * import { sleep } from "./support.ts";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resident set size of a process, from /proc.
 *
 * @param pid Process id.
 * @returns RSS in MB.
 *
 * @example
 * ```ts
 * import { rssMb } from "./support.ts";
 * rssMb(Deno.pid);
 * ```
 */
export function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) / 1024;
}

/**
 * RSS once the heap settles: the lowest of `readings` readings `gapMs` apart.
 *
 * @param pid Process id.
 * @param readings How many readings.
 * @param gapMs Time before each reading.
 * @returns RSS in MB.
 *
 * @example
 * ```ts
 * import { settledRssMb } from "./support.ts";
 * await settledRssMb(Deno.pid, 2, 10);
 * ```
 */
export async function settledRssMb(pid: number, readings = 5, gapMs = 400): Promise<number> {
  let low = Infinity;
  for (let i = 0; i < readings; i++) {
    await sleep(gapMs);
    low = Math.min(low, rssMb(pid));
  }
  return low;
}
