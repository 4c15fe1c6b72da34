/**
 * Publishing through the node:http listener: Node's own request and response objects go
 * straight to the pipeline (no Web Request or Response), with the same answers, problems and
 * CORS headers as every other adapter.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect } from "node:net";
import { createSsepg, type Ssepg, type SsepgOptions } from "../../src/service/create.ts";
import { listenNode } from "../../src/serve/node.ts";
import { silentLogger } from "../../src/log.ts";

async function withServer(options: SsepgOptions, fn: (base: string, svc: Ssepg) => Promise<void>): Promise<void> {
  const svc = await createSsepg({ logger: silentLogger, ...options });
  const listener = await listenNode(svc.handle, { port: 0, hostname: "127.0.0.1" });
  try {
    await fn(`http://127.0.0.1:${listener.port}`, svc);
  } finally {
    await svc.close();
    // A keep-alive connection may outlive the test's last request; serve() caps that wait the
    // same way (LISTENER_GRACE_MS).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([listener.close(), new Promise((resolve) => timer = setTimeout(resolve, 1_000))]);
    clearTimeout(timer);
  }
}

/** Sends raw bytes, then more after `pauseMs`, and returns everything the server answered. */
function rawExchange(base: string, head: string, rest: string, pauseMs: number): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => answer += text);
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    socket.write(head);
    setTimeout(() => {
      if (!socket.destroyed && rest) socket.write(rest);
    }, pauseMs);
    setTimeout(() => socket.destroy(), pauseMs + 3_000);
  });
}

const post = (base: string, path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: "POST", body, headers });

Deno.test("node publish path: answers with a Content-Length body, and subscribers get the event", async () => {
  await withServer({}, async (base, svc) => {
    const got: unknown[] = [];
    const off = svc.subscribe("alpha", (event) => got.push(event.data));
    const response = await post(base, "/topics/alpha/events", '{"data":{"n":1,"big":12345678901234567890}}');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(response.headers.get("cache-control"), "no-store");
    // Plain replies are written in one piece with their length.
    assert.equal(response.headers.get("content-length"), String((await response.clone().arrayBuffer()).byteLength));
    const answer = await response.json();
    assert.equal(answer.topic, "alpha");
    assert.match(answer.id, /\S/);
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ['{"n":1,"big":12345678901234567890}'], "data as sent, digits intact");
    off();

    // An upper-case topic with a query takes the same path and is normalised.
    const upper = await post(base, "/topics/ALPHA/events?x=1", '{"data":2}');
    assert.equal(upper.status, 200);
    assert.notEqual(upper.headers.get("content-length"), null, "the same pipeline answers");
    assert.equal((await upper.json()).topic, "alpha");
  });
});

Deno.test("node publish path: problems for bad bodies, tokens, listed topics and draining", async () => {
  await withServer(
    { publishToken: "s3cret", maxBodyBytes: 64, corsOrigins: "https://app.example" },
    async (base, svc) => {
      const auth = { authorization: "Bearer s3cret" };
      const noToken = await post(base, "/topics/a/events", '{"data":1}', { origin: "https://app.example" });
      assert.equal(noToken.status, 401);
      assert.equal(noToken.headers.get("content-type"), "application/problem+json");
      assert.match(noToken.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal(noToken.headers.get("access-control-allow-origin"), "https://app.example");
      assert.equal((await noToken.json()).type, "urn:ssepg:problem:unauthorized");

      const wrong = await post(base, "/topics/a/events", "{nope", auth);
      assert.equal(wrong.status, 400);
      assert.equal((await wrong.json()).type, "urn:ssepg:problem:invalid-body");

      const noData = await post(base, "/topics/a/events", '{"data":null}', auth);
      assert.equal(noData.status, 400);
      await noData.body?.cancel();

      const declared = await post(base, "/topics/a/events", JSON.stringify({ data: "x".repeat(100) }), auth);
      assert.equal(declared.status, 413);
      assert.equal(declared.headers.get("connection"), "close");
      assert.equal((await declared.json()).type, "urn:ssepg:problem:body-too-large");

      // No declared length: counted as it streams in.
      const chunks = [new TextEncoder().encode('{"data":"'), new Uint8Array(200).fill(120)];
      const streamed = await fetch(`${base}/topics/a/events`, {
        method: "POST",
        headers: auth,
        body: new ReadableStream({
          pull(controller) {
            const next = chunks.shift();
            if (next) controller.enqueue(next);
            else controller.close();
          },
        }),
      });
      assert.equal(streamed.status, 413);
      await streamed.body?.cancel();

      const ok = await post(base, "/topics/a/events", '{"data":1}', { ...auth, origin: "https://app.example" });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
      assert.equal(ok.headers.get("vary"), "Origin");
      await ok.body?.cancel();

      await svc.close();
      const closing = await post(base, "/topics/a/events", '{"data":1}', auth);
      assert.equal(closing.status, 503);
      assert.equal(closing.headers.get("retry-after"), "1");
      await closing.body?.cancel();
    },
  );
});

Deno.test("node publish path: a slow body gets 408, a client that leaves mid-body breaks nothing", async () => {
  await withServer({ bodyTimeout: 300 }, async (base) => {
    const head =
      "POST /topics/a/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n";
    const started = Date.now();
    const slow = await rawExchange(base, `${head}{"data"`, ':"late"}', 2_000);
    assert.match(slow, /^HTTP\/1\.1 408 /);
    assert.match(slow, /urn:ssepg:problem:body-timeout/);
    assert.ok(Date.now() - started < 2_000, "answered at bodyTimeout, not when the body came");

    // Half a body, then the client disconnects: the server goes on serving.
    const { hostname, port } = new URL(base);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(`${head}{"da`);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    const after = await post(base, "/topics/a/events", '{"data":"after"}');
    assert.equal(after.status, 200);
    await after.body?.cancel();
  });
});

Deno.test("node publish path: the authorize hook runs on this adapter too, with the request head", async () => {
  const seen: string[] = [];
  await withServer({
    authorize: (request, topics) => {
      seen.push(`${request.method} ${request.path} ${topics.join(",")}`);
      return topics[0] !== "forbidden";
    },
  }, async (base) => {
    const ok = await post(base, "/topics/open/events", '{"data":1}');
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const refused = await post(base, "/topics/forbidden/events", '{"data":1}');
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    assert.deepEqual(seen, ["POST /topics/open/events open", "POST /topics/forbidden/events forbidden"]);
  });
});
