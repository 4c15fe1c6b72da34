import assert from "node:assert/strict";
import postgres from "postgres";
import { databaseUrl, dbTest, publish, startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";

/** A throwaway database whose connections can be refused, to provoke an outage for one test. */
async function withOwnDatabase(fn: (url: string, admin: postgres.Sql) => Promise<void>): Promise<void> {
  const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
  const name = `ssepg_outage_${crypto.randomUUID().slice(0, 8)}`;
  await admin.unsafe(`create database ${name}`);
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  try {
    await fn(url.toString(), admin);
  } finally {
    await admin.unsafe(`alter database ${name} allow_connections true`).catch(() => {});
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
  }
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
    const url = databaseUrl();
    const server = await startServer({ databaseUrl: url });
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    const topic = uniqueTopic("kill");
    const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
    try {
      await client.next();
      const attempts = server.service.health().totals.reconnect_attempts;
      const [{ ok }] = await admin`select pg_terminate_backend(pid) as ok from pg_stat_activity
        where application_name = 'ssepg-listen' order by backend_start desc limit 1`;
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
    }
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
      assert.equal(server.service.health().totals.queue_usage, 0);
      assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^ssepg_notify_queue_usage 0$/m);
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
