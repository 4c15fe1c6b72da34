import assert from "node:assert/strict";
import { databaseUrl, dbTest, freePort, ownDatabase, publish, startServer, uniqueTopic } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";

async function problem(response: Response, status: number): Promise<Record<string, unknown>> {
  assert.equal(response.status, status, `expected ${status}`);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  const body = await response.json();
  assert.equal(body.status, status);
  assert.equal(typeof body.type, "string");
  assert.equal(typeof body.title, "string");
  assert.equal(typeof body.detail, "string");
  return body;
}

Deno.test({
  name: "POST answers 200 with id, topic and compact data, and Cache-Control: no-store",
  ...dbTest,
  async fn() {
    const server = await startServer({ databaseUrl: databaseUrl() });
    try {
      const topic = uniqueTopic("ok");
      const response = await fetch(`${server.url}/topics/${topic.toUpperCase()}/events`, {
        method: "POST",
        body: '{ "data" : { "a" : [1, 2] }, "ignored": true }',
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const text = await response.text();
      const body = JSON.parse(text);
      assert.equal(body.topic, topic, "topic lower-cased");
      assert.ok(text.endsWith(`"data":{"a":[1,2]}}`), text);
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "400 for invalid topics and bodies, 413 for large bodies and envelopes; none of them is delivered",
  ...dbTest,
  async fn() {
    const server = await startServer({ databaseUrl: databaseUrl(), maxBodyBytes: 2048, maxEventBytes: 1000 });
    const topic = uniqueTopic("bad");
    const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
    const post = (path: string, body: BodyInit) => fetch(`${server.url}${path}`, { method: "POST", body });
    try {
      await problem(await post("/topics/bad%20topic/events", '{"data":1}'), 400);
      await problem(await post(`/topics/${"x".repeat(129)}/events`, '{"data":1}'), 400);
      await problem(await post(`/topics/${topic},other/events`, '{"data":1}'), 400);
      await problem(await fetch(`${server.url}/topics/bad%20topic/events`), 400);
      for (const body of ["not json", "[1]", "{}", '{"data":null}', '{"data":1']) {
        await problem(await post(`/topics/${topic}/events`, body), 400);
      }
      await problem(await post(`/topics/${topic}/events`, new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])), 400);
      const tooBig = await problem(
        await post(`/topics/${topic}/events`, JSON.stringify({ data: "x".repeat(3000) })),
        413,
      );
      assert.match(String(tooBig.detail), /maxBodyBytes \(2048 bytes\)/);
      const envelope = await problem(
        await post(`/topics/${topic}/events`, JSON.stringify({ data: "é".repeat(600) })),
        413,
      );
      assert.match(
        String(envelope.detail),
        /event is \d+ bytes as a NOTIFY envelope, over maxEventBytes \(1000 bytes\)/,
      );
      await client.expectNoEvent(300);
      assert.equal(server.service.health().totals.published, 0);
    } finally {
      await client.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "401 with WWW-Authenticate for missing or wrong tokens; a listen token never publishes",
  ...dbTest,
  async fn() {
    const server = await startServer({
      databaseUrl: databaseUrl(),
      publishToken: "pub-secret",
      listenToken: "listen-secret",
    });
    const topic = uniqueTopic("auth");
    try {
      for (
        const headers of [{}, { authorization: "Bearer wrong" }, { authorization: "Bearer listen-secret" }] as Record<
          string,
          string
        >[]
      ) {
        const { response } = await publish(server.url, topic, 1, headers);
        assert.equal(response.status, 401);
        assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
      }
      const denied = await fetch(`${server.url}/topics/${topic}/events`);
      await problem(denied, 401);
      assert.match(denied.headers.get("www-authenticate") ?? "", /^Bearer/);
      await problem(await fetch(`${server.url}/topics/${topic}/events?access_token=listen-secret`), 401);
      const client = await SseClient.open(`${server.url}/topics/${topic}/events`, {
        headers: { authorization: "bearer listen-secret" },
      });
      const ok = await publish(server.url, topic, "yes", { authorization: "BEARER pub-secret" });
      assert.equal(ok.status, 200);
      assert.equal((await client.nextEvent()).id, ok.body.id);
      await client.close();
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "allowQueryToken accepts ?access_token= for listening",
  ...dbTest,
  async fn() {
    const server = await startServer({ databaseUrl: databaseUrl(), listenToken: "l", allowQueryToken: true });
    try {
      const client = await SseClient.open(`${server.url}/topics/${uniqueTopic("q")}/events?access_token=l`);
      await client.close();
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "GET streams with the documented headers; OPTIONS 204 with Allow; other methods 405; unknown paths 404",
  ...dbTest,
  async fn() {
    const server = await startServer({ databaseUrl: databaseUrl() });
    const topic = uniqueTopic("h");
    try {
      const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
      const h = client.response.headers;
      assert.equal(h.get("content-type"), "text/event-stream; charset=utf-8");
      assert.equal(h.get("cache-control"), "no-cache, no-transform");
      assert.equal(h.get("x-accel-buffering"), "no");
      assert.equal(h.get("vary"), "Accept-Encoding");
      await client.close();

      const head = await fetch(`${server.url}/topics/${topic}/events`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-type"), "text/event-stream; charset=utf-8");

      const options = await fetch(`${server.url}/topics/${topic}/events`, { method: "OPTIONS" });
      assert.equal(options.status, 204);
      assert.equal(options.headers.get("allow"), "GET, POST, OPTIONS");
      await options.body?.cancel();

      for (const method of ["PUT", "DELETE", "PATCH"]) {
        const response = await fetch(`${server.url}/topics/${topic}/events`, { method });
        await problem(response, 405);
        assert.equal(response.headers.get("allow"), "GET, POST, OPTIONS");
      }
      await problem(await fetch(`${server.url}/nope`), 404);
      await problem(await fetch(`${server.url}/topics/${topic}`), 404);
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "health reports the documented fields, caps topics with ?limit= and rejects a bad limit",
  ...dbTest,
  async fn() {
    // Instance-wide figures are asserted: a database of its own keeps other tests' events out.
    const db = await ownDatabase();
    const server = await startServer({ databaseUrl: db.url });
    const [t1, t2] = [uniqueTopic("hz"), uniqueTopic("hz")];
    try {
      const client = await SseClient.open(`${server.url}/topics/${t1}/events`);
      await publish(server.url, t1, 1);
      await publish(server.url, t2, 2);
      await client.nextEvent();
      const response = await fetch(`${server.url}/healthz`);
      assert.equal(response.status, 200);
      const health = await response.json();
      assert.equal(health.status, "ok");
      assert.match(health.runtime, /^deno \d/);
      assert.ok(!Number.isNaN(Date.parse(health.now)));
      assert.ok(!Number.isNaN(Date.parse(health.last_notification_at)));
      const topic = health.topics.find((t: { topic: string }) => t.topic === t1);
      for (
        const field of [
          "topic",
          "subscribers",
          "dispatch_depth",
          "pending_to_clients",
          "published",
          "broadcast",
          "delivered_frames",
          "dropped_clients",
          "memory_usage_bytes",
          "last_activity_unix",
          "is_idle",
        ]
      ) {
        assert.ok(field in topic, field);
      }
      assert.equal(topic.subscribers, 1);
      assert.equal(topic.published, 1);
      assert.equal(topic.broadcast, 1);
      assert.equal(topic.delivered_frames, 1);
      assert.equal(topic.is_idle, false);
      for (
        const field of [
          "topics",
          "idle_topics",
          "subscribers",
          "published",
          "broadcast",
          "delivered_frames",
          "dropped_clients",
          "listen_connected",
          "reconnect_attempts",
          "notify_shards",
          "queue_usage",
        ]
      ) {
        assert.ok(field in health.totals, field);
      }
      assert.equal(health.totals.listen_connected, true);
      assert.equal(health.totals.notify_shards, 8);
      assert.equal(health.totals.topics, 2);
      const limited = await (await fetch(`${server.url}/healthz?limit=1`)).json();
      assert.equal(limited.topics.length, 1);
      assert.equal(limited.topics[0].topic, t1, "busiest first");
      await problem(await fetch(`${server.url}/healthz?limit=-1`), 400);
      await client.close();
    } finally {
      await server.shutdown();
      await db.drop();
    }
  },
});

Deno.test({
  name: "with healthPort, health is served only there (404 on the main port)",
  ...dbTest,
  async fn() {
    const healthPort = freePort();
    const server = await startServer({ databaseUrl: databaseUrl(), healthPort });
    try {
      assert.equal(server.healthUrl, `http://127.0.0.1:${healthPort}`);
      await problem(await fetch(`${server.url}/healthz`), 404);
      const health = await fetch(`${server.healthUrl}/healthz`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).status, "ok");
      await problem(await fetch(`${server.healthUrl}/topics/a/events`), 404);
      await problem(await fetch(`${server.url}/metrics`), 404);
      const metrics = await fetch(`${server.healthUrl}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /^ssepg_subscribers 0$/m);
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "the in-process bus (no DATABASE_URL) serves a single instance end to end",
  ...dbTest,
  async fn() {
    const server = await startServer();
    const topic = uniqueTopic("mem");
    try {
      const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
      const { body } = await publish(server.url, topic, { hello: "memory" });
      const event = await client.nextEvent();
      assert.equal(event.id, body.id);
      assert.equal(event.data, '{"hello":"memory"}');
      const health = server.service.health();
      assert.equal(health.bus, "memory");
      assert.equal(health.totals.listen_connected, true);
      await client.close();
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "library publish() and subscribe() work across instances",
  ...dbTest,
  async fn() {
    const url = databaseUrl();
    const [a, b] = await Promise.all([startServer({ databaseUrl: url }), startServer({ databaseUrl: url })]);
    const topic = uniqueTopic("lib");
    try {
      const seen: string[] = [];
      const off = b.service.subscribe(topic, (event) => seen.push(`${event.id}:${event.data}`));
      const { id } = await a.service.publish(topic.toUpperCase(), { x: 1 });
      await new Promise((r) => setTimeout(r, 20));
      const deadline = Date.now() + 3000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(seen, [`${id}:{"x":1}`]);
      off();
      await assert.rejects(a.service.publish("bad topic", 1), TypeError);
      await assert.rejects(a.service.publish(topic, null), TypeError);
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  },
});

Deno.test({
  name: "CORS: allowed origins get preflight and response headers on streams, publishes and errors; others get none",
  ...dbTest,
  async fn() {
    const server = await startServer({
      databaseUrl: databaseUrl(),
      corsOrigins: "https://app.example",
      listenToken: "l",
    });
    const topic = uniqueTopic("cors");
    const origin = { origin: "https://app.example" };
    try {
      const preflight = await fetch(`${server.url}/topics/${topic}/events`, {
        method: "OPTIONS",
        headers: {
          ...origin,
          "access-control-request-method": "GET",
          "access-control-request-headers": "authorization,last-event-id",
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example");
      assert.equal(preflight.headers.get("access-control-allow-headers"), "Authorization, Content-Type, Last-Event-ID");
      assert.match(preflight.headers.get("vary") ?? "", /Origin/);
      await preflight.body?.cancel();

      const client = await SseClient.open(`${server.url}/topics/${topic}/events`, {
        headers: { ...origin, authorization: "Bearer l" },
      });
      assert.equal(client.response.headers.get("access-control-allow-origin"), "https://app.example");
      assert.equal(client.response.headers.get("vary"), "Accept-Encoding, Origin");
      await client.close();

      const denied = await fetch(`${server.url}/topics/${topic}/events`, { headers: origin });
      assert.equal(denied.status, 401);
      assert.equal(
        denied.headers.get("access-control-allow-origin"),
        "https://app.example",
        "errors are readable by the page",
      );
      await denied.body?.cancel();

      const post = await fetch(`${server.url}/topics/${topic}/events`, {
        method: "POST",
        headers: origin,
        body: '{"data":1}',
      });
      assert.equal(post.headers.get("access-control-allow-origin"), "https://app.example");
      await post.body?.cancel();

      const other = await fetch(`${server.url}/topics/${topic}/events`, {
        method: "POST",
        headers: { origin: "https://evil.example" },
        body: '{"data":1}',
      });
      assert.equal(other.headers.get("access-control-allow-origin"), null);
      await other.body?.cancel();
    } finally {
      await server.shutdown();
    }
    const plain = await startServer({ databaseUrl: databaseUrl() });
    try {
      const response = await fetch(`${plain.url}/topics/${topic}/events`, {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "GET" },
      });
      assert.equal(response.status, 204);
      for (const [name] of response.headers) {
        assert.ok(!name.startsWith("access-control-"), `${name} without corsOrigins`);
      }
      await response.body?.cancel();
    } finally {
      await plain.shutdown();
    }
  },
});

Deno.test({
  name: "the authorize hook refuses with 403 after the tokens, for publish and listen",
  ...dbTest,
  async fn() {
    const calls: string[] = [];
    const server = await startServer({
      databaseUrl: databaseUrl(),
      publishToken: "p",
      authorize: (request, topics, action) => {
        calls.push(`${action}:${topics.join(",")}`);
        return request.headers.get("x-user") === "alice" && topics.every((t) => t.startsWith("alice-"));
      },
    });
    const mine = uniqueTopic("alice");
    try {
      const ok = await publish(server.url, mine, 1, { authorization: "Bearer p", "x-user": "alice" });
      assert.equal(ok.status, 200);
      const forbidden = await publish(server.url, uniqueTopic("bob"), 1, {
        authorization: "Bearer p",
        "x-user": "alice",
      });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.status, 403);
      await problem(await fetch(`${server.url}/topics/${mine}/events`, { headers: { "x-user": "mallory" } }), 403);
      const before = calls.length;
      const unauthenticated = await publish(server.url, mine, 1, { "x-user": "alice" });
      assert.equal(unauthenticated.status, 401);
      assert.equal(calls.length, before, "the hook runs only after the token check");
      const client = await SseClient.open(`${server.url}/topics/${mine}/events`, { headers: { "x-user": "alice" } });
      await client.close();
      assert.ok(calls.includes(`listen:${mine}`));
    } finally {
      await server.shutdown();
    }
  },
});

function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  assert.ok(match, `${name} in ${text.slice(0, 200)}`);
  return Number(match[1]);
}

Deno.test({
  name: "GET /metrics serves Prometheus text with ssepg_ counters, gauges and histograms",
  ...dbTest,
  async fn() {
    // Instance-wide figures are asserted: a database of its own keeps other tests' events out.
    const db = await ownDatabase();
    const server = await startServer({ databaseUrl: db.url });
    const topic = uniqueTopic("metrics");
    try {
      const live = await SseClient.open(`${server.url}/topics/${topic}/events`);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await publish(server.url, topic, i)).body.id as string);
      await live.events(3);
      const resumed = await SseClient.open(`${server.url}/topics/${topic}/events`, {
        headers: { "Last-Event-ID": ids[0] },
      });
      await resumed.events(2);
      const lost = await SseClient.open(`${server.url}/topics/${topic}/events?lastEventId=nope`);
      await lost.nextEvent();
      const response = await fetch(`${server.url}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      assert.equal(metricValue(text, "ssepg_subscribers"), 3);
      assert.equal(metricValue(text, "ssepg_published_total"), 3);
      assert.equal(metricValue(text, "ssepg_broadcast_total"), 3);
      assert.equal(metricValue(text, "ssepg_delivered_frames_total"), 5);
      assert.equal(metricValue(text, "ssepg_replayed_events_total"), 2);
      assert.equal(metricValue(text, "ssepg_gaps_total"), 1);
      assert.equal(metricValue(text, "ssepg_ring_events"), 3);
      assert.equal(metricValue(text, "ssepg_listen_connected"), 1);
      assert.equal(metricValue(text, "ssepg_notify_events_total"), 3);
      assert.equal(metricValue(text, "ssepg_notify_batch_size_count"), metricValue(text, "ssepg_notify_batches_total"));
      assert.equal(metricValue(text, "ssepg_fanout_latency_seconds_count"), 3);
      assert.match(text, /^ssepg_fanout_latency_seconds_bucket\{le="\+Inf"\} 3$/m);
      assert.match(text, /^# TYPE ssepg_dropped_clients_total counter$/m);
      assert.match(text, /^ssepg_listen_reconnects_total 0$/m);
      await Promise.all([live.close(), resumed.close(), lost.close()]);
    } finally {
      await server.shutdown();
      await db.drop();
    }
  },
});
