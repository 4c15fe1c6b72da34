/**
 * The per-instance health report served on the health route (field names as the Go original, so
 * dashboards built for the Go server keep working). The dispatcher's figures come from
 * dispatcher/stats.ts; this module adds the bus and instance facts.
 *
 * @module
 */

import type { BusStatus } from "../bus/bus.ts";
import type { Dispatcher } from "../dispatcher/dispatcher.ts";
import type { DispatcherTotals, TopicStats } from "../dispatcher/stats.ts";
import type { HopsReport } from "../hops/hop_tracer.ts";
import type { WorkerIdentity } from "../worker_identity.ts";

/**
 * The health JSON.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { MemoryBus } from "../bus/memory.ts";
 * import { healthReport, type HealthReport } from "./health.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const report: HealthReport = healthReport({ dispatcher, bus: new MemoryBus().status(), runtime: "deno 2", notifyShards: 8, draining: false }, 10);
 * console.log(report.status, report.totals.subscribers);
 * dispatcher.close();
 * ```
 */
export interface HealthReport {
  /** `ok` while the LISTEN connection is up and the instance is not draining. */
  status: "ok" | "degraded";
  /** When the report was made (ISO 8601). */
  now: string;
  /** Runtime and version, e.g. `deno 2.9.6`. */
  runtime: string;
  /**
   * With `--workers N`, which worker answered (each serves its own figures: the port's
   * connections are spread over them); `null` for a single process.
   */
  worker: WorkerIdentity | null;
  /** Which bus the instance uses. */
  bus: "postgres" | "memory";
  /** Shutdown has begun. */
  draining: boolean;
  /** When the last notification arrived (ISO 8601), if any. */
  last_notification_at: string | null;
  /** Problems an operator must fix, e.g. the SQL functions hashing over another shard count. */
  warnings: string[];
  /** Per-topic figures, busiest first. */
  topics: TopicStats[];
  /** Instance-wide figures. */
  totals: HealthTotals;
  /** Per-stage latency of events (`traceHops`); absent when it is off. */
  hops?: HopsReport;
}

/**
 * Instance-wide figures of the health report.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { MemoryBus } from "../bus/memory.ts";
 * import { healthReport, type HealthTotals } from "./health.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const totals: HealthTotals = healthReport({ dispatcher, bus: new MemoryBus().status(), runtime: "deno 2", notifyShards: 8, draining: false }).totals;
 * totals.listen_connected; // true
 * dispatcher.close();
 * ```
 */
export interface HealthTotals extends DispatcherTotals {
  /** The LISTEN connection is up. */
  listen_connected: boolean;
  /** LISTEN reconnection attempts since start; never reset. */
  reconnect_attempts: number;
  /** `notifyShards`. */
  notify_shards: number;
  /** `pg_notification_queue_usage()` from the last poll (0..1), if known. */
  queue_usage: number | null;
  /** Statements sent to carry publishes. */
  notify_batches: number;
  /** Publishes those statements carried. */
  notify_events: number;
  /** Events this instance published as fragments (larger than `maxNotifyBytes`). */
  fragmented_events_sent: number;
  /** NOTIFYs those fragments took. */
  fragments_sent: number;
  /** Fragmented events rebuilt and delivered, from any publisher. */
  fragmented_events_received: number;
  /** Fragment sets dropped before completing (interrupted, malformed or over `maxEventBytes`). */
  fragment_sets_discarded: number;
  /** Bytes held now for a large event being rebuilt; counted against `maxRingBytes`. */
  fragment_held_bytes: number;
}

/**
 * What the report is built from.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { MemoryBus } from "../bus/memory.ts";
 * import type { HealthSources } from "./health.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const sources: HealthSources = { dispatcher, bus: new MemoryBus().status(), runtime: "deno 2", notifyShards: 8, draining: false };
 * dispatcher.close();
 * ```
 */
export interface HealthSources {
  /** The instance's dispatcher. */
  readonly dispatcher: Dispatcher;
  /** The bus's current status. */
  readonly bus: BusStatus;
  /** Runtime and version. */
  readonly runtime: string;
  /** `notifyShards`. */
  readonly notifyShards: number;
  /** Shutdown has begun. */
  readonly draining: boolean;
  /** Hop timing figures, with `traceHops` only. */
  readonly hops?: HopsReport | undefined;
  /** Which worker of `--workers N` this is, if any. */
  readonly worker?: WorkerIdentity;
}

/**
 * Builds the health report. `status` is `ok` while the LISTEN connection is up and the instance
 * is not draining.
 *
 * @param sources Dispatcher, bus status and instance facts.
 * @param limit At most this many topics, busiest first.
 * @returns The report.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { MemoryBus } from "../bus/memory.ts";
 * import { healthReport } from "./health.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const report = healthReport({ dispatcher, bus: new MemoryBus().status(), runtime: "deno 2", notifyShards: 8, draining: false });
 * report.status; // "ok"
 * dispatcher.close();
 * ```
 */
export function healthReport(sources: HealthSources, limit = Infinity): HealthReport {
  const { dispatcher, bus } = sources;
  return {
    status: bus.connected && !sources.draining ? "ok" : "degraded",
    now: new Date().toISOString(),
    runtime: sources.runtime,
    worker: sources.worker ?? null,
    bus: bus.kind,
    draining: sources.draining,
    last_notification_at: bus.lastNotificationAt === undefined ? null : new Date(bus.lastNotificationAt).toISOString(),
    warnings: [...(bus.warnings ?? [])],
    topics: dispatcher.topicStats(limit),
    totals: {
      ...dispatcher.totals(),
      listen_connected: bus.connected,
      reconnect_attempts: bus.reconnectAttempts,
      notify_shards: sources.notifyShards,
      queue_usage: bus.queueUsage ?? null,
      notify_batches: bus.notifyBatches,
      notify_events: bus.notifyEvents,
      fragmented_events_sent: bus.fragments?.eventsSent ?? 0,
      fragments_sent: bus.fragments?.sent ?? 0,
      fragmented_events_received: bus.fragments?.eventsReceived ?? 0,
      fragment_sets_discarded: bus.fragments?.discarded ?? 0,
      fragment_held_bytes: bus.fragments?.heldBytes ?? 0,
    },
    ...(sources.hops === undefined ? {} : { hops: sources.hops }),
  };
}
