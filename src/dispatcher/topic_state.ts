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
 * The counters a topic keeps. The dispatcher keeps instance-wide running sums beside them
 * (tally.ts), so instance totals never go down when topics are freed.
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
  /**
   * The newest arrival `seq` (across topics) of an event this topic no longer holds: pushed out
   * of the full ring or evicted for memory. A resume from an event that arrived before it may
   * have missed some of this topic's events. A topic state made anew starts with the
   * dispatcher's mark for freed topics, since it cannot know what its predecessor dropped.
   */
  droppedThrough: number;
  /** Arrival `seq` of the newest event received, or -1. */
  lastSeq = -1;
  /** The sum of its subscribers' cursors in this ring, so frames pending here cost O(1) to count. */
  cursorSum = 0;
  /** Its slot in the dispatcher's ranking arrays (topic_ranks.ts); -1 when not ranked. */
  slot = -1;

  /**
   * @param name The topic id.
   * @param ringCapacity Events kept (a power of two).
   * @param now `Date.now()` at creation.
   * @param droppedThrough See {@link TopicState.droppedThrough}. @default -1 (nothing dropped)
   */
  constructor(name: string, ringCapacity: number, now: number, droppedThrough = -1) {
    this.name = name;
    this.ring = new Ring(ringCapacity);
    this.lastActivity = now;
    this.droppedThrough = droppedThrough;
  }

  /**
   * Appends an event to the ring, keeping the byte count and `droppedThrough` in step.
   *
   * @returns The event the full ring pushed out, if any.
   */
  append(event: StoredEvent): StoredEvent | undefined {
    this.retainedBytes += event.retainedBytes;
    const dropped = this.ring.push(event);
    if (dropped) this.#forget(dropped);
    this.broadcast++;
    this.lastSeq = event.seq;
    this.lastActivity = event.receivedAt;
    return dropped;
  }

  /**
   * Drops the oldest event (to free memory), keeping the byte count and `droppedThrough` in step.
   *
   * @returns The event, or undefined when the ring is empty.
   */
  shiftOldest(): StoredEvent | undefined {
    const dropped = this.ring.shift();
    if (dropped) this.#forget(dropped);
    return dropped;
  }

  #forget(dropped: StoredEvent): void {
    this.retainedBytes -= dropped.retainedBytes;
    // Rings drop in arrival order, so the newest dropped is the one just dropped (the max
    // only guards the mark a new state inherits, which is older than all of its events).
    this.droppedThrough = Math.max(this.droppedThrough, dropped.seq);
  }

  /** Sequence number of the event with `id`, or -1 when the ring no longer holds it. */
  seqOf(id: string): number {
    return this.ring.findLast((event) => event.id === id);
  }
}
