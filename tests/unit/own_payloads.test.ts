import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { OwnPayloads } from "../../src/bus/postgres/own_payloads.ts";
import { encodeEnvelope } from "../../src/bus/envelope.ts";

test("OwnPayloads.take() gives back the envelope sent for exactly its payload, once", () => {
  const own = new OwnPayloads(10);
  const envelope = { topic: "alpha", data: '{"n":1}', id: "lq3k8x1f-7h2kq9-2a" };
  const payload = encodeEnvelope(envelope);
  assert.equal(own.keep(envelope, payload), true);
  assert.equal(own.take(payload.slice(0)), envelope);
  assert.equal(own.take(payload), undefined, "taken already");
  assert.equal(own.size, 0);
});

test("OwnPayloads.take() refuses a payload with the same id but other content, and keeps the envelope", () => {
  const own = new OwnPayloads(10);
  const envelope = { topic: "alpha", data: '{"n":1}', id: "e1" };
  own.keep(envelope, encodeEnvelope(envelope));
  assert.equal(own.take(encodeEnvelope({ ...envelope, data: '{"n":2}' })), undefined, "altered data");
  assert.equal(own.take('{"topic":"alpha","data":{"n":1},"id":"e1","x":1}'), undefined, "extra member");
  assert.equal(own.take('{"topic":"alpha","data":{"n":1}}'), undefined, "no id");
  assert.equal(own.take(encodeEnvelope(envelope)), envelope, "the real one still matches");
});

test("OwnPayloads keeps at most its capacity, and forget() and clear() drop envelopes", () => {
  const own = new OwnPayloads(2);
  const envelopes = ["a", "b", "c"].map((id) => ({ topic: "t", data: "1", id }));
  assert.deepEqual(envelopes.map((e) => own.keep(e, encodeEnvelope(e))), [true, true, false]);
  assert.equal(own.keep({ topic: "t", data: "1", id: undefined }, '{"topic":"t","data":1}'), false);
  own.forget("a");
  assert.equal(own.take(encodeEnvelope(envelopes[0])), undefined);
  own.clear();
  assert.equal(own.take(encodeEnvelope(envelopes[1])), undefined);
});
