import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { Ring } from "../../src/dispatcher/ring.ts";

test("Ring requires a power-of-two capacity", () => {
  assert.throws(() => new Ring(3), RangeError);
  assert.throws(() => new Ring(0), RangeError);
  assert.equal(new Ring(1).capacity, 1);
});

test("Ring.push() drops the oldest item when full and keeps absolute sequence numbers", () => {
  const ring = new Ring<string>(4);
  for (const x of ["a", "b", "c", "d"]) assert.equal(ring.push(x), undefined);
  assert.equal(ring.push("e"), "a");
  assert.equal(ring.tail, 1);
  assert.equal(ring.head, 5);
  assert.equal(ring.size, 4);
  assert.equal(ring.at(0), undefined);
  assert.equal(ring.at(1), "b");
  assert.equal(ring.at(4), "e");
  assert.equal(ring.at(5), undefined);
});

test("Ring.findLast() finds the newest match and firstWhere() bisects ordered items", () => {
  const ring = new Ring<number>(8);
  for (let i = 0; i < 12; i++) ring.push(i * 10);
  assert.equal(ring.findLast((x) => x === 90), 9);
  assert.equal(ring.findLast((x) => x === 10), -1, "dropped");
  assert.equal(ring.firstWhere((x) => x > 55), 6);
  assert.equal(ring.firstWhere((x) => x > 1000), ring.head);
  assert.equal(ring.firstWhere(() => true), ring.tail);
});

test("Ring.shift() removes the oldest item", () => {
  const ring = new Ring<number>(2);
  ring.push(1);
  ring.push(2);
  assert.equal(ring.shift(), 1);
  assert.equal(ring.shift(), 2);
  assert.equal(ring.shift(), undefined);
  assert.equal(ring.size, 0);
});

test("Ring grows its storage as it fills and keeps order and sequence numbers across growth", () => {
  const ring = new Ring<number>(64);
  for (let i = 0; i < 3; i++) ring.push(i);
  ring.shift(); // tail moves, so growth must re-place wrapped items
  for (let i = 3; i < 200; i++) {
    ring.push(i);
    assert.equal(ring.at(i), i);
  }
  assert.equal(ring.size, 64);
  assert.equal(ring.tail, 136);
  for (let seq = ring.tail; seq < ring.head; seq++) assert.equal(ring.at(seq), seq);
  assert.equal(ring.firstWhere((x) => x >= 150), 150);
  assert.equal(ring.findLast((x) => x === 140), 140);
});
