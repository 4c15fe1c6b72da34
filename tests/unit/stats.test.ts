import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { Dispatcher } from "../../src/dispatcher/dispatcher.ts";
import { dispatcherTotals, sortedTopicStats, statsOfTopic } from "../../src/dispatcher/stats.ts";
import type { Subscriber, SubscriberSink } from "../../src/dispatcher/subscriber.ts";
import { Tally } from "../../src/dispatcher/tally.ts";
import { TopicState } from "../../src/dispatcher/topic_state.ts";
import { V8_MEMORY } from "../../src/dispatcher/memory_model.ts";

const sink: SubscriberSink = { ready() {}, drop() {}, gap() {}, idle() {}, shutdown() {}, abort() {} };

function dispatcher() {
  return new Dispatcher({
    ringCapacity: 16,
    clientBuffer: 64,
    keepAlive: 60_000,
    topicIdleTimeout: 1_000,
    now: () => 0,
  });
}

test("Dispatcher.topicStats() reports the busiest topics first, limited, with their figures", async () => {
  const d = dispatcher();
  for (let i = 0; i < 3; i++) d.receive({ topic: "loud", data: String(i), id: undefined });
  d.receive({ topic: "quiet", data: "1", id: undefined });
  d.countPublished("quiet");
  const { subscriber } = d.subscribe(["watched", "loud"], sink);
  d.receive({ topic: "watched", data: "1", id: undefined });
  await new Promise((r) => setTimeout(r, 0));
  const all = d.topicStats();
  assert.deepEqual(all.map((t) => t.topic), ["loud", "watched", "quiet"]);
  assert.deepEqual(d.topicStats(2).map((t) => t.topic), ["loud", "watched"]);
  assert.deepEqual(d.topicStats(0), []);
  const watched = all[1];
  assert.equal(watched.subscribers, 1);
  assert.equal(watched.pending_to_clients, 1, "the subscriber has not taken the event yet");
  assert.equal(watched.ring_depth, 1);
  assert.equal(watched.is_idle, false);
  assert.equal(all[0].pending_to_clients, 0, "events before the subscription are not queued for it");
  assert.deepEqual(
    { published: all[2].published, broadcast: all[2].broadcast, is_idle: all[2].is_idle },
    { published: 1, broadcast: 1, is_idle: true },
  );
  subscriber.take();
  assert.equal(d.topicStats(2)[1].pending_to_clients, 0);
  assert.equal(d.topicStats(2)[1].delivered_frames, 1);
  d.unsubscribe(subscriber);
  d.close();
});

test("statsOfTopic() counts each subscriber's frames waiting in that topic only", () => {
  const d = dispatcher();
  const { subscriber } = d.subscribe(["a", "b"], sink);
  d.receive({ topic: "a", data: "1", id: undefined });
  d.receive({ topic: "a", data: "2", id: undefined });
  d.receive({ topic: "b", data: "3", id: undefined });
  assert.equal(statsOfTopic(d.topic("a")!).pending_to_clients, 2);
  assert.equal(statsOfTopic(d.topic("b")!).pending_to_clients, 1);
  assert.equal(subscriber.pendingIn(d.topic("a")!), 2);
  assert.equal(subscriber.pendingIn(new TopicState<Subscriber>("elsewhere", 8, 0)), 0);
  d.unsubscribe(subscriber);
  d.close();
});

test("sortedTopicStats() and dispatcherTotals() work on plain state", () => {
  const a = new TopicState<Subscriber>("a", 8, 0);
  const b = new TopicState<Subscriber>("b", 8, 0);
  a.published = 2;
  b.broadcast = 4;
  b.pendingDispatch = 1;
  assert.deepEqual(sortedTopicStats([a, b]).map((t) => t.topic), ["b", "a"]);
  const tally = Object.assign(new Tally(), {
    published: 12,
    broadcast: 24,
    deliveredFrames: 30,
    droppedClients: 40,
    dispatchDepth: 1,
    pendingFrames: 5,
    ringDepth: 6,
  });
  const totals = dispatcherTotals({
    topics: 2,
    idleTopics: 2,
    subscribers: 0,
    tally,
    retainedBytes: 123,
    topicStateBytes: 1200,
  });
  assert.deepEqual(totals, {
    topics: 2,
    idle_topics: 2,
    subscribers: 0,
    dispatch_depth: 1,
    pending_to_clients: 5,
    published: 12,
    broadcast: 24,
    delivered_frames: 30,
    dropped_clients: 40,
    memory_usage_bytes: 123,
    topic_state_bytes: 1200,
    ring_depth: 6,
  });
});

test("Dispatcher.totals() sums the topics held and keeps the counters of freed ones", async () => {
  let now = 0;
  const d = new Dispatcher({
    ringCapacity: 16,
    clientBuffer: 64,
    keepAlive: 60_000,
    topicIdleTimeout: 1_000,
    now: () => now,
  });
  d.receive({ topic: "gone", data: "1", id: undefined });
  d.countPublished("gone");
  const { subscriber } = d.subscribe(["kept"], sink);
  d.receive({ topic: "kept", data: "1", id: undefined });
  d.receive({ topic: "kept", data: "2", id: undefined });
  const before = d.totals();
  assert.equal(before.dispatch_depth, 3, "not fanned out yet");
  await new Promise((r) => setTimeout(r, 0));
  subscriber.take();
  now += 2_000;
  d.freeIdleTopics();
  const totals = d.totals();
  assert.deepEqual(
    { ...totals, memory_usage_bytes: 0 },
    {
      topics: 1,
      idle_topics: 0,
      subscribers: 1,
      dispatch_depth: 0,
      pending_to_clients: 0,
      published: 1,
      broadcast: 3,
      delivered_frames: 2,
      dropped_clients: 0,
      memory_usage_bytes: 0,
      topic_state_bytes: V8_MEMORY.perTopic!,
      ring_depth: 2,
    },
  );
  assert.equal(totals.memory_usage_bytes, d.topic("kept")!.retainedBytes, "the freed topic's bytes are released");
  assert.ok(totals.memory_usage_bytes > 0);
  d.unsubscribe(subscriber);
  d.close();
});
