/**
 * The scenarios of the README's Performance table. Each is a load run (subscribers, then
 * publishing, then a drain) or, for D, an idle run (many subscribers held open while the
 * server's memory is sampled, then one event per topic to check they all still work).
 *
 * @module
 */

/** One scenario. */
export interface Scenario {
  id: string;
  description: string;
  topics: number;
  subscribersPerTopic: number;
  /** Events in total, round-robin over the topics. */
  events: number;
  /** Events per second in total; 0 = as fast as `concurrency` allows. */
  rate: number;
  concurrency: number;
  payloadBytes: number;
  /** Subscribers connect to the second instance (publishing goes to the first). */
  crossInstance?: boolean;
  /** Idle run: hold the connections this long, sampling the server's memory, then publish one event per topic. */
  holdS?: number;
  /** Wait between the last subscriber connecting and the first publish (or memory sample). */
  settleMs: number;
  /** Connections being opened at once, per subscriber thread. */
  connectConcurrency: number;
}

const common = { settleMs: 1000, connectConcurrency: 128, payloadBytes: 256 };

/** Scenarios A–E by id. */
export const SCENARIOS: Record<string, Scenario> = {
  A: {
    ...common,
    id: "A",
    description: "fan-out: 1 topic × 1000 subscribers, 2000 events at 200/s",
    topics: 1,
    subscribersPerTopic: 1000,
    events: 2000,
    rate: 200,
    concurrency: 512,
  },
  B: {
    ...common,
    id: "B",
    description: "many topics: 100 topics × 10 subscribers, 10 000 events, 64 publishes in flight",
    topics: 100,
    subscribersPerTopic: 10,
    events: 10_000,
    rate: 0,
    concurrency: 64,
  },
  C: {
    ...common,
    id: "C",
    description: "burst: 1 topic × 100 subscribers, 20 000 events, 64 publishes in flight",
    topics: 1,
    subscribersPerTopic: 100,
    events: 20_000,
    rate: 0,
    concurrency: 64,
  },
  D: {
    ...common,
    id: "D",
    description:
      "idle: 10 000 subscribers over 100 topics held 10 s (server RSS per connection), then 1 event per topic",
    topics: 100,
    subscribersPerTopic: 100,
    events: 100,
    rate: 0,
    concurrency: 64,
    holdS: 10,
    settleMs: 2000,
    connectConcurrency: 256,
  },
  E: {
    ...common,
    id: "E",
    description: "cross-instance: publish on instance 1, 1 topic × 200 subscribers on instance 2, 2000 events at 200/s",
    topics: 1,
    subscribersPerTopic: 200,
    events: 2000,
    rate: 200,
    concurrency: 512,
    crossInstance: true,
  },
};
