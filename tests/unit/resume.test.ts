import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { Dispatcher, type DispatcherOptions } from "../../src/dispatcher/dispatcher.ts";
import type { Subscriber, SubscriberSink } from "../../src/dispatcher/subscriber.ts";

/** A fast client: takes events on ready() and asks again; records every sink call. */
class RecordingSink implements SubscriberSink {
  calls: string[] = [];
  received: string[] = [];
  subscriber!: Subscriber;
  ready() {
    this.calls.push("ready");
    this.drain();
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
  shutdown() {}
  abort() {}
}

function setup(options: Partial<DispatcherOptions> = {}) {
  let now = 1_000_000;
  const dispatcher = new Dispatcher({
    ringCapacity: 16,
    clientBuffer: 16,
    keepAlive: 60_000,
    topicIdleTimeout: 60_000,
    resumeWait: 0,
    now: () => now,
    ...options,
  });
  const sub = (topics: string[], lastEventId?: string) => {
    const sink = new RecordingSink();
    const s = dispatcher.subscribe(topics, sink, { lastEventId });
    sink.subscriber = s.subscriber;
    s.subscriber.demand = true;
    sink.drain();
    return { sink, ...s };
  };
  const publish = (topic: string, data: string, id = `${topic}-${data}`) => dispatcher.receive({ topic, data, id });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { dispatcher, sub, publish, tick, advance: (ms: number) => (now += ms) };
}

const range = (topic: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${topic}:${from + i}`);

/** An ssepg-shaped id published `ago` ms ago. */
const idAt = (ago: number, n: number) => `${(Date.now() - ago).toString(36)}-abcdef-${n}`;

test("resume: another topic's ring wrapped after the resume event, so the stream starts with a gap", async () => {
  const { dispatcher, sub, publish, tick } = setup();
  publish("a", "x", "X");
  for (let i = 0; i < 40; i++) publish("b", String(i));
  await tick();
  const resumed = sub(["a", "b"], "X");
  assert.equal(resumed.gap, true, "b0…b23 arrived after X and are gone");
  assert.deepEqual(resumed.sink.received, range("b", 24, 39), "then what is held");
  dispatcher.abortAll();
  dispatcher.close();
});

test("resume: a ring that wrapped before the resume event costs no gap", async () => {
  const { dispatcher, sub, publish, tick } = setup();
  for (let i = 0; i < 40; i++) publish("b", String(i));
  publish("a", "x", "X");
  for (let i = 40; i < 43; i++) publish("b", String(i));
  await tick();
  const resumed = sub(["a", "b"], "X");
  assert.equal(resumed.gap, false);
  assert.deepEqual(resumed.sink.received, range("b", 40, 42));
  dispatcher.abortAll();
  dispatcher.close();
});

test("resume: events of another topic evicted for maxRingBytes after the resume event give a gap", async () => {
  // Every event costs exactly 1000 bytes; topic states cost nothing.
  const { dispatcher, sub, publish, tick } = setup({
    maxRingBytes: 6_000,
    memoryModel: { perEvent: 1_000, perByte: 0, perTopic: 0 },
  });
  const watcher = sub(["a", "b", "c"]); // subscribed topics are trimmed, not freed
  publish("a", "x", "X");
  for (let i = 1; i <= 4; i++) publish("b", String(i));
  publish("a", "2"); // a is now fresher than b, so b's oldest event goes first
  publish("c", "1"); // 7000 bytes: one event must go
  await tick();
  assert.equal(dispatcher.evictedEvents, 1);
  assert.equal(dispatcher.topic("b")?.ring.size, 3, "b:1 was evicted");
  const resumed = sub(["a", "b"], "X");
  assert.equal(resumed.gap, true);
  assert.deepEqual(resumed.sink.received, ["b:2", "b:3", "b:4", "a:2"]);
  dispatcher.unsubscribe(watcher.subscriber);
  dispatcher.abortAll();
  dispatcher.close();
});

test("resume: a topic freed after the resume event and made anew gives a gap; one freed before does not", async () => {
  const { dispatcher, sub, publish, tick, advance } = setup({ topicIdleTimeout: 1_000 });
  const keep = sub(["a"]); // a stays; b is freed when idle
  publish("b", "0");
  await tick();
  advance(2_000);
  dispatcher.freeIdleTopics();
  assert.equal(dispatcher.topic("b"), undefined);
  publish("a", "x", "X");
  publish("b", "1");
  await tick();
  const exact = sub(["a", "b"], "X");
  assert.equal(exact.gap, false, "b was freed before X arrived: nothing after X is missing");
  assert.deepEqual(exact.sink.received, ["b:1"]);
  dispatcher.unsubscribe(exact.subscriber);

  advance(2_000);
  dispatcher.freeIdleTopics();
  assert.equal(dispatcher.topic("b"), undefined, "b (and b:1, which followed X) freed");
  const lost = sub(["a", "b"], "X");
  assert.equal(lost.gap, true);
  assert.deepEqual(lost.sink.received, []);
  dispatcher.unsubscribe(keep.subscriber);
  dispatcher.abortAll();
  dispatcher.close();
});

test("resume: a bus gap after the resume event gives a gap, on one topic and on several", async () => {
  const { dispatcher, sub, publish, tick } = setup();
  publish("a", "1");
  publish("b", "1");
  dispatcher.gap(); // LISTEN reconnected: what was sent meanwhile is lost
  publish("a", "2");
  publish("b", "2");
  await tick();
  const single = sub(["a"], "a-1");
  assert.equal(single.gap, true);
  assert.deepEqual(single.sink.received, ["a:2"]);
  const multi = sub(["a", "b"], "b-1");
  assert.equal(multi.gap, true);
  assert.deepEqual(multi.sink.received, ["a:2", "b:2"]);
  const after = sub(["a", "b"], "a-2");
  assert.equal(after.gap, false, "an event that arrived after the bus gap resumes exactly");
  assert.deepEqual(after.sink.received, ["b:2"]);
  dispatcher.abortAll();
  dispatcher.close();
});

test("resume wait: an id newer than anything held is awaited; when it arrives the resume is exact", async () => {
  const { dispatcher, sub, publish, tick } = setup({ resumeWait: 5_000 });
  publish("a", "old", idAt(60_000, 0));
  publish("b", "old", idAt(60_000, 1));
  await tick();
  const x = idAt(0, 2);
  const waiting = sub(["a", "b"], x);
  assert.equal(waiting.gap, false);
  assert.equal(waiting.waiting, true);
  publish("b", "before"); // arrived before X here: the client had it from wherever it got X
  await tick();
  assert.deepEqual(waiting.sink.received, [], "nothing is delivered while waiting");
  publish("a", "x", x);
  publish("b", "after");
  publish("a", "after");
  await tick();
  assert.deepEqual(waiting.sink.received, ["b:after", "a:after"], "X itself and what preceded it are not delivered");
  assert.deepEqual(waiting.sink.calls.filter((c) => c === "gap"), [], "no gap");
  dispatcher.abortAll();
  dispatcher.close();
});

test("resume wait: at the deadline the stream gets its gap, then what arrived meanwhile", async () => {
  const { dispatcher, sub, publish, tick } = setup({ resumeWait: 40 });
  const x = idAt(0, 1);
  const waiting = sub(["a"], x);
  assert.equal(waiting.waiting, true, "nothing held: X may still come");
  publish("a", "meanwhile");
  await tick();
  assert.deepEqual(waiting.sink.received, []);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(waiting.sink.calls, ["gap", "ready"], "the gap notice first");
  assert.deepEqual(waiting.sink.received, ["a:meanwhile"]);
  assert.equal(waiting.subscriber.lastId, "a-meanwhile");
  publish("a", x.replace(/-1$/, "-2"));
  await tick();
  assert.equal(waiting.sink.received.length, 2, "live afterwards");
  dispatcher.abortAll();
  dispatcher.close();
});

test("resume wait: only for ids no older than the newest event held, and never with resumeWait 0", async () => {
  const { dispatcher, sub, publish, tick } = setup({ resumeWait: 5_000 });
  publish("a", "newest", idAt(0, 0));
  await tick();
  const older = sub(["a"], idAt(60_000, 1));
  assert.deepEqual({ gap: older.gap, waiting: older.waiting }, { gap: true, waiting: false });
  const notOurs = sub(["a"], "not-an-ssepg-id");
  assert.deepEqual({ gap: notOurs.gap, waiting: notOurs.waiting }, { gap: true, waiting: false });
  dispatcher.abortAll();
  dispatcher.close();
  const off = setup({ resumeWait: 0 });
  const now = off.sub(["a"], idAt(0, 3));
  assert.deepEqual({ gap: now.gap, waiting: now.waiting }, { gap: true, waiting: false });
  off.dispatcher.abortAll();
  off.dispatcher.close();
});

test("resume wait: the waiting subscriber gets keep-alives, is never dropped, and a bus gap ends the wait", async () => {
  const { dispatcher, sub, publish, tick, advance } = setup({ resumeWait: 5_000, keepAlive: 1_000, clientBuffer: 2 });
  const x = idAt(0, 1);
  const waiting = sub(["a"], x);
  for (let i = 0; i < 5; i++) publish("a", String(i));
  await tick();
  assert.equal(waiting.subscriber.closed, false, "5 frames queued against clientBuffer 2 while waiting: kept");
  advance(5_000);
  dispatcher.keepAliveSweep();
  assert.deepEqual(waiting.sink.calls, ["idle"]);
  dispatcher.gap();
  assert.deepEqual(waiting.sink.calls, ["idle", "gap", "ready"]);
  assert.deepEqual(waiting.sink.received, range("a", 0, 4));
  assert.equal(waiting.subscriber.waitingFor, undefined);
  dispatcher.abortAll();
  dispatcher.close();
});

test("resume wait: unsubscribing while waiting leaves no timer and no count behind", async () => {
  const { dispatcher, sub, publish, tick } = setup({ resumeWait: 60_000 });
  const waiting = sub(["a"], idAt(0, 1));
  publish("a", "1");
  await tick();
  assert.equal(dispatcher.totals().pending_to_clients, 1);
  dispatcher.unsubscribe(waiting.subscriber);
  assert.equal(dispatcher.totals().pending_to_clients, 0);
  dispatcher.close(); // the test sanitizer fails on a leaked timer
});
