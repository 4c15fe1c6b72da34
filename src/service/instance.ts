/**
 * One ssepg instance without its HTTP face: the bus, the dispatcher, publishing with ids,
 * event streams, the health report and the graceful shutdown. The HTTP layer reaches it
 * through {@link HttpTarget}.
 *
 * @module
 */

import type { Bus } from "../bus/bus.ts";
import { BusUnavailableError, EventRejectedError, PublishOutcomeUnknownError } from "../bus/bus.ts";
import { encodeEnvelope } from "../bus/envelope.ts";
import type { Config } from "../config/config.ts";
import { Dispatcher } from "../dispatcher/dispatcher.ts";
import { memoryModelFor } from "../dispatcher/memory_model.ts";
import { type HealthReport, healthReport } from "../http/health.ts";
import { HopTracer } from "../hops/hop_tracer.ts";
import { metricsText } from "../http/metrics.ts";
import { drainingProblem, HttpProblem } from "../http/problem.ts";
import type { HttpTarget } from "../http/target.ts";
import { createIdGenerator } from "../id.ts";
import type { Logger } from "../log.ts";
import { LogLimiter } from "../log_limiter.ts";
import { ChunkCache } from "../sse/chunk_cache.ts";
import { EventStream } from "../sse/event_stream.ts";
import { type Deflate, loadDeflate } from "../sse/gzip.ts";
import { utf8Length } from "../utf8.ts";
import type { WorkerIdentity } from "../worker_identity.ts";
import { mergeMetricTexts } from "../http/metrics_merge.ts";

/**
 * An ssepg instance: start it, publish and stream through it, close it.
 *
 * @example
 * ```ts
 * import { MemoryBus } from "../bus/memory.ts";
 * import { resolveConfig } from "../config/config.ts";
 * import { silentLogger } from "../log.ts";
 * import { Instance } from "./instance.ts";
 * const instance = new Instance(resolveConfig(), new MemoryBus(), silentLogger, "deno 2");
 * await instance.start();
 * await instance.publish("alpha", '{"n":1}');
 * await instance.close();
 * ```
 */
export class Instance implements HttpTarget {
  /** The validated configuration. */
  readonly config: Config;
  /** Where the instance logs. */
  readonly logger: Logger;
  /** The fan-out engine. */
  readonly dispatcher: Dispatcher;
  readonly #bus: Bus;
  readonly #runtime: string;
  readonly #worker: WorkerIdentity | undefined;
  /** With workers: every worker's metrics, merged. */
  readonly allMetrics?: () => Promise<string>;
  readonly #nextId = createIdGenerator();
  readonly #chunks = new ChunkCache();
  /** Refused publishes during an outage come by the thousand: one line per kind per 10 s. */
  readonly #limitedLog: LogLimiter;
  #deflate: Deflate | undefined;
  #draining = false;
  #closed: Promise<void> | undefined;
  /** Ids this instance published that have not come back through the bus yet. */
  readonly #ownInFlight = new Set<string>();
  /** Hop timing, with `traceHops` only. */
  readonly #hops: HopTracer | undefined;

  /**
   * Prepares the instance; {@link Instance.start} connects it.
   *
   * @param config The validated configuration.
   * @param bus The bus to publish and listen on.
   * @param logger Where to log.
   * @param runtime Runtime name and version for the health report.
   * @param worker Which worker of `--workers N` this is, for health and metrics.
   * @param gatherMetrics With workers: every worker's exposition, this one's included.
   */
  constructor(
    config: Config,
    bus: Bus,
    logger: Logger,
    runtime: string,
    worker?: WorkerIdentity,
    gatherMetrics?: () => Promise<string[]>,
  ) {
    this.#worker = worker;
    if (gatherMetrics) {
      this.allMetrics = async () => {
        // A worker that cannot be asked (the supervisor is gone) still answers for itself.
        const texts = await gatherMetrics().catch(() => [this.metrics()]);
        return mergeMetricTexts(texts);
      };
    }
    this.config = config;
    this.logger = logger;
    this.#limitedLog = new LogLimiter(logger);
    this.#bus = bus;
    this.#runtime = runtime;
    this.#hops = config.traceHops ? new HopTracer() : undefined;
    this.dispatcher = new Dispatcher({
      ...config,
      memoryModel: memoryModelFor(runtime),
      heldBytes: () => bus.heldBytes ?? 0,
    });
  }

  /** True once {@link Instance.close} began. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Whether the bus's LISTEN connection is up. */
  get listening(): boolean {
    return this.#bus.status().connected;
  }

  /** Whether streams can be gzip-encoded (the runtime has a raw deflate). */
  get gzipAvailable(): boolean {
    return this.#deflate !== undefined;
  }

  /**
   * Loads the compressor and starts the bus (with PostgreSQL: LISTEN on every channel).
   *
   * @throws the bus's error when it cannot start; the instance is then closed.
   */
  async start(): Promise<void> {
    this.#deflate = await loadDeflate();
    try {
      const hops = this.#hops;
      await this.#bus.start({
        event: (envelope, receivedAt) => {
          if (this.#ownInFlight.size > 0 && envelope.id !== undefined) this.#ownInFlight.delete(envelope.id);
          const event = this.dispatcher.receive(envelope);
          if (hops !== undefined) {
            const subscribers = this.dispatcher.topic(envelope.topic)?.subscribers.size ?? 0;
            hops.received(envelope.id, event, subscribers, receivedAt ?? performance.now());
          }
        },
        timed: hops !== undefined,
        gap: (topic) => {
          // What was in flight while the listener was away is lost; stop waiting for it.
          if (topic === undefined) this.#ownInFlight.clear();
          this.dispatcher.gap(topic);
        },
      });
    } catch (error) {
      this.dispatcher.close();
      await this.#bus.close().catch(() => {});
      throw error;
    }
    if (this.#bus.status().kind === "memory") {
      this.logger.info(
        "ssepg: no DATABASE_URL: in-process bus, single instance (events do not reach other instances)",
      );
    }
  }

  /**
   * Publishes compact JSON `data` to a valid topic with a new id.
   *
   * @param topic A valid, normalised topic.
   * @param data Compact JSON text (not `null`).
   * @param arrivedAt `performance.now()` when the request arrived, for hop timing (`traceHops`).
   * @returns The event id, once the bus accepted the event.
   * @throws {HttpProblem} 503 while draining, while the bus cannot LISTEN, when the database
   *   refuses or the event could not be sent within `publishTimeout` (nothing was published);
   *   504 `publish-outcome-unknown` when it was sent but not confirmed (it may be delivered);
   *   413 for an envelope over `maxEventBytes`; 422 `event-rejected` when the database refuses
   *   the event's content (a character its encoding lacks).
   */
  async publish(topic: string, data: string, arrivedAt?: number): Promise<{ id: string }> {
    if (this.#draining) throw drainingProblem();
    const envelope = { topic, data, id: this.#nextId() };
    const payload = encodeEnvelope(envelope);
    // A UTF-8 byte is at most 3 per UTF-16 unit: most payloads need no count at all.
    const size = payload.length * 3 > this.config.maxEventBytes ? utf8Length(payload) : payload.length;
    if (size > this.config.maxEventBytes) {
      throw new HttpProblem(
        413,
        "envelope-too-large",
        "Payload too large",
        `The event is ${size} bytes as a NOTIFY envelope, over maxEventBytes (${this.config.maxEventBytes} bytes)`,
      );
    }
    this.#ownInFlight.add(envelope.id);
    const hops = this.#hops;
    const marks = hops?.published(envelope.id, arrivedAt ?? performance.now());
    try {
      await this.#bus.publish(envelope, payload, marks);
      if (marks !== undefined) hops!.answered(envelope.id, marks, true);
    } catch (error) {
      if (marks !== undefined) hops!.answered(envelope.id, marks, false);
      this.#ownInFlight.delete(envelope.id);
      if (error instanceof PublishOutcomeUnknownError) {
        this.#limitedLog.warn("publish-unknown", `ssepg: publish to ${topic} has an unknown outcome: ${error.message}`);
        // Not 503: that promises nothing was published, and this event may still be delivered.
        throw new HttpProblem(
          504,
          "publish-outcome-unknown",
          "Publish outcome unknown",
          "The database did not confirm the event in time: it may or may not be delivered, and a retry may deliver it twice",
        );
      }
      if (error instanceof EventRejectedError) {
        // Not 503: the database is fine, this event is not, and a retry would fail the same way.
        throw new HttpProblem(
          422,
          "event-rejected",
          "Unprocessable event",
          `The database cannot store this event, so nothing was published: ${error.message}`,
        );
      }
      if (!(error instanceof BusUnavailableError)) throw error;
      this.#limitedLog.warn("publish-failed", `ssepg: publish to ${topic} failed: ${error.message}`);
      throw new HttpProblem(
        503,
        "database-unavailable",
        "Service unavailable",
        "The database did not accept the event; nothing was published",
        { "Retry-After": String(error.retryAfter) },
      );
    }
    this.dispatcher.countPublished(topic);
    return { id: envelope.id };
  }

  /**
   * A subscriber's event stream, started when a writer is attached.
   *
   * @param topics Valid, distinct topics.
   * @param lastEventId Resume after this id.
   * @param gzip Compress the stream (only when {@link Instance.gzipAvailable}).
   * @returns The stream.
   */
  openStream(topics: readonly string[], lastEventId: string | undefined, gzip: boolean): EventStream {
    return new EventStream(this.dispatcher, {
      topics,
      retry: this.config.retry,
      lastEventId,
      gzip: gzip ? this.#deflate : undefined,
      chunks: this.#chunks,
      hops: this.#hops,
    });
  }

  /**
   * The health report.
   *
   * @param limit At most this many topics, busiest first.
   * @returns The report.
   */
  health(limit = Infinity): HealthReport {
    return healthReport({
      dispatcher: this.dispatcher,
      bus: this.#bus.status(),
      runtime: this.#runtime,
      notifyShards: this.config.notifyShards,
      draining: this.#draining,
      worker: this.#worker,
      hops: this.#hops?.report(),
    }, limit);
  }

  /**
   * The metrics in Prometheus text format.
   *
   * @returns The exposition text.
   */
  metrics(): string {
    return metricsText({
      dispatcher: this.dispatcher,
      bus: this.#bus.status(),
      draining: this.#draining,
      worker: this.#worker,
    });
  }

  /**
   * Graceful shutdown: refuse new work, let this instance's own events come back, end every
   * stream (up to `gracefulDrain`), close the bus. Safe to call more than once.
   *
   * @returns Resolves when the bus is closed.
   */
  close(): Promise<void> {
    return this.#closed ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#draining = true;
    const deadline = Date.now() + this.config.gracefulDrain;
    // Events this instance accepted are on their way back through LISTEN: let them arrive, so
    // its own subscribers get them before the streams end.
    while (this.#ownInFlight.size > 0 && Date.now() < deadline && this.#bus.status().connected) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.dispatcher.shutdown();
    while (this.dispatcher.subscriberCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.dispatcher.abortAll();
    this.dispatcher.close();
    await this.#bus.close();
  }
}
