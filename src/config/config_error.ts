/**
 * The error a bad configuration value throws, and the one message format every such error uses.
 *
 * @module
 */

import type { OptionSpec } from "./options.ts";

/**
 * A configuration value that breaks its option's rule.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./config_error.ts";
 * import { resolveConfig } from "./resolve.ts";
 * try {
 *   resolveConfig({ env: { SSEPG_RING_CAPACITY: "1000" } });
 * } catch (error) {
 *   if (error instanceof ConfigError) console.error(error.message, error.option);
 * }
 * ```
 */
export class ConfigError extends Error {
  /** The config field name of the offending option. */
  readonly option: string;

  /**
   * Creates the error.
   *
   * @param option The config field name.
   * @param message What is allowed and what was found.
   *
   * @example
   * ```ts
   * import { ConfigError } from "./config_error.ts";
   * throw new ConfigError("port", "Cannot use port (--port, PORT) as it must be a whole number within 0-65535");
   * ```
   */
  constructor(option: string, message: string) {
    super(message);
    this.name = "ConfigError";
    this.option = option;
  }
}

/**
 * Builds the error for `value` of `spec`, naming the option, its flag and env, the value and
 * what is allowed, so a user can fix it whichever way they set it.
 *
 * @param spec The option.
 * @param value The value as given (text from env or flags, or a library value).
 * @param allowed What the option accepts, e.g. `a power of two`.
 * @param origin Where the value came from: a flag, an env name, or `config` for library values.
 * @returns The error to throw.
 *
 * @example
 * ```ts
 * import { invalidValue } from "./config_error.ts";
 * import { OPTIONS } from "./options.ts";
 * const error = invalidValue(OPTIONS[0], "abc", "a whole number within 0-65535", "PORT");
 * error.message; // Cannot use port (--port, PORT) as it must be a whole number within 0-65535: current value is "abc" (from PORT)
 * ```
 */
export function invalidValue(spec: OptionSpec, value: unknown, allowed: string, origin?: string): ConfigError {
  const shown = spec.secret ? `${String(value).length} characters (not shown)` : typeof value === "string"
    // Any URL-like value may carry a password (DATABASE_URL, a JWKS URL): never show it.
    ? JSON.stringify(withoutPassword(value))
    : String(value);
  const from = origin && origin !== "config" ? ` (from ${origin})` : "";
  return new ConfigError(
    spec.name,
    `Cannot use ${spec.name} (${spec.flag}, ${spec.env}) as it must be ${allowed}: current value is ${shown}${from}`,
  );
}

/** A URL's password replaced by `***`, so an error message does not leak it into logs. */
function withoutPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*:)[^@/]*@/i, "$1***@");
}
