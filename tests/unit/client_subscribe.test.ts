/**
 * `ssepg/client` against a real in-process server (in-process bus, no database): multi-topic
 * handlers, gap, abort, refusals, publish errors. Runs under `deno test` and `bun test`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "../helpers/test.ts";
import { startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import {
  ConnectionError,
  type GapNotice,
  ProblemError,
  publish,
  type StreamEvent,
  subscribe,
} from "../../src/client/mod.ts";

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("subscribe() dispatches a multi-topic stream to onEvent and per-topic handlers, data parsed", async () => {
  const server = await startServer();
  const [a, b] = [uniqueTopic("ca"), uniqueTopic("cb")];
  const all: StreamEvent<{ n: number }>[] = [];
  const perTopic: Record<string, number[]> = { [a]: [], [b]: [] };
  let opens = 0;
  const subscription = subscribe<{ n: number }>({ baseUrl: server.url, topics: [a, b.toUpperCase()] }, {
    onOpen: () => opens++,
    onEvent: (e) => all.push(e),
    handlers: { [a]: (e) => perTopic[a].push(e.data.n), [b.toUpperCase()]: (e) => perTopic[b].push(e.data.n) },
  });
  try {
    await waitFor(() => opens === 1, 5_000, "the stream to open");
    const first = await publish(server.url, a, { n: 1 });
    await publish(server.url, b, { n: 2 });
    await publish(server.url, a, { n: 3 });
    await waitFor(() => all.length === 3, 5_000, "three events");
    assert.deepEqual(all.map((e) => [e.topic, e.event, e.data.n]), [[a, a, 1], [b, b, 2], [a, a, 3]]);
    assert.equal(all[0].id, first.id);
    assert.deepEqual(perTopic, { [a]: [1, 3], [b]: [2] });
    assert.equal(subscription.lastEventId, all[2].id);
  } finally {
    subscription.close();
    await subscription.done;
    await server.shutdown();
  }
});

test("subscribe() on a one-topic URL names the topic on each event (the server sends event: message)", async () => {
  const server = await startServer();
  const topic = uniqueTopic("one");
  const events: StreamEvent<string>[] = [];
  const subscription = subscribe<string>(`${server.url}/topics/${topic}/events`, { onEvent: (e) => events.push(e) });
  try {
    await waitFor(() => server.service.health().totals.subscribers === 1, 5_000, "the subscriber");
    await publish(server.url, topic, "hi");
    await waitFor(() => events.length === 1, 5_000, "the event");
    assert.equal(events[0].topic, topic);
    assert.equal(events[0].event, "message");
    assert.equal(events[0].data, "hi");
  } finally {
    subscription.close();
    await subscription.done;
    await server.shutdown();
  }
});

test("subscribe() reports the server's event: gap to onGap, then receives live events", async () => {
  const server = await startServer();
  const topic = uniqueTopic("gap");
  const gaps: GapNotice[] = [];
  const events: unknown[] = [];
  const subscription = subscribe({ baseUrl: server.url, topics: topic }, {
    lastEventId: "long-gone",
    onGap: (gap) => gaps.push(gap),
    onEvent: (e) => events.push(e.data),
  });
  try {
    await waitFor(() => gaps.length === 1, 5_000, "the gap");
    assert.deepEqual(gaps, [{ lastEventId: "long-gone" }]);
    await publish(server.url, topic, 7);
    await waitFor(() => events.length === 1, 5_000, "the live event");
    assert.deepEqual(events, [7]);
  } finally {
    subscription.close();
    await subscription.done;
    await server.shutdown();
  }
});

test("subscribe() stops on abort: done resolves and the server sees the subscriber leave", async () => {
  const server = await startServer();
  const stop = new AbortController();
  let reconnects = 0;
  const subscription = subscribe({ baseUrl: server.url, topics: [uniqueTopic("abort")] }, {
    signal: stop.signal,
    onReconnect: () => reconnects++,
  });
  try {
    await waitFor(() => server.service.health().totals.subscribers === 1, 5_000, "the subscriber");
    stop.abort();
    await subscription.done;
    await waitFor(() => server.service.health().totals.subscribers === 0, 5_000, "the subscriber to leave");
    assert.equal(reconnects, 0);
  } finally {
    await server.shutdown();
  }
});

test("subscribe() gives up on 400 and on 401 without a new token: done rejects with a ProblemError", async () => {
  const server = await startServer({ listenToken: "listen" });
  try {
    const errors: [string, boolean][] = [];
    const bad = subscribe({ baseUrl: server.url, topics: ["bad topic"] }, {
      token: "listen",
      onError: (e, { fatal }) => errors.push([e.message, fatal]),
    });
    await assert.rejects(bad.done, (e) => e instanceof ProblemError && e.status === 400 && /Topic ids/.test(e.message));
    assert.equal(errors.length, 1);
    assert.equal(errors[0][1], true);

    let calls = 0;
    const unauthorized = subscribe({ baseUrl: server.url, topics: ["a"] }, {
      token: () => {
        calls++;
        return "wrong";
      },
    });
    await assert.rejects(
      unauthorized.done,
      (e) => e instanceof ProblemError && e.status === 401 && e.problem?.status === 401,
    );
    assert.equal(calls, 2, "asked once more for a token, got the same one, stopped");

    const notFound = subscribe({ baseUrl: server.url, basePath: "/nowhere", topics: ["a"] });
    await assert.rejects(notFound.done, (e) => e instanceof ProblemError && e.status === 404);
  } finally {
    await server.shutdown();
  }
});

test("subscribe() rejects a target without topics or URL synchronously", () => {
  assert.throws(() => subscribe({ baseUrl: "http://127.0.0.1:1", topics: [] }), TypeError);
  assert.throws(() => subscribe("not a url"), TypeError);
});

test("publish() returns the event id; refusals throw ProblemError with the problem+json body", async () => {
  const server = await startServer({ publishToken: "pub" });
  const topic = uniqueTopic("pub");
  try {
    const published = await publish(server.url, topic.toUpperCase(), { x: [1, 2] }, { token: () => "pub" });
    assert.equal(published.topic, topic);
    assert.deepEqual(published.data, { x: [1, 2] });
    assert.match(published.id, /^[0-9a-z]+-[0-9a-z]+-[0-9a-z]+$/);
    await assert.rejects(publish(server.url, topic, 1), (e) => {
      assert.ok(e instanceof ProblemError);
      assert.equal(e.status, 401);
      assert.equal(e.problem?.type, "urn:ssepg:problem:unauthorized");
      assert.equal(e.message, `401 Unauthorized: ${e.problem?.detail}`);
      return true;
    });
    await assert.rejects(
      publish(server.url, topic, null, { token: "pub" }),
      (e) => e instanceof ProblemError && e.status === 400,
    );
  } finally {
    await server.shutdown();
  }
});

test("publish() to a server that is down throws ConnectionError naming the origin and the reason", async () => {
  const port = await closedPort();
  await assert.rejects(publish(`http://127.0.0.1:${port}`, "a", 1), (e) => {
    assert.ok(e instanceof ConnectionError);
    assert.equal(e.url, `http://127.0.0.1:${port}`);
    assert.equal(e.reason, "connection refused");
    assert.equal(e.message, `Cannot reach http://127.0.0.1:${port}: connection refused`);
    return true;
  });
});
