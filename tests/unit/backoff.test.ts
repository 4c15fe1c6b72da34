import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { backoff } from "../../src/bus/backoff.ts";

test("backoff() doubles from 50 ms and caps at 1 s", () => {
  const mid = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 20].map((n) => backoff(n, mid)), [50, 100, 200, 400, 800, 1000, 1000, 1000]);
});

test("backoff() jitters within ±20 %", () => {
  assert.equal(backoff(10, () => 0), 800);
  assert.equal(backoff(10, () => 0.999999), 1200);
});
