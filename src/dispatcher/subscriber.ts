/**
 * One subscriber: a cursor into each of its topics' rings, and the sink it writes to.
 *
 * The ring is the subscriber's queue: nothing is copied per subscriber per event. Frames queued
 * for a subscriber are the ring entries between its cursor and the head.
 *
 * Imports point one way: a subscriber knows its topics' state, while topic_state.ts takes the
 * subscriber type as a parameter and never imports this module.
 *
 * @module
 */

import type { StoredEvent } from "./event.ts";
import { Tally } from "./tally.ts";
import type { TopicState } from "./topic_state.ts";

/**
 * Where the dispatcher tells a subscriber what happened; the SSE stream implements it.
 *
 * @example
 * ```ts
 * import type { SubscriberSink } from "./subscriber.ts";
 * const sink: SubscriberSink = {
 *   ready() {}, // take() the waiting events, then set demand again
 *   drop() {},
 *   gap() {},
 *   idle() {},
 *   shutdown() {},
 *   abort() {},
 * };
 * ```
 */
export interface SubscriberSink {
  /** Events are waiting and the subscriber had asked for more (`demand`). */
  ready(): void;
  /** It fell `clientBuffer` frames behind and is disconnected. */
  drop(): void;
  /**
   * Events may have been lost: the bus reconnected, or a resume wait ended without its event.
   * Write the notice, then take what is waiting.
   */
  gap(): void;
  /** Nothing was written for `keepAlive`. */
  idle(): void;
  /** The server is draining: write what is queued, then end. */
  shutdown(): void;
  /** The drain time is over: end now, whatever is still queued. */
  abort(): void;
}

/**
 * A subscriber's position in its topics. Created by `Dispatcher.subscribe`.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "./dispatcher.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const sub = dispatcher.subscribe(["alpha"], { ready() {}, drop() {}, gap() {}, idle() {}, shutdown() {}, abort() {} }).subscriber;
 * sub.take(); // []
 * dispatcher.close();
 * ```
 */
export class Subscriber {
  readonly topics: readonly TopicState<Subscriber>[];
  readonly sink: SubscriberSink;
  /** Next sequence number to deliver, per topic. */
  readonly cursors: number[];
  /** Ring head when the subscription started: older entries are replay, not queue. */
  readonly liveFrom: number[];
  /** The sink wants more: the next event calls `ready()` at once. */
  demand = false;
  /** Removed from the dispatcher; nothing more is delivered. */
  closed = false;
  /** The last `take()` jumped over events the ring had already dropped. */
  skipped = false;
  /** Id of the last event the client has: the last taken, or the one it resumed after. */
  lastId: string | undefined;
  /** `Date.now()` of the last write, for keep-alives. */
  lastWriteAt: number;
  /**
   * The resume id this subscriber waits for (it is newer than anything held): until it arrives
   * or the wait ends, nothing is delivered, since it is not yet known which events follow it.
   */
  waitingFor: string | undefined;
  readonly #tally: Tally;

  /**
   * @param topics The topics read.
   * @param cursors Next sequence number to deliver, per topic.
   * @param sink Where the subscriber is told of events.
   * @param now `Date.now()`.
   * @param tally The dispatcher's running sums, kept in step by `take()`.
   */
  constructor(
    topics: readonly TopicState<Subscriber>[],
    cursors: number[],
    sink: SubscriberSink,
    now: number,
    tally: Tally = new Tally(),
  ) {
    this.topics = topics;
    this.sink = sink;
    this.cursors = cursors;
    this.liveFrom = topics.map((t) => t.ring.head);
    this.lastWriteAt = now;
    this.#tally = tally;
  }

  /** Whether events are waiting for this subscriber (never while it waits for its resume id). */
  get hasPending(): boolean {
    if (this.waitingFor !== undefined) return false;
    for (let i = 0; i < this.topics.length; i++) {
      if (this.cursors[i] < this.topics[i].ring.head) return true;
    }
    return false;
  }

  /** Frames waiting for this subscriber, replay included. */
  get pending(): number {
    let n = 0;
    for (let i = 0; i < this.topics.length; i++) n += this.topics[i].ring.head - this.cursors[i];
    return n;
  }

  /**
   * Frames waiting for this subscriber in one of its topics, replay included.
   *
   * @param topic One of `topics`.
   * @returns The count; 0 for a topic it does not read.
   */
  pendingIn(topic: TopicState<Subscriber>): number {
    // Subscribers read a handful of topics, so a linear search beats keeping a map per subscriber.
    const i = this.topics.indexOf(topic);
    return i < 0 ? 0 : topic.ring.head - this.cursors[i];
  }

  /** Frames waiting that arrived after the subscription started: what `clientBuffer` bounds. */
  get lag(): number {
    let n = 0;
    for (let i = 0; i < this.topics.length; i++) {
      n += this.topics[i].ring.head - Math.max(this.cursors[i], this.liveFrom[i]);
    }
    return n;
  }

  /**
   * Takes every waiting event, in arrival order across topics, and advances the cursors.
   * Sets `skipped` when the ring had dropped some of them.
   *
   * @returns The events; empty when nothing is waiting, the subscriber waits for its resume id,
   *   or it is closed.
   */
  take(): StoredEvent[] {
    const out: StoredEvent[] = [];
    this.skipped = false;
    // After unsubscribe the cursors are no longer counted: moving them would skew the totals.
    if (this.waitingFor !== undefined || this.closed) return out;
    if (this.topics.length === 1) this.#takeOne(0, out);
    else this.#takeMerged(out);
    if (out.length > 0) this.lastId = out[out.length - 1].id ?? this.lastId;
    return out;
  }

  /**
   * Moves one cursor: the only way cursors change after the subscription is set up, so the
   * dispatcher's count of pending frames stays exact.
   *
   * @param i Index of the topic.
   * @param seq The new cursor.
   */
  moveCursor(i: number, seq: number): void {
    this.#tally.pendingFrames -= seq - this.cursors[i];
    this.topics[i].cursorSum += seq - this.cursors[i];
    this.cursors[i] = seq;
  }

  #clampCursor(i: number): number {
    const tail = this.topics[i].ring.tail;
    if (this.cursors[i] < tail) {
      this.moveCursor(i, tail);
      this.skipped = true;
    }
    return this.cursors[i];
  }

  #takeOne(i: number, out: StoredEvent[]): void {
    const topic = this.topics[i];
    const head = topic.ring.head;
    let seq = this.#clampCursor(i);
    for (; seq < head; seq++) out.push(topic.ring.at(seq) as StoredEvent);
    const taken = head - this.cursors[i];
    topic.deliveredFrames += taken;
    this.#tally.deliveredFrames += taken;
    this.moveCursor(i, head);
  }

  #takeMerged(out: StoredEvent[]): void {
    for (let i = 0; i < this.topics.length; i++) this.#clampCursor(i);
    for (;;) {
      let best = -1;
      let bestSeq = Infinity;
      for (let i = 0; i < this.topics.length; i++) {
        const event = this.topics[i].ring.at(this.cursors[i]);
        if (event && event.seq < bestSeq) [best, bestSeq] = [i, event.seq];
      }
      if (best < 0) return;
      out.push(this.topics[best].ring.at(this.cursors[best]) as StoredEvent);
      this.cursors[best]++;
      this.topics[best].cursorSum++;
      this.topics[best].deliveredFrames++;
      this.#tally.deliveredFrames++;
      this.#tally.pendingFrames--;
    }
  }
}
