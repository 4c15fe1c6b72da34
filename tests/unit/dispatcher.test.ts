import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { Dispatcher, type DispatcherOptions } from "../../src/dispatcher/dispatcher.ts";
import type { Subscriber, SubscriberSink } from "../../src/dispatcher/subscriber.ts";

class RecordingSink implements SubscriberSink {
  calls: string[] = [];
  subscriber!: Subscriber;
  received: string[] = [];
  /** Takes events on ready() and asks again, like a fast client. */
  constructor(readonly fast = true) {}
  ready() {
    this.calls.push("ready");
    if (this.fast) this.drain();
  }
  drain() {
    for (const e of this.subscriber.take()) this.received.push(`${e.topic}:${e.data}`);
    this.subscriber.demand = true;
  }
  drop() {
    this.calls.push("drop");
  }
  gap() {
    this.calls.push("gap");
  }
  idle() {
    this.calls.push("idle");
  }
  shutdown() {
    this.calls.push("shutdown");
  }
  abort() {
    this.calls.push("abort");
  }
}

function setup(options: Partial<DispatcherOptions> = {}) {
  let now = 1_000_000;
  const dispatcher = new Dispatcher({
    ringCapacity: 16,
    clientBuffer: 4,
    keepAlive: 60_000,
    topicIdleTimeout: 60_000,
    now: () => now,
    ...options,
  });
  const sub = (topics: string[], fast = true, lastEventId?: string) => {
    const sink = new RecordingSink(fast);
    const s = dispatcher.subscribe(topics, sink, { lastEventId });
    sink.subscriber = s.subscriber;
    s.subscriber.demand = fast;
    return { sink, ...s };
  };
  const publish = (topic: string, data: string, id = `${topic}-${data}`) => dispatcher.receive({ topic, data, id });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { dispatcher, sub, publish, tick, advance: (ms: number) => (now += ms) };
}

test("Dispatcher fans each batch out once per subscriber, in order", async () => {
  const { dispatcher, sub, publish, tick } = setup();
  const subs = [sub(["a"]), sub(["a"]), sub(["a"])];
  publish("a", "1");
  publish("a", "2");
  publish("a", "3");
  await tick();
  for (const { sink } of subs) {
    assert.deepEqual(sink.calls, ["ready"], "one wake-up for the whole batch");
    assert.deepEqual(sink.received, ["a:1", "a:2", "a:3"]);
  }
  assert.equal(dispatcher.totals().delivered_frames, 9);
  dispatcher.close();
});

test("Dispatcher keeps topics apart", async () => {
  const { dispatcher, sub, publish, tick } = setup();
  const a = sub(["a"]);
  const b = sub(["b"]);
  publish("a", "1");
  publish("b", "2");
  await tick();
  assert.deepEqual(a.sink.received, ["a:1"]);
  assert.deepEqual(b.sink.received, ["b:2"]);
  dispatcher.close();
});

test("Dispatcher drops a subscriber clientBuffer frames behind without delaying the others", async () => {
  const { dispatcher, sub, publish, tick } = setup({ clientBuffer: 4 });
  const slow = sub(["a"], false);
  const fast = sub(["a"]);
  for (let i = 1; i <= 3; i++) publish("a", String(i));
  await tick();
  assert.deepEqual(slow.sink.calls, [], "3 queued frames: still connected");
  assert.equal(dispatcher.topicStats()[0].pending_to_clients, 3);
  publish("a", "4");
  await tick();
  assert.deepEqual(slow.sink.calls, ["drop"]);
  assert.equal(slow.subscriber.closed, true);
  assert.deepEqual(fast.sink.received, ["a:1", "a:2", "a:3", "a:4"]);
  const stats = dispatcher.topicStats()[0];
  assert.equal(stats.dropped_clients, 1);
  assert.equal(stats.subscribers, 1);
  dispatcher.close();
});

test("Dispatcher resumes after a held lastEventId and reports a gap for an unknown one", async () => {
  const { dispatcher, sub, publish, tick } = setup();
  for (let i = 1; i <= 5; i++) publish("a", String(i));
  await tick();
  const resumed = sub(["a"], true, "a-2");
  assert.equal(resumed.gap, false);
  resumed.sink.drain();
  assert.deepEqual(resumed.sink.received, ["a:3", "a:4", "a:5"]);
  const lost = sub(["a"], true, "nope");
  assert.equal(lost.gap, true);
  lost.sink.drain();
  assert.deepEqual(lost.sink.received, []);
  publish("a", "6");
  await tick();
  assert.deepEqual(lost.sink.received, ["a:6"]);
  dispatcher.close();
});

test("Dispatcher replay does not count against clientBuffer", async () => {
  const { dispatcher, sub, publish, tick } = setup({ clientBuffer: 2 });
  for (let i = 1; i <= 10; i++) publish("a", String(i));
  await tick();
  const resumed = sub(["a"], false, "a-1");
  publish("a", "11");
  await tick();
  assert.deepEqual(resumed.sink.calls, [], "9 replay + 1 live frame queued, limit 2 live");
  resumed.sink.drain();
  assert.equal(resumed.sink.received.length, 10);
  dispatcher.close();
});

test("Dispatcher merges several topics in arrival order and resumes across them", async () => {
  const { dispatcher, sub, publish, tick } = setup();
  const multi = sub(["a", "b"]);
  publish("a", "1");
  publish("b", "2");
  publish("a", "3");
  await tick();
  assert.deepEqual(multi.sink.received, ["a:1", "b:2", "a:3"]);
  const resumed = sub(["a", "b"], true, "b-2");
  resumed.sink.drain();
  assert.deepEqual(resumed.sink.received, ["a:3"]);
  dispatcher.close();
});

test("Subscriber.take() flags events the ring already dropped", async () => {
  const { dispatcher, sub, publish, tick } = setup({ ringCapacity: 4, clientBuffer: 4 });
  for (let i = 1; i <= 4; i++) publish("a", String(i));
  await tick();
  const late = sub(["a"], false, "a-1");
  for (let i = 5; i <= 6; i++) publish("a", String(i)); // a-1 and a-2 fall out of the ring
  await tick();
  const events = late.subscriber.take();
  assert.equal(late.subscriber.skipped, true);
  assert.deepEqual(events.map((e) => e.data), ["3", "4", "5", "6"]);
  dispatcher.close();
});

test("Dispatcher frees topics idle past topicIdleTimeout and keeps counters in totals", async () => {
  const { dispatcher, sub, publish, tick, advance } = setup({ topicIdleTimeout: 1_000 });
  publish("idle", "1");
  const watched = sub(["busy"]);
  await tick();
  advance(999);
  dispatcher.freeIdleTopics();
  assert.equal(dispatcher.topicCount, 2);
  advance(2);
  dispatcher.freeIdleTopics();
  assert.equal(dispatcher.topicCount, 1, "idle freed, subscribed kept");
  assert.equal(dispatcher.topic("busy")?.subscribers.size, 1);
  assert.equal(dispatcher.totals().broadcast, 1, "freed topic's counters stay in totals");
  dispatcher.unsubscribe(watched.subscriber);
  dispatcher.close();
});

test("Dispatcher.keepAliveSweep() wakes only subscribers silent for about keepAlive", () => {
  const { dispatcher, sub, advance } = setup({ keepAlive: 1_000 });
  const quiet = sub(["a"]);
  const chatty = sub(["a"]);
  advance(900);
  chatty.subscriber.lastWriteAt = 1_000_000 + 900;
  dispatcher.keepAliveSweep();
  assert.deepEqual(quiet.sink.calls, ["idle"]);
  assert.deepEqual(chatty.sink.calls, []);
  dispatcher.close();
});

test("Dispatcher.gap(), shutdown() and abortAll() reach every subscriber", () => {
  const { dispatcher, sub } = setup();
  const a = sub(["a"]);
  const b = sub(["b", "c"]);
  dispatcher.gap();
  dispatcher.shutdown();
  dispatcher.abortAll();
  for (const s of [a, b]) assert.deepEqual(s.sink.calls, ["gap", "shutdown", "abort"]);
  assert.equal(dispatcher.subscriberCount, 0);
  dispatcher.close();
  assert.throws(() => sub(["a"]));
});

test("Dispatcher.gap(topic) reaches only that topic's subscribers, and makes resumes across it inexact", () => {
  const { dispatcher, sub, publish } = setup();
  publish("a", "1");
  const a = sub(["a"]);
  const ab = sub(["b", "a"]);
  const b = sub(["b"]);
  dispatcher.gap("a");
  dispatcher.gap("no-such-topic");
  assert.deepEqual(a.sink.calls, ["gap"]);
  assert.deepEqual(ab.sink.calls, ["gap"]);
  assert.deepEqual(b.sink.calls, []);
  publish("a", "2");
  assert.equal(sub(["a"], true, "a-1").gap, true, "a resume from before the gap is not exact");
  assert.equal(sub(["a"], true, "a-2").gap, false);
  dispatcher.close();
});

test("Dispatcher counts the bus's held bytes (a large event being rebuilt) against maxRingBytes", async () => {
  let held = 0;
  const { dispatcher, publish, tick } = setup({ ringCapacity: 64, maxRingBytes: 20_000, heldBytes: () => held });
  const data = "x".repeat(400);
  for (let i = 0; i < 8; i++) publish("t", `"${data}${i}"`);
  await tick();
  const before = dispatcher.topic("t")!.ring.size;
  assert.equal(before, 8);
  held = 15_000;
  publish("t", `"${data}"`);
  await tick();
  assert.ok(dispatcher.topic("t")!.ring.size < before, "the rings made room for what the bus holds");
  assert.ok(dispatcher.totals().memory_usage_bytes + held <= 20_000);
  dispatcher.close();
});

test("Dispatcher stays under maxRingBytes by freeing idle topics first, then trimming the stalest rings", async () => {
  const { dispatcher, sub, publish, tick, advance } = setup({
    ringCapacity: 64,
    clientBuffer: 64,
    maxRingBytes: 20_000,
  });
  const watched = sub(["live"], false);
  const data = "x".repeat(400); // about 1.5 kB retained per event
  for (let i = 0; i < 4; i++) publish("live", `"${data}${i}"`);
  for (let t = 0; t < 20; t++) {
    advance(1);
    publish(`idle-${t}`, `"${data}"`);
  }
  await tick();
  const totals = dispatcher.totals();
  assert.ok(totals.memory_usage_bytes <= 20_000, `${totals.memory_usage_bytes} bytes held`);
  assert.ok(dispatcher.evictedTopics > 0, "idle topics were freed");
  assert.equal(dispatcher.topic("live")?.ring.size, 4, "the subscribed topic kept its events while idle ones could go");
  assert.equal(dispatcher.topic("idle-0"), undefined, "the stalest idle topic went first");
  assert.ok(dispatcher.topic("idle-19"), "the newest topic stayed");
  // Only subscribed topics left to trim: their oldest events go, and a reader learns of the gap.
  for (let i = 0; i < 30; i++) publish("live", `"${data}${i}"`);
  await tick();
  assert.ok(dispatcher.totals().memory_usage_bytes <= 20_000);
  assert.ok(dispatcher.evictedEvents > 0);
  watched.subscriber.take();
  assert.equal(watched.subscriber.skipped, true, "the subscriber is told it missed trimmed events");
  dispatcher.close();
});

test("Dispatcher.countGap() counts gap notices; gaps and the other counters are read-only", () => {
  const { dispatcher } = setup();
  assert.equal(dispatcher.gaps, 0);
  dispatcher.countGap();
  dispatcher.countGap();
  assert.equal(dispatcher.gaps, 2);
  // Only the dispatcher changes its counters: they are getters without setters.
  for (const name of ["gaps", "replayed", "evictedTopics", "evictedEvents"] as const) {
    assert.throws(() => ((dispatcher as unknown as Record<string, number>)[name] = 99), TypeError, name);
  }
  assert.equal(dispatcher.gaps, 2);
  dispatcher.close();
});

test("Dispatcher.replayed counts the events handed to resuming subscribers", async () => {
  const { dispatcher, sub, publish, tick } = setup();
  for (let i = 1; i <= 4; i++) publish("a", String(i));
  await tick();
  sub(["a"], false, "a-2");
  assert.equal(dispatcher.replayed, 2);
  dispatcher.abortAll();
  dispatcher.close();
});
