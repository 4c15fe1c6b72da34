/**
 * The per-instance health report of SPEC §3 (field names as the Go original).
 *
 * @module
 */

import type { BusStatus } from "../bus/bus.ts";
import type { Dispatcher, DispatcherTotals, TopicStats } from "../dispatcher/dispatcher.ts";

/** The health JSON. */
export interface HealthReport {
  status: "ok" | "degraded";
  now: string;
  runtime: string;
  bus: "postgres" | "memory";
  draining: boolean;
  last_notification_at: string | null;
  topics: TopicStats[];
  totals: DispatcherTotals & {
    listen_connected: boolean;
    reconnect_attempts: number;
    notify_shards: number;
    queue_usage: number | null;
    notify_batches: number;
    notify_events: number;
  };
}

/** What the report is built from. */
export interface HealthSources {
  readonly dispatcher: Dispatcher;
  readonly bus: BusStatus;
  readonly runtime: string;
  readonly notifyShards: number;
  readonly draining: boolean;
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
    bus: bus.kind,
    draining: sources.draining,
    last_notification_at: bus.lastNotificationAt === undefined ? null : new Date(bus.lastNotificationAt).toISOString(),
    topics: dispatcher.topicStats(limit),
    totals: {
      ...dispatcher.totals(),
      listen_connected: bus.connected,
      reconnect_attempts: bus.reconnectAttempts,
      notify_shards: sources.notifyShards,
      queue_usage: bus.queueUsage ?? null,
      notify_batches: bus.notifyBatches,
      notify_events: bus.notifyEvents,
    },
  };
}
