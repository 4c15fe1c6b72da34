/**
 * Resolving the configuration: defaults, env, flags and library values, layered, parsed and
 * checked once into a frozen {@link Config} that later calls recognise and pass through.
 *
 * @module
 */

import { invalidValue } from "./config_error.ts";
import { type Config, type ConfigInput, OPTIONS } from "./options.ts";
import { parseOptionValue } from "./parse.ts";

/**
 * Where the raw values come from; every layer is optional.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./resolve.ts";
 * resolveConfig({ env: { PORT: "1" }, flags: { port: "2" }, overrides: { port: 3 } }).port; // 3
 * ```
 */
export interface ConfigSources {
  /** Environment variables (e.g. `Deno.env.toObject()` or `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Parsed command-line flags, keyed by config field name. */
  readonly flags?: Readonly<Record<string, string | boolean | undefined>>;
  /** Library values, which win over everything; a resolved {@link Config} is passed through. */
  readonly overrides?: ConfigInput;
}

// The configs resolveConfig built. A WeakSet rather than a property: it cannot be forged or
// copied by a spread, so a copy with one field changed is validated again.
const RESOLVED = new WeakSet<object>();

/**
 * Tells whether `value` is a configuration {@link resolveConfig} built (frozen and validated),
 * not merely an object with the same fields.
 *
 * @param value Anything.
 * @returns True for the very objects `resolveConfig` returned.
 *
 * @example
 * ```ts
 * import { isResolvedConfig, resolveConfig } from "./resolve.ts";
 * const config = resolveConfig();
 * isResolvedConfig(config); // true
 * isResolvedConfig({ ...config }); // false
 * ```
 */
export function isResolvedConfig(value: unknown): value is Config {
  return typeof value === "object" && value !== null && RESOLVED.has(value);
}

/**
 * Builds the validated configuration from defaults, env, flags and library overrides.
 *
 * A resolved {@link Config} given as the only source (`{ overrides: config }`) is returned as is,
 * so a config resolved by the CLI goes through `createSsepg` without being parsed twice.
 *
 * @param sources The layers, lowest precedence first: env, flags, overrides.
 * @returns A frozen {@link Config}.
 * @throws {ConfigError} naming the option, the value and what is allowed.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./resolve.ts";
 * const config = resolveConfig({ env: { PORT: "9000", SSEPG_KEEP_ALIVE: "5s" } });
 * config.port; // 9000
 * config.keepAlive; // 5000
 * resolveConfig({ overrides: config }) === config; // true
 * ```
 */
export function resolveConfig(sources: ConfigSources = {}): Config {
  const { env, flags, overrides } = sources;
  // With env or flags too, the config's unset fields would take their values: resolve as usual.
  if (env === undefined && flags === undefined && isResolvedConfig(overrides)) return overrides;
  const out: Record<string, unknown> = {};
  const raw: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const spec of OPTIONS) {
    const override = overrides?.[spec.name];
    const flag = flags?.[spec.name];
    const fromEnv = env?.[spec.env];
    let value: unknown = spec.default;
    let origin = "default";
    if (override !== undefined) [value, origin] = [override, "config"];
    else if (flag !== undefined) [value, origin] = [flag, spec.flag];
    else if (fromEnv !== undefined && fromEnv !== "") [value, origin] = [fromEnv, spec.env];
    raw[spec.name] = value;
    origins[spec.name] = origin;
    out[spec.name] = origin === "default" ? value : parseOptionValue(spec, value, origin);
  }
  // An option that follows another takes its value when unset (the other comes first).
  for (const spec of OPTIONS) {
    if (spec.follows !== undefined && out[spec.name] === undefined) out[spec.name] = out[spec.follows];
  }
  // Rules run once every field is parsed, because some compare two options.
  for (const spec of OPTIONS) {
    const value = out[spec.name];
    if (value === undefined || !spec.rule) continue;
    // Each rule takes its own kind's value, which is what parseOptionValue gave for this spec.
    const rule = spec.rule as (value: unknown, config: Readonly<Record<string, unknown>>) => string | undefined;
    const allowed = rule(value, out);
    if (allowed) throw invalidValue(spec, raw[spec.name], allowed, origins[spec.name]);
  }
  // Every field of Config was set above, from the same table that defines the type.
  const config = Object.freeze(out) as Config;
  RESOLVED.add(config);
  return config;
}
