import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { Dispatcher } from "../../src/dispatcher/dispatcher.ts";
import { EventStream, type StreamWriter } from "../../src/sse/event_stream.ts";

const decoder = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup() {
  const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 60_000, topicIdleTimeout: 60_000 });
  const publish = (topic: string, data: string) => dispatcher.receive({ topic, data, id: `${topic}-${data}` });
  return { dispatcher, publish };
}

/** A writer that records text and whether it ended; `full` makes it refuse more until resumed. */
function recorder() {
  const state = { text: "", ended: false, destroyed: false, full: false };
  const writer: StreamWriter = {
    write(chunk) {
      state.text += decoder.decode(chunk);
      return !state.full;
    },
    end: () => state.ended = true,
    destroy: () => state.destroyed = true,
  };
  return { state, writer };
}

test("EventStream.endAt() ends the stream at the deadline with a final comment and a clean end", async () => {
  const { dispatcher, publish } = setup();
  const { state, writer } = recorder();
  const stream = new EventStream(dispatcher, { topics: ["a"], retry: 1 });
  stream.endAt(Date.now() + 80, "token expired");
  stream.attach(writer);
  publish("a", "1");
  await sleep(120);
  assert.equal(state.text, "retry: 1\n\n: listening a\n\nid: a-1\nevent: message\ndata: 1\n\n: token expired\n\n");
  assert.equal(state.ended, true);
  assert.equal(dispatcher.subscriberCount, 0, "unsubscribed");
  publish("a", "2");
  assert.ok(!state.text.includes("a-2"), "nothing after the end");
  dispatcher.close();
});

test("EventStream.endAt() in the past ends at attach, after the preamble", () => {
  const { dispatcher } = setup();
  const { state, writer } = recorder();
  const stream = new EventStream(dispatcher, { topics: ["a"], retry: 1 });
  stream.endAt(Date.now() - 1, "token expired");
  stream.attach(writer);
  assert.equal(state.text, "retry: 1\n\n: listening a\n\n: token expired\n\n");
  assert.equal(state.ended, true);
  assert.equal(dispatcher.subscriberCount, 0);
  dispatcher.close();
});

test("EventStream.endAt(): a full writer gets the comment when it drains; events not yet taken stay in the ring", async () => {
  const { dispatcher, publish } = setup();
  const { state, writer } = recorder();
  const stream = new EventStream(dispatcher, { topics: ["a"], retry: 1, dropGrace: 5_000 });
  stream.attach(writer);
  state.full = true;
  publish("a", "1"); // taken: the writer is now full
  stream.endAt(Date.now() + 30, "token expired");
  await sleep(60);
  publish("a", "2"); // after the deadline: never written
  assert.equal(state.ended, false, "waits for the writer");
  stream.resume();
  assert.ok(state.text.endsWith("data: 1\n\n: token expired\n\n"), state.text);
  assert.ok(!state.text.includes("a-2"));
  assert.equal(state.ended, true);
  dispatcher.close();
});

test("EventStream.endAt(): a writer that never drains is cut off after the drop grace time", async () => {
  const { dispatcher, publish } = setup();
  const { state, writer } = recorder();
  const stream = new EventStream(dispatcher, { topics: ["a"], retry: 1, dropGrace: 40 });
  stream.attach(writer);
  state.full = true;
  publish("a", "1");
  stream.endAt(Date.now() + 10, "token expired");
  await sleep(20);
  assert.equal(state.destroyed, false, "not before the grace time");
  // 10 ms + 40 ms of grace; timers run late on a loaded machine, so allow up to 2 s.
  for (let waited = 0; !state.destroyed && waited < 2_000; waited += 10) await sleep(10);
  assert.equal(state.destroyed, true);
  assert.equal(dispatcher.subscriberCount, 0);
  dispatcher.close();
});

test("EventStream.endAt(): a stream that ends first clears its timer (the test's leak check sees none)", () => {
  const { dispatcher } = setup();
  for (let i = 0; i < 100; i++) {
    const stream = new EventStream(dispatcher, { topics: ["a"], retry: 1 });
    stream.endAt(Date.now() + 3_600_000, "token expired");
    stream.attach(recorder().writer);
    stream.cancel();
  }
  // 40 days: beyond what one setTimeout can wait; the stream must not end at once.
  const { state, writer } = recorder();
  const far = new EventStream(dispatcher, { topics: ["a"], retry: 1 });
  far.endAt(Date.now() + 40 * 24 * 3_600_000, "token expired");
  far.attach(writer);
  assert.equal(state.ended, false);
  far.cancel();
  assert.equal(dispatcher.subscriberCount, 0);
  dispatcher.close();
});
