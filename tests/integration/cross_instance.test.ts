import assert from "node:assert/strict";
import postgres from "postgres";
import { databaseUrl, dbTest, publish, startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";
import { channelFor } from "../../src/bus/envelope.ts";

Deno.test({
  name: "two instances on one database: a POST to A reaches subscribers of A and B with the id it returned",
  ...dbTest,
  async fn() {
    const url = databaseUrl();
    const [a, b] = await Promise.all([startServer({ databaseUrl: url }), startServer({ databaseUrl: url })]);
    const topic = uniqueTopic("cross");
    const onA = await SseClient.open(`${a.url}/topics/${topic}/events`);
    const onB = await SseClient.open(`${b.url}/topics/${topic}/events`);
    try {
      assert.equal((await onB.next()).retry, 5000);
      assert.deepEqual((await onB.next()).comments, [`listening ${topic}`]);
      const { status, body } = await publish(a.url, topic, { msg: "hi", n: 12345678901234567890n.toString() });
      assert.equal(status, 200);
      assert.equal(typeof body.id, "string");
      assert.equal(body.topic, topic);
      for (const client of [onA, onB]) {
        const event = await client.nextEvent();
        assert.equal(event.id, body.id);
        assert.equal(event.event, "message");
        assert.deepEqual(JSON.parse(event.data!), { msg: "hi", n: "12345678901234567890" });
      }
    } finally {
      await onA.close();
      await onB.close();
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  },
});

Deno.test({
  name: "two instances see one topic's events in the same order under concurrent publishers on both",
  ...dbTest,
  async fn() {
    const url = databaseUrl();
    const [a, b] = await Promise.all([startServer({ databaseUrl: url }), startServer({ databaseUrl: url })]);
    const topic = uniqueTopic("order");
    const clients = await Promise.all([a, a, b, b].map((s) => SseClient.open(`${s.url}/topics/${topic}/events`)));
    try {
      const n = 120;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => publish(i % 2 ? a.url : b.url, topic, { i })),
      );
      assert.ok(results.every((r) => r.status === 200));
      const published = new Set(results.map((r) => r.body.id as string));
      assert.equal(published.size, n, "ids are unique");
      const sequences = await Promise.all(clients.map(async (c) => (await c.events(n)).map((e) => e.id!)));
      for (const seq of sequences) {
        assert.deepEqual(seq, sequences[0], "same order everywhere");
        assert.deepEqual(new Set(seq), published, "every event, once");
      }
      const health = a.service.health();
      assert.ok(health.totals.notify_batches < health.totals.notify_events, "concurrent publishes shared statements");
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  },
});

Deno.test({
  name: "topics are isolated: a subscriber never sees another topic's events",
  ...dbTest,
  async fn() {
    const url = databaseUrl();
    const server = await startServer({ databaseUrl: url, notifyShards: 1 }); // every topic on one channel
    const [x, y] = [uniqueTopic("iso"), uniqueTopic("iso")];
    const onX = await SseClient.open(`${server.url}/topics/${x}/events`);
    const onY = await SseClient.open(`${server.url}/topics/${y}/events`);
    try {
      await publish(server.url, y, "for y");
      await publish(server.url, x, "for x");
      assert.equal((await onX.nextEvent()).data, '"for x"');
      assert.equal((await onY.nextEvent()).data, '"for y"');
      await onX.expectNoEvent(300);
    } finally {
      await onX.close();
      await onY.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "a raw pg_notify envelope without id (a Go publisher) is delivered without an id: line",
  ...dbTest,
  async fn() {
    const url = databaseUrl();
    const server = await startServer({ databaseUrl: url });
    const topic = uniqueTopic("go");
    const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const payload = JSON.stringify({ topic, data: { from: "go", n: 1 } });
      await sql`select pg_notify(${channelFor(topic, 8)}, ${payload})`;
      await sql`select pg_notify(${channelFor(topic, 8)}, ${"not json"})`;
      await sql`select pg_notify(${channelFor(topic, 8)}, ${
        JSON.stringify({ topic, data: 2, id: "x\ndata: injected" })
      })`;
      const first = await client.nextEvent();
      assert.equal(first.id, undefined);
      assert.equal(first.event, "message");
      assert.equal(first.data, '{"from":"go","n":1}');
      const second = await client.nextEvent();
      assert.equal(second.id, undefined, "an id with a line break is dropped, not written");
      assert.equal(second.data, "2");
      assert.ok(!client.raw.includes("injected"));
    } finally {
      await sql.end();
      await client.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "every instance keeps recent events, so a client resumes with Last-Event-ID on another instance",
  ...dbTest,
  async fn() {
    const url = databaseUrl();
    const [a, b] = await Promise.all([startServer({ databaseUrl: url }), startServer({ databaseUrl: url })]);
    const topic = uniqueTopic("resume");
    try {
      const watcher = await SseClient.open(`${b.url}/topics/${topic}/events`); // makes sure B is listening
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await publish(a.url, topic, i)).body.id as string);
      await watcher.events(5);
      await watcher.close();
      const resumed = await SseClient.open(`${b.url}/topics/${topic}/events`, { headers: { "Last-Event-ID": ids[1] } });
      const replay = await resumed.events(3);
      assert.deepEqual(replay.map((e) => e.id), ids.slice(2));
      await resumed.close();
      const viaQuery = await SseClient.open(`${a.url}/topics/${topic}/events?lastEventId=${ids[3]}`);
      assert.deepEqual((await viaQuery.events(1)).map((e) => e.id), [ids[4]]);
      await viaQuery.close();
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  },
});

Deno.test({
  name: "a subscriber that disconnects is removed within a second",
  ...dbTest,
  async fn() {
    const server = await startServer({ databaseUrl: databaseUrl() });
    const topic = uniqueTopic("leave");
    try {
      const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
      await client.next();
      assert.equal(server.service.health().totals.subscribers, 1);
      await client.close();
      const started = Date.now();
      await waitFor(() => server.service.health().totals.subscribers === 0, 1_000, "the subscriber to be removed");
      assert.ok(Date.now() - started < 1_000);
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "mixed fleet: Go-style envelopes without id and ours interleave on one topic in one order everywhere",
  ...dbTest,
  async fn() {
    const url = databaseUrl();
    const [a, b] = await Promise.all([startServer({ databaseUrl: url }), startServer({ databaseUrl: url })]);
    const topic = uniqueTopic("mixed");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const clients = await Promise.all([a, b].map((s) => SseClient.open(`${s.url}/topics/${topic}/events`)));
    try {
      const expected: { id: string | undefined; data: string }[] = [];
      for (let i = 0; i < 6; i++) {
        if (i % 2 === 0) {
          // A Go instance publishes: its envelope has no id.
          await sql`select pg_notify(${channelFor(topic, 8)}, ${JSON.stringify({ topic, data: { go: i } })})`;
          expected.push({ id: undefined, data: `{"go":${i}}` });
        } else {
          const { body } = await publish(i % 4 === 1 ? a.url : b.url, topic, { ts: i });
          expected.push({ id: body.id as string, data: `{"ts":${i}}` });
        }
      }
      for (const client of clients) {
        const events = await client.events(expected.length);
        assert.deepEqual(events.map((e) => ({ id: e.id, data: e.data })), expected);
      }
      // Resuming after one of ours replays what followed, Go events included.
      const resumed = await SseClient.open(`${b.url}/topics/${topic}/events`, {
        headers: { "Last-Event-ID": expected[1].id! },
      });
      const replay = await resumed.events(expected.length - 2);
      assert.deepEqual(replay.map((e) => e.data), expected.slice(2).map((e) => e.data));
      await resumed.close();
    } finally {
      await sql.end();
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  },
});
