/**
 * The dispatcher: topics, their rings, and fan-out to subscribers.
 *
 * Events from the bus are appended to their topic's ring and fanned out once per microtask
 * batch: every subscriber that asked for more gets `ready()` once, however many events arrived.
 * A subscriber whose sink does not ask (its socket is full) just lets its cursor fall behind;
 * when it is `clientBuffer` frames behind it is dropped. One slow subscriber therefore costs the
 * others nothing.
 *
 * @module
 */

import type { Envelope } from "../bus/envelope.ts";
import { Histogram } from "../histogram.ts";
import { StoredEvent } from "./event.ts";
import { Subscriber, type SubscriberSink } from "./subscriber.ts";
import { TopicState } from "./topic_state.ts";
import type { MemoryModel } from "./memory_model.ts";

/** Dispatcher settings; the names are those of the ssepg config. */
export interface DispatcherOptions {
  /** Events kept per topic (power of two). */
  readonly ringCapacity: number;
  /** Frames queued for one subscriber before it is dropped. */
  readonly clientBuffer: number;
  /** Keep-alive interval in ms. */
  readonly keepAlive: number;
  /** A topic without subscribers is freed after this many ms without activity. */
  readonly topicIdleTimeout: number;
  /** Cap on the bytes all rings hold together; idle topics are evicted first. @default Infinity */
  readonly maxRingBytes?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
  /** What a retained event costs on this engine (memory_model.ts). @default V8_MEMORY */
  readonly memoryModel?: MemoryModel;
}

/** How a subscription started. */
export interface Subscription {
  /** The new subscriber. */
  readonly subscriber: Subscriber;
  /** The `lastEventId` asked for is no longer held: the client missed events. */
  readonly gap: boolean;
}

/**
 * Per-topic figures of the health endpoint (field names as the Go original).
 *
 * @example
 * ```ts
 * import { Dispatcher } from "./dispatcher.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * dispatcher.receive({ topic: "a", data: "1", id: "e1" });
 * dispatcher.topicStats()[0].ring_depth; // 1
 * dispatcher.close();
 * ```
 */
export interface TopicStats {
  /** Topic id. */
  topic: string;
  /** Connected subscribers on this instance. */
  subscribers: number;
  /** Events received but not yet fanned out. */
  dispatch_depth: number;
  /** Frames waiting for subscribers that have not taken them yet. */
  pending_to_clients: number;
  /** POSTs this instance accepted. */
  published: number;
  /** Events this instance received from the bus. */
  broadcast: number;
  /** Event frames written to subscribers. */
  delivered_frames: number;
  /** Subscribers disconnected for falling `clientBuffer` frames behind. */
  dropped_clients: number;
  /** Approximate bytes the topic's ring holds. */
  memory_usage_bytes: number;
  /** Events held for resume. */
  ring_depth: number;
  /** Last event, subscribe or unsubscribe (Unix seconds). */
  last_activity_unix: number;
  /** No subscribers on this instance. */
  is_idle: boolean;
}

/**
 * Instance-wide sums of the per-topic figures.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "./dispatcher.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * dispatcher.totals().topics; // 0
 * dispatcher.close();
 * ```
 */
export interface DispatcherTotals {
  /** Topics held. */
  topics: number;
  /** Topics without subscribers. */
  idle_topics: number;
  /** Connected subscribers. */
  subscribers: number;
  /** Events received but not yet fanned out. */
  dispatch_depth: number;
  /** Frames waiting for slow subscribers. */
  pending_to_clients: number;
  /** POSTs accepted (freed topics included). */
  published: number;
  /** Events received from the bus (freed topics included). */
  broadcast: number;
  /** Event frames written to subscribers (freed topics included). */
  delivered_frames: number;
  /** Subscribers dropped for being slow (freed topics included). */
  dropped_clients: number;
  /** Approximate bytes held by all rings. */
  memory_usage_bytes: number;
  /** Events held for resume, all topics. */
  ring_depth: number;
}

type Counters = Pick<TopicState, "published" | "broadcast" | "deliveredFrames" | "droppedClients">;

/**
 * Holds every topic of one instance and fans events out to its subscribers.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "./dispatcher.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 1024, clientBuffer: 64, keepAlive: 15_000, topicIdleTimeout: 600_000 });
 * dispatcher.receive({ topic: "alpha", data: '{"n":1}', id: "e1" });
 * dispatcher.topic("alpha")?.ring.size; // 1
 * dispatcher.close();
 * ```
 */
export class Dispatcher {
  readonly options: DispatcherOptions;
  readonly #now: () => number;
  readonly #topics = new Map<string, TopicState>();
  readonly #subscribers = new Set<Subscriber>();
  readonly #dirty = new Set<TopicState>();
  /** Counters of topics already freed, so totals never go down. */
  readonly #freed: Counters = { published: 0, broadcast: 0, deliveredFrames: 0, droppedClients: 0 };
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #keepAliveTick: number;
  #flushQueued = false;
  #seq = 0;
  /** Bytes held by all rings (the sum of the topics' retainedBytes). */
  #retained = 0;
  /** Topics freed and events dropped to stay under maxRingBytes. */
  evictedTopics = 0;
  evictedEvents = 0;
  #closed = false;
  /** Events replayed to resuming subscribers. */
  replayed = 0;
  /** `event: gap` notices sent. */
  gaps = 0;
  /** Seconds from publish (the time in the event id) to fan-out on this instance. */
  readonly latency: Histogram = new Histogram([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.#now = options.now ?? Date.now;
    this.#keepAliveTick = Math.max(10, Math.floor(options.keepAlive / 5));
    this.#timers.push(setInterval(() => this.keepAliveSweep(), this.#keepAliveTick));
    const sweepEvery = Math.min(30_000, Math.max(10, Math.floor(options.topicIdleTimeout / 2)));
    this.#timers.push(setInterval(() => this.freeIdleTopics(), sweepEvery));
  }

  /** Number of topics held. */
  get topicCount(): number {
    return this.#topics.size;
  }

  /** Number of connected subscribers. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /**
   * The state of one topic, if this instance holds it.
   *
   * @param name A valid topic id.
   */
  topic(name: string): TopicState | undefined {
    return this.#topics.get(name);
  }

  #topicFor(name: string): TopicState {
    let topic = this.#topics.get(name);
    if (!topic) {
      topic = new TopicState(name, this.options.ringCapacity, this.#now());
      this.#topics.set(name, topic);
    }
    return topic;
  }

  /**
   * Counts a publish accepted by this instance (the event itself arrives through the bus).
   *
   * @param name The topic published to.
   */
  countPublished(name: string): void {
    this.#topicFor(name).published++;
  }

  /**
   * Takes one event from the bus: appends it to its topic's ring and schedules fan-out.
   *
   * @param envelope The event; its topic must be valid.
   * @returns The stored event.
   */
  receive(envelope: Envelope): StoredEvent {
    const topic = this.#topicFor(envelope.topic);
    const event = new StoredEvent(
      envelope.topic,
      envelope.data,
      envelope.id,
      this.#seq++,
      this.#now(),
      this.options.memoryModel,
    );
    const publishedAt = envelope.id === undefined ? undefined : publishTime(envelope.id);
    if (publishedAt !== undefined) this.latency.observe(Math.max(0, event.receivedAt - publishedAt) / 1000);
    const before = topic.retainedBytes;
    topic.append(event);
    this.#retained += topic.retainedBytes - before;
    // Keep #topics in least-recently-active order, so eviction starts with the stalest topic.
    this.#topics.delete(topic.name);
    this.#topics.set(topic.name, topic);
    if (this.#retained > (this.options.maxRingBytes ?? Infinity)) this.#evict(topic);
    topic.pendingDispatch++;
    this.#dirty.add(topic);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.flush());
    }
    return event;
  }

  /**
   * Fans out what arrived since the last flush. Runs by itself once per microtask batch.
   */
  flush(): void {
    this.#flushQueued = false;
    const limit = this.options.clientBuffer;
    for (const topic of this.#dirty) {
      topic.pendingDispatch = 0;
      for (const sub of topic.subscribers) {
        if (sub.closed) continue;
        if (sub.demand) {
          sub.demand = false;
          sub.sink.ready();
        } else if (sub.lag >= limit) {
          this.#drop(sub);
        }
      }
    }
    this.#dirty.clear();
  }

  /**
   * Adds a subscriber to one or more topics.
   *
   * With `lastEventId`, the cursors start right after that event when a ring still holds it, so
   * the subscriber first receives what it missed; otherwise `gap` is true and it starts live.
   *
   * @param topics Valid, distinct topic ids.
   * @param sink Where the subscriber is told of events.
   * @param options `lastEventId` to resume after.
   * @returns The subscriber and whether the resume point was lost.
   */
  subscribe(topics: readonly string[], sink: SubscriberSink, options: { lastEventId?: string } = {}): Subscription {
    if (this.#closed) throw new Error("Cannot subscribe as the dispatcher is closed");
    const now = this.#now();
    const states = topics.map((name) => this.#topicFor(name));
    const cursors = states.map((t) => t.ring.head);
    let gap = false;
    if (options.lastEventId !== undefined) {
      gap = !this.#resumeCursors(states, cursors, options.lastEventId);
    }
    const subscriber = new Subscriber(states, cursors, sink, now);
    this.replayed += subscriber.pending;
    for (const t of states) {
      t.subscribers.add(subscriber);
      t.lastActivity = now;
    }
    this.#subscribers.add(subscriber);
    return { subscriber, gap };
  }

  #resumeCursors(states: TopicState[], cursors: number[], id: string): boolean {
    for (let i = 0; i < states.length; i++) {
      const seq = states[i].seqOf(id);
      if (seq < 0) continue;
      const arrival = (states[i].ring.at(seq) as StoredEvent).seq;
      for (let j = 0; j < states.length; j++) {
        cursors[j] = i === j ? seq + 1 : states[j].ring.firstWhere((event) => event.seq > arrival);
      }
      return true;
    }
    return false;
  }

  /**
   * Removes a subscriber. Safe to call more than once.
   *
   * @param subscriber The subscriber to remove.
   */
  unsubscribe(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    const now = this.#now();
    for (const t of subscriber.topics) {
      t.subscribers.delete(subscriber);
      t.lastActivity = now;
    }
    this.#subscribers.delete(subscriber);
  }

  #drop(subscriber: Subscriber): void {
    for (const t of subscriber.topics) t.droppedClients++;
    this.unsubscribe(subscriber);
    subscriber.sink.drop();
  }

  /** Tells every subscriber that events may have been lost (the bus reconnected). */
  gap(): void {
    for (const sub of [...this.#subscribers]) sub.sink.gap();
  }

  /** Tells every subscriber that the server is draining. */
  shutdown(): void {
    for (const sub of [...this.#subscribers]) sub.sink.shutdown();
  }

  /** Ends every remaining subscriber at once (the drain time is over). */
  abortAll(): void {
    for (const sub of [...this.#subscribers]) {
      this.unsubscribe(sub);
      sub.sink.abort();
    }
  }

  /** Sends keep-alives to subscribers that wrote nothing for about `keepAlive`. */
  keepAliveSweep(): void {
    const due = this.#now() - (this.options.keepAlive - this.#keepAliveTick);
    for (const sub of this.#subscribers) {
      if (sub.lastWriteAt <= due) sub.sink.idle();
    }
  }

  /**
   * Brings the rings back under `maxRingBytes`: first frees whole topics without subscribers,
   * least recently active first; then drops the oldest events of the other topics, stalest
   * topic first (their subscribers get a gap notice if they had not read them). The topic that
   * just received an event keeps at least that event.
   */
  #evict(current: TopicState): void {
    const cap = this.options.maxRingBytes ?? Infinity;
    for (const topic of this.#topics.values()) {
      if (this.#retained <= cap) return;
      if (topic.subscribers.size > 0 || topic === current) continue;
      this.#free(topic);
      this.evictedTopics++;
    }
    for (const topic of this.#topics.values()) {
      while (this.#retained > cap && topic.ring.size > (topic === current ? 1 : 0)) {
        const dropped = topic.ring.shift()!;
        topic.retainedBytes -= dropped.retainedBytes;
        this.#retained -= dropped.retainedBytes;
        this.evictedEvents++;
      }
      if (this.#retained <= cap) return;
    }
  }

  #free(topic: TopicState): void {
    this.#freed.published += topic.published;
    this.#freed.broadcast += topic.broadcast;
    this.#freed.deliveredFrames += topic.deliveredFrames;
    this.#freed.droppedClients += topic.droppedClients;
    this.#retained -= topic.retainedBytes;
    this.#topics.delete(topic.name);
  }

  /** Frees topics that have had no subscribers and no events for `topicIdleTimeout`. */
  freeIdleTopics(): void {
    const cutoff = this.#now() - this.options.topicIdleTimeout;
    for (const topic of [...this.#topics.values()]) {
      if (topic.subscribers.size === 0 && topic.lastActivity <= cutoff && topic.pendingDispatch === 0) {
        this.#free(topic);
      }
    }
  }

  /**
   * Per-topic figures, busiest first.
   *
   * @param limit At most this many topics.
   */
  topicStats(limit = Infinity): TopicStats[] {
    const all = [...this.#topics.values()].map((t) => this.#statsOf(t));
    all.sort((a, b) => b.subscribers - a.subscribers || b.broadcast - a.broadcast || (a.topic < b.topic ? -1 : 1));
    return all.slice(0, Math.max(0, limit));
  }

  #statsOf(t: TopicState): TopicStats {
    let pending = 0;
    for (const sub of t.subscribers) {
      const i = sub.topics.indexOf(t);
      pending += t.ring.head - sub.cursors[i];
    }
    return {
      topic: t.name,
      subscribers: t.subscribers.size,
      dispatch_depth: t.pendingDispatch,
      pending_to_clients: pending,
      published: t.published,
      broadcast: t.broadcast,
      delivered_frames: t.deliveredFrames,
      dropped_clients: t.droppedClients,
      memory_usage_bytes: t.retainedBytes,
      ring_depth: t.ring.size,
      last_activity_unix: Math.floor(t.lastActivity / 1000),
      is_idle: t.subscribers.size === 0,
    };
  }

  /** Instance-wide sums; counters include topics already freed. */
  totals(): DispatcherTotals {
    const totals: DispatcherTotals = {
      topics: this.#topics.size,
      idle_topics: 0,
      subscribers: this.#subscribers.size,
      dispatch_depth: 0,
      pending_to_clients: 0,
      published: this.#freed.published,
      broadcast: this.#freed.broadcast,
      delivered_frames: this.#freed.deliveredFrames,
      dropped_clients: this.#freed.droppedClients,
      memory_usage_bytes: this.#retained,
      ring_depth: 0,
    };
    for (const t of this.#topics.values()) {
      if (t.subscribers.size === 0) totals.idle_topics++;
      totals.dispatch_depth += t.pendingDispatch;
      totals.published += t.published;
      totals.broadcast += t.broadcast;
      totals.delivered_frames += t.deliveredFrames;
      totals.dropped_clients += t.droppedClients;
      totals.ring_depth += t.ring.size;
    }
    for (const sub of this.#subscribers) totals.pending_to_clients += sub.pending;
    return totals;
  }

  /** Stops the timers. Subscribers should have been shut down first. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
  }
}

/**
 * The publish time carried in an ssepg event id (`<ms base 36>-<tag>-<n>`), or undefined for ids
 * of another shape or an implausible time (another publisher, a skewed clock).
 */
function publishTime(id: string): number | undefined {
  const dash = id.indexOf("-");
  if (dash < 6 || dash > 10) return undefined;
  const ms = parseInt(id.slice(0, dash), 36);
  return Number.isFinite(ms) && Math.abs(Date.now() - ms) < 86_400_000 ? ms : undefined;
}
