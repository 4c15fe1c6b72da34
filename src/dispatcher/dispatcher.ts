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
import type { MemoryModel } from "./memory_model.ts";
import { busiestTopicStats, type DispatcherTotals, dispatcherTotals, type TopicStats } from "./stats.ts";
import { Subscriber, type SubscriberSink } from "./subscriber.ts";
import { type TopicCounters, TopicState } from "./topic_state.ts";

// mod.ts and the HTTP layer import the stats types from here; they are defined in stats.ts.
export type { DispatcherTotals, TopicStats } from "./stats.ts";

/** A topic as this dispatcher holds it: its subscribers are `Subscriber`s. */
type Topic = TopicState<Subscriber>;

/**
 * Dispatcher settings; the names are those of the ssepg config.
 *
 * @example
 * ```ts
 * import { Dispatcher, type DispatcherOptions } from "./dispatcher.ts";
 * const options: DispatcherOptions = { ringCapacity: 1024, clientBuffer: 64, keepAlive: 15_000, topicIdleTimeout: 600_000 };
 * new Dispatcher(options).close();
 * ```
 */
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

/**
 * How a subscription started.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "./dispatcher.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const sink = { ready() {}, drop() {}, gap() {}, idle() {}, shutdown() {}, abort() {} };
 * const { subscriber, gap } = dispatcher.subscribe(["alpha"], sink, { lastEventId: "long-gone" });
 * gap; // true: that event is not held, so the client is told it missed some
 * dispatcher.unsubscribe(subscriber);
 * dispatcher.close();
 * ```
 */
export interface Subscription {
  /** The new subscriber. */
  readonly subscriber: Subscriber;
  /** The `lastEventId` asked for is no longer held: the client missed events. */
  readonly gap: boolean;
}

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
  readonly #topics = new Map<string, Topic>();
  readonly #subscribers = new Set<Subscriber>();
  readonly #dirty = new Set<Topic>();
  /** Counters of topics already freed, so totals never go down. */
  readonly #freed: TopicCounters = { published: 0, broadcast: 0, deliveredFrames: 0, droppedClients: 0 };
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #keepAliveTick: number;
  #flushQueued = false;
  #seq = 0;
  /** Bytes held by all rings (the sum of the topics' retainedBytes). */
  #retained = 0;
  // Private so that these counters change only here and each metric has one owner: readers get
  // getters, and the event stream, which writes the gap notices, reports each via countGap().
  #evictedTopics = 0;
  #evictedEvents = 0;
  #replayed = 0;
  #gaps = 0;
  #closed = false;
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

  /** Idle topics freed to stay under `maxRingBytes`. */
  get evictedTopics(): number {
    return this.#evictedTopics;
  }

  /** Events dropped from rings to stay under `maxRingBytes`. */
  get evictedEvents(): number {
    return this.#evictedEvents;
  }

  /** Events replayed to resuming subscribers. */
  get replayed(): number {
    return this.#replayed;
  }

  /** `event: gap` notices sent; see {@link Dispatcher.countGap}. */
  get gaps(): number {
    return this.#gaps;
  }

  /**
   * Counts one `event: gap` notice sent to a subscriber. The event stream writes the notice,
   * the dispatcher keeps the count, so the metric has a single owner.
   *
   * @example
   * ```ts
   * import { Dispatcher } from "./dispatcher.ts";
   * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
   * dispatcher.countGap();
   * dispatcher.gaps; // 1
   * dispatcher.close();
   * ```
   */
  countGap(): void {
    this.#gaps++;
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
  topic(name: string): Topic | undefined {
    return this.#topics.get(name);
  }

  #topicFor(name: string): Topic {
    let topic = this.#topics.get(name);
    if (!topic) {
      topic = new TopicState<Subscriber>(name, this.options.ringCapacity, this.#now());
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
    this.#replayed += subscriber.pending;
    for (const t of states) {
      t.subscribers.add(subscriber);
      t.lastActivity = now;
    }
    this.#subscribers.add(subscriber);
    return { subscriber, gap };
  }

  #resumeCursors(states: Topic[], cursors: number[], id: string): boolean {
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
  #evict(current: Topic): void {
    const cap = this.options.maxRingBytes ?? Infinity;
    for (const topic of this.#topics.values()) {
      if (this.#retained <= cap) return;
      if (topic.subscribers.size > 0 || topic === current) continue;
      this.#free(topic);
      this.#evictedTopics++;
    }
    for (const topic of this.#topics.values()) {
      while (this.#retained > cap && topic.ring.size > (topic === current ? 1 : 0)) {
        const dropped = topic.ring.shift()!;
        topic.retainedBytes -= dropped.retainedBytes;
        this.#retained -= dropped.retainedBytes;
        this.#evictedEvents++;
      }
      if (this.#retained <= cap) return;
    }
  }

  #free(topic: Topic): void {
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
   * Per-topic figures, busiest first (see stats.ts). Cheap for a small `limit` however many
   * topics are held: only the busiest `limit` are kept while scanning.
   *
   * @param limit At most this many topics.
   *
   * @example
   * ```ts
   * import { Dispatcher } from "./dispatcher.ts";
   * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
   * dispatcher.receive({ topic: "quiet", data: "1", id: undefined });
   * dispatcher.receive({ topic: "busy", data: "1", id: undefined });
   * dispatcher.receive({ topic: "busy", data: "2", id: undefined });
   * dispatcher.topicStats(1).map((t) => t.topic); // ["busy"]
   * dispatcher.close();
   * ```
   */
  topicStats(limit = Infinity): TopicStats[] {
    return busiestTopicStats(this.#topics.values(), limit);
  }

  /**
   * Instance-wide sums; counters include topics already freed (see stats.ts).
   *
   * @example
   * ```ts
   * import { Dispatcher } from "./dispatcher.ts";
   * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
   * dispatcher.receive({ topic: "alpha", data: "1", id: undefined });
   * dispatcher.totals().broadcast; // 1
   * dispatcher.close();
   * ```
   */
  totals(): DispatcherTotals {
    return dispatcherTotals({
      topics: this.#topics,
      subscribers: this.#subscribers,
      freed: this.#freed,
      retainedBytes: this.#retained,
    });
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
