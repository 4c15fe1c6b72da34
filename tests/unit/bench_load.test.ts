import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { SseFrameParser } from "../../bench/load/sse_frames.ts";
import { ChunkedDecoder } from "../../bench/load/http.ts";
import { FieldReader } from "../../bench/load/fields.ts";
import { SequenceTracker, type TopicOutcome } from "../../bench/load/sequence.ts";
import { Histogram } from "../../bench/load/histogram.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Feeds `parts` to a fresh parser, reusing one scratch buffer as a socket reader does. */
function frames(parts: Uint8Array[]): string[] {
  const out: string[] = [];
  const parser = new SseFrameParser((data) => out.push(decoder.decode(data)));
  const scratch = new Uint8Array(4096);
  for (const part of parts) {
    scratch.set(part);
    parser.push(scratch.subarray(0, part.length));
    scratch.fill(0x7a, 0, part.length); // the caller reuses its buffer: a kept view would now read "zzz"
  }
  return out;
}

const STREAM = 'retry: 5000\n\n: listening t\n\nid: a-1\nevent: message\ndata: {"seq":1}\n\n' +
  'id: a-2\r\ndata: {"seq":2,\r\ndata: "x":1}\r\n\r\n' +
  'data:{"seq":3}\r\rdata\n\nevent: only\n\ndatax: no\ndata: {"seq":4}\n\n';
const EXPECTED = ['{"seq":1}', '{"seq":2,\n"x":1}', '{"seq":3}', "", '{"seq":4}'];

test("SseFrameParser reads data, joins lines, skips other fields, handles LF, CRLF and CR", () => {
  assert.deepEqual(frames([encoder.encode(STREAM)]), EXPECTED);
});

test("SseFrameParser gives the same events whatever the split, at every byte boundary", () => {
  const bytes = encoder.encode(STREAM);
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(frames([bytes.subarray(0, cut), bytes.subarray(cut)]), EXPECTED, `cut at ${cut}`);
  }
  for (let a = 1; a < bytes.length; a += 3) {
    for (let b = a; b <= bytes.length; b += 7) {
      const parts = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
      assert.deepEqual(frames(parts), EXPECTED, `cuts at ${a}, ${b}`);
    }
  }
  assert.deepEqual(frames([...bytes].map((b) => Uint8Array.of(b))), EXPECTED, "one byte at a time");
});

test("ChunkedDecoder rebuilds the body whatever the split, and stops at the last chunk", () => {
  const body = "4\r\nab\nc\r\n19;ext=1\r\n" + 'data: {"seq":1}\n\nxxxxxxxx\r\n0\r\nTrailer: x\r\n\r\nNEXT';
  const bytes = encoder.encode(body);
  for (let cut = 0; cut <= bytes.length; cut++) {
    let text = "";
    const d = new ChunkedDecoder((part) => text += decoder.decode(part));
    const first = d.push(bytes.subarray(0, cut));
    const rest = d.done ? first + bytes.length - cut : d.push(bytes.subarray(cut));
    assert.equal(text, 'ab\ncdata: {"seq":1}\n\nxxxxxxxx', `cut at ${cut}`);
    assert.ok(d.done);
    assert.equal(rest, 4, `bytes after the body, cut at ${cut}`);
  }
  assert.equal(new ChunkedDecoder(() => {}).push(encoder.encode("zz\r\n")), -1);
});

test("FieldReader finds seq, timestamp and topic in any envelope", () => {
  const r = new FieldReader();
  const data = encoder.encode('{"id":"x","data":{"pad":"\\"seq\\":9","t": 1764000000000.125,"seq":42,"topic":"b1"}}');
  r.read(data);
  assert.equal(r.seq, 42, "an escaped key inside a string value is not a key");
  assert.equal(r.timestamp, 1764000000000.125);
  assert.ok(r.topicIs(encoder.encode('"b1"')));
  assert.ok(!r.topicIs(encoder.encode('"b10"')));
  assert.ok(!r.topicIs(encoder.encode('"b"')), "a prefix of the topic is another topic");
  r.read(encoder.encode('{"seq":"7"}'));
  assert.equal(r.seq, -1);
  r.read(encoder.encode("{}"));
  assert.ok(Number.isNaN(r.timestamp));
  assert.ok(r.topicIs(encoder.encode('"b1"')), "no topic field: any topic");
});

/** Every publish answered before the next was sent: any reorder is the server's. */
const sequential = (n: number): TopicOutcome => ({
  attempted: n,
  failed: [],
  answeredBefore: Int32Array.from({ length: n + 1 }, (_, m) => Math.max(0, m - 1)),
});

test("SequenceTracker: a clean run has no loss, duplicate or reorder", () => {
  const t = new SequenceTracker(5);
  for (const s of [1, 2, 3, 4, 5]) assert.equal(t.record(s), "new");
  assert.deepEqual(t.verdict(sequential(5)), {
    lost: 0,
    missing: 0,
    deliveredUnacked: 0,
    reordered: 0,
    reorderedConcurrent: 0,
  });
});

test("SequenceTracker detects loss, duplicates, reorders and unknown sequence numbers", () => {
  const t = new SequenceTracker(6);
  for (const s of [1, 3, 2, 3, 5, 0, 9, 6]) t.record(s);
  assert.equal(t.duplicates, 1);
  assert.equal(t.invalid, 2);
  const v = t.verdict(sequential(6));
  assert.equal(v.lost, 1, "4 never came");
  assert.equal(v.reordered, 1, "2 after 3");
  assert.equal(v.reorderedConcurrent, 1);
});

test("SequenceTracker: reorders of publishes in flight together are not the server's fault", () => {
  const t = new SequenceTracker(4);
  for (const s of [2, 1, 4, 3]) t.record(s);
  // 1 and 2 were in flight together; 3 was answered before 4 was sent.
  const outcome: TopicOutcome = { attempted: 4, failed: [], answeredBefore: Int32Array.from([0, 0, 0, 2, 3]) };
  const v = t.verdict(outcome);
  assert.equal(v.reorderedConcurrent, 2);
  assert.equal(v.reordered, 1);
});

test("SequenceTracker: failed publishes are not losses; delivered ones are counted apart", () => {
  const t = new SequenceTracker(4);
  for (const s of [1, 3]) t.record(s);
  const v = t.verdict({ ...sequential(4), failed: [2, 3] });
  assert.equal(v.lost, 1, "4 was acknowledged and never came");
  assert.equal(v.missing, 2);
  assert.equal(v.deliveredUnacked, 1);
  // Only what was attempted counts: a run cut short has no loss beyond it.
  assert.equal(new SequenceTracker(10).verdict({ ...sequential(10), attempted: 0 }).lost, 0);
});

test("Histogram percentiles stay within half a percent", () => {
  const h = new Histogram();
  for (let i = 1; i <= 1000; i++) h.record(i / 10);
  assert.ok(Math.abs(h.percentile(0.99)! - 99) / 99 < 0.005);
  assert.ok(Math.abs(h.percentile(0.5)! - 50) / 50 < 0.005);
  assert.equal(h.count, 1000);
});
