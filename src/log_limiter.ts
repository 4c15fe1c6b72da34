/**
 * Log lines for expected events (a client gone, a subscriber dropped, a publish refused during
 * an outage) at most once per interval per kind, with a count of what was held back: a flood of
 * clients must not become a flood of log lines. Bugs are logged in full, elsewhere.
 *
 * @module
 */

import type { Logger } from "./log.ts";

/**
 * Logs each kind of expected event at most once per interval.
 *
 * @example
 * ```ts
 * import { LogLimiter } from "./log_limiter.ts";
 * import { stderrLogger } from "./log.ts";
 * const limiter = new LogLimiter(stderrLogger, 10_000);
 * for (let i = 0; i < 1000; i++) limiter.warn("publish-failed", "ssepg: publish failed: the database is away");
 * // one line now; the next one, after 10 s, ends with "(999 more since the last)"
 * ```
 */
export class LogLimiter {
  readonly #logger: Logger;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #kinds = new Map<string, { at: number; held: number }>();

  /**
   * Creates the limiter.
   *
   * @param logger Where lines go.
   * @param interval Milliseconds between two lines of one kind. @default 10_000
   * @param now The clock (tests). @default Date.now
   */
  constructor(logger: Logger, interval = 10_000, now: () => number = Date.now) {
    this.#logger = logger;
    this.#interval = interval;
    this.#now = now;
  }

  /**
   * Logs `message` as a warning unless a line of `kind` went out less than an interval ago.
   *
   * @param kind What happened, e.g. `publish-failed`.
   * @param message The line.
   */
  warn(kind: string, message: string): void {
    this.#log(kind, message, (line) => this.#logger.warn(line));
  }

  /**
   * Logs `message` as information, limited like {@link LogLimiter.warn}.
   *
   * @param kind What happened.
   * @param message The line.
   */
  info(kind: string, message: string): void {
    this.#log(kind, message, (line) => this.#logger.info(line));
  }

  #log(kind: string, message: string, write: (line: string) => void): void {
    const now = this.#now();
    const state = this.#kinds.get(kind);
    if (state && now - state.at < this.#interval) {
      state.held++;
      return;
    }
    const held = state?.held ?? 0;
    this.#kinds.set(kind, { at: now, held: 0 });
    write(held > 0 ? `${message} (${held} more since the last)` : message);
  }
}
