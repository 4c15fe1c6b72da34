import assert from "node:assert/strict";
import postgres from "postgres";
import { databaseUrl, dbTest, ownDatabase, publish, startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";

/** A throwaway database whose connections can be refused, to provoke an outage for one test. */
async function withOwnDatabase(fn: (url: string, admin: postgres.Sql) => Promise<void>): Promise<void> {
  const db = await ownDatabase();
  const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
  try {
    await fn(db.url, admin);
  } finally {
    await admin.unsafe(`alter database ${new URL(db.url).pathname.slice(1)} allow_connections true`).catch(() => {});
    await admin.end();
    await db.drop();
  }
}

/**
 * Makes the database refuse new connections and ends only the instance's LISTEN connection: its
 * NOTIFY connections stay up, so only the bus itself can tell that it no longer listens.
 */
async function killListenerForGood(admin: postgres.Sql, url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin.unsafe(`alter database ${name} allow_connections false`);
  const [{ killed }] = await admin`select count(pg_terminate_backend(pid))::int as killed from pg_stat_activity
    where datname = ${name} and application_name = 'ssepg-listen'`;
  assert.equal(killed, 1);
}

async function healthStatus(base: string): Promise<number> {
  const response = await fetch(`${base}/healthz?limit=0`);
  await response.body?.cancel();
  return response.status;
}

async function refuseConnections(admin: postgres.Sql, url: string, refuse: boolean): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await admin.unsafe(`alter database ${name} allow_connections ${refuse ? "false" : "true"}`);
  if (refuse) await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;
}

Deno.test({
  name:
    "database outage: health degrades, POST gets 503 with Retry-After and delivers nothing; after recovery LISTEN is back and subscribers get a gap",
  ...dbTest,
  async fn() {
    await withOwnDatabase(async (url, admin) => {
      const server = await startServer({ databaseUrl: url });
      const topic = uniqueTopic("outage");
      const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
      try {
        const before = await publish(server.url, topic, "before");
        assert.equal((await client.nextEvent()).id, before.body.id);

        await refuseConnections(admin, url, true);
        await waitFor(
          async () => (await fetch(`${server.url}/healthz`).then((r) => r.body?.cancel().then(() => r.status))) === 503,
          5_000,
          "health 503",
        );
        const health = await (await fetch(`${server.url}/healthz`)).json();
        assert.equal(health.status, "degraded");
        assert.equal(health.totals.listen_connected, false);

        const started = Date.now();
        const during = await publish(server.url, topic, "during");
        assert.equal(during.status, 503);
        assert.ok(Date.now() - started < 6_000, "answered within a bounded time");
        assert.ok(Number(during.response.headers.get("retry-after")) >= 1);
        assert.equal(during.response.headers.get("content-type"), "application/problem+json");

        await refuseConnections(admin, url, false);
        await waitFor(() => server.service.health().status === "ok", 5_000, "LISTEN to come back");
        assert.ok(server.service.health().totals.reconnect_attempts >= 1);
        const gap = await client.nextEvent();
        assert.equal(gap.event, "gap");
        assert.equal(JSON.parse(gap.data!).lastEventId, before.body.id);

        const after = await publish(server.url, topic, "after");
        assert.equal(after.status, 200);
        const next = await client.nextEvent();
        assert.equal(next.id, after.body.id, "the rejected event was never delivered");
        assert.equal(next.data, '"after"');
      } finally {
        await client.close();
        await server.shutdown();
      }
    });
  },
});

Deno.test({
  name: "LISTEN connection killed with pg_terminate_backend is restored in under a second",
  ...dbTest,
  async fn() {
    // A database of its own: on a shared server, the newest 'ssepg-listen' backend anywhere may
    // be another test's.
    const db = await ownDatabase();
    const url = db.url;
    const server = await startServer({ databaseUrl: url });
    const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    const topic = uniqueTopic("kill");
    const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
    try {
      await client.next();
      const attempts = server.service.health().totals.reconnect_attempts;
      const [{ ok }] = await admin`select pg_terminate_backend(pid) as ok from pg_stat_activity
        where application_name = 'ssepg-listen' and datname = ${new URL(url).pathname.slice(1)}`;
      assert.equal(ok, true);
      const killedAt = Date.now();
      await waitFor(
        () => server.service.health().totals.reconnect_attempts > attempts && server.service.health().status === "ok",
        3_000,
        "reconnect",
      );
      assert.ok(Date.now() - killedAt < 1_000, `restored in ${Date.now() - killedAt} ms`);
      assert.equal((await client.nextEvent()).event, "gap");
      const { body } = await publish(server.url, topic, "again");
      assert.equal((await client.nextEvent()).id, body.id);
    } finally {
      await admin.end();
      await client.close();
      await server.shutdown();
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "LISTEN backend killed while the database refuses connections: POSTs get 503 with Retry-After though NOTIFY still works; back to 200 after",
  ...dbTest,
  async fn() {
    await withOwnDatabase(async (url, admin) => {
      const server = await startServer({ databaseUrl: url });
      const topic = uniqueTopic("nolisten");
      const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
      try {
        const before = await publish(server.url, topic, "before");
        assert.equal((await client.nextEvent()).id, before.body.id);

        await killListenerForGood(admin, url);
        await waitFor(async () => (await healthStatus(server.url)) === 503, 5_000, "health 503");
        const during = await publish(server.url, topic, "during");
        assert.equal(during.status, 503, "no 200 while the instance cannot LISTEN");
        assert.equal(during.body.type, "urn:ssepg:problem:database-unavailable");
        assert.ok(Number(during.response.headers.get("retry-after")) >= 1);

        await admin.unsafe(`alter database ${new URL(url).pathname.slice(1)} allow_connections true`);
        await waitFor(async () => (await healthStatus(server.url)) === 200, 5_000, "health 200");
        const gap = await client.nextEvent();
        assert.equal(gap.event, "gap");
        const after = await publish(server.url, topic, "after");
        assert.equal(after.status, 200);
        assert.equal((await client.nextEvent()).id, after.body.id, "the refused event was never delivered");
      } finally {
        await client.close();
        await server.shutdown();
      }
    });
  },
});

Deno.test({
  name:
    "a POST every 2 ms while LISTEN is killed for good: refused once LISTEN is down, and every accepted event is delivered or covered by a later gap",
  ...dbTest,
  async fn() {
    await withOwnDatabase(async (url, admin) => {
      const server = await startServer({ databaseUrl: url });
      const topic = uniqueTopic("loadkill");
      const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
      const received = new Map<number, number>();
      const gaps: number[] = [];
      let reading = true;
      const reader = (async () => {
        while (reading) {
          try {
            const event = await client.nextEvent(200);
            if (event.event === "gap") gaps.push(Date.now());
            else received.set(JSON.parse(event.data!).seq, Date.now());
          } catch {
            if (client.ended) return;
          }
        }
      })();
      const outcomes: { seq: number; sentAt: number; status: number }[] = [];
      const inflight: Promise<void>[] = [];
      let publishing = true;
      const publisher = (async () => {
        for (let seq = 0; publishing; seq++) {
          const outcome = { seq, sentAt: Date.now(), status: 0 };
          outcomes.push(outcome);
          inflight.push(publish(server.url, topic, { seq }).then((r) => void (outcome.status = r.status)));
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      try {
        await new Promise((r) => setTimeout(r, 300));
        await killListenerForGood(admin, url);
        await waitFor(() => !server.service.health().totals.listen_connected, 5_000, "LISTEN down");
        const downSeen = Date.now();
        await new Promise((r) => setTimeout(r, 300));
        const restoring = Date.now();
        await admin.unsafe(`alter database ${new URL(url).pathname.slice(1)} allow_connections true`);
        await waitFor(() => server.service.health().status === "ok", 5_000, "LISTEN back");
        await new Promise((r) => setTimeout(r, 300));
        publishing = false;
        await publisher;
        await Promise.all(inflight);
        const last = await publish(server.url, topic, { seq: -1 });
        await waitFor(() => received.has(-1), 5_000, "the last event");

        const statuses = new Set(outcomes.map((o) => o.status));
        assert.ok([...statuses].every((s) => s === 200 || s === 503), `statuses ${[...statuses]}`);
        assert.equal(last.status, 200);
        const whileDown = outcomes.filter((o) => o.sentAt >= downSeen && o.sentAt < restoring);
        assert.ok(whileDown.length > 50, `${whileDown.length} POSTs while LISTEN was down`);
        assert.deepEqual(
          whileDown.filter((o) => o.status !== 503).map((o) => o.seq),
          [],
          "every POST sent while LISTEN was down was refused",
        );
        for (const o of outcomes) {
          if (o.status === 503) assert.ok(!received.has(o.seq), `event ${o.seq} delivered though refused`);
          if (o.status === 200 && !received.has(o.seq)) {
            assert.ok(gaps.some((at) => at > o.sentAt), `event ${o.seq} accepted, lost, and no gap after it`);
          }
        }
        assert.ok(gaps.length >= 1, "subscribers got a gap");
      } finally {
        publishing = false;
        reading = false;
        await publisher;
        await Promise.allSettled(inflight);
        await reader;
        await client.close();
        await server.shutdown();
      }
    });
  },
});

Deno.test({
  name:
    "queue usage is polled into health; alterSystemMaxNotifyMB is applied on PostgreSQL 17+ or skipped with the reason",
  ...dbTest,
  async fn() {
    const lines: string[] = [];
    const logger = {
      info: (m: string) => lines.push(m),
      warn: (m: string) => lines.push(m),
      error: (m: string) => lines.push(m),
    };
    const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    const [{ version }] = await admin`select current_setting('server_version_num')::int as version`;
    const server = await startServer({
      databaseUrl: databaseUrl(),
      alterSystemMaxNotifyMB: 64,
      queuePollInterval: 100,
      logger,
    });
    try {
      await waitFor(() => typeof server.service.health().totals.queue_usage === "number", 3_000, "a queue poll");
      // The queue is the whole server's: other databases' NOTIFY traffic makes it nonzero.
      const usage = server.service.health().totals.queue_usage!;
      assert.ok(usage >= 0 && usage <= 1, `queue_usage ${usage}`);
      const metric = (await (await fetch(`${server.url}/metrics`)).text()).match(/^ssepg_notify_queue_usage (\S+)$/m);
      assert.ok(metric, "ssepg_notify_queue_usage is exported");
      assert.ok(Number(metric[1]) >= 0 && Number(metric[1]) <= 1, metric[0]);
      if (version >= 170000) {
        assert.ok(
          lines.some((l) => /max_notify_queue_pages .*takes effect after a PostgreSQL restart/.test(l)),
          lines.join("\n"),
        );
        const [row] =
          await admin`select setting from pg_file_settings where name = 'max_notify_queue_pages' and applied is not null`;
        assert.equal(row?.setting, String(64 * 128));
      } else {
        assert.ok(lines.some((l) => /alterSystemMaxNotifyMB skipped: .*PostgreSQL 17\+/.test(l)), lines.join("\n"));
      }
    } finally {
      if (version >= 170000) await admin.unsafe("alter system reset max_notify_queue_pages");
      await admin.end();
      await server.shutdown();
    }
  },
});
