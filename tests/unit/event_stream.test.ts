import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { Dispatcher } from "../../src/dispatcher/dispatcher.ts";
import { EventStream, openEventStream } from "../../src/sse/event_stream.ts";
import { ChunkCache } from "../../src/sse/chunk_cache.ts";

const decoder = new TextDecoder();
const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(clientBuffer = 4) {
  const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer, keepAlive: 60_000, topicIdleTimeout: 60_000 });
  const publish = (topic: string, data: string, id = `${topic}-${data}`) => dispatcher.receive({ topic, data, id });
  return { dispatcher, publish };
}

async function readText(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value, done } = await reader.read();
  return done ? "<done>" : decoder.decode(value);
}

test("event stream starts with retry and listening, then writes id/event/data frames", async () => {
  const { dispatcher, publish } = setup();
  const reader = openEventStream(dispatcher, { topics: ["alpha"], retry: 5000 }).getReader();
  assert.equal(await readText(reader), "retry: 5000\n\n: listening alpha\n\n");
  publish("alpha", '{"n":1}');
  assert.equal(await readText(reader), 'id: alpha-{"n":1}\nevent: message\ndata: {"n":1}\n\n');
  await reader.cancel();
  assert.equal(dispatcher.subscriberCount, 0, "cancel unsubscribes");
  dispatcher.close();
});

test("event stream coalesces queued frames into one chunk and shares frame bytes", async () => {
  const { dispatcher, publish } = setup(8);
  const chunks = new ChunkCache(); // one per instance
  const a = openEventStream(dispatcher, { topics: ["t"], retry: 1, chunks }).getReader();
  const b = openEventStream(dispatcher, { topics: ["t"], retry: 1, chunks }).getReader();
  await a.read();
  await b.read();
  const pa = a.read();
  const pb = b.read();
  const event = publish("t", "1");
  const [ra, rb] = await Promise.all([pa, pb]);
  assert.equal(ra.value, event.frame("message"), "the event's own bytes, not a copy");
  assert.equal(rb.value, event.frame("message"));
  publish("t", "2");
  publish("t", "3");
  await tick();
  const [ca, cb] = [(await a.read()).value!, (await b.read()).value!];
  assert.equal(decoder.decode(ca), "id: t-2\nevent: message\ndata: 2\n\nid: t-3\nevent: message\ndata: 3\n\n");
  assert.equal(cb, ca, "subscribers taking the same events share one chunk, not a copy each");
  await a.cancel();
  await b.cancel();
  dispatcher.close();
});

test("event stream of several topics names events by topic", async () => {
  const { dispatcher, publish } = setup();
  const reader = openEventStream(dispatcher, { topics: ["a", "b"], retry: 1 }).getReader();
  assert.equal(await readText(reader), "retry: 1\n\n: listening a,b\n\n");
  publish("b", "1");
  assert.equal(await readText(reader), "id: b-1\nevent: b\ndata: 1\n\n");
  await reader.cancel();
  dispatcher.close();
});

test("event stream with an unknown Last-Event-ID starts with event: gap", async () => {
  const { dispatcher } = setup();
  const reader = openEventStream(dispatcher, { topics: ["a"], retry: 1, lastEventId: "gone" }).getReader();
  assert.equal(await readText(reader), 'retry: 1\n\n: listening a\n\nevent: gap\ndata: {"lastEventId":"gone"}\n\n');
  await reader.cancel();
  dispatcher.close();
});

test("event stream with a held Last-Event-ID replays what followed it", async () => {
  const { dispatcher, publish } = setup();
  publish("a", "1");
  publish("a", "2");
  publish("a", "3");
  await tick();
  const reader = openEventStream(dispatcher, { topics: ["a"], retry: 1, lastEventId: "a-1" }).getReader();
  const text = await readText(reader);
  assert.equal(
    text,
    "retry: 1\n\n: listening a\n\nid: a-2\nevent: message\ndata: 2\n\nid: a-3\nevent: message\ndata: 3\n\n",
  );
  await reader.cancel();
  dispatcher.close();
});

test("event stream that is not read is closed after clientBuffer frames and counted", async () => {
  const { dispatcher, publish } = setup(4);
  const stream = openEventStream(dispatcher, { topics: ["a"], retry: 1 });
  const reader = stream.getReader();
  await reader.read(); // preamble; then the client stops reading
  for (let i = 0; i < 4; i++) publish("a", String(i));
  await tick();
  assert.equal(dispatcher.subscriberCount, 0);
  assert.equal(dispatcher.totals().dropped_clients, 1);
  assert.equal(await readText(reader), "<done>", "stream ended");
  dispatcher.close();
});

test("a dropped event stream whose reader never asks again is ended after the grace time, without an error", async () => {
  const { dispatcher, publish } = setup(4);
  const reader = openEventStream(dispatcher, { topics: ["a"], retry: 1, dropGrace: 50 }).getReader();
  await reader.read(); // preamble; then the client stops reading for good
  for (let i = 0; i < 4; i++) publish("a", String(i));
  await tick();
  assert.equal(dispatcher.totals().dropped_clients, 1);
  let state = "open";
  reader.closed.then(() => state = "closed", () => state = "errored");
  await tick();
  assert.equal(state, "open", "the runtime may still finish its write within the grace time");
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(state, "closed", "cut off cleanly: the runtime ends the response, and Deno.serve logs nothing");
  dispatcher.close();
});

test("event stream on shutdown writes queued frames, then the shutdown comment, then ends", async () => {
  const { dispatcher, publish } = setup(8);
  const reader = openEventStream(dispatcher, { topics: ["a"], retry: 1 }).getReader();
  await reader.read();
  publish("a", "1");
  await tick();
  dispatcher.shutdown();
  assert.equal(await readText(reader), "id: a-1\nevent: message\ndata: 1\n\n: server shutting down\n\n");
  assert.equal(await readText(reader), "<done>");
  assert.equal(dispatcher.subscriberCount, 0);
  dispatcher.close();
});

test("event stream sends : keep-alive when idle and event: gap when the bus reports one", async () => {
  const { dispatcher, publish } = setup(8);
  const reader = openEventStream(dispatcher, { topics: ["a"], retry: 1 }).getReader();
  await reader.read();
  publish("a", "1");
  await reader.read();
  const sub = [...dispatcher.topic("a")!.subscribers][0];
  sub.lastWriteAt = 0;
  dispatcher.keepAliveSweep();
  assert.equal(await readText(reader), ": keep-alive\n\n");
  dispatcher.gap();
  assert.equal(await readText(reader), 'event: gap\ndata: {"lastEventId":"a-1"}\n\n');
  await reader.cancel();
  dispatcher.close();
});

test("gzip event streams share each event's compressed bytes and end with a valid trailer", async () => {
  const { gunzipSync } = await import("node:zlib");
  const { loadDeflate } = await import("../../src/sse/gzip.ts");
  const deflate = (await loadDeflate())!;
  const { dispatcher, publish } = setup(8);
  const a = openEventStream(dispatcher, { topics: ["t"], retry: 1, gzip: deflate }).getReader();
  const b = openEventStream(dispatcher, { topics: ["t"], retry: 1, gzip: deflate }).getReader();
  const chunksA = [(await a.read()).value!];
  const chunksB = [(await b.read()).value!];
  const [ra, rb] = [a.read(), b.read()];
  publish("t", '{"n":1}');
  const [pa, pb] = await Promise.all([ra, rb]);
  assert.equal(pa.value, pb.value, "one compressed piece, handed to both streams");
  chunksA.push(pa.value!);
  chunksB.push(pb.value!);
  dispatcher.shutdown();
  for (const [reader, chunks] of [[a, chunksA], [b, chunksB]] as const) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    const text = new TextDecoder().decode(gunzipSync(Buffer.concat(chunks)));
    assert.equal(
      text,
      'retry: 1\n\n: listening t\n\nid: t-{"n":1}\nevent: message\ndata: {"n":1}\n\n: server shutting down\n\n',
    );
  }
  dispatcher.close();
});

test("direct writing: the adapter gets the preamble, events as they come, backpressure through resume()", async () => {
  const { dispatcher, publish } = setup(8);
  const direct = new EventStream(dispatcher, { topics: ["a"], retry: 1 });
  assert.equal(dispatcher.subscriberCount, 0, "nothing is subscribed before a writer is attached");
  const written: string[] = [];
  let room = true;
  let ended = false;
  direct.attach({ write: (c) => (written.push(decoder.decode(c)), room), end: () => ended = true, destroy() {} });
  assert.throws(() => direct.attach({ write: () => true, end() {}, destroy() {} }), /second writer/);
  assert.deepEqual(written, ["retry: 1\n\n: listening a\n\n"]);
  publish("a", "1");
  await tick();
  assert.equal(written[1], "id: a-1\nevent: message\ndata: 1\n\n");
  room = false; // the socket's buffer is full after the next write
  publish("a", "2");
  await tick();
  publish("a", "3");
  publish("a", "4");
  await tick();
  assert.equal(written.length, 3, "nothing more until the socket drains");
  room = true;
  direct.resume();
  assert.equal(
    written[3],
    "id: a-3\nevent: message\ndata: 3\n\nid: a-4\nevent: message\ndata: 4\n\n",
    "one coalesced write",
  );
  dispatcher.shutdown();
  assert.equal(written[4], ": server shutting down\n\n");
  assert.equal(ended, true);
  dispatcher.close();
});

test("direct writing: a dropped stream that never drains is destroyed after the grace time; cancel unsubscribes", async () => {
  const { dispatcher, publish } = setup(4);
  const direct = new EventStream(dispatcher, { topics: ["a"], retry: 1, dropGrace: 30 });
  let destroyed = false;
  direct.attach({ write: () => false, end() {}, destroy: () => destroyed = true });
  for (let i = 0; i < 4; i++) publish("a", String(i));
  await tick();
  assert.equal(dispatcher.totals().dropped_clients, 1);
  assert.equal(destroyed, false);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(destroyed, true);

  const other = new EventStream(dispatcher, { topics: ["b"], retry: 1 });
  other.attach({ write: () => true, end() {}, destroy() {} });
  assert.equal(dispatcher.subscriberCount, 1);
  other.cancel();
  assert.equal(dispatcher.subscriberCount, 0);
  dispatcher.close();
});

test("event stream resuming from an id not yet arrived waits, with keep-alives, then replays exactly what follows it", async () => {
  const dispatcher = new Dispatcher({
    ringCapacity: 16,
    clientBuffer: 8,
    keepAlive: 60_000,
    topicIdleTimeout: 60_000,
    resumeWait: 5_000,
  });
  const x = `${Date.now().toString(36)}-abcdef-1`;
  const reader = openEventStream(dispatcher, { topics: ["a", "b"], retry: 1, lastEventId: x }).getReader();
  assert.equal(await readText(reader), "retry: 1\n\n: listening a,b\n\n", "no gap notice");
  dispatcher.receive({ topic: "b", data: "1", id: "b-1" }); // before X: the client has it
  await tick();
  const sub = [...dispatcher.topic("a")!.subscribers][0];
  sub.lastWriteAt = 0;
  dispatcher.keepAliveSweep();
  assert.equal(await readText(reader), ": keep-alive\n\n", "keep-alives while waiting, nothing else");
  dispatcher.receive({ topic: "a", data: "0", id: x });
  dispatcher.receive({ topic: "b", data: "2", id: "b-2" });
  assert.equal(await readText(reader), "id: b-2\nevent: b\ndata: 2\n\n", "not X itself, not b-1");
  await reader.cancel();
  dispatcher.close();
});

test("event stream resume wait ends at the deadline with event: gap naming the id, then what arrived meanwhile", async () => {
  const dispatcher = new Dispatcher({
    ringCapacity: 16,
    clientBuffer: 8,
    keepAlive: 60_000,
    topicIdleTimeout: 60_000,
    resumeWait: 30,
  });
  const x = `${Date.now().toString(36)}-abcdef-1`;
  const reader = openEventStream(dispatcher, { topics: ["a"], retry: 1, lastEventId: x }).getReader();
  assert.equal(await readText(reader), "retry: 1\n\n: listening a\n\n");
  dispatcher.receive({ topic: "a", data: "1", id: "a-1" });
  assert.equal(
    await readText(reader),
    `event: gap\ndata: {"lastEventId":"${x}"}\n\nid: a-1\nevent: message\ndata: 1\n\n`,
  );
  assert.equal(dispatcher.gaps, 1);
  await reader.cancel();
  dispatcher.close();
});

test("event stream that loses the topic-limit race at attach ends at once with a comment", () => {
  const dispatcher = new Dispatcher({
    ringCapacity: 16,
    clientBuffer: 8,
    keepAlive: 60_000,
    topicIdleTimeout: 60_000,
    maxTopics: 1,
  });
  const late = new EventStream(dispatcher, { topics: ["b"], retry: 1 });
  assert.equal(late.canSubscribe(), true, "checked before the reply goes out");
  const first = new EventStream(dispatcher, { topics: ["a"], retry: 1 });
  first.attach({ write: () => true, end() {}, destroy() {} });
  assert.equal(late.canSubscribe(), false);
  const written: string[] = [];
  let ended = false;
  late.attach({ write: (c) => (written.push(decoder.decode(c)), true), end: () => ended = true, destroy() {} });
  assert.deepEqual(written, ["retry: 1\n\n: too many topics, retry\n\n"]);
  assert.equal(ended, true);
  assert.equal(dispatcher.subscriberCount, 1);
  first.cancel();
  dispatcher.close();
});
