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
import { type MemoryModel, V8_MEMORY } from "./memory_model.ts";
import {
  findResumePoint,
  isExactResume,
  mayStillArrive,
  publishTime,
  resumeCursors,
  type ResumePoint,
} from "./resume.ts";
import { type DispatcherTotals, dispatcherTotals, sortedTopicStats, type TopicStats } from "./stats.ts";
import { Subscriber, type SubscriberSink } from "./subscriber.ts";
import { Tally } from "./tally.ts";
import { TopicLimitError } from "./topic_limit_error.ts";
import { TopicRanks } from "./topic_ranks.ts";
import { TopicState } from "./topic_state.ts";

// mod.ts and the HTTP layer import the stats types from here; they are defined in stats.ts.
export type { DispatcherTotals, TopicStats } from "./stats.ts";
export { TopicLimitError } from "./topic_limit_error.ts";

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
  /**
   * Cap on the bytes all rings hold together, topic states' fixed cost included; idle topics
   * are evicted first. @default Infinity
   */
  readonly maxRingBytes?: number;
  /**
   * Cap on topic states: at the cap, idle topics (least recently active first) make room, and
   * a subscription that needs a new topic state when none is idle is refused
   * ({@link TopicLimitError}). @default 100000
   */
  readonly maxTopics?: number;
  /**
   * How long (ms) a resume from an id that is not held yet but newer than anything held waits
   * for that id to arrive before it is answered with a gap. 0 answers at once. @default 1000
   */
  readonly resumeWait?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
  /**
   * Bytes held outside the rings that count against `maxRingBytes` too: the bus's large event
   * being rebuilt from fragments. @default none
   */
  readonly heldBytes?: () => number;
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
  /**
   * The client may have missed events after `lastEventId`: it is not held (and not awaited),
   * or something that arrived after it was dropped, or the bus lost events since.
   */
  readonly gap: boolean;
  /**
   * `lastEventId` is not held but newer than anything held: nothing is delivered until it
   * arrives (the resume is then exact) or `resumeWait` ends (then `sink.gap()`, and what
   * arrived meanwhile).
   */
  readonly waiting: boolean;
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
  /** Topics without subscribers, least recently active first: what eviction takes first. */
  readonly #idle = new Set<Topic>();
  /** Topics whose rings hold events, least recently received first: what trimming takes first. */
  readonly #holding = new Set<Topic>();
  readonly #subscribers = new Set<Subscriber>();
  readonly #dirty = new Set<Topic>();
  /** Running sums for totals(), so health and metrics never walk every topic. */
  readonly #tally = new Tally();
  /** Every topic's ranking keys in flat arrays, for topicStats(limit). */
  readonly #ranks = new TopicRanks<Topic>();
  /** Subscribers waiting for their resume id to arrive, by that id. */
  readonly #waiting = new Map<string, Set<Subscriber>>();
  readonly #waitTimers = new Map<Subscriber, ReturnType<typeof setTimeout>>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #keepAliveTick: number;
  readonly #maxBytes: number;
  readonly #maxTopics: number;
  readonly #resumeWait: number;
  readonly #perTopic: number;
  #flushQueued = false;
  #seq = 0;
  /** Bytes held by all rings (the sum of the topics' retainedBytes). */
  #retained = 0;
  /**
   * The newest arrival seq of an event discarded with a freed or evicted topic: a topic state
   * made anew starts with it as its `droppedThrough`, since it cannot know which of its
   * predecessor's events are gone. Conservative: instance-wide, not per name, so it costs
   * nothing per freed topic.
   */
  #freedThrough = -1;
  /** The first arrival seq after the bus's last gap: events before it may miss successors. */
  #busGapSeq = 0;
  // Private so that these counters change only here and each metric has one owner: readers get
  // getters, and the event stream, which writes the gap notices, reports each via countGap().
  #evictedTopics = 0;
  #evictedEvents = 0;
  #replayed = 0;
  #gaps = 0;
  #refused = 0;
  #closed = false;
  /** Seconds from publish (the time in the event id) to fan-out on this instance. */
  readonly latency: Histogram = new Histogram([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.#now = options.now ?? Date.now;
    this.#maxBytes = options.maxRingBytes ?? Infinity;
    this.#maxTopics = options.maxTopics ?? 100_000;
    this.#resumeWait = options.resumeWait ?? 1_000;
    this.#perTopic = (options.memoryModel ?? V8_MEMORY).perTopic ?? 0;
    this.#keepAliveTick = Math.max(10, Math.floor(options.keepAlive / 5));
    this.#timers.push(setInterval(() => this.keepAliveSweep(), this.#keepAliveTick));
    const sweepEvery = Math.min(30_000, Math.max(10, Math.floor(options.topicIdleTimeout / 2)));
    this.#timers.push(setInterval(() => this.freeIdleTopics(), sweepEvery));
  }

  /** Idle topics freed to stay under `maxRingBytes` or `maxTopics`. */
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

  /** Subscriptions refused at `maxTopics`: {@link TopicLimitError}s and {@link Dispatcher.countRefusal}. */
  get refusedSubscriptions(): number {
    return this.#refused;
  }

  /**
   * Counts one stream refused because {@link Dispatcher.canSubscribe} said no (the HTTP layer
   * answers 503 before subscribing), so the metric has a single owner.
   *
   * @example
   * ```ts
   * import { Dispatcher } from "./dispatcher.ts";
   * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000 });
   * dispatcher.countRefusal();
   * dispatcher.refusedSubscriptions; // 1
   * dispatcher.close();
   * ```
   */
  countRefusal(): void {
    this.#refused++;
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

  /**
   * What the cap on `maxRingBytes` is checked against: the rings, the topic states, and what the
   * bus holds for events not yet complete.
   */
  #used(): number {
    return this.#retained + this.#topics.size * this.#perTopic + (this.options.heldBytes?.() ?? 0);
  }

  #create(name: string): Topic {
    const topic = new TopicState<Subscriber>(name, this.options.ringCapacity, this.#now(), this.#freedThrough);
    this.#topics.set(name, topic);
    this.#idle.add(topic);
    this.#ranks.add(topic);
    return topic;
  }

  /**
   * The topic for an event from the bus or a count, made if need be. Receiving must never
   * fail, so the cap is soft here: at `maxTopics` a new topic first evicts idle topics, least
   * recently active first, and when every topic has subscribers it is stored anyway. That
   * cannot run away: the new topic is idle itself, so the next one at the cap evicts it, and
   * only subscribers (refused at the cap for new topics) can keep one beyond the cap. Every
   * topic state is counted against `maxRingBytes` either way.
   */
  #topicFor(name: string): Topic {
    const existing = this.#topics.get(name);
    if (existing) return existing;
    if (this.#topics.size >= this.#maxTopics) {
      for (const stalest of this.#idle) {
        if (this.#topics.size < this.#maxTopics) break;
        this.#free(stalest);
        this.#evictedTopics++;
      }
    }
    return this.#create(name);
  }

  /**
   * The topics of a new subscription. The cap is hard here: idle topics (never one of these)
   * make room for the new ones, and when there are not enough the subscription is refused
   * before anything changes.
   */
  #statesFor(names: readonly string[]): Topic[] {
    const missing = this.#missing(names);
    const over = this.#topics.size + missing - this.#maxTopics;
    if (over > 0) {
      if (this.#evictable(names) < over) {
        this.#refused++;
        throw new TopicLimitError(this.#maxTopics, missing);
      }
      let left = over;
      for (const topic of this.#idle) {
        if (left === 0) break;
        if (names.includes(topic.name)) continue;
        this.#free(topic);
        this.#evictedTopics++;
        left--;
      }
    }
    return names.map((name) => this.#topics.get(name) ?? this.#create(name));
  }

  #missing(names: readonly string[]): number {
    let missing = 0;
    for (const name of names) if (!this.#topics.has(name)) missing++;
    return missing;
  }

  /** Idle topics that could make room for a subscription to `names` (not its own). */
  #evictable(names: readonly string[]): number {
    let n = this.#idle.size;
    for (const name of names) {
      const topic = this.#topics.get(name);
      if (topic && topic.subscribers.size === 0) n--;
    }
    return n;
  }

  /**
   * Whether a subscription to `topics` would be accepted now under `maxTopics` (it changes
   * nothing). The HTTP layer asks before it answers 200, since the stream subscribes only once
   * the adapter attaches its writer.
   *
   * @param topics Valid, distinct topic ids.
   * @returns False when it would throw {@link TopicLimitError}.
   *
   * @example
   * ```ts
   * import { Dispatcher } from "./dispatcher.ts";
   * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000, maxTopics: 1 });
   * const sink = { ready() {}, drop() {}, gap() {}, idle() {}, shutdown() {}, abort() {} };
   * dispatcher.subscribe(["alpha"], sink);
   * dispatcher.canSubscribe(["alpha"]); // true: it exists
   * dispatcher.canSubscribe(["beta"]); // false: the only topic has a subscriber
   * dispatcher.abortAll();
   * dispatcher.close();
   * ```
   */
  canSubscribe(topics: readonly string[]): boolean {
    const over = this.#topics.size + this.#missing(topics) - this.#maxTopics;
    return over <= 0 || this.#evictable(topics) >= over;
  }

  /**
   * Counts a publish accepted by this instance (the event itself arrives through the bus).
   *
   * @param name The topic published to.
   */
  countPublished(name: string): void {
    this.#topicFor(name).published++;
    this.#tally.published++;
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
    const bytes = topic.retainedBytes;
    const depth = topic.ring.size;
    topic.append(event);
    this.#retained += topic.retainedBytes - bytes;
    this.#tally.broadcast++;
    this.#tally.ringDepth += topic.ring.size - depth;
    this.#ranks.countEvent(topic);
    // Every subscriber of the topic now has one more frame waiting.
    this.#tally.pendingFrames += topic.subscribers.size;
    // Keep the eviction orders: stalest first.
    this.#holding.delete(topic);
    this.#holding.add(topic);
    if (topic.subscribers.size === 0) {
      this.#idle.delete(topic);
      this.#idle.add(topic);
    }
    if (this.#waiting.size > 0 && envelope.id !== undefined) this.#arrived(topic, envelope.id);
    if (this.#used() > this.#maxBytes) this.#evict(topic);
    topic.pendingDispatch++;
    this.#tally.dispatchDepth++;
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
      this.#tally.dispatchDepth -= topic.pendingDispatch;
      topic.pendingDispatch = 0;
      for (const sub of topic.subscribers) {
        // A subscriber waiting for its resume id is told nothing yet: which events follow that
        // id is not known until it arrives. What it misses meanwhile is replay, not lag.
        if (sub.closed || sub.waitingFor !== undefined) continue;
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
   * the subscriber first receives what it missed; `gap` is true when that replay is not
   * complete (see resume.ts). An id that is not held but newer than anything held is awaited
   * for `resumeWait` (`waiting`); any other unknown id gives a gap and a live start.
   *
   * @param topics Valid, distinct topic ids.
   * @param sink Where the subscriber is told of events.
   * @param options `lastEventId` to resume after.
   * @returns The subscriber, whether the client missed events, whether it waits.
   * @throws {TopicLimitError} when a new topic state is needed at `maxTopics` and none is idle.
   */
  subscribe(topics: readonly string[], sink: SubscriberSink, options: { lastEventId?: string } = {}): Subscription {
    if (this.#closed) throw new Error("Cannot subscribe as the dispatcher is closed");
    const states = this.#statesFor(topics);
    const now = this.#now();
    let cursors = states.map((t) => t.ring.head);
    let gap = false;
    let waiting = false;
    const id = options.lastEventId;
    if (id !== undefined) {
      const point = findResumePoint(states, id);
      if (point) {
        cursors = resumeCursors(states, point);
        gap = !isExactResume(states, point.arrival, this.#busGapSeq);
      } else if (this.#resumeWait > 0 && mayStillArrive(states, id)) {
        waiting = true;
      } else {
        gap = true;
      }
    }
    const subscriber = new Subscriber(states, cursors, sink, now, this.#tally);
    // The client has this event: gap notices before its first new event name it.
    subscriber.lastId = id;
    this.#tally.pendingFrames += subscriber.pending;
    this.#replayed += subscriber.pending;
    for (let i = 0; i < states.length; i++) {
      const t = states[i];
      if (t.subscribers.size === 0) this.#idle.delete(t);
      t.subscribers.add(subscriber);
      t.cursorSum += cursors[i];
      t.lastActivity = now;
      this.#ranks.setSubscribers(t, t.subscribers.size);
    }
    this.#subscribers.add(subscriber);
    if (waiting) this.#startWait(subscriber, id!);
    // New topic states cost memory too.
    if (this.#used() > this.#maxBytes) this.#evict(undefined);
    return { subscriber, gap, waiting };
  }

  #startWait(subscriber: Subscriber, id: string): void {
    subscriber.waitingFor = id;
    let waiting = this.#waiting.get(id);
    if (!waiting) this.#waiting.set(id, waiting = new Set());
    waiting.add(subscriber);
    this.#waitTimers.set(subscriber, setTimeout(() => this.#endWait(subscriber, undefined), this.#resumeWait));
  }

  #stopWaiting(subscriber: Subscriber): void {
    const id = subscriber.waitingFor;
    if (id === undefined) return;
    subscriber.waitingFor = undefined;
    const waiting = this.#waiting.get(id);
    waiting?.delete(subscriber);
    if (waiting?.size === 0) this.#waiting.delete(id);
    clearTimeout(this.#waitTimers.get(subscriber));
    this.#waitTimers.delete(subscriber);
  }

  /** An event with an awaited id arrived in `topic` (its newest event): those resumes start. */
  #arrived(topic: Topic, id: string): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    const ringSeq = topic.ring.head - 1;
    const arrival = (topic.ring.at(ringSeq) as StoredEvent).seq;
    for (const subscriber of [...waiting]) {
      const index = subscriber.topics.indexOf(topic);
      // The id names an event of a topic this stream does not read: keep waiting.
      if (index >= 0) this.#endWait(subscriber, { index, ringSeq, arrival });
    }
  }

  /**
   * Ends a resume wait: as if `point` had been held when it arrived, or (at the deadline, or
   * on a bus gap) with a gap notice and then what arrived meanwhile.
   */
  #endWait(subscriber: Subscriber, point: ResumePoint | undefined): void {
    if (subscriber.waitingFor === undefined || subscriber.closed) return;
    this.#stopWaiting(subscriber);
    const { topics } = subscriber;
    let gap = true;
    if (point) {
      const cursors = resumeCursors(topics, point);
      for (let i = 0; i < topics.length; i++) subscriber.moveCursor(i, cursors[i]);
      gap = !isExactResume(topics, point.arrival, this.#busGapSeq);
    }
    for (let i = 0; i < topics.length; i++) {
      // The notice covers what the rings dropped meanwhile: take() need not report it again.
      if (gap && subscriber.cursors[i] < topics[i].ring.tail) subscriber.moveCursor(i, topics[i].ring.tail);
      // What arrived while it waited is replay: it does not count against clientBuffer.
      subscriber.liveFrom[i] = topics[i].ring.head;
    }
    this.#replayed += subscriber.pending;
    if (gap) subscriber.sink.gap();
    if (!subscriber.closed && subscriber.demand && subscriber.hasPending) {
      subscriber.demand = false;
      subscriber.sink.ready();
    }
  }

  /**
   * Removes a subscriber. Safe to call more than once.
   *
   * @param subscriber The subscriber to remove.
   */
  unsubscribe(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    this.#stopWaiting(subscriber);
    this.#tally.pendingFrames -= subscriber.pending;
    const now = this.#now();
    for (let i = 0; i < subscriber.topics.length; i++) {
      const t = subscriber.topics[i];
      t.subscribers.delete(subscriber);
      t.cursorSum -= subscriber.cursors[i];
      t.lastActivity = now;
      // A subscribed topic is never freed, so it is still held.
      this.#ranks.setSubscribers(t, t.subscribers.size);
      if (t.subscribers.size === 0) this.#idle.add(t);
    }
    this.#subscribers.delete(subscriber);
  }

  #drop(subscriber: Subscriber): void {
    for (const t of subscriber.topics) t.droppedClients++;
    this.#tally.droppedClients += subscriber.topics.length;
    this.unsubscribe(subscriber);
    subscriber.sink.drop();
  }

  /**
   * Tells every subscriber that events may have been lost (the bus reconnected), or only the
   * subscribers of `topic` (one of its events could not be rebuilt). Resumes from events that
   * arrived before this moment are no longer exact, and waiting ones end now.
   *
   * @param topic The topic that lost an event; every topic when absent.
   */
  gap(topic?: string): void {
    // One boundary for all topics: a resume across a topic's gap is then reported as inexact
    // on every topic, which says "maybe" more often than needed but never hides a loss.
    this.#busGapSeq = this.#seq;
    const subscribers = topic === undefined ? this.#subscribers : this.#topics.get(topic)?.subscribers;
    if (subscribers === undefined) return;
    for (const sub of [...subscribers]) {
      if (sub.waitingFor !== undefined) this.#endWait(sub, undefined);
      else sub.sink.gap();
    }
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
   * just received an event keeps at least that event. Both walks start at the stalest end of
   * their sets and stop once under the cap, so they cost what they free.
   */
  #evict(current: Topic | undefined): void {
    const cap = this.#maxBytes;
    for (const topic of this.#idle) {
      if (this.#used() <= cap) return;
      if (topic === current) continue;
      this.#free(topic);
      this.#evictedTopics++;
    }
    for (const topic of this.#holding) {
      while (this.#used() > cap && topic.ring.size > (topic === current ? 1 : 0)) {
        const dropped = topic.shiftOldest()!;
        this.#retained -= dropped.retainedBytes;
        this.#tally.ringDepth--;
        this.#evictedEvents++;
      }
      if (topic.ring.size === 0) this.#holding.delete(topic);
      if (this.#used() <= cap) return;
    }
  }

  #free(topic: Topic): void {
    this.#freedThrough = Math.max(this.#freedThrough, topic.lastSeq);
    this.#retained -= topic.retainedBytes;
    this.#tally.ringDepth -= topic.ring.size;
    this.#tally.dispatchDepth -= topic.pendingDispatch;
    topic.pendingDispatch = 0;
    this.#dirty.delete(topic);
    this.#topics.delete(topic.name);
    this.#idle.delete(topic);
    this.#holding.delete(topic);
    this.#ranks.remove(topic);
  }

  /**
   * Frees topics that have had no subscribers and no events for `topicIdleTimeout`. Idle topics
   * are kept least recently active first, so the walk stops at the first one still in use.
   */
  freeIdleTopics(): void {
    const cutoff = this.#now() - this.options.topicIdleTimeout;
    for (const topic of this.#idle) {
      if (topic.lastActivity > cutoff) break;
      if (topic.pendingDispatch === 0) this.#free(topic);
    }
  }

  /**
   * Per-topic figures, busiest first (see stats.ts). Cheap for a small `limit` however many
   * topics are held: the busiest are chosen from flat arrays of ranking keys (topic_ranks.ts),
   * and only those get a stats object, each made in O(1).
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
    return sortedTopicStats(this.#ranks.busiest(limit));
  }

  /**
   * Instance-wide sums; counters include topics already freed (see stats.ts). O(1): the sums
   * are kept up to date as events, subscribers and drops happen.
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
      topics: this.#topics.size,
      idleTopics: this.#idle.size,
      subscribers: this.#subscribers.size,
      tally: this.#tally,
      retainedBytes: this.#retained,
      topicStateBytes: this.#topics.size * this.#perTopic,
    });
  }

  /** Stops the timers. Subscribers should have been shut down first. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
    for (const timer of this.#waitTimers.values()) clearTimeout(timer);
    this.#waitTimers.clear();
  }
}
