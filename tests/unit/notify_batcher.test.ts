import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { NotifyBatcher } from "../../src/bus/postgres/notify_batcher.ts";

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
