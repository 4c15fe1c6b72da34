/**
 * The dispatcher's figures for the health report and the metrics: per-topic stats, busiest
 * first, and instance-wide totals. Everything here reads the dispatcher's state and changes
 * nothing; the counters themselves are kept by the dispatcher, its topics and subscribers.
 *
 * An instance may hold 100 000 topics and the health endpoint usually asks for the busiest few:
 * the dispatcher picks them with `TopicRanks` (topic_ranks.ts), and only those get a stats object
 * here; `dispatcherTotals` reads running sums (tally.ts) and walks nothing.
 *
 * @module
 */

import type { Subscriber } from "./subscriber.ts";
import type { Tally } from "./tally.ts";
import type { TopicState } from "./topic_state.ts";

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
  /**
   * Fixed bytes of the topic states (a per-topic constant of the memory model); with
   * `memory_usage_bytes`, what `maxRingBytes` caps.
   */
  topic_state_bytes: number;
  /** Events held for resume, all topics. */
  ring_depth: number;
}

/**
 * The dispatcher's figures the totals are made from: counts and running sums, so that making
 * them costs the same for ten topics and for a million.
 *
 * @example
 * ```ts
 * import type { StatsSource } from "./stats.ts";
 * import { Tally } from "./tally.ts";
 * const empty: StatsSource = {
 *   topics: 0,
 *   idleTopics: 0,
 *   subscribers: 0,
 *   tally: new Tally(),
 *   retainedBytes: 0,
 *   topicStateBytes: 0,
 * };
 * ```
 */
export interface StatsSource {
  /** Topics held. */
  readonly topics: number;
  /** Topics without subscribers. */
  readonly idleTopics: number;
  /** Connected subscribers. */
  readonly subscribers: number;
  /** Running sums, freed topics' counters included, so totals never go down. */
  readonly tally: Readonly<Tally>;
  /** Bytes held by all rings, which the dispatcher keeps up to date as events come and go. */
  readonly retainedBytes: number;
  /** Fixed bytes of the topic states. */
  readonly topicStateBytes: number;
}

/**
 * The order of the health report: most subscribers first, then most events received, then by
 * name so that equally busy topics keep a stable order between reports.
 *
 * @param a A topic.
 * @param b Another topic.
 * @returns Negative when `a` is busier, positive when `b` is, 0 for the same name.
 *
 * @example
 * ```ts
 * import { TopicState } from "./topic_state.ts";
 * import { compareBusiest } from "./stats.ts";
 * const quiet = new TopicState("quiet", 8, 0);
 * const watched = new TopicState("watched", 8, 0);
 * watched.subscribers.add("someone");
 * [quiet, watched].sort(compareBusiest)[0].name; // "watched"
 * ```
 */
export function compareBusiest(a: TopicState, b: TopicState): number {
  return b.subscribers.size - a.subscribers.size || b.broadcast - a.broadcast ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * {@link compareBusiest} on stats objects. Sorting the stats rather than the topics is about
 * twice as fast for a large `limit`: the keys are plain fields of freshly built, adjacent
 * objects instead of a walk from each topic to its subscriber set.
 */
function compareStats(a: TopicStats, b: TopicStats): number {
  return b.subscribers - a.subscribers || b.broadcast - a.broadcast ||
    (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0);
}

/**
 * One topic's figures.
 *
 * @param topic The topic.
 * @returns A new stats object.
 *
 * @example
 * ```ts
 * import type { Subscriber } from "./subscriber.ts";
 * import { TopicState } from "./topic_state.ts";
 * import { statsOfTopic } from "./stats.ts";
 * statsOfTopic(new TopicState<Subscriber>("alpha", 8, 1_700_000_000_000)).last_activity_unix; // 1700000000
 * ```
 */
export function statsOfTopic(topic: TopicState<Subscriber>): TopicStats {
  return {
    topic: topic.name,
    subscribers: topic.subscribers.size,
    dispatch_depth: topic.pendingDispatch,
    // Σ (head − cursor) over its subscribers, from the cursor sum the subscribers keep.
    pending_to_clients: topic.subscribers.size * topic.ring.head - topic.cursorSum,
    published: topic.published,
    broadcast: topic.broadcast,
    delivered_frames: topic.deliveredFrames,
    dropped_clients: topic.droppedClients,
    memory_usage_bytes: topic.retainedBytes,
    ring_depth: topic.ring.size,
    last_activity_unix: Math.floor(topic.lastActivity / 1000),
    is_idle: topic.subscribers.size === 0,
  };
}

/**
 * The figures of topics already chosen, busiest first (see {@link compareBusiest}).
 *
 * @param topics The topics, in any order.
 * @returns One stats object per topic.
 *
 * @example
 * ```ts
 * import type { Subscriber } from "./subscriber.ts";
 * import { TopicState } from "./topic_state.ts";
 * import { sortedTopicStats } from "./stats.ts";
 * const topics = ["a", "b"].map((name) => new TopicState<Subscriber>(name, 8, 0));
 * topics[0].broadcast = 3;
 * sortedTopicStats(topics).map((t) => t.topic); // ["a", "b"]
 * ```
 */
export function sortedTopicStats(topics: readonly TopicState<Subscriber>[]): TopicStats[] {
  return topics.map(statsOfTopic).sort(compareStats);
}

/**
 * Instance-wide sums; the counters include topics already freed. O(1).
 *
 * @param source The dispatcher's counts and running sums.
 * @returns A new totals object.
 *
 * @example
 * ```ts
 * import { dispatcherTotals } from "./stats.ts";
 * import { Tally } from "./tally.ts";
 * const tally = new Tally();
 * tally.published = 7;
 * const totals = dispatcherTotals({
 *   topics: 1,
 *   idleTopics: 1,
 *   subscribers: 0,
 *   tally,
 *   retainedBytes: 0,
 *   topicStateBytes: 600,
 * });
 * totals.published; // 7
 * totals.idle_topics; // 1
 * ```
 */
export function dispatcherTotals(source: StatsSource): DispatcherTotals {
  const { tally } = source;
  return {
    topics: source.topics,
    idle_topics: source.idleTopics,
    subscribers: source.subscribers,
    dispatch_depth: tally.dispatchDepth,
    pending_to_clients: tally.pendingFrames,
    published: tally.published,
    broadcast: tally.broadcast,
    delivered_frames: tally.deliveredFrames,
    dropped_clients: tally.droppedClients,
    memory_usage_bytes: source.retainedBytes,
    topic_state_bytes: source.topicStateBytes,
    ring_depth: tally.ringDepth,
  };
}
