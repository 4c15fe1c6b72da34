import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { parsePublishBody, readBodyLimited } from "../../src/core/body.ts";
import { HttpProblem } from "../../src/core/problem.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function status(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpProblem) return error.status;
    throw error;
  }
  return undefined;
}

test("parsePublishBody() returns data as compact JSON", () => {
  assert.equal(parsePublishBody(bytes('{"data": {"msg": "hi"}, "extra": 1}')), '{"msg":"hi"}');
  assert.equal(parsePublishBody(bytes('{"data": 0}')), "0");
  assert.equal(parsePublishBody(bytes('{"data": false}')), "false");
  assert.equal(parsePublishBody(bytes('{"data": ""}')), '""');
  assert.equal(parsePublishBody(bytes('\ufeff{"data": [1]}')), "[1]");
});

test("parsePublishBody() answers 400 for bodies that are not {data: non-null JSON}", () => {
  for (
    const body of ["", "nope", "[]", '"data"', "null", "{}", '{"data":null}', '{"dat":1}', '{"data":1', '{"data":01}']
  ) {
    assert.equal(status(() => parsePublishBody(bytes(body))), 400, body);
  }
  assert.equal(status(() => parsePublishBody(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))), 400, "invalid UTF-8");
});

test("readBodyLimited() refuses bodies over the limit by header or by stream", async () => {
  const ok = await readBodyLimited(new Request("http://x/", { method: "POST", body: "12345" }), 5);
  assert.equal(ok.byteLength, 5);
  await assert.rejects(
    readBodyLimited(new Request("http://x/", { method: "POST", body: "123456" }), 5),
    (e: unknown) => e instanceof HttpProblem && e.status === 413 && /maxBodyBytes \(5 bytes\)/.test(e.message),
  );
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new Uint8Array(1024));
    },
  });
  await assert.rejects(
    readBodyLimited(new Request("http://x/", { method: "POST", body: endless, duplex: "half" } as RequestInit), 10_000),
    (e: unknown) => e instanceof HttpProblem && e.status === 413,
  );
});

test("readBodyLimited() answers 408 when the body does not arrive within the timeout", async () => {
  const stalled = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"data":'));
      // ...and nothing more: a slow-loris sender.
    },
  });
  const started = Date.now();
  await assert.rejects(
    readBodyLimited(
      new Request("http://x/", { method: "POST", body: stalled, duplex: "half" } as RequestInit),
      1000,
      100,
    ),
    (e: unknown) => e instanceof HttpProblem && e.status === 408 && e.headers.Connection === "close",
  );
  assert.ok(Date.now() - started < 2_000);
});
