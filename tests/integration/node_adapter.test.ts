/**
 * `ssepg/node` in a user's own `http.createServer`: the instance's pipeline serves every route,
 * streams are written chunked on HTTP/1.1 and close-delimited on HTTP/1.0, and a client that
 * leaves unsubscribes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { createSsepg } from "../../src/service/create.ts";
import { nodeHandler } from "../../src/serve/node.ts";
import { silentLogger } from "../../src/log.ts";

/** Sends `request` on a raw socket and collects what comes back until `done` says so. */
function exchange(port: number, request: string, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => finish(), 3_000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (done(text)) finish();
    });
    socket.on("error", reject);
    socket.on("close", finish);
    socket.write(request);
  });
}

Deno.test("nodeHandler(svc): streams chunked on HTTP/1.1, plain on HTTP/1.0; leaving unsubscribes", async () => {
  const svc = await createSsepg({ logger: silentLogger });
  const server = createServer(nodeHandler(svc));
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const published = (async () => {
      for (let i = 0; i < 100 && svc.health().totals.subscribers < 2; i++) await new Promise((r) => setTimeout(r, 10));
      await svc.publish("alpha", { n: 1 });
    })();
    const [http11, http10] = await Promise.all([
      exchange(port, "GET /topics/alpha/events HTTP/1.1\r\nHost: x\r\n\r\n", (t) => t.includes('data: {"n":1}')),
      exchange(port, "GET /topics/alpha/events HTTP/1.0\r\n\r\n", (t) => t.includes('data: {"n":1}')),
      published,
    ]);
    assert.match(http11, /^HTTP\/1\.1 200/);
    assert.match(http11, /transfer-encoding: chunked/i);
    assert.match(http11, /\r\n\r\n[0-9a-f]+\r\nretry: 5000\n\n: listening alpha\n\n\r\n/, "one HTTP chunk per write");
    assert.match(http10, /^HTTP\/1\.1 200/);
    assert.doesNotMatch(http10, /transfer-encoding/i);
    assert.match(http10, /\r\n\r\nretry: 5000\n\n: listening alpha\n\n/, "no chunk framing for HTTP/1.0");
    for (let i = 0; i < 100 && svc.health().totals.subscribers > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(svc.health().totals.subscribers, 0, "both clients left, both unsubscribed");

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
  } finally {
    await svc.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
