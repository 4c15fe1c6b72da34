import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { HOP_STAGES, HopTracer, MAX_TRACKED, WRITE_WINDOW_MS } from "../../src/hops/hop_tracer.ts";

test("HopTracer times an own event through every stage", () => {
  const hops = new HopTracer();
  const marks = hops.published("e1", 100);
  marks.notify = 101;
  marks.commit = 104;
  hops.answered("e1", marks, true);
  const event = {};
  hops.received("e1", event, 2, 105);
  hops.wrote(event, 106);
  hops.wrote(event, 109);
  const { traced_events, stages_ms } = hops.report();
  assert.equal(traced_events, 1);
  assert.deepEqual(Object.keys(stages_ms), [...HOP_STAGES]);
  const max = Object.fromEntries(HOP_STAGES.map((s) => [s, stages_ms[s].max]));
  assert.deepEqual(max, {
    arrival_to_notify: 1,
    notify_to_commit: 3,
    commit_to_listen: 1,
    listen_to_first_write: 1,
    first_to_last_write: 3,
    arrival_to_last_write: 9,
  });
  for (const stage of HOP_STAGES) assert.equal(stages_ms[stage].count, 1, stage);
});

test("HopTracer records commit to listen once, as 0, when the notification overtakes the commit answer", () => {
  const hops = new HopTracer();
  const marks = hops.published("e1", 0);
  marks.notify = 1;
  hops.received("e1", {}, 0, 2);
  marks.commit = 3;
  hops.answered("e1", marks, true);
  const { traced_events, stages_ms } = hops.report();
  assert.equal(traced_events, 1);
  assert.deepEqual(stages_ms.commit_to_listen, { count: 1, p50: 0, p90: 0, p99: 0, max: 0 });
  assert.equal(stages_ms.listen_to_first_write.count, 0, "no subscribers, no writes");
});

test("HopTracer times other instances' events from their receipt only", () => {
  const hops = new HopTracer();
  const event = {};
  hops.received("elsewhere", event, 1, 10);
  hops.wrote(event, 12);
  const { stages_ms } = hops.report();
  assert.equal(stages_ms.listen_to_first_write.count, 1);
  assert.equal(stages_ms.arrival_to_notify.count, 0);
  assert.equal(stages_ms.arrival_to_last_write.count, 0);
});

test("HopTracer records an event whose subscribers did not all write it once its window ends", () => {
  let now = 0;
  const hops = new HopTracer(() => now);
  const event = {};
  const start = 5;
  hops.received(undefined, event, 3, start);
  hops.wrote(event, start + 1);
  assert.equal(hops.report().traced_events, 0, "still in its window");
  now = start + WRITE_WINDOW_MS + 1;
  assert.equal(hops.report().traced_events, 1, "expired at the report");
  assert.equal(hops.report().stages_ms.first_to_last_write.max, 0);
  hops.wrote(event, start + 2); // too late: not counted again
  assert.equal(hops.report().stages_ms.first_to_last_write.count, 1);
});

test("HopTracer forgets refused publishes and follows at most MAX_TRACKED events", () => {
  const hops = new HopTracer(() => 0);
  const refused = hops.published("gone", 0);
  hops.answered("gone", refused, false);
  hops.received("gone", {}, 0, 1);
  assert.equal(hops.report().traced_events, 0);
  for (let i = 0; i <= MAX_TRACKED; i++) hops.received(undefined, { i }, 1, 10);
  // The oldest was given up (recorded without writes) to make room.
  assert.equal(hops.report().traced_events, 1);
});
