import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { Dispatcher, type DispatcherOptions, TopicLimitError } from "../../src/dispatcher/dispatcher.ts";
import type { SubscriberSink } from "../../src/dispatcher/subscriber.ts";
import { statsOfTopic } from "../../src/dispatcher/stats.ts";
import { createSsepg } from "../../src/service/create.ts";
import { silentLogger } from "../../src/log.ts";

const sink: SubscriberSink = { ready() {}, drop() {}, gap() {}, idle() {}, shutdown() {}, abort() {} };

function setup(options: Partial<DispatcherOptions> = {}) {
  let now = 1_000_000;
  const dispatcher = new Dispatcher({
    ringCapacity: 8,
    clientBuffer: 8,
    keepAlive: 60_000,
    topicIdleTimeout: 60_000,
    now: () => now,
    ...options,
  });
  const advance = (ms: number) => (now += ms);
  return { dispatcher, advance };
}

test("topic cap: a new topic evicts the least recently active idle topic, never one with subscribers", () => {
  const { dispatcher, advance } = setup({ maxTopics: 3 });
  dispatcher.receive({ topic: "old", data: "1", id: undefined });
  advance(1);
  const watched = dispatcher.subscribe(["watched"], sink).subscriber;
  advance(1);
  dispatcher.receive({ topic: "recent", data: "1", id: undefined });
  assert.equal(dispatcher.canSubscribe(["new"]), true);
  dispatcher.subscribe(["new"], sink);
  assert.equal(dispatcher.topicCount, 3);
  assert.equal(dispatcher.topic("old"), undefined, "the stalest idle topic went");
  assert.ok(dispatcher.topic("watched") && dispatcher.topic("recent"));
  assert.equal(dispatcher.evictedTopics, 1);
  // An idle topic that becomes active again moves to the back of the line.
  dispatcher.receive({ topic: "recent", data: "2", id: undefined });
  dispatcher.unsubscribe(watched);
  dispatcher.subscribe(["another"], sink);
  assert.equal(dispatcher.topic("recent"), undefined, "recent was idle longer than watched");
  assert.ok(dispatcher.topic("watched"));
  dispatcher.abortAll();
  dispatcher.close();
});

test("topic cap: when every topic has subscribers a subscription needing a new topic is refused", () => {
  const { dispatcher } = setup({ maxTopics: 2 });
  dispatcher.subscribe(["a"], sink);
  dispatcher.subscribe(["b"], sink);
  assert.equal(dispatcher.canSubscribe(["c"]), false);
  assert.equal(dispatcher.canSubscribe(["a", "b"]), true, "existing topics need no room");
  assert.throws(() => dispatcher.subscribe(["a", "c"], sink), TopicLimitError);
  assert.equal(dispatcher.subscriberCount, 2, "a refused subscription changes nothing");
  assert.equal(dispatcher.topic("a")?.subscribers.size, 1);
  assert.equal(dispatcher.refusedSubscriptions, 1);
  dispatcher.subscribe(["a", "b"], sink);
  dispatcher.abortAll();
  dispatcher.close();
});

test("topic cap: a subscription never evicts its own idle topics to make room", () => {
  const { dispatcher } = setup({ maxTopics: 2 });
  dispatcher.receive({ topic: "a", data: "1", id: undefined });
  dispatcher.subscribe(["b"], sink);
  assert.equal(dispatcher.canSubscribe(["a", "c"]), false, "a is idle but wanted");
  assert.throws(() => dispatcher.subscribe(["a", "c"], sink), TopicLimitError);
  assert.equal(dispatcher.topic("a")?.ring.size, 1);
  dispatcher.abortAll();
  dispatcher.close();
});

test("topic cap: events for a new topic evict an idle one, or are stored anyway when none is idle", () => {
  const { dispatcher } = setup({ maxTopics: 2 });
  dispatcher.subscribe(["a"], sink);
  dispatcher.subscribe(["b"], sink);
  dispatcher.receive({ topic: "c", data: "1", id: undefined });
  assert.equal(dispatcher.topicCount, 3, "receiving never fails");
  assert.equal(dispatcher.topic("c")?.ring.size, 1);
  dispatcher.receive({ topic: "d", data: "1", id: undefined });
  assert.equal(dispatcher.topicCount, 3, "c was idle, so d took its place");
  assert.equal(dispatcher.topic("c"), undefined);
  dispatcher.abortAll();
  dispatcher.close();
});

test("topic states cost memory against maxRingBytes: idle ones are evicted to make room", () => {
  const { dispatcher } = setup({
    maxRingBytes: 10_000,
    memoryModel: { perEvent: 1_000, perByte: 0, perTopic: 1_000 },
  });
  for (let i = 0; i < 10; i++) dispatcher.subscribe([`t${i}`], sink);
  assert.equal(dispatcher.totals().topic_state_bytes, 10_000);
  dispatcher.abortAll();
  dispatcher.subscribe(["fresh"], sink);
  assert.equal(dispatcher.topicCount, 10, "one idle topic made room for the new one");
  assert.ok(dispatcher.totals().topic_state_bytes + dispatcher.totals().memory_usage_bytes <= 10_000);
  dispatcher.abortAll();
  dispatcher.close();
});

test("totals are kept incrementally and equal a full recount after a random workload", async () => {
  let seed = 11;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const { dispatcher, advance } = setup({ maxTopics: 20, topicIdleTimeout: 50, ringCapacity: 4, clientBuffer: 4 });
  const subs: { take: boolean; subscriber: ReturnType<Dispatcher["subscribe"]>["subscriber"] }[] = [];
  for (let step = 0; step < 3_000; step++) {
    const op = random(10);
    const topic = `t${random(30)}`;
    if (op < 5) {
      dispatcher.receive({ topic, data: String(step), id: `e${step}` });
      if (random(3) === 0) dispatcher.countPublished(topic);
    } else if (op < 7) {
      const names = [...new Set([topic, `t${random(30)}`])];
      try {
        const { subscriber } = dispatcher.subscribe(
          names,
          sink,
          random(2) ? { lastEventId: `e${step - random(40)}` } : {},
        );
        subs.push({ take: random(2) === 0, subscriber });
      } catch (error) {
        assert.ok(error instanceof TopicLimitError);
      }
    } else if (op < 8 && subs.length > 0) {
      dispatcher.unsubscribe(subs.splice(random(subs.length), 1)[0].subscriber);
    } else if (op < 9) {
      for (const s of subs) if (s.take && !s.subscriber.closed) s.subscriber.take();
    } else {
      advance(random(40));
      dispatcher.freeIdleTopics();
    }
    if (random(5) === 0) await new Promise((r) => setTimeout(r, 0));
  }
  const totals = dispatcher.totals();
  const every = Array.from({ length: 30 }, (_, i) => dispatcher.topic(`t${i}`))
    .filter((t) => t !== undefined).map(statsOfTopic);
  const sum = (key: "dispatch_depth" | "pending_to_clients" | "ring_depth" | "memory_usage_bytes") =>
    every.reduce((n, t) => n + t[key], 0);
  assert.equal(totals.topics, every.length);
  assert.equal(totals.idle_topics, every.filter((t) => t.is_idle).length);
  assert.equal(totals.ring_depth, sum("ring_depth"));
  assert.equal(totals.dispatch_depth, sum("dispatch_depth"));
  assert.equal(totals.pending_to_clients, sum("pending_to_clients"));
  assert.equal(totals.memory_usage_bytes, sum("memory_usage_bytes"));
  assert.ok(totals.topics <= 20 + subs.length, "over the cap only by topics kept by subscribers");
  dispatcher.abortAll();
  assert.equal(dispatcher.totals().pending_to_clients, 0);
  dispatcher.close();
});

test("HTTP: a stream needing a new topic at maxTopics gets 503 too-many-topics with Retry-After", async () => {
  const svc = await createSsepg({ logger: silentLogger, maxTopics: 2 });
  try {
    const open = [
      await svc.fetch(new Request("http://x/topics/a/events")),
      await svc.fetch(new Request("http://x/topics/b/events")),
    ];
    for (const r of open) assert.equal(r.status, 200);
    const refused = await svc.fetch(new Request("http://x/topics/a,c/events"));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal((await refused.json()).type, "urn:ssepg:problem:too-many-topics");
    const existing = await svc.fetch(new Request("http://x/topics/a,b/events"));
    assert.equal(existing.status, 200, "topics already held need no room");
    await existing.body?.cancel();
    await open[1].body?.cancel();
    await new Promise((r) => setTimeout(r, 0));
    const evicting = await svc.fetch(new Request("http://x/topics/c/events"));
    assert.equal(evicting.status, 200, "b is idle again, so c may take its place");
    await evicting.body?.cancel();
    await open[0].body?.cancel();
    assert.match(svc.metrics(), /ssepg_topic_limit_refusals_total 1\n/);
  } finally {
    await svc.close();
  }
});
