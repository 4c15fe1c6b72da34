/**
 * Property-based tests (fast-check) of what clients can send: every request gets a 4xx or a
 * correct 200, never a 500, a crash or a hang.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "../helpers/test.ts";
import { createSsepg, type Ssepg } from "../../src/service/create.ts";
import { silentLogger } from "../../src/log.ts";

const RUNS = 300;

async function withService(fn: (svc: Ssepg) => Promise<void>): Promise<void> {
  const svc = await createSsepg({ logger: silentLogger, maxBodyBytes: 65_536 });
  try {
    await fn(svc);
  } finally {
    await svc.close();
  }
}

async function post(svc: Ssepg, topic: string, body: BodyInit, headers: Record<string, string> = {}) {
  const response = await svc.fetch(new Request(`http://x/topics/${topic}/events`, { method: "POST", body, headers }));
  return { status: response.status, text: await response.text() };
}

function assertClientError(status: number, allowed: number[], context: string): void {
  assert.ok(allowed.includes(status), `${context}: status ${status}`);
}

test("POST bodies of random bytes get 400/413 or a correct 200", async () => {
  await withService(async (svc) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        const { status } = await post(svc, "fuzz", bytes);
        assertClientError(status, [200, 400, 413], "bytes");
      }),
      { numRuns: RUNS },
    );
  });
});

test("POST bodies of any JSON value round-trip their data exactly, or get 400/413", async () => {
  await withService(async (svc) => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), async (value, wrap) => {
        const body = wrap ? JSON.stringify({ data: value }) : JSON.stringify(value);
        const { status, text } = await post(svc, "json", body);
        if (status === 200) {
          const expected = wrap ? value : (value as { data?: unknown }).data;
          assert.deepEqual(JSON.parse(text).data, JSON.parse(JSON.stringify(expected)));
        } else assertClientError(status, [400, 413], body.slice(0, 80));
      }),
      { numRuns: RUNS },
    );
  });
});

test("strings with lone surrogates, control characters and huge numbers never break a publish", async () => {
  await withService(async (svc) => {
    const received: string[] = [];
    const off = svc.subscribe("odd", (e) => received.push(e.data));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }),
          fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }).map((n) => n.toString()),
        ),
        async (text) => {
          const isNumber = /^-?\d+$/.test(text);
          const body = `{"data":${isNumber ? text : JSON.stringify(text)}}`;
          const { status, text: answer } = await post(svc, "odd", body);
          assert.equal(status, 200, body.slice(0, 80));
          if (isNumber) assert.ok(answer.endsWith(`"data":${text}}`), "every digit kept");
        },
      ),
      { numRuns: RUNS },
    );
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(received.length, RUNS);
    off();
  });
});

test("deep nesting, a 10 MB body and invalid UTF-8 get 4xx; the service keeps serving", async () => {
  await withService(async (svc) => {
    const deep = `{"data":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    assertClientError((await post(svc, "deep", deep)).status, [200, 400, 413], "deep nesting");
    const nested = `{"data":${"[".repeat(3_000)}1${"]".repeat(3_000)}}`; // under maxNotifyBytes
    assertClientError((await post(svc, "deep", nested)).status, [200, 400], "deep nesting within the limit");
    assert.equal((await post(svc, "big", new Uint8Array(10 * 1024 * 1024))).status, 413);
    assert.equal(
      (await post(svc, "utf8", new Uint8Array([0x7b, 0x22, 0x64, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))).status,
      400,
    );
    assert.equal((await post(svc, "ok", '{"data":1}')).status, 200);
  });
});

test("random topics, Last-Event-IDs, query strings and headers get a 4xx or a stream, never a 500", async () => {
  await withService(async (svc) => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 200 }),
        fc.string({ maxLength: 300 }),
        fc.string({ maxLength: 100 }),
        fc.string({ maxLength: 100 }),
        async (topic, lastEventId, query, encoding) => {
          let url: URL;
          try {
            url = new URL(`http://x/topics/${encodeURIComponent(topic)}/events?${query}`);
          } catch {
            return; // not a URL any client could send
          }
          const headers = new Headers();
          const safe = (s: string) => s.replace(/[^\x20-\x7e]/g, "");
          headers.set("last-event-id", safe(lastEventId));
          headers.set("accept-encoding", safe(encoding));
          const response = await svc.fetch(new Request(url, { headers }));
          assert.ok(
            response.status === 200 || (response.status >= 400 && response.status < 500),
            `${response.status} for ${url}`,
          );
          await response.body?.cancel();
        },
      ),
      { numRuns: RUNS },
    );
    assert.equal(svc.health().totals.subscribers, 0, "every cancelled stream unsubscribed");
  });
});
