/**
 * The black-box conformance suite: HTTP/SSE behaviour the README documents, written once and run against
 * servers started under each runtime (see conformance.test.ts).
 *
 * @module
 */

import { workerHealth } from "../helpers/worker_health.ts";
import assert from "node:assert/strict";
import { SseClient } from "../helpers/sse_client.ts";
import { GzipSseClient } from "../helpers/gzip_client.ts";
import { uniqueTopic, waitFor } from "../helpers/instances.ts";

/** Two instances of one runtime on one database, and how to reach them. */
export interface Target {
  readonly runtime: string;
  /** The HTTP server under test: `node:http`, `Deno.serve` or `Bun.serve`. */
  readonly server: string;
  /** Base URL of instance A. */
  readonly a: string;
  /** Base URL of instance B. */
  readonly b: string;
  /** Tokens the instances were started with. */
  readonly publishToken: string;
  readonly listenToken: string;
  /** keepAlive the instances were started with, in ms. */
  readonly keepAlive: number;
  /** clientBuffer the instances were started with. */
  readonly clientBuffer: number;
  /** The one origin in corsOrigins. */
  readonly corsOrigin: string;
  /** bodyTimeout the instances were started with, in ms. */
  readonly bodyTimeout: number;
  /** Worker processes behind each instance's port (`--workers`). */
  readonly workers: number;
  /** The environment that selects this server (Deno.serve, workers), for cases that start their own. */
  readonly serverEnv: Readonly<Record<string, string>>;
}

/** One conformance case. */
export interface Case {
  readonly name: string;
  readonly fn: (t: Target) => Promise<void>;
}

const pub = (t: Target) => ({ authorization: `Bearer ${t.publishToken}`, "content-type": "application/json" });
const lis = (t: Target) => ({ authorization: `Bearer ${t.listenToken}` });

async function post(t: Target, base: string, topic: string, data: unknown) {
  const response = await fetch(`${base}/topics/${topic}/events`, {
    method: "POST",
    headers: pub(t),
    body: JSON.stringify({ data }),
  });
  const body = await response.json();
  return { status: response.status, body, response };
}

async function expectProblem(response: Response, status: number): Promise<void> {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  const body = await response.json();
  assert.equal(body.status, status);
  for (const field of ["type", "title", "detail"]) assert.equal(typeof body[field], "string", field);
}

/** The health report; with `token`, one that may see topic names (hidden from others when tokens are set). */
/** Instance A's figures added up over its workers. */
function healthOfA(t: Target, token?: string) {
  return workerHealth(t.a, { token, workers: t.workers });
}

async function health(base: string, token?: string) {
  const response = await fetch(`${base}/healthz`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: await response.json() };
}

/** Every case, in order. */
export const cases: Case[] = [
  {
    name: "a stream starts with retry and listening, carries id/event/data frames and keep-alives",
    async fn(t) {
      const topic = uniqueTopic("frames");
      const client = await SseClient.open(`${t.a}/topics/${topic}/events`, { headers: lis(t) });
      try {
        assert.equal((await client.next()).retry, 5000);
        assert.deepEqual((await client.next()).comments, [`listening ${topic}`]);
        const { status, body } = await post(t, t.a, topic, { text: "line1\nline2", n: 1 });
        assert.equal(status, 200);
        const event = await client.next();
        assert.equal(event.id, body.id);
        assert.equal(event.event, "message");
        assert.deepEqual(JSON.parse(event.data!), { text: "line1\nline2", n: 1 });
        const idle = await client.next(t.keepAlive * 3);
        assert.deepEqual(idle.comments, ["keep-alive"]);
        assert.ok(client.raw.startsWith("retry: 5000\n\n: listening "), "frame order");
      } finally {
        await client.close();
      }
    },
  },
  {
    name: "stream responses carry the documented headers; HEAD opens no subscription",
    async fn(t) {
      const topic = uniqueTopic("headers");
      const client = await SseClient.open(`${t.a}/topics/${topic}/events`, { headers: lis(t) });
      const h = client.response.headers;
      assert.equal(h.get("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(h.get("cache-control"), "no-cache, no-transform");
      assert.equal(h.get("x-accel-buffering"), "no");
      assert.equal(h.get("vary"), "Accept-Encoding");
      await client.close();
      const head = await fetch(`${t.a}/topics/${topic}/events`, { method: "HEAD", headers: lis(t) });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-type"), "text/event-stream; charset=utf-8");
    },
  },
  {
    name: "POST answers 200 {id, topic, data} with Cache-Control: no-store",
    async fn(t) {
      const topic = uniqueTopic("post");
      const response = await fetch(`${t.a}/topics/${topic.toUpperCase()}/events`, {
        method: "POST",
        headers: pub(t),
        body: '{"data": {"big": 12345678901234567890}}',
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const text = await response.text();
      assert.match(text, new RegExp(`^\\{"id":"[^"]+","topic":"${topic}","data":\\{"big":12345678901234567890\\}\\}$`));
    },
  },
  {
    name: "errors are problem+json with the documented status codes",
    async fn(t) {
      const topic = uniqueTopic("errors");
      const url = `${t.a}/topics/${topic}/events`;
      await expectProblem(
        await fetch(`${t.a}/topics/bad%20topic/events`, { method: "POST", headers: pub(t), body: '{"data":1}' }),
        400,
      );
      await expectProblem(await fetch(`${t.a}/topics/bad%20topic/events`, { headers: lis(t) }), 400);
      await expectProblem(await fetch(url, { method: "POST", headers: pub(t), body: "not json" }), 400);
      await expectProblem(await fetch(url, { method: "POST", headers: pub(t), body: '{"data":null}' }), 400);
      await expectProblem(
        await fetch(url, { method: "POST", headers: pub(t), body: JSON.stringify({ data: "x".repeat(1_100_000) }) }),
        413,
      );
      await expectProblem(
        // Under maxBodyBytes (1 MiB), over maxEventBytes (1 MiB) once the topic and id are added.
        await fetch(url, { method: "POST", headers: pub(t), body: JSON.stringify({ data: "x".repeat(1_048_550) }) }),
        413,
      );
      // A body streamed without Content-Length is cut off at maxBodyBytes; the server lives on.
      const chunk = new TextEncoder().encode("x".repeat(65_536));
      let sent = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 32) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const streamed = await fetch(
        url,
        { method: "POST", headers: pub(t), body: endless, duplex: "half" } as RequestInit,
      )
        .catch(() => undefined); // the server may close the connection before the upload ends
      if (streamed) await expectProblem(streamed, 413);
      assert.equal((await health(t.a)).status, 200, "the server survived oversized bodies");
      // A body that trickles in too slowly is cut off with 408 after bodyTimeout.
      const slow = await Deno.connect({ hostname: new URL(t.a).hostname, port: Number(new URL(t.a).port) });
      try {
        await slow.write(new TextEncoder().encode(
          `POST /topics/${topic}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.publishToken}\r\n` +
            `Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"data":`,
        ));
        const started = Date.now();
        const buffer = new Uint8Array(4096);
        let answer = "";
        while (!answer.includes("\r\n\r\n")) {
          const n = await slow.read(buffer);
          if (n === null) break;
          answer += new TextDecoder().decode(buffer.subarray(0, n));
        }
        assert.match(answer, /^HTTP\/1\.1 408/, answer);
        assert.ok(Date.now() - started < t.bodyTimeout + 3_000, `answered after ${Date.now() - started} ms`);
      } finally {
        slow.close();
      }
      assert.equal((await health(t.a)).status, 200, "the server survived a slow body");
      const unauthorized = await fetch(url, { method: "POST", body: '{"data":1}' });
      assert.match(unauthorized.headers.get("www-authenticate") ?? "", /^Bearer/);
      await expectProblem(unauthorized, 401);
      await expectProblem(
        await fetch(url, { method: "POST", headers: { authorization: `Bearer ${t.listenToken}` }, body: '{"data":1}' }),
        401,
      );
      await expectProblem(await fetch(url), 401);
      const options = await fetch(url, { method: "OPTIONS" });
      assert.equal(options.status, 204);
      assert.equal(options.headers.get("allow"), "GET, POST, OPTIONS");
      await options.body?.cancel();
      const put = await fetch(url, { method: "PUT", headers: pub(t), body: "{}" });
      assert.equal(put.headers.get("allow"), "GET, POST, OPTIONS");
      await expectProblem(put, 405);
      await expectProblem(await fetch(`${t.a}/not-a-route`), 404);
    },
  },
  {
    name: "health reports the documented fields and the runtime",
    async fn(t) {
      const { status, body } = await health(t.a);
      assert.equal(status, 200);
      assert.equal(body.status, "ok");
      assert.match(body.runtime, new RegExp(`^${t.runtime} \\d`));
      if (t.workers > 1) {
        assert.equal(body.worker.count, t.workers);
        assert.ok(body.worker.index >= 1 && body.worker.index <= t.workers, JSON.stringify(body.worker));
        assert.ok(Number.isInteger(body.worker.pid), JSON.stringify(body.worker));
      } else assert.equal(body.worker, null);
      assert.equal(body.totals.listen_connected, true);
      assert.equal(body.totals.notify_shards, 8);
      for (
        const field of [
          "topics",
          "idle_topics",
          "subscribers",
          "published",
          "broadcast",
          "delivered_frames",
          "dropped_clients",
          "reconnect_attempts",
          "queue_usage",
        ]
      ) {
        assert.ok(field in body.totals, field);
      }
      assert.ok(Array.isArray(body.topics));
    },
  },
  {
    name: "a POST to A reaches subscribers of A and B with one id, in one order under concurrent publishers",
    async fn(t) {
      const topic = uniqueTopic("cross");
      const clients = await Promise.all(
        [t.a, t.b, t.b].map((base) => SseClient.open(`${base}/topics/${topic}/events`, { headers: lis(t) })),
      );
      try {
        const n = 60;
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => post(t, i % 2 ? t.a : t.b, topic, { i })),
        );
        assert.ok(results.every((r) => r.status === 200));
        const ids = new Set(results.map((r) => r.body.id as string));
        const seen = await Promise.all(clients.map(async (c) => (await c.events(n)).map((e) => e.id!)));
        for (const seq of seen) {
          assert.deepEqual(seq, seen[0]);
          assert.deepEqual(new Set(seq), ids);
        }
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    },
  },
  {
    name: "Last-Event-ID resumes on the other instance; an unknown id starts with event: gap",
    async fn(t) {
      const topic = uniqueTopic("resume");
      const watcher = await SseClient.open(`${t.b}/topics/${topic}/events`, { headers: lis(t) });
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await post(t, t.a, topic, i)).body.id);
      await watcher.events(4);
      await watcher.close();
      const resumed = await SseClient.open(`${t.b}/topics/${topic}/events`, {
        headers: { ...lis(t), "Last-Event-ID": ids[0] },
      });
      assert.deepEqual((await resumed.events(3)).map((e) => e.id), ids.slice(1));
      await resumed.close();
      const lost = await SseClient.open(`${t.b}/topics/${topic}/events?lastEventId=unknown-id`, { headers: lis(t) });
      const gap = await lost.nextEvent();
      assert.equal(gap.event, "gap");
      assert.deepEqual(JSON.parse(gap.data!), { lastEventId: "unknown-id" });
      await lost.close();
    },
  },
  {
    name: "gzip (Accept-Encoding): each event is decodable as soon as it is sent; gzip;q=0 gets plain text",
    async fn(t) {
      const topic = uniqueTopic("gzip");
      const client = await GzipSseClient.open(`${t.a}/topics/${topic}/events`, lis(t));
      try {
        await client.waitForText(`: listening ${topic}\n\n`);
        assert.equal(client.status, 200);
        assert.equal(client.headers["content-encoding"], "gzip");
        assert.equal(client.headers["content-type"], "text/event-stream; charset=utf-8");
        assert.match(client.headers["vary"] ?? "", /Accept-Encoding/);
        for (let i = 0; i < 3; i++) {
          const { body } = await post(t, t.b, topic, { i, text: "compress me ".repeat(20) });
          await client.waitForText(`id: ${body.id}\n`, 2_000); // no later event is needed to flush it
        }
        await client.waitForText(": keep-alive\n\n", t.keepAlive * 3);
        assert.ok(
          client.compressedBytes < client.text.length,
          `${client.compressedBytes} compressed bytes for ${client.text.length} characters`,
        );
      } finally {
        await client.close();
      }
      const refused = await fetch(`${t.a}/topics/${topic}/events`, {
        method: "HEAD",
        headers: { ...lis(t), "accept-encoding": "gzip;q=0, br" },
      });
      assert.equal(refused.headers.get("content-encoding"), null);
      const accepted = await fetch(`${t.a}/topics/${topic}/events`, {
        method: "HEAD",
        headers: { ...lis(t), "accept-encoding": "br;q=1, gzip;q=0.5" },
      });
      assert.equal(accepted.headers.get("content-encoding"), "gzip");
    },
  },
  {
    name: "CORS for the allowed origin on preflights, streams and errors; /metrics in Prometheus text",
    async fn(t) {
      const topic = uniqueTopic("cors");
      const url = `${t.a}/topics/${topic}/events`;
      const preflight = await fetch(url, {
        method: "OPTIONS",
        headers: {
          origin: t.corsOrigin,
          "access-control-request-method": "GET",
          "access-control-request-headers": "last-event-id",
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-origin"), t.corsOrigin);
      assert.equal(preflight.headers.get("access-control-allow-headers"), "Authorization, Content-Type, Last-Event-ID");
      await preflight.body?.cancel();
      const client = await SseClient.open(`${url}?access_token=${t.listenToken}`, {
        headers: { origin: t.corsOrigin },
      });
      assert.equal(client.response.headers.get("access-control-allow-origin"), t.corsOrigin);
      assert.match(client.response.headers.get("vary") ?? "", /Origin/);
      await client.close();
      const denied = await fetch(url, { headers: { origin: t.corsOrigin } });
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get("access-control-allow-origin"), t.corsOrigin);
      await denied.body?.cancel();
      const foreign = await fetch(url, {
        method: "OPTIONS",
        headers: { origin: "https://elsewhere.example", "access-control-request-method": "GET" },
      });
      assert.equal(foreign.headers.get("access-control-allow-origin"), null);
      await foreign.body?.cancel();
      const metrics = await fetch(`${t.a}/metrics`);
      assert.equal(metrics.status, 200);
      // With workers, each sample names the worker that answered.
      const workerLabel = t.workers > 1 ? `\\{worker="[1-${t.workers}]"\\}` : "";
      const text = await metrics.text();
      for (
        const name of [
          "ssepg_subscribers",
          "ssepg_published_total",
          "ssepg_delivered_frames_total",
          "ssepg_listen_connected",
        ]
      ) {
        assert.match(text, new RegExp(`^${name}${workerLabel} \\d`, "m"), name);
      }
      assert.match(text, new RegExp(`^ssepg_fanout_latency_seconds_count${workerLabel} \\d+$`, "m"));
      // With workers, one scrape holds every worker's samples, each family introduced once.
      for (let i = 1; i <= t.workers && t.workers > 1; i++) {
        assert.match(text, new RegExp(`^ssepg_subscribers\\{worker="${i}"\\} \\d`, "m"), `worker ${i}`);
      }
      assert.equal(text.match(/^# TYPE ssepg_subscribers /gm)?.length, 1);
    },
  },
  {
    name: "one stream for several topics names each event by its topic",
    async fn(t) {
      const [x, y] = [uniqueTopic("multi"), uniqueTopic("multi")];
      const client = await SseClient.open(`${t.a}/topics/${x},${y}/events`, { headers: lis(t) });
      try {
        await post(t, t.b, y, "to y");
        await post(t, t.b, x, "to x");
        const events = await client.events(2);
        assert.deepEqual(events.map((e) => [e.event, e.data]), [[y, '"to y"'], [x, '"to x"']]);
      } finally {
        await client.close();
      }
    },
  },
  {
    name: "a client that disconnects is removed within a second",
    async fn(t) {
      const topic = uniqueTopic("leave");
      const client = await SseClient.open(`${t.a}/topics/${topic}/events`, { headers: lis(t) });
      await client.next();
      const count = async () =>
        (await healthOfA(t, t.listenToken)).body.topics.find((x: { topic: string }) => x.topic === topic)
          ?.subscribers ??
          0;
      assert.equal(await count(), 1);
      await client.close();
      await waitFor(async () => (await count()) === 0, 1_000, "the subscriber to be removed");
    },
  },
  {
    name: "a subscriber that stops reading is disconnected after clientBuffer frames; others keep receiving",
    async fn(t) {
      const topic = uniqueTopic("slow");
      const fast = await SseClient.open(`${t.a}/topics/${topic}/events`, { headers: lis(t) });
      const host = new URL(t.a);
      const stalled = await Deno.connect({ hostname: host.hostname, port: Number(host.port) });
      try {
        const request = `GET /topics/${topic}/events HTTP/1.1\r\nHost: ${host.host}\r\n` +
          `Authorization: Bearer ${t.listenToken}\r\nConnection: close\r\n\r\n`;
        await stalled.write(new TextEncoder().encode(request));
        // From here on nothing is read: the kernel buffers fill, then the server's.
        await waitFor(async () => (await healthOfA(t)).body.totals.subscribers >= 2, 2_000, "both subscribers");
        // The fast subscriber reads all along, as a healthy client does.
        let received = 0;
        let reading = true;
        const reader = (async () => {
          while (reading) {
            try {
              await fast.nextEvent(500);
              received++;
            } catch { /* nothing within 500 ms: look again */ }
          }
        })();
        const pad = "x".repeat(7000);
        let published = 0;
        let dropped = 0;
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && dropped === 0) {
          const batch = await Promise.all(Array.from({ length: 20 }, () => post(t, t.a, topic, { pad })));
          published += batch.length;
          dropped = (await healthOfA(t, t.listenToken)).body.topics.find((x: { topic: string }) =>
            x.topic === topic
          )?.dropped_clients ?? 0;
        }
        assert.equal(dropped, 1, `the stalled subscriber, dropped after ${published} frames of 7 kB`);
        await waitFor(() => received === published, 20_000, `the fast subscriber to get all ${published} events`);
        reading = false;
        await reader;
        const topicHealth = (await healthOfA(t, t.listenToken)).body.topics.find((x: { topic: string }) =>
          x.topic === topic
        );
        assert.equal(topicHealth.subscribers, 1);
        assert.equal(topicHealth.dropped_clients, 1);
        // Reading now gets what the server had already flushed, then the end of the stream.
        const buffer = new Uint8Array(1 << 16);
        let tail = "";
        const ends = (async () => {
          for (;;) {
            const n = await stalled.read(buffer);
            if (n === null) return true;
            tail = (tail + new TextDecoder().decode(buffer.subarray(0, n))).slice(-64);
          }
        })();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const ended = await Promise.race([ends, new Promise<false>((r) => timer = setTimeout(() => r(false), 10_000))]);
        clearTimeout(timer);
        assert.equal(ended, true, `the stalled stream ends; last bytes ${JSON.stringify(tail)}`);
      } finally {
        try {
          stalled.close();
        } catch { /* closed by the server */ }
        await fast.close();
      }
    },
  },
];
