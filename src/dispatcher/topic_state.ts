/**
 * What one instance holds for one topic: its ring of recent events, its subscribers, counters.
 *
 * This module knows nothing of the subscriber class: a topic only keeps its subscribers in a
 * set, so their type is a parameter. That keeps the imports pointing one way, subscriber.ts
 * to topic_state.ts, and lets a test build a topic with no subscriber machinery at all.
 *
 * @module
 */

import { Ring } from "./ring.ts";
import type { StoredEvent } from "./event.ts";

/**
 * The counters a topic keeps. The dispatcher adds a freed topic's counters to its own
 * running sums of this shape, so instance totals never go down when topics are freed.
 *
 * @example
 * ```ts
 * import type { TopicCounters } from "./topic_state.ts";
 * const freed: TopicCounters = { published: 0, broadcast: 0, deliveredFrames: 0, droppedClients: 0 };
 * ```
 */
export interface TopicCounters {
  /** POSTs this instance accepted for the topic. */
  published: number;
  /** Events this instance received from the bus for the topic. */
  broadcast: number;
  /** Event frames written to this topic's subscribers. */
  deliveredFrames: number;
  /** Subscribers disconnected for falling `clientBuffer` frames behind. */
  droppedClients: number;
}

/**
 * The per-topic state of the dispatcher.
 *
 * @typeParam S What a subscriber is; the dispatcher uses `Subscriber` from subscriber.ts.
 *
 * @example
 * ```ts
 * import { TopicState } from "./topic_state.ts";
 * const topic = new TopicState<string>("alpha", 1024, Date.now());
 * topic.subscribers.add("reader-1");
 * topic.ring.size; // 0
 * ```
 */
export class TopicState<S = unknown> implements TopicCounters {
  readonly name: string;
  readonly ring: Ring<StoredEvent>;
  readonly subscribers: Set<S> = new Set();
  /** POSTs this instance accepted for the topic. */
  published = 0;
  /** Events this instance received from the bus for the topic. */
  broadcast = 0;
  /** Event frames written to this topic's subscribers. */
  deliveredFrames = 0;
  /** Subscribers disconnected for falling `clientBuffer` frames behind. */
  droppedClients = 0;
  /** Events received but not yet fanned out. */
  pendingDispatch = 0;
  /** Approximate bytes held by the ring. */
  retainedBytes = 0;
  /** `Date.now()` of the last event, subscribe or unsubscribe. */
  lastActivity: number;

  constructor(name: string, ringCapacity: number, now: number) {
    this.name = name;
    this.ring = new Ring(ringCapacity);
    this.lastActivity = now;
  }

  /** Appends an event to the ring, keeping the byte count in step. */
  append(event: StoredEvent): void {
    this.retainedBytes += event.retainedBytes;
    const dropped = this.ring.push(event);
    if (dropped) this.retainedBytes -= dropped.retainedBytes;
    this.broadcast++;
    this.lastActivity = event.receivedAt;
  }

  /** Sequence number of the event with `id`, or -1 when the ring no longer holds it. */
  seqOf(id: string): number {
    return this.ring.findLast((event) => event.id === id);
  }
}
