import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { parsePublishBody, readBodyLimited } from "../../src/http/body.ts";
import { HttpProblem } from "../../src/http/problem.ts";

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

test("readBodyLimited() with a declared Content-Length: reads it whole, 408 when it stalls, 413 when it lies", async () => {
  const declared = (parts: string[], close: boolean, length: number) =>
    new Request("http://x/", {
      method: "POST",
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
          if (close) controller.close();
        },
      }),
      headers: { "content-length": String(length) },
      duplex: "half",
    } as RequestInit);
  const read = await readBodyLimited(declared(['{"data":', "1}"], true, 10), 100);
  assert.equal(new TextDecoder().decode(read), '{"data":1}');
  await assert.rejects(
    readBodyLimited(declared(['{"data":'], false, 100), 1000, 100), // never finishes
    (e: unknown) => e instanceof HttpProblem && e.status === 408 && e.headers.Connection === "close",
  );
  // A runtime frames the body by its Content-Length, but the bytes read still decide.
  const lying = {
    headers: new Headers({ "content-length": "5" }),
    body: new ReadableStream(),
    arrayBuffer: () => Promise.resolve(new ArrayBuffer(50)),
  } as unknown as Request;
  await assert.rejects(readBodyLimited(lying, 10), (e: unknown) => e instanceof HttpProblem && e.status === 413);
});
