/**
 * The logger ssepg writes to. Everything goes to stderr except the one `listening` line.
 *
 * @module
 */

/**
 * Where ssepg logs; `console` fits.
 *
 * @example
 * ```ts
 * import type { Logger } from "./log.ts";
 * const logger: Logger = { info: console.info, warn: console.warn, error: console.error };
 * ```
 */
export interface Logger {
  /** Normal operation. */
  info(message: string): void;
  /** Something a human should look at. */
  warn(message: string): void;
  /** Something failed. */
  error(message: string): void;
}

/**
 * A logger that writes every level to stderr (`console.error`), keeping stdout for the
 * `ssepg listening on …` line that scripts wait for.
 *
 * @example
 * ```ts
 * import { stderrLogger } from "./log.ts";
 * stderrLogger.info("ssepg: hello");
 * ```
 */
export const stderrLogger: Logger = {
  info: (message) => console.error(message),
  warn: (message) => console.error(message),
  error: (message) => console.error(message),
};

/**
 * A logger that drops everything, for tests and embedding.
 *
 * @example
 * ```ts
 * import { silentLogger } from "./log.ts";
 * silentLogger.warn("never printed");
 * ```
 */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
