/**
 * A subscriber thread: opens its share of the run's subscribers, checks every event (topic,
 * sequence, latency) as it arrives, and at the end judges each subscriber's arrivals against
 * what the publisher did. Talks to the run over `postMessage`; progress (unique deliveries,
 * open streams) goes through a shared Int32Array so the run can watch it without messages.
 *
 * @module
 */

import { now } from "./clock.ts";
import { FieldReader } from "./fields.ts";
import { Histogram } from "./histogram.ts";
import { SequenceTracker, type SequenceVerdict, type TopicOutcome } from "./sequence.ts";
import { OpenError, Subscriber, type Target } from "./subscriber.ts";
import { ascii } from "./bytes.ts";

/** What a worker is given. */
export interface WorkerInit {
  type: "init";
  /** This worker's slot in `progress`: [2·slot] = unique deliveries, [2·slot + 1] = open streams. */
  slot: number;
  progress: SharedArrayBuffer;
  topics: string[];
  /** Highest seq per topic. */
  maxSeq: number[];
  subscribers: { topic: number; target: Target }[];
  headers: string;
  fields: { seq: string; ts: string; topic: string };
  connectConcurrency: number;
  connectTimeoutMs: number;
  bufferBytes: number;
}

/** What a worker reports at the end. */
export interface WorkerResult {
  type: "result";
  deliveries: number;
  unique: number;
  duplicates: number;
  invalid: number;
  foreign: number;
  other: number;
  negativeLatency: number;
  firstDeliveryAt: number;
  lastDeliveryAt: number;
  disconnects: number;
  firstDisconnectAt: number;
  open: number;
  subsWithLoss: number;
  subsWithNothing: number;
  lostByTopic: number[];
  reorderedByTopic: number[];
  verdict: SequenceVerdict & { expected: number };
  histogram: { counts: Float64Array; count: number; sum: number; max: number };
}

/** The messages a worker answers. */
export type WorkerRequest = WorkerInit | { type: "finish"; outcomes: TopicOutcome[] } | { type: "close" };

interface Entry {
  topic: number;
  sub: Subscriber;
  tracker: SequenceTracker;
  connected: boolean;
}

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
};

let progress: Int32Array;
let slot = 0;
const entries: Entry[] = [];
const histogram = new Histogram();
const counts = {
  deliveries: 0,
  unique: 0,
  foreign: 0,
  other: 0,
  negativeLatency: 0,
  firstDeliveryAt: 0,
  lastDeliveryAt: 0,
  disconnects: 0,
  firstDisconnectAt: 0,
};

async function init(msg: WorkerInit): Promise<void> {
  progress = new Int32Array(msg.progress);
  slot = msg.slot;
  const reader = new FieldReader(msg.fields.seq, msg.fields.ts, msg.fields.topic);
  const quoted = msg.topics.map((t) => ascii(JSON.stringify(t)));
  for (const { topic, target } of msg.subscribers) {
    const tracker = new SequenceTracker(msg.maxSeq[topic]);
    const onEvent = (data: Uint8Array) => {
      const at = now();
      counts.deliveries++;
      reader.read(data);
      if (!reader.topicIs(quoted[topic])) {
        counts.foreign++;
        return;
      }
      const seq = reader.seq;
      if (seq < 0) {
        counts.other++;
        return;
      }
      if (tracker.record(seq) !== "new") return;
      counts.unique++;
      Atomics.add(progress, 2 * slot, 1);
      if (!counts.firstDeliveryAt) counts.firstDeliveryAt = at;
      counts.lastDeliveryAt = at;
      const sent = reader.timestamp;
      if (sent === sent) {
        if (at < sent) counts.negativeLatency++;
        histogram.record(at - sent);
      }
    };
    const onEnd = (sub: Subscriber) => {
      Atomics.sub(progress, 2 * slot + 1, 1);
      if (sub.disconnected) {
        counts.disconnects++;
        if (!counts.firstDisconnectAt) counts.firstDisconnectAt = now();
      }
    };
    const sub = new Subscriber(target, msg.headers, msg.bufferBytes, onEvent, onEnd);
    entries.push({ topic, sub, tracker, connected: false });
  }
  // Open them with bounded concurrency.
  const failures: Record<string, number> = {};
  let next = 0;
  const opener = async () => {
    while (next < entries.length) {
      const entry = entries[next++];
      try {
        await entry.sub.connect(msg.connectTimeoutMs);
        entry.connected = true;
        Atomics.add(progress, 2 * slot + 1, 1);
      } catch (e) {
        const reason = e instanceof OpenError ? e.message : String(e);
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(msg.connectConcurrency, entries.length) }, opener));
  const connected = entries.filter((e) => e.connected).length;
  scope.postMessage({ type: "connected", connected, failed: entries.length - connected, failures });
}

function finish(outcomes: TopicOutcome[]): WorkerResult {
  const total: SequenceVerdict & { expected: number } = {
    lost: 0,
    missing: 0,
    deliveredUnacked: 0,
    reordered: 0,
    reorderedConcurrent: 0,
    expected: 0,
  };
  const lostByTopic = outcomes.map(() => 0);
  const reorderedByTopic = outcomes.map(() => 0);
  let subsWithLoss = 0;
  let subsWithNothing = 0;
  let duplicates = 0;
  let invalid = 0;
  for (const { topic, tracker, connected } of entries) {
    duplicates += tracker.duplicates;
    invalid += tracker.invalid;
    if (!connected) continue; // counted as a connect failure
    const outcome = outcomes[topic];
    const v = tracker.verdict(outcome);
    total.lost += v.lost;
    total.missing += v.missing;
    total.deliveredUnacked += v.deliveredUnacked;
    total.reordered += v.reordered;
    total.reorderedConcurrent += v.reorderedConcurrent;
    total.expected += outcome.attempted - outcome.failed.length;
    lostByTopic[topic] += v.lost;
    reorderedByTopic[topic] += v.reordered;
    if (v.lost > 0) subsWithLoss++;
    if (outcome.attempted > outcome.failed.length && tracker.unique === 0) subsWithNothing++;
  }
  return {
    type: "result",
    ...counts,
    duplicates,
    invalid,
    open: entries.filter((e) => e.sub.open).length,
    subsWithLoss,
    subsWithNothing,
    lostByTopic,
    reorderedByTopic,
    verdict: total,
    histogram: { counts: histogram.counts, count: histogram.count, sum: histogram.sum, max: histogram.max },
  };
}

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === "init") void init(msg);
  else if (msg.type === "finish") scope.postMessage(finish(msg.outcomes));
  else if (msg.type === "close") {
    for (const { sub } of entries) sub.close();
    scope.postMessage({ type: "closed" });
  }
};
