/**
 * `ssepg/client` reconnection against a real in-process server: the stream a JWT allowed ends at
 * the token's `exp` (`: token expired`) and the client resumes with a fresh token and
 * `Last-Event-ID` without losing or repeating an event; a refused token is retried only when the
 * callback gives a new one; a stopped server is retried with the `retry:` delay, then backoff.
 * Runs under `deno test` and `bun test`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { SignJWT } from "jose";
import { test } from "../helpers/test.ts";
import { startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { publish, type ReconnectInfo, subscribe } from "../../src/client/mod.ts";
import { errorDelay } from "../../src/client/backoff.ts";

const SECRET = "client-test-secret-of-at-least-32-bytes!";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function jwt(ssepg: { subscribe?: string[]; publish?: string[] }, expiresInSeconds: number): Promise<string> {
  return new SignJWT({ ssepg })
    .setProtectedHeader({ alg: "HS256" })
    // exp is in whole seconds: rounding up keeps a token at least `expiresInSeconds` valid.
    // Rounding down (floor + n) could mint one that expires within milliseconds, refused on
    // arrival, and an identical second one: the client then rightly gives up.
    .setExpirationTime(Math.ceil(Date.now() / 1000 + expiresInSeconds))
    .sign(new TextEncoder().encode(SECRET));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("subscribe() resumes after the token's exp ends the stream: fresh token, Last-Event-ID, no loss", async () => {
  const server = await startServer({ jwtSecret: SECRET, retry: 2_000 });
  const topic = uniqueTopic("exp");
  const publisher = await jwt({ publish: ["*"] }, 60);
  let minted = 0;
  const received: string[] = [];
  const reconnects: ReconnectInfo[] = [];
  const opened: (string | undefined)[] = [];
  const lastAtEnd: (string | undefined)[] = [];
  const subscription = subscribe<number>({ baseUrl: server.url, topics: [topic] }, {
    token: () => (minted++, jwt({ subscribe: [topic] }, 1)),
    onOpen: (info) => opened.push(info.lastEventId),
    onEvent: (e) => received.push(e.id!),
    onReconnect: (info) => {
      reconnects.push(info);
      lastAtEnd.push(received.at(-1));
    },
  });
  const published: string[] = [];
  try {
    await waitFor(() => opened.length === 1, 5_000, "the stream to open");
    // Publish for a while, across at least one expiry (a token minted with exp one to two seconds ahead).
    const until = Date.now() + 2_500;
    for (let n = 0; Date.now() < until; n++) {
      published.push((await publish(server.url, topic, n, { token: publisher })).id);
      await sleep(20);
    }
    await waitFor(() => received.length >= published.length, 5_000, "every event");
    assert.ok(reconnects.length >= 1, "the stream ended at least once");
    assert.ok(reconnects.every((r) => r.reason === "token expired" && r.delay === 0), JSON.stringify(reconnects));
    assert.ok(minted >= 2, "a fresh token for each connection");
    assert.ok(lastAtEnd[0] !== undefined, "events arrived before the first expiry");
    assert.equal(opened[1], lastAtEnd[0], "the reconnection sent Last-Event-ID: the last id received");
    assert.deepEqual(received, published, "every event once, in order");
  } finally {
    subscription.close();
    await subscription.done;
    await server.shutdown();
  }
});

test("subscribe() retries a 401 only when the token callback gives a new token", async () => {
  const server = await startServer({ jwtSecret: SECRET, retry: 50 });
  const topic = uniqueTopic("refresh");
  const tokens = [await jwt({ subscribe: [topic] }, -60), await jwt({ subscribe: [topic] }, 60)];
  let calls = 0;
  const errors: number[] = [];
  let opens = 0;
  const subscription = subscribe({ baseUrl: server.url, topics: [topic] }, {
    retry: 50,
    token: () => tokens[Math.min(calls++, 1)],
    onError: (e) => errors.push((e as { status?: number }).status ?? 0),
    onOpen: () => opens++,
  });
  try {
    await waitFor(() => opens === 1, 5_000, "the stream to open with the second token");
    assert.deepEqual(errors, [401], "the expired token was refused, then the fresh one accepted");
    assert.equal(calls, 2, "the fresh token was used for the reconnection, not fetched again");
  } finally {
    subscription.close();
    await subscription.done;
    await server.shutdown();
  }
});

test("subscribe() waits the server's retry: after a shutdown, backs off with jitter while it is down", async () => {
  const port = await freePort();
  let server = await startServer({ port, retry: 120, gracefulDrain: "1s" });
  const reconnects: ReconnectInfo[] = [];
  let opens = 0;
  const subscription = subscribe({ baseUrl: server.url, topics: [uniqueTopic("down")] }, {
    retry: 5_000,
    maxRetry: 400,
    onOpen: () => opens++,
    onReconnect: (info) => reconnects.push(info),
  });
  try {
    await waitFor(() => opens === 1, 5_000, "the stream to open");
    await server.shutdown();
    await waitFor(() => reconnects.length >= 4, 10_000, "a few attempts while the server is down");
    server = await startServer({ port, retry: 120 });
    await waitFor(() => opens === 2, 10_000, "the reconnection");
    assert.deepEqual(reconnects[0], { delay: 120, reason: "server shutting down", failures: 0 });
    for (const [i, info] of reconnects.slice(1).entries()) {
      if (i >= 3) break;
      const ceiling = Math.min(400, 120 * 2 ** i);
      assert.match(info.reason, /^Cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused$/);
      assert.equal(info.failures, i + 1);
      assert.ok(
        info.delay >= ceiling / 2 && info.delay <= ceiling,
        `${info.delay} within [${ceiling / 2}, ${ceiling}]`,
      );
    }
  } finally {
    subscription.close();
    await subscription.done;
    await server.shutdown();
  }
});

test("errorDelay() doubles from the base up to the cap, jitters in the upper half, honours a floor", () => {
  const low = () => 0;
  const high = () => 0.999999;
  assert.equal(errorDelay(1, { base: 1000, max: 30_000, random: low }), 500);
  assert.equal(errorDelay(1, { base: 1000, max: 30_000, random: high }), 1000);
  assert.equal(errorDelay(3, { base: 1000, max: 30_000, random: low }), 2000);
  assert.equal(errorDelay(10, { base: 1000, max: 30_000, random: high }), 30_000);
  assert.equal(errorDelay(100, { base: 1000, max: 30_000, random: low }), 15_000);
  assert.equal(errorDelay(1, { base: 1000, max: 30_000, floor: 7000, random: low }), 7000);
  assert.equal(errorDelay(0, { base: 0, max: 10, random: high }), 1);
});
