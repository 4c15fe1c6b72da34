import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { encodeComment, encodeEventText, encodeRetry, KEEP_ALIVE, SHUTTING_DOWN } from "../../src/sse/frame.ts";
import { concatBytes } from "../../src/bytes.ts";
import { StoredEvent } from "../../src/dispatcher/event.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

test("encodeEventText() writes id, event and data lines ending with a blank line", () => {
  assert.equal(
    encodeEventText({ id: "1", event: "message", data: '{"a":1}' }),
    'id: 1\nevent: message\ndata: {"a":1}\n\n',
  );
  assert.equal(encodeEventText({ data: "x" }), "data: x\n\n");
});

test("encodeEventText() splits multi-line data on CRLF, CR and LF", () => {
  assert.equal(encodeEventText({ data: "a\nb\r\nc\rd" }), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  assert.equal(encodeEventText({ data: "" }), "data: \n\n");
  assert.equal(encodeEventText({ data: "end\n" }), "data: end\ndata: \n\n");
});

test("encodeEventText() refuses line breaks in id and event (no field injection)", () => {
  assert.throws(() => encodeEventText({ id: "1\ndata: evil", data: "x" }), SyntaxError);
  assert.throws(() => encodeEventText({ id: "1\revil", data: "x" }), SyntaxError);
  assert.throws(() => encodeEventText({ id: "1\0", data: "x" }), SyntaxError);
  assert.throws(() => encodeEventText({ event: "a\nb", data: "x" }), SyntaxError);
});

test("comments, retry and constant frames", () => {
  assert.equal(text(encodeComment("listening a")), ": listening a\n\n");
  assert.equal(text(encodeComment("a\nb")), ": a\n: b\n\n");
  assert.equal(text(encodeRetry(5000)), "retry: 5000\n\n");
  assert.equal(text(KEEP_ALIVE), ": keep-alive\n\n");
  assert.equal(text(SHUTTING_DOWN), ": server shutting down\n\n");
  assert.equal(text(concatBytes([KEEP_ALIVE, SHUTTING_DOWN])), ": keep-alive\n\n: server shutting down\n\n");
});

test("StoredEvent.frame() encodes once per style and shares the bytes", () => {
  const event = new StoredEvent("alpha", '{"n":1}', "e1", 0);
  const a = event.frame("message");
  assert.equal(a, event.frame("message"), "same Uint8Array instance");
  assert.equal(text(a), 'id: e1\nevent: message\ndata: {"n":1}\n\n');
  assert.equal(text(event.frame("topic")), 'id: e1\nevent: alpha\ndata: {"n":1}\n\n');
  assert.equal(text(new StoredEvent("a", "1", undefined, 1).frame("message")), "event: message\ndata: 1\n\n");
});
