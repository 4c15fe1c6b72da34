/**
 * `createSsepg`: one ssepg instance as a library — a Web-standard `fetch` handler, Hono routes,
 * programmatic publish and subscribe, and a graceful `close()`.
 *
 * It reads no environment, files or signals, so it runs wherever `fetch` handlers run.
 *
 * @module
 */

import { Hono } from "hono";
import type { Bus } from "./bus/bus.ts";
import { BusUnavailableError } from "./bus/bus.ts";
import { encodeEnvelope, utf8Length } from "./bus/envelope.ts";
import { MemoryBus } from "./bus/memory.ts";
import { PostgresBus } from "./bus/postgres/postgres_bus.ts";
import { type Config, type ConfigInput, resolveConfig } from "./config/config.ts";
import { healthResponse, METRICS_PATH, metricsResponse, registerRoutes, type RouteTarget } from "./http/app.ts";
import { metricsText } from "./http/metrics.ts";
import { openEventStream } from "./sse/event_stream.ts";
import { offerPublishRoute, type PublishRoute } from "./http/publish.ts";
import { readBodyLimited } from "./http/body.ts";
import { type Deflate, loadDeflate } from "./sse/gzip.ts";
import { type HealthReport, healthReport } from "./http/health.ts";
import { drainingProblem, HttpProblem } from "./http/problem.ts";
import { Dispatcher } from "./dispatcher/dispatcher.ts";
import { memoryModelFor } from "./dispatcher/memory_model.ts";
import type { SsepgEvent } from "./dispatcher/event.ts";
import type { Subscriber, SubscriberSink } from "./dispatcher/subscriber.ts";
import { createIdGenerator } from "./id.ts";
import { type Logger, stderrLogger } from "./log.ts";
import { normalizeTopic, parseTopicList } from "./topic.ts";

/**
 * Options of {@link createSsepg}: any config field, plus what only a library caller can give.
 *
 * @example
 * ```ts
 * import type { SsepgOptions } from "./service.ts";
 * const options: SsepgOptions = { databaseUrl: "postgres://postgres@127.0.0.1:5432/postgres", keepAlive: "10s", runtime: "deno 2" };
 * ```
 */
export interface SsepgOptions extends ConfigInput {
  /** Where ssepg logs. @default every level to stderr */
  readonly logger?: Logger;
  /** A bus to use instead of the one `databaseUrl` selects (tests, custom transports). */
  readonly bus?: Bus;
  /** Runtime name and version for the health report, e.g. `deno 2.9.6`. */
  readonly runtime?: string;
  /**
   * A check after the tokens: return false to refuse with 403, or throw an `HttpProblem` for
   * another answer. Called for every publish and every stream, with the normalised topics.
   */
  readonly authorize?: Authorize;
}

/**
 * The `authorize` hook of {@link SsepgOptions}.
 *
 * @example
 * ```ts
 * import type { Authorize } from "./service.ts";
 * const onlyOwnTopics: Authorize = (request, topics) =>
 *   topics.every((t) => t.startsWith(`user-${request.headers.get("x-user-id")}-`));
 * ```
 */
export type Authorize = (
  request: Request,
  topics: readonly string[],
  action: "publish" | "listen",
) => boolean | Promise<boolean>;

/**
 * Options of {@link Ssepg.subscribe}.
 *
 * @example
 * ```ts
 * import type { SubscribeOptions } from "./service.ts";
 * const options: SubscribeOptions = { lastEventId: "e1", onGap: (id) => console.log("missed events after", id) };
 * ```
 */
export interface SubscribeOptions {
  /** Resume after this event id when the ring still holds it. */
  readonly lastEventId?: string;
  /** Called when events may have been missed (unknown `lastEventId`, bus reconnect). */
  readonly onGap?: (lastEventId: string | undefined) => void;
}

/**
 * A Hono app (any `new Hono()`), described by shape so that ssepg's API does not expose Hono's
 * generic types.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { HonoApp } from "./service.ts";
 * const app: HonoApp = new Hono();
 * ```
 */
export interface HonoApp {
  /** Hono's route registration. */
  on: (...args: never[]) => unknown;
  /** Hono's fetch handler. */
  fetch: (request: Request, ...rest: never[]) => Response | Promise<Response>;
}

/**
 * One ssepg instance.
 *
 * @example
 * ```ts
 * import { createSsepg } from "./service.ts";
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
  /** Web-standard handler for every route (health too unless `healthPort` is set). */
  fetch(request: Request): Promise<Response>;
  /** Handler for the health port: health and metrics, nothing else. */
  healthFetch(request: Request): Promise<Response>;
  /** Adds the routes to a Hono app next to the app's own. */
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
 * @param options Config fields (SPEC §2) and library-only options.
 * @returns The running instance.
 * @throws {ConfigError} for a bad option; the database's error when it cannot LISTEN.
 *
 * @example
 * ```ts
 * import { createSsepg } from "./service.ts";
 * const svc = await createSsepg({ keepAlive: "10s", logger: { info() {}, warn() {}, error() {} } });
 * const off = svc.subscribe("alpha", (event) => console.log(event.data));
 * await svc.publish("alpha", { msg: "hi" });
 * off();
 * await svc.close();
 * ```
 */
export async function createSsepg(options: SsepgOptions = {}): Promise<Ssepg> {
  const { logger = stderrLogger, bus: customBus, runtime, authorize, ...input } = options;
  const config = resolveConfig({ overrides: input });
  const bus = customBus ??
    (config.databaseUrl
      ? new PostgresBus({ url: config.databaseUrl, notifyShards: config.notifyShards, logger })
      : new MemoryBus());
  const service = new SsepgService(config, bus, logger, runtime ?? detectRuntime(), authorize);
  await service.start();
  return service;
}

function detectRuntime(): string {
  // The user agent is Web-standard; the serve layer passes an exact name and version instead.
  const agent = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? "unknown";
  const [name, version] = agent.split(" ")[0].split("/");
  return version ? `${name.toLowerCase().replace("node.js", "node")} ${version}` : name.toLowerCase();
}

class SsepgService implements Ssepg, RouteTarget {
  readonly config: Config;
  readonly #bus: Bus;
  readonly #logger: Logger;
  readonly #runtime: string;
  readonly #dispatcher: Dispatcher;
  readonly #app: Hono;
  readonly #nextId = createIdGenerator();
  #draining = false;
  #closed: Promise<void> | undefined;
  /** Ids this instance published that have not come back through the bus yet. */
  readonly #ownInFlight = new Set<string>();
  #queuePoll: ReturnType<typeof setInterval> | undefined;
  #queueWarned = false;

  readonly #authorize: Authorize | undefined;
  /** The publish route, when no authorize hook needs the Web Request and the router. */
  readonly #publishRoute: PublishRoute | undefined;
  #deflate: Deflate | undefined;

  constructor(config: Config, bus: Bus, logger: Logger, runtime: string, authorize?: Authorize) {
    this.config = config;
    this.#authorize = authorize;
    this.#bus = bus;
    this.#logger = logger;
    this.#runtime = runtime;
    this.#dispatcher = new Dispatcher({ ...config, memoryModel: memoryModelFor(runtime) });
    this.#app = new Hono();
    registerRoutes(this.#app, this, { health: config.healthPort === undefined });
    // Adapters may answer publishes without a Web Request; the authorize hook needs one.
    if (!authorize) this.#publishRoute = offerPublishRoute(this.fetch, this);
    this.#app.notFound((c) =>
      new HttpProblem(404, "not-found", "Not found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`)
        .toResponse()
    );
    this.#app.onError((error) => {
      this.#logger.error(`ssepg: unhandled error: ${error instanceof Error ? error.stack : String(error)}`);
      return new HttpProblem(500, "internal", "Internal server error", "The server failed to handle the request")
        .toResponse();
    });
  }

  get draining(): boolean {
    return this.#draining;
  }

  get gzipAvailable(): boolean {
    return this.#deflate !== undefined;
  }

  async start(): Promise<void> {
    this.#deflate = await loadDeflate();
    try {
      await this.#bus.start({
        event: (envelope) => {
          if (this.#ownInFlight.size > 0 && envelope.id !== undefined) this.#ownInFlight.delete(envelope.id);
          this.#dispatcher.receive(envelope);
        },
        gap: () => {
          // What was in flight while the listener was away is lost; stop waiting for it.
          this.#ownInFlight.clear();
          this.#dispatcher.gap();
        },
      });
    } catch (error) {
      this.#dispatcher.close();
      await this.#bus.close().catch(() => {});
      throw error;
    }
    if (this.#bus.status().kind === "memory") {
      this.#logger.info(
        "ssepg: no DATABASE_URL: in-process bus, single instance (events do not reach other instances)",
      );
    }
    if (this.#bus instanceof PostgresBus) await this.#startQueueWatch(this.#bus);
  }

  async #startQueueWatch(bus: PostgresBus): Promise<void> {
    if (this.config.alterSystemMaxNotifyMB > 0) await this.#alterSystem(bus);
    const poll = async () => {
      try {
        const usage = await bus.pollQueueUsage();
        if (usage > this.config.queueWarnThreshold && !this.#queueWarned) {
          this.#logger.warn(
            `ssepg: NOTIFY queue usage is ${(usage * 100).toFixed(1)}%, above queueWarnThreshold (${
              this.config.queueWarnThreshold * 100
            }%)`,
          );
        }
        this.#queueWarned = usage > this.config.queueWarnThreshold;
      } catch {
        // The database is away; the listener's reconnect loop reports that.
      }
    };
    void poll();
    this.#queuePoll = setInterval(poll, this.config.queuePollInterval);
  }

  async #alterSystem(bus: PostgresBus): Promise<void> {
    const mb = this.config.alterSystemMaxNotifyMB;
    try {
      const [row] = await bus.execute(
        "select current_setting('server_version_num')::int as version, (select rolsuper from pg_roles where rolname = current_user) as superuser",
      );
      if (Number(row.version) < 170000) {
        this.#logger.warn(
          `ssepg: alterSystemMaxNotifyMB skipped: max_notify_queue_pages needs PostgreSQL 17+ (server is ${row.version})`,
        );
        return;
      }
      if (row.superuser !== true) {
        this.#logger.warn("ssepg: alterSystemMaxNotifyMB skipped: ALTER SYSTEM needs a superuser");
        return;
      }
      // A page is 8 kB; the setting counts pages.
      await bus.execute(`ALTER SYSTEM SET max_notify_queue_pages = ${Math.round(mb * 128)}`);
      this.#logger.info(`ssepg: set max_notify_queue_pages for ${mb} MB; it takes effect after a PostgreSQL restart`);
    } catch (error) {
      this.#logger.warn(`ssepg: alterSystemMaxNotifyMB skipped: ${error instanceof Error ? error.message : error}`);
    }
  }

  fetch = (request: Request): Promise<Response> => {
    // Publishes skip the router (Bun, publishes only: 7-19 % less user CPU per publish); the
    // node:http listener goes further and skips the Web Request too.
    const route = this.#publishRoute;
    if (route) {
      const url = request.url;
      const path = url.indexOf("/", url.indexOf("//") + 2);
      const topic = route.match(request.method, path === -1 ? "/" : url.slice(path));
      if (topic !== undefined) {
        return route.handle(request, topic, (limit, timeout) => readBodyLimited(request, limit, timeout))
          .then(({ status, headers, body }) => new Response(body, { status, headers }));
      }
    }
    return Promise.resolve(this.#app.fetch(request));
  };

  healthFetch = (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (request.method === "GET" || request.method === "HEAD") {
      if (pathname === this.config.healthz) return Promise.resolve(healthResponse(this, request));
      if (pathname === METRICS_PATH) return Promise.resolve(metricsResponse(this));
    }
    return Promise.resolve(
      new HttpProblem(404, "not-found", "Not found", `No route for ${request.method} ${pathname}`).toResponse(),
    );
  };

  attach(app: HonoApp): void {
    if (typeof app?.on !== "function") throw new TypeError("Cannot attach the routes as attach() takes a Hono app");
    registerRoutes(app as unknown as Hono, this, { health: this.config.healthPort === undefined });
  }

  async authorize(request: Request, topics: string[], action: "publish" | "listen"): Promise<void> {
    if (!this.#authorize) return;
    if (!await this.#authorize(request, topics, action)) {
      throw new HttpProblem(403, "forbidden", "Forbidden", `Not allowed to ${action} on ${topics.join(",")}`);
    }
  }

  async publishCompact(topic: string, data: string): Promise<{ id: string }> {
    if (this.#draining) throw drainingProblem();
    const envelope = { topic, data, id: this.#nextId() };
    const payload = encodeEnvelope(envelope);
    const size = utf8Length(payload);
    if (size > this.config.maxNotifyBytes) {
      throw new HttpProblem(
        413,
        "envelope-too-large",
        "Payload too large",
        `The NOTIFY envelope is ${size} bytes, over maxNotifyBytes (${this.config.maxNotifyBytes} bytes)`,
      );
    }
    this.#ownInFlight.add(envelope.id);
    try {
      await this.#bus.publish(envelope, payload);
    } catch (error) {
      this.#ownInFlight.delete(envelope.id);
      if (!(error instanceof BusUnavailableError)) throw error;
      this.#logger.warn(`ssepg: publish to ${topic} failed: ${error.message}`);
      throw new HttpProblem(
        503,
        "database-unavailable",
        "Service unavailable",
        "The database did not accept the event; nothing was published",
        {
          "Retry-After": String(error.retryAfter),
        },
      );
    }
    this.#dispatcher.countPublished(topic);
    return { id: envelope.id };
  }

  async publish(topic: string, data: unknown): Promise<{ id: string; topic: string }> {
    const normalized = normalizeTopic(topic);
    if (normalized === undefined) {
      throw new TypeError(
        `Cannot publish to topic ${JSON.stringify(topic)} as topic ids must match ^[a-z0-9_-]{1,128}$`,
      );
    }
    if (data === undefined || data === null) throw new TypeError("Cannot publish undefined or null data");
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Cannot publish data that JSON.stringify cannot represent");
    const { id } = await this.publishCompact(normalized, text);
    return { id, topic: normalized };
  }

  openStream(topics: string[], lastEventId: string | undefined, gzip: boolean): ReadableStream<Uint8Array> {
    return openEventStream(this.#dispatcher, {
      topics,
      retry: this.config.retry,
      lastEventId,
      gzip: gzip ? this.#deflate : undefined,
    });
  }

  subscribe(
    topics: string | readonly string[],
    callback: (event: SsepgEvent) => void,
    options: SubscribeOptions = {},
  ): () => void {
    const parsed = parseTopicList(typeof topics === "string" ? topics : topics.join(","));
    if ("error" in parsed) throw new TypeError(parsed.error);
    const dispatcher = this.#dispatcher;
    const deliver = () => {
      for (const event of subscriber.take()) callback(event);
      if (subscriber.skipped) options.onGap?.(subscriber.lastId);
      subscriber.demand = !subscriber.closed;
    };
    const sink: SubscriberSink = {
      ready: deliver,
      drop() {},
      gap: () => options.onGap?.(subscriber.lastId),
      idle() {},
      shutdown: () => dispatcher.unsubscribe(subscriber),
      abort: () => dispatcher.unsubscribe(subscriber),
    };
    const subscription = dispatcher.subscribe(parsed.topics, sink, { lastEventId: options.lastEventId });
    const subscriber: Subscriber = subscription.subscriber;
    subscriber.demand = true;
    if (subscription.gap) options.onGap?.(options.lastEventId);
    if (subscriber.hasPending) queueMicrotask(deliver);
    return () => dispatcher.unsubscribe(subscriber);
  }

  metrics(): string {
    return metricsText({ dispatcher: this.#dispatcher, bus: this.#bus.status(), draining: this.#draining });
  }

  health(limit = Infinity): HealthReport {
    return healthReport({
      dispatcher: this.#dispatcher,
      bus: this.#bus.status(),
      runtime: this.#runtime,
      notifyShards: this.config.notifyShards,
      draining: this.#draining,
    }, limit);
  }

  close(): Promise<void> {
    return this.#closed ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#draining = true;
    clearInterval(this.#queuePoll);
    const deadline = Date.now() + this.config.gracefulDrain;
    // Events this instance accepted are on their way back through LISTEN: let them arrive, so
    // its own subscribers get them before the streams end.
    while (this.#ownInFlight.size > 0 && Date.now() < deadline && this.#bus.status().connected) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.#dispatcher.shutdown();
    while (this.#dispatcher.subscriberCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.#dispatcher.abortAll();
    this.#dispatcher.close();
    await this.#bus.close();
  }
}
