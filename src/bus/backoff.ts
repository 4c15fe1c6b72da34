/**
 * Reconnection delays for the LISTEN connection.
 *
 * @module
 */

/**
 * Delay before reconnection attempt `attempt` (0-based): 50 ms doubling to a 1 s cap, with
 * ±20 % jitter so a fleet does not reconnect in lockstep. The cap is low on purpose: while the
 * listener is away every NOTIFY is lost, and a refused connection costs the database little.
 *
 * @param attempt How many attempts failed before this one.
 * @param random Source of jitter in [0, 1). @default Math.random
 * @returns Milliseconds to wait.
 *
 * @example
 * ```ts
 * import { backoff } from "./backoff.ts";
 * backoff(0, () => 0.5); // 50
 * backoff(10, () => 0.5); // 1000
 * ```
 */
export function backoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1_000, 50 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + 0.4 * random()));
}
