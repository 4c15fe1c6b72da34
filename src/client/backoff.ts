/**
 * How long the client waits before it reconnects.
 *
 * @module
 */

/**
 * The delay before reconnection attempt `failures` after an error: exponential from `base`,
 * capped at `max`, with "equal jitter" (a random point in the upper half), so that clients
 * cut off together do not come back together. At least `floor` (the server's `Retry-After`).
 *
 * @param failures Errors in a row, from 1.
 * @param options `base` (the server's `retry:` hint), `max`, `floor`, `random` (0 ≤ r < 1).
 * @returns Milliseconds.
 *
 * @example
 * ```ts
 * import { errorDelay } from "./backoff.ts";
 * errorDelay(1, { base: 1000, max: 30_000, random: () => 0 }); // 500
 * errorDelay(3, { base: 1000, max: 30_000, random: () => 0.999 }); // ≈ 4000
 * errorDelay(9, { base: 1000, max: 30_000, random: () => 0 }); // 15000
 * ```
 */
export function errorDelay(
  failures: number,
  options: { base: number; max: number; floor?: number; random?: () => number },
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const ceiling = Math.min(options.max, Math.max(options.base, 1) * 2 ** exponent);
  const jittered = ceiling / 2 + (options.random ?? Math.random)() * ceiling / 2;
  return Math.round(Math.max(jittered, options.floor ?? 0));
}
