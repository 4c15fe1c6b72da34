import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { Dispatcher } from "../../src/dispatcher/dispatcher.ts";
import { subscribeCallback } from "../../src/service/subscribe.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(resumeWait: number, ringCapacity = 16) {
  return new Dispatcher({ ringCapacity, clientBuffer: 16, keepAlive: 60_000, topicIdleTimeout: 60_000, resumeWait });
}

test("subscribeCallback right after a publish whose event has not arrived yet: no gap, no duplicate", async () => {
  const dispatcher = setup(5_000);
  const x = `${Date.now().toString(36)}-abcdef-1`;
  const log: string[] = [];
  const off = subscribeCallback(dispatcher, "a", (e) => log.push(`event ${e.id}`), {
    lastEventId: x,
    onGap: (id) => log.push(`gap ${id}`),
  });
  await tick();
  dispatcher.receive({ topic: "a", data: "1", id: x }); // the publish comes back through LISTEN
  dispatcher.receive({ topic: "a", data: "2", id: "next" });
  await tick();
  assert.deepEqual(log, ["event next"]);
  off();
  dispatcher.close();
});

test("subscribeCallback resume wait: at the deadline onGap(id), then what arrived meanwhile", async () => {
  const dispatcher = setup(30);
  const x = `${Date.now().toString(36)}-abcdef-1`;
  const log: string[] = [];
  const off = subscribeCallback(dispatcher, "a", (e) => log.push(`event ${e.id}`), {
    lastEventId: x,
    onGap: (id) => log.push(`gap ${id}`),
  });
  dispatcher.receive({ topic: "a", data: "1", id: "m" });
  await tick();
  assert.deepEqual(log, []);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(log, [`gap ${x}`, "event m"]);
  off();
  dispatcher.close();
});

test("subscribeCallback reports events the ring dropped before the events after them", async () => {
  const dispatcher = setup(0, 2);
  const log: string[] = [];
  const off = subscribeCallback(dispatcher, "a", (e) => log.push(`event ${e.id}`), {
    onGap: (id) => log.push(`gap ${id}`),
  });
  dispatcher.receive({ topic: "a", data: "1", id: "e1" });
  await tick();
  // Three events in one batch into a ring of two: e2 is gone before the callback runs.
  for (const id of ["e2", "e3", "e4"]) dispatcher.receive({ topic: "a", data: "1", id });
  await tick();
  assert.deepEqual(log, ["event e1", "gap e1", "event e3", "event e4"]);
  off();
  dispatcher.close();
});
