import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { NotifyBatcher } from "../../src/bus/postgres/notify_batcher.ts";
import { BusUnavailableError, EventRejectedError, PublishOutcomeUnknownError } from "../../src/bus/bus.ts";

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((a, b) => [resolve, reject] = [a, b]);
  return { promise, resolve, reject };
}

test("NotifyBatcher sends at once when idle and batches what arrives while busy", async () => {
  const calls: string[][] = [];
  const gates: ReturnType<typeof deferred>[] = [];
  const batcher = new NotifyBatcher((_c, payloads) => {
    calls.push(payloads);
    const gate = deferred();
    gates.push(gate);
    return gate.promise;
  }, { maxInFlight: 1 });
  const first = batcher.publish("c", "1");
  const rest = ["2", "3", "4"].map((p) => batcher.publish("c", p));
  assert.deepEqual(calls, [["1"]]);
  assert.equal(batcher.queued, 3);
  gates[0].resolve();
  await first;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(calls, [["1"], ["2", "3", "4"]], "one statement for the three queued");
  gates[1].resolve();
  await Promise.all(rest);
  assert.equal(batcher.batches, 2);
  assert.equal(batcher.events, 4);
});

test("NotifyBatcher rejects every publish of a failed statement and none of another", async () => {
  let n = 0;
  const batcher = new NotifyBatcher(
    () => (n++ === 1 ? Promise.reject(new Error("queue full")) : new Promise((r) => setTimeout(r, 5))),
    { maxInFlight: 1 },
  );
  const a = batcher.publish("c", "a");
  const b = batcher.publish("c", "b");
  const c = batcher.publish("c", "c");
  await a;
  const results = await Promise.allSettled([b, c]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  await batcher.publish("c", "d");
});

test("NotifyBatcher respects maxBatch", async () => {
  const sizes: number[] = [];
  const batcher = new NotifyBatcher(async (_c, p) => {
    sizes.push(p.length);
    await new Promise((r) => setTimeout(r, 1));
  }, { maxInFlight: 1, maxBatch: 2 });
  await Promise.all(["1", "2", "3", "4", "5"].map((p) => batcher.publish("c", p)));
  assert.deepEqual(sizes, [1, 2, 2]);
});

test("NotifyBatcher keeps one event's fragments in one statement, in order, whatever maxBatch says", async () => {
  const statements: { channels: string[]; payloads: string[] }[] = [];
  const batcher = new NotifyBatcher(async (channels, payloads) => {
    statements.push({ channels, payloads });
    await new Promise((r) => setTimeout(r, 1));
  }, { maxInFlight: 1, maxBatch: 3 });
  const fragments = ["f0", "f1", "f2", "f3", "f4"];
  await Promise.all([
    batcher.publish("c", "small-0"),
    batcher.publish("c", "small-1"),
    batcher.publish(fragments.map(() => "frag"), fragments),
    batcher.publish("c", "small-2"),
  ]);
  assert.deepEqual(statements.map((s) => s.payloads), [
    ["small-0"],
    ["small-1"],
    fragments, // over maxBatch on its own: never cut
    ["small-2"],
  ]);
  assert.deepEqual(statements[2].channels, ["frag", "frag", "frag", "frag", "frag"]);
  assert.equal(batcher.events, 4, "events, not rows");
});

test("NotifyBatcher timeout: a queued publish leaves the queue unsent (BusUnavailableError), a sent one is outcome-unknown", async () => {
  const calls: string[][] = [];
  const gate = deferred();
  const batcher = new NotifyBatcher((_c, payloads) => {
    calls.push(payloads);
    return gate.promise; // the first statement never answers in time
  }, { maxInFlight: 1, timeout: 30 });
  const started = performance.now();
  const results = await Promise.allSettled(["sent", "queued-1", "queued-2"].map((p) => batcher.publish("c", p)));
  const waited = performance.now() - started;
  assert.ok(waited >= 25 && waited < 500, `answered after ${waited} ms`);
  assert.equal(results[0].status, "rejected");
  assert.ok((results[0] as PromiseRejectedResult).reason instanceof PublishOutcomeUnknownError);
  for (const r of results.slice(1)) {
    assert.equal(r.status, "rejected");
    assert.ok((r as PromiseRejectedResult).reason instanceof BusUnavailableError);
  }
  assert.equal(batcher.queued, 0, "timed-out publishes were removed from the queue");
  assert.equal(batcher.pending, 1, "the unanswered statement still holds its connection");
  gate.resolve(); // the statement answers late: nobody is answered twice, and nothing is sent after
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(calls, [["sent"]], "the refused publishes were never sent");
  assert.equal(batcher.pending, 0);
  await batcher.publish("c", "later"); // the connection is free again; no timer is left behind
  assert.deepEqual(calls, [["sent"], ["later"]]);
});

test("NotifyBatcher timeout does not touch publishes answered in time", async () => {
  const batcher = new NotifyBatcher(() => new Promise((r) => setTimeout(r, 2)), { maxInFlight: 1, timeout: 1_000 });
  await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.publish("c", String(i))));
  assert.equal(batcher.pending, 0);
});

test("NotifyBatcher refuses at once beyond maxPending (queued and in flight count)", async () => {
  const gate = deferred();
  const batcher = new NotifyBatcher(() => gate.promise, { maxInFlight: 1, maxPending: 3 });
  const accepted = ["1", "2", "3"].map((p) => batcher.publish("c", p));
  assert.equal(batcher.pending, 3);
  await assert.rejects(
    batcher.publish("c", "4"),
    (e) => e instanceof BusUnavailableError && /maxPending/.test(e.message),
  );
  gate.resolve();
  await Promise.all(accepted);
  await batcher.publish("c", "5");
});

test("NotifyBatcher failQueued answers every queued publish at once; the one in flight keeps its outcome", async () => {
  const gate = deferred();
  const calls: string[][] = [];
  const batcher = new NotifyBatcher((_c, p) => {
    calls.push(p);
    return gate.promise;
  }, { maxInFlight: 1, timeout: 10_000 });
  const sent = batcher.publish("c", "sent");
  const queued = ["a", "b"].map((p) => batcher.publish("c", p));
  batcher.failQueued(new BusUnavailableError("stalled"));
  const results = await Promise.allSettled(queued);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  gate.resolve();
  await sent;
  assert.deepEqual(calls, [["sent"]]);
});

test("NotifyBatcher timeout: a statement still waiting for a connection is withdrawn and its publishes refused", async () => {
  const gate = deferred();
  let withdrawn = 0;
  let left = false;
  const batcher = new NotifyBatcher(() => ({
    done: gate.promise,
    sent: () => left,
    withdraw: () => {
      withdrawn++;
      gate.reject(new Error("withdrawn"));
    },
  }), { maxInFlight: 1, timeout: 30 });
  const results = await Promise.allSettled([batcher.publish("c", "waiting")]);
  assert.equal(withdrawn, 1, "taken back, so it can never be sent");
  assert.ok((results[0] as PromiseRejectedResult).reason instanceof BusUnavailableError, "nothing was published");
  // Once it left, the same wait means an unknown outcome instead.
  left = true;
  const second = deferred();
  const sentBatcher = new NotifyBatcher(() => ({ done: second.promise, sent: () => left, withdraw() {} }), {
    maxInFlight: 1,
    timeout: 30,
  });
  await assert.rejects(sentBatcher.publish("c", "out"), PublishOutcomeUnknownError);
  second.resolve();
});

test("NotifyBatcher: an event with hundreds of thousands of fragments is sent, not a stack overflow", async () => {
  let rows = 0;
  const batcher = new NotifyBatcher((_c, payloads) => {
    rows += payloads.length;
    return Promise.resolve();
  }, { maxInFlight: 1 });
  const parts = Array.from({ length: 300_000 }, (_, i) => String(i));
  await batcher.publish(parts.map(() => "frag"), parts);
  assert.equal(rows, 300_000);
});

test("NotifyBatcher: a statement that cannot be built refuses its publishes (nothing sent) and goes on", async () => {
  let calls = 0;
  const batcher = new NotifyBatcher((_c, payloads) => {
    calls++;
    if (payloads.includes("bad")) throw new RangeError("cannot build");
    return Promise.resolve();
  }, { maxInFlight: 1 });
  await assert.rejects(() => batcher.publish("c", "bad"), BusUnavailableError);
  await batcher.publish("c", "good");
  assert.equal(calls, 2);
});

test("NotifyBatcher: a statement refused for one event's data is sent again event by event; only that one fails", async () => {
  const statements: string[][] = [];
  const gate = deferred();
  const batcher = new NotifyBatcher(async (_c, payloads) => {
    statements.push(payloads);
    if (statements.length === 1) await gate.promise; // the others queue behind it and share the next statement
    if (payloads.includes("€")) throw new EventRejectedError("no equivalent in LATIN1");
  }, { maxInFlight: 1 });
  const first = batcher.publish("c", "first");
  const rest = ["a", "€", "b"].map((p) => batcher.publish("c", p).then(() => "ok", (e) => e.name));
  gate.resolve();
  await first;
  assert.deepEqual(await Promise.all(rest), ["ok", "EventRejectedError", "ok"]);
  assert.deepEqual(statements, [["first"], ["a", "€", "b"], ["a"], ["€"], ["b"]]);
});
