/**
 * `GET /metrics`: the health figures and a few more in Prometheus text format.
 *
 * @module
 */

import type { BusStatus } from "../bus/bus.ts";
import type { Dispatcher } from "../dispatcher/dispatcher.ts";
import type { WorkerIdentity } from "../worker_identity.ts";

/**
 * What the metrics are read from.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { MemoryBus } from "../bus/memory.ts";
 * import type { MetricsSources } from "./metrics.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const sources: MetricsSources = { dispatcher, bus: new MemoryBus().status(), draining: false };
 * dispatcher.close();
 * ```
 */
export interface MetricsSources {
  /** The instance's dispatcher. */
  readonly dispatcher: Dispatcher;
  /** The bus's current status. */
  readonly bus: BusStatus;
  /** Shutdown has begun. */
  readonly draining: boolean;
  /** Which worker of `--workers N` this is, if any: every sample gets a `worker` label. */
  readonly worker?: WorkerIdentity;
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
  const samples: [string, "gauge" | "counter", string, number | undefined][] = [
    ["ssepg_subscribers", "gauge", "Connected subscribers.", t.subscribers],
    ["ssepg_topics", "gauge", "Topics held by this instance.", t.topics],
    ["ssepg_idle_topics", "gauge", "Topics without subscribers.", t.idle_topics],
    ["ssepg_published_total", "counter", "Publishes this instance accepted.", t.published],
    ["ssepg_broadcast_total", "counter", "Events received from the bus.", t.broadcast],
    ["ssepg_delivered_frames_total", "counter", "Event frames written to subscribers.", t.delivered_frames],
    [
      "ssepg_dropped_clients_total",
      "counter",
      "Subscribers disconnected for falling clientBuffer frames behind.",
      t.dropped_clients,
    ],
    ["ssepg_pending_frames", "gauge", "Frames waiting for subscribers.", t.pending_to_clients],
    ["ssepg_ring_events", "gauge", "Events held in topic rings for resume.", t.ring_depth],
    ["ssepg_ring_bytes", "gauge", "Approximate bytes held by topic rings.", t.memory_usage_bytes],
    [
      "ssepg_topic_state_bytes",
      "gauge",
      "Fixed bytes of the topic states, counted against maxRingBytes with the rings.",
      t.topic_state_bytes,
    ],
    [
      "ssepg_replayed_events_total",
      "counter",
      "Events replayed to subscribers resuming with Last-Event-ID.",
      dispatcher.replayed,
    ],
    ["ssepg_gaps_total", "counter", "event: gap notices sent.", dispatcher.gaps],
    [
      "ssepg_evicted_topics_total",
      "counter",
      "Idle topics freed to stay under maxRingBytes or maxTopics.",
      dispatcher.evictedTopics,
    ],
    [
      "ssepg_topic_limit_refusals_total",
      "counter",
      "Subscriptions refused (503) because maxTopics topics all had subscribers.",
      dispatcher.refusedSubscriptions,
    ],
    [
      "ssepg_evicted_events_total",
      "counter",
      "Events dropped from rings to stay under maxRingBytes.",
      dispatcher.evictedEvents,
    ],
    ["ssepg_notify_batches_total", "counter", "Statements that carried publishes to the bus.", bus.notifyBatches],
    ["ssepg_notify_events_total", "counter", "Publishes carried by those statements.", bus.notifyEvents],
    [
      "ssepg_fragmented_events_sent_total",
      "counter",
      "Events published as fragments (larger than maxNotifyBytes).",
      bus.fragments?.eventsSent,
    ],
    ["ssepg_fragments_sent_total", "counter", "NOTIFYs that carried fragments.", bus.fragments?.sent],
    [
      "ssepg_fragmented_events_received_total",
      "counter",
      "Fragmented events rebuilt and delivered.",
      bus.fragments?.eventsReceived,
    ],
    [
      "ssepg_fragment_sets_discarded_total",
      "counter",
      "Fragment sets dropped before completing (interrupted, malformed or over maxEventBytes).",
      bus.fragments?.discarded,
    ],
    [
      "ssepg_fragment_held_bytes",
      "gauge",
      "Bytes held for a large event being rebuilt (counted against maxRingBytes).",
      bus.fragments?.heldBytes,
    ],
    ["ssepg_listen_connected", "gauge", "1 while the LISTEN connection is up.", bus.connected ? 1 : 0],
    ["ssepg_listen_reconnects_total", "counter", "LISTEN reconnection attempts.", bus.reconnectAttempts],
    ["ssepg_draining", "gauge", "1 once shutdown began.", sources.draining ? 1 : 0],
    ["ssepg_notify_queue_usage", "gauge", "pg_notification_queue_usage() at the last poll (0..1).", bus.queueUsage],
  ];
  const out = samples
    .filter(([, , , value]) => value !== undefined)
    .map(([name, type, help, value]) => metric(name, type, help, `${name} ${value}`));
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
  const text = `${out.join("\n")}\n`;
  return sources.worker ? labelled(text, `worker="${sources.worker.index}"`) : text;
}

/**
 * Adds a label to every sample line. With workers, a scrape reaches whichever worker accepts
 * it; the label keeps each worker's counters a series of their own instead of one series that
 * jumps between workers (and reads as resets).
 */
function labelled(text: string, label: string): string {
  return text.replace(
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{?)/gm,
    (_, name: string, brace: string) => brace ? `${name}{${label},` : `${name}{${label}}`,
  );
}
