/**
 * The `ssepg/node` adapter with a plain fetch handler: `request.signal` aborts only when the
 * client leaves before the response is complete.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { nodeHandler } from "../../src/serve/node.ts";

Deno.test("nodeHandler: request.signal aborts when the client leaves early, not after a complete response", async () => {
  const signals = new Map<string, AbortSignal>();
  const server = createServer(nodeHandler((request) => {
    const path = new URL(request.url).pathname;
    signals.set(path, request.signal);
    if (path === "/done") return new Response("ok");
    return new Response(new ReadableStream({ pull() {} })); // never ends
  }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.equal(await (await fetch(`${base}/done`)).text(), "ok");
    const leaving = new AbortController();
    const response = await fetch(`${base}/forever`, { signal: leaving.signal });
    const reader = response.body!.getReader();
    leaving.abort();
    await reader.closed.catch(() => {});
    const aborted = signals.get("/forever")!;
    for (let i = 0; i < 100 && !aborted.aborted; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(aborted.aborted, true, "the client left early");
    assert.equal(signals.get("/done")!.aborted, false, "a complete response does not abort");
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
