import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { allChannels, channelFor, decodeEnvelope, encodeEnvelope, fnv1a32, isSafeId } from "../../src/bus/envelope.ts";
import { utf8Length } from "../../src/utf8.ts";

test("fnv1a32() matches the published FNV-1a 32-bit vectors", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
  // Hashed as UTF-8, like Go's []byte(topic).
  assert.equal(fnv1a32("é"), Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) >>> 0 ^ 0xa9, 0x01000193) >>> 0);
});

test("channelFor() is topic_broadcast_{fnv1a32 mod shards}", () => {
  assert.equal(channelFor("foobar", 8), `topic_broadcast_${0xbf9cf968 % 8}`);
  assert.equal(channelFor("a", 1), "topic_broadcast_0");
  for (const topic of ["alpha", "beta", "x-1", "orders_eu"]) {
    const k = Number(channelFor(topic, 16).slice("topic_broadcast_".length));
    assert.ok(k >= 0 && k < 16);
    assert.equal(channelFor(topic, 16), channelFor(topic, 16));
  }
  assert.deepEqual(allChannels(3), ["topic_broadcast_0", "topic_broadcast_1", "topic_broadcast_2"]);
});

test("encodeEnvelope() writes topic, data and id; decodeEnvelope() reads it back", () => {
  const payload = encodeEnvelope({ topic: "alpha", data: '{"msg":"hi"}', id: "e1" });
  assert.equal(payload, '{"topic":"alpha","data":{"msg":"hi"},"id":"e1"}');
  assert.deepEqual(decodeEnvelope(payload), { topic: "alpha", data: '{"msg":"hi"}', id: "e1" });
});

test("decodeEnvelope() accepts Go payloads without id and compacts data, digits intact", () => {
  assert.deepEqual(decodeEnvelope('{"topic":"a","data":{ "n" : 12345678901234567890 }}'), {
    topic: "a",
    data: '{"n":12345678901234567890}',
    id: undefined,
  });
});

test("decodeEnvelope() rejects what is not an envelope and drops ids that could inject SSE fields", () => {
  for (
    const bad of [
      "",
      "nope",
      "[]",
      "null",
      '{"data":1}',
      '{"topic":"A","data":1}',
      '{"topic":"a"}',
      '{"topic":7,"data":1}',
    ]
  ) {
    assert.equal(decodeEnvelope(bad), undefined, bad);
  }
  assert.equal(decodeEnvelope('{"topic":"a","data":1,"id":"x\\ndata: evil"}')?.id, undefined);
  assert.equal(decodeEnvelope('{"topic":"a","data":1,"id":5}')?.id, undefined);
  assert.equal(isSafeId("abc-1"), true);
  assert.equal(isSafeId(""), false);
  assert.equal(isSafeId("a\rb"), false);
  assert.equal(isSafeId("x".repeat(257)), false);
});

test("utf8Length() counts UTF-8 bytes as TextEncoder writes them", () => {
  for (const s of ["", "abc", "é", "€", "😀", "a\u0000b", "\ud800", "x\udc00y", "é€😀"]) {
    assert.equal(utf8Length(s), new TextEncoder().encode(s).byteLength, JSON.stringify(s));
  }
});

test("the envelope size that maxNotifyBytes bounds is the UTF-8 length of the payload", () => {
  const payload = encodeEnvelope({ topic: "t", data: '"ééé"', id: "i" });
  assert.equal(utf8Length(payload), new TextEncoder().encode(payload).byteLength);
  assert.equal(utf8Length(payload), payload.length + 3);
});
