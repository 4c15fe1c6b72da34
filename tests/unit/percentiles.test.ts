import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { PercentileHistogram } from "../../src/hops/percentiles.ts";

/** The exact percentile (nearest rank) of sorted values. */
function exact(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

test("PercentileHistogram reports 0 for every figure when empty", () => {
  assert.deepEqual(new PercentileHistogram().summary(), { count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

test("PercentileHistogram percentiles are within 2 % from 1 µs to 60 s", () => {
  // Log-uniform values over the whole range, in a fixed pseudo-random order.
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const values = Array.from({ length: 20_000 }, () => 0.001 * 6e7 ** random());
  const h = new PercentileHistogram();
  for (const v of values) h.observe(v);
  const sorted = [...values].sort((a, b) => a - b);
  assert.equal(h.count, values.length);
  for (const q of [0.01, 0.1, 0.5, 0.9, 0.99, 0.999]) {
    const want = exact(sorted, q);
    const got = h.percentile(q);
    assert.ok(Math.abs(got - want) / want <= 0.02, `p${q * 100}: ${got} against ${want}`);
  }
  assert.equal(h.summary().max, sorted.at(-1));
});

test("PercentileHistogram keeps percentiles within what was observed", () => {
  const h = new PercentileHistogram();
  for (let i = 0; i < 100; i++) h.observe(5);
  assert.deepEqual(h.summary(), { count: 100, p50: 5, p90: 5, p99: 5, max: 5 });
});

test("PercentileHistogram counts negatives as 0 and clamps values beyond 60 s to the largest seen", () => {
  const h = new PercentileHistogram();
  h.observe(-3);
  h.observe(0);
  h.observe(120_000);
  assert.equal(h.percentile(0.5), 0.001);
  assert.equal(h.summary().max, 120_000);
  assert.equal(h.percentile(1), 120_000);
});
