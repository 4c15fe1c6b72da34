/**
 * `GET /metrics`: the health figures and a few more in Prometheus text format.
 *
 * @module
 */

import type { BusStatus } from "../bus/bus.ts";
import type { Dispatcher } from "../dispatcher/dispatcher.ts";

/** What the metrics are read from. */
export interface MetricsSources {
  /** The instance's dispatcher. */
  readonly dispatcher: Dispatcher;
  /** The bus's current status. */
  readonly bus: BusStatus;
  /** Shutdown has begun. */
  readonly draining: boolean;
}

function metric(name: string, type: "gauge" | "counter" | "histogram", help: string, body: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${body}`;
}

/**
 * Renders the instance's metrics (all prefixed `ssepg_`) in Prometheus text format 0.0.4.
 *
 * @param sources Dispatcher, bus status and draining flag.
 * @returns The exposition text, ending with a newline.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { MemoryBus } from "../bus/memory.ts";
 * import { metricsText } from "./metrics.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * console.log(metricsText({ dispatcher, bus: new MemoryBus().status(), draining: false }));
 * dispatcher.close();
 * ```
 */
export function metricsText(sources: MetricsSources): string {
  const { dispatcher, bus } = sources;
  const t = dispatcher.totals();
  const out = [
    metric("ssepg_subscribers", "gauge", "Connected subscribers.", `ssepg_subscribers ${t.subscribers}`),
    metric("ssepg_topics", "gauge", "Topics held by this instance.", `ssepg_topics ${t.topics}`),
    metric("ssepg_idle_topics", "gauge", "Topics without subscribers.", `ssepg_idle_topics ${t.idle_topics}`),
    metric(
      "ssepg_published_total",
      "counter",
      "Publishes this instance accepted.",
      `ssepg_published_total ${t.published}`,
    ),
    metric("ssepg_broadcast_total", "counter", "Events received from the bus.", `ssepg_broadcast_total ${t.broadcast}`),
    metric(
      "ssepg_delivered_frames_total",
      "counter",
      "Event frames written to subscribers.",
      `ssepg_delivered_frames_total ${t.delivered_frames}`,
    ),
    metric(
      "ssepg_dropped_clients_total",
      "counter",
      "Subscribers disconnected for falling clientBuffer frames behind.",
      `ssepg_dropped_clients_total ${t.dropped_clients}`,
    ),
    metric(
      "ssepg_pending_frames",
      "gauge",
      "Frames waiting for subscribers.",
      `ssepg_pending_frames ${t.pending_to_clients}`,
    ),
    metric("ssepg_ring_events", "gauge", "Events held in topic rings for resume.", `ssepg_ring_events ${t.ring_depth}`),
    metric(
      "ssepg_ring_bytes",
      "gauge",
      "Approximate bytes held by topic rings.",
      `ssepg_ring_bytes ${t.memory_usage_bytes}`,
    ),
    metric(
      "ssepg_replayed_events_total",
      "counter",
      "Events replayed to subscribers resuming with Last-Event-ID.",
      `ssepg_replayed_events_total ${dispatcher.replayed}`,
    ),
    metric("ssepg_gaps_total", "counter", "event: gap notices sent.", `ssepg_gaps_total ${dispatcher.gaps}`),
    metric(
      "ssepg_evicted_topics_total",
      "counter",
      "Idle topics freed to stay under maxRingBytes.",
      `ssepg_evicted_topics_total ${dispatcher.evictedTopics}`,
    ),
    metric(
      "ssepg_evicted_events_total",
      "counter",
      "Events dropped from rings to stay under maxRingBytes.",
      `ssepg_evicted_events_total ${dispatcher.evictedEvents}`,
    ),
    metric(
      "ssepg_notify_batches_total",
      "counter",
      "Statements that carried publishes to the bus.",
      `ssepg_notify_batches_total ${bus.notifyBatches}`,
    ),
    metric(
      "ssepg_notify_events_total",
      "counter",
      "Publishes carried by those statements.",
      `ssepg_notify_events_total ${bus.notifyEvents}`,
    ),
    metric(
      "ssepg_listen_connected",
      "gauge",
      "1 while the LISTEN connection is up.",
      `ssepg_listen_connected ${bus.connected ? 1 : 0}`,
    ),
    metric(
      "ssepg_listen_reconnects_total",
      "counter",
      "LISTEN reconnection attempts.",
      `ssepg_listen_reconnects_total ${bus.reconnectAttempts}`,
    ),
    metric("ssepg_draining", "gauge", "1 once shutdown began.", `ssepg_draining ${sources.draining ? 1 : 0}`),
  ];
  if (bus.queueUsage !== undefined) {
    out.push(
      metric(
        "ssepg_notify_queue_usage",
        "gauge",
        "pg_notification_queue_usage() at the last poll (0..1).",
        `ssepg_notify_queue_usage ${bus.queueUsage}`,
      ),
    );
  }
  if (bus.notifyBatchSizes) {
    out.push(
      metric(
        "ssepg_notify_batch_size",
        "histogram",
        "Publishes per NOTIFY statement.",
        bus.notifyBatchSizes.render("ssepg_notify_batch_size"),
      ),
    );
  }
  out.push(
    metric(
      "ssepg_fanout_latency_seconds",
      "histogram",
      "Time from publish (event id) to fan-out on this instance.",
      dispatcher.latency.render("ssepg_fanout_latency_seconds"),
    ),
  );
  return `${out.join("\n")}\n`;
}
