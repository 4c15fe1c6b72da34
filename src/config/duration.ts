/**
 * Duration strings as users write them in flags and environment variables.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/**
 * Parses `250ms`, `15s`, `10m`, `1h` or a plain number of milliseconds.
 *
 * @param text The duration as written by a user.
 * @returns The duration in whole milliseconds, or `undefined` when `text` is not a duration.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("15s"); // 15000
 * parseDuration("250"); // 250
 * parseDuration("soon"); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? "ms"]);
}

/**
 * Formats milliseconds the way `parseDuration` reads them back, for help texts and logs.
 *
 * @param ms A duration in milliseconds.
 * @returns The shortest exact form: `10m`, `15s`, `250ms`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * formatDuration(600_000); // "10m"
 * ```
 */
export function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"]) {
    const size = UNIT_MS[unit];
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
