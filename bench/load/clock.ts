/**
 * One wall clock for the publisher and every subscriber thread: milliseconds since the Unix epoch
 * with sub-millisecond resolution. `performance.now()` is precise but each thread has its own
 * origin; `Date.now()` is shared but whole milliseconds. At start-up each thread waits for
 * `Date.now()` to tick and pins `performance.now()` to that instant, so timestamps taken in
 * different threads (or processes) agree to a few microseconds.
 *
 * @module
 */

function calibrate(): number {
  let offset = -Infinity;
  for (let i = 0; i < 3; i++) {
    const start = Date.now();
    let wall: number;
    let mono: number;
    do {
      mono = performance.now();
      wall = Date.now();
    } while (wall === start);
    // The tick happened between the previous read and `wall`: `mono` is at most one loop
    // step before it, so `wall - mono` is the offset to within that step.
    offset = Math.max(offset, wall - mono);
  }
  return offset;
}

const offset = calibrate();

/**
 * The shared clock.
 *
 * @returns Milliseconds since the epoch, fractional.
 *
 * @example
 * ```ts
 * import { now } from "./clock.ts";
 * const sentAt = now();
 * ```
 */
export function now(): number {
  return offset + performance.now();
}
