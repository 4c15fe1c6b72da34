/**
 * What one instance holds for one topic: its ring of recent events, its subscribers, counters.
 *
 * @module
 */

import { Ring } from "./ring.ts";
import type { StoredEvent } from "./event.ts";
import type { Subscriber } from "./subscriber.ts";

/**
 * The per-topic state of the dispatcher.
 *
 * @example
 * ```ts
 * import { TopicState } from "./topic_state.ts";
 * const topic = new TopicState("alpha", 1024, Date.now());
 * topic.ring.size; // 0
 * ```
 */
export class TopicState {
  readonly name: string;
  readonly ring: Ring<StoredEvent>;
  readonly subscribers: Set<Subscriber> = new Set();
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
