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
  info(message: string, fields?: LogFields): void;
  /** Something a human should look at. */
  warn(message: string, fields?: LogFields): void;
  /** Something failed. */
  error(message: string, fields?: LogFields): void;
}

/**
 * Structured details of a log line: shown after the message as text, as `fields` in JSON.
 *
 * @example
 * ```ts
 * import type { LogFields } from "./log.ts";
 * const fields: LogFields = { topic: "alpha", attempts: 3 };
 * ```
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

/**
 * A logger writing lines with `write`: `text` as the message (fields appended as `key=value`),
 * or `json`, one object per line with `time` (ISO 8601), `level`, `message` (without the
 * `ssepg: ` prefix) and, when given, `fields`, for log pipelines.
 *
 * @param format `text` or `json` (`logFormat`).
 * @param write Where each line goes, e.g. `console.error`.
 * @param now The clock, for tests.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const logger = createLogger("json", console.error);
 * logger.warn("ssepg: LISTEN connection lost; reconnecting", { attempts: 1 });
 * // {"time":"2026-12-01T15:00:00.000Z","level":"warn","message":"LISTEN connection lost; reconnecting","fields":{"attempts":1}}
 * ```
 */
export function createLogger(
  format: string,
  write: (line: string) => void,
  now: () => Date = () => new Date(),
): Logger {
  const line = format === "json"
    ? (level: string) => (message: string, fields?: LogFields) =>
      write(JSON.stringify({
        time: now().toISOString(),
        level,
        message: message.startsWith("ssepg: ") ? message.slice(7) : message,
        ...(fields ? { fields } : {}),
      }))
    : () => (message: string, fields?: LogFields) =>
      write(
        fields
          ? `${message} ${
            Object.entries(fields).map(([k, v]) => `${k}=${typeof v === "string" ? JSON.stringify(v) : v}`).join(" ")
          }`
          : message,
      );
  return { info: line("info"), warn: line("warn"), error: line("error") };
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
