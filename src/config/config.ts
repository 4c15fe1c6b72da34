/**
 * The ssepg configuration: every option with its flag, environment variable, default and rule.
 *
 * Values come from three layers (flags win over env, env over defaults) and are validated once
 * into a frozen {@link Config}. A bad value throws a {@link ConfigError} that names the option,
 * the value and what is allowed.
 *
 * This module gathers the public names; the table is in `options.ts`, parsing in `parse.ts`,
 * layering in `resolve.ts` and the error in `config_error.ts`.
 *
 * @example
 * ```ts
 * import { type Config, resolveConfig } from "./config.ts";
 * const config: Config = resolveConfig({ env: { PORT: "9000" } });
 * config.port; // 9000
 * ```
 *
 * @module
 */

export { ConfigError } from "./config_error.ts";
export { OPTION_TABLE, OPTIONS } from "./options.ts";
export type {
  Config,
  ConfigInput,
  OptionEntry,
  OptionGroup,
  OptionKind,
  OptionRule,
  OptionSpec,
  OptionTable,
  OptionValues,
} from "./options.ts";
export { type ConfigSources, isResolvedConfig, resolveConfig } from "./resolve.ts";
