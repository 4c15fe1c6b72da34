/**
 * Conformance cases for events larger than one NOTIFY (`maxEventBytes`): sent as fragments in
 * one transaction and rebuilt by every instance, over HTTP and from SQL, plain and gzip. They run
 * on a database of their own with the SQL functions installed, on two fresh servers of the
 * runtime under test.
 *
 * @module
 */

import { workerHealth } from "../helpers/worker_health.ts";
import assert from "node:assert/strict";
import postgres from "postgres";
import { ownDatabase, uniqueTopic } from "../helpers/instances.ts";
import { parseBlock, SseClient } from "../helpers/sse_client.ts";
import { GzipSseClient } from "../helpers/gzip_client.ts";
import { installScript } from "../../src/sql/install_script.ts";
import { type Runtime, type ServerProcess, startProcess } from "../../scripts/processes.ts";
import type { Case, Target } from "./suite.ts";

const KIB = 1024;

/** Text of `bytes` UTF-8 bytes mixing 1-, 2-, 3- and 4-byte characters, so cuts fall inside them. */
function mixedText(bytes: number, seed: number): string {
  const alphabet = ["a", "é", "€", "😀", '"', "\\", "z"];
  // Bytes each takes in the JSON envelope: a quote and a backslash are escaped.
  const sizes = [1, 2, 3, 4, 2, 2, 1];
  let out = "";
  let size = 0;
  for (let i = seed; size < bytes - 4; i++) {
    const k = (i * 7 + (i >> 3)) % alphabet.length;
    out += alphabet[k];
    size += sizes[k];
  }
  return out;
}

/** A payload whose envelope is close to `bytes`, checkable on arrival. */
function largeData(label: string, bytes: number, seed: number): { label: string; text: string } {
  return { label, text: mixedText(bytes - 200, seed) };
}

async function postTo(base: string, topic: string, data: unknown): Promise<string> {
  const response = await fetch(`${base}/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ data }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body).slice(0, 300));
  return body.id;
}

/** Two servers of the target's runtime on a database of their own, with the SQL functions installed. */
async function pair(t: Target, extra: Record<string, string> = {}) {
  const db = await ownDatabase();
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  await sql.unsafe(installScript({ notifyShards: 8 }));
  const env = {
    DATABASE_URL: db.url,
    ...t.serverEnv,
    ...extra,
  };
  const servers: ServerProcess[] = await Promise.all([
    startProcess(t.runtime as Runtime, { env }),
    startProcess(t.runtime as Runtime, { env }),
  ]);
  return {
    a: servers[0],
    b: servers[1],
    url: db.url,
    sql,
    async close() {
      await Promise.all(servers.map((s) => s.stop("SIGTERM")));
      await sql.end();
      await db.drop();
    },
  };
}

/** The events in a gzip client's text so far. */
function gzipEvents(text: string) {
  return text.split("\n\n").filter((b) => b.includes("data:")).map(parseBlock);
}

/** The cases, run after the main suite. */
export const largeEventCases: Case[] = [
  {
    name:
      "256 KiB and 1 MiB events (HTTP and SQL) arrive whole on both instances, gzip too, in one order with small ones",
    async fn(t) {
      const p = await pair(t);
      const topic = uniqueTopic("large");
      const plainA = await SseClient.open(`${p.a.url}/topics/${topic}/events`);
      const plainB = await SseClient.open(`${p.b.url}/topics/${topic}/events`);
      const gzipB = await GzipSseClient.open(`${p.b.url}/topics/${topic}/events`);
      try {
        await gzipB.waitForText(`: listening ${topic}`);
        // Interleaved, from both instances at once: large and small share statements and the
        // fragments of one event must stay together and in place.
        const sent = [
          { base: p.a.url, data: { n: 0 } },
          { base: p.b.url, data: largeData("256k", 256 * KIB, 1) },
          { base: p.a.url, data: { n: 1 } },
          { base: p.a.url, data: largeData("1m", 1000 * KIB, 2) },
          { base: p.b.url, data: { n: 2 } },
          { base: p.a.url, data: largeData("256k-b", 256 * KIB, 3) },
          { base: p.b.url, data: { n: 3 } },
        ];
        const ids = await Promise.all(sent.map((s) => postTo(s.base, topic, s.data)));
        // From SQL: a rolled-back large event is never delivered, not even in part.
        await p.sql.begin(async (tx) => {
          await tx`select ssepg.publish(${topic}, to_json(repeat('r', 100000)))`;
          throw new Error("roll back");
        }).catch((error) => assert.equal(error.message, "roll back"));
        // In one transaction: small, large, small keep their order.
        const sqlLarge = largeData("sql", 300 * KIB, 4);
        const sqlIds = await p.sql.begin(async (tx) => {
          const out: string[] = [];
          for (const data of [{ n: "sql-0" }, sqlLarge, { n: "sql-1" }]) {
            const [row] = await tx`select ssepg.publish(${topic}, ${JSON.stringify(data)}::text::json) as id`;
            out.push(row.id);
          }
          return out;
        });
        const expected = new Map<string, unknown>();
        sent.forEach((s, i) => expected.set(ids[i], s.data));
        [{ n: "sql-0" }, sqlLarge, { n: "sql-1" }].forEach((d, i) => expected.set(sqlIds[i], d));
        const total = expected.size;
        const [onA, onB] = await Promise.all([plainA.events(total, 20_000), plainB.events(total, 20_000)]);
        const order = onA.map((e) => e.id);
        assert.deepEqual(onB.map((e) => e.id), order, "the same order on both instances");
        assert.deepEqual(new Set(order), new Set(expected.keys()), "every event once");
        assert.deepEqual(order.slice(-3), sqlIds, "the transaction's events together, in order");
        for (const event of [...onA, ...onB]) {
          assert.deepEqual(JSON.parse(event.data!), expected.get(event.id!), `event ${event.id} arrives whole`);
        }
        const deadline = Date.now() + 20_000;
        while (gzipEvents(gzipB.text).length < total && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        const zipped = gzipEvents(gzipB.text);
        assert.equal(gzipB.error, undefined);
        assert.deepEqual(zipped.map((e) => e.id), order, "gzip stream: same events, same order");
        for (const event of zipped) assert.deepEqual(JSON.parse(event.data!), expected.get(event.id!));
        const health = (await workerHealth(p.a.url, { workers: t.workers })).body;
        assert.equal(health.totals.fragmented_events_sent, 2, "A sent its two large events as fragments");
        assert.ok(health.totals.fragments_sent >= 2 * 34, `fragments: ${health.totals.fragments_sent}`);
        // Every worker listens, so every worker rebuilds every event.
        assert.equal(health.totals.fragmented_events_received, 4 * t.workers, "and rebuilt all four, SQL's included");
        assert.equal(health.totals.fragment_sets_discarded, 0);
        assert.equal(health.totals.fragment_held_bytes, 0);
      } finally {
        await plainA.close();
        await plainB.close();
        await gzipB.close();
        await p.close();
      }
    },
  },
  {
    name: "over maxEventBytes: 413 naming both sizes, nothing delivered; maxBodyBytes follows maxEventBytes",
    async fn(t) {
      const p = await pair(t, { SSEPG_MAX_EVENT_BYTES: "20000" });
      const topic = uniqueTopic("toolarge");
      const client = await SseClient.open(`${p.b.url}/topics/${topic}/events`);
      try {
        const post = (body: string) =>
          fetch(`${p.a.url}/topics/${topic}/events`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
        const envelope = await post(JSON.stringify({ data: "x".repeat(19_950) }));
        assert.equal(envelope.status, 413);
        assert.equal(envelope.headers.get("content-type"), "application/problem+json");
        assert.match(
          (await envelope.json()).detail,
          /^The event is 200\d\d bytes as a NOTIFY envelope, over maxEventBytes \(20000 bytes\)$/,
        );
        const body = await post(JSON.stringify({ data: "x".repeat(30_000) }));
        assert.equal(body.status, 413);
        assert.match((await body.json()).detail, /over maxBodyBytes \(20000 bytes\)/);
        // Under the limit, over one NOTIFY: delivered.
        const id = await postTo(p.a.url, topic, "y".repeat(15_000));
        const event = await client.nextEvent(10_000);
        assert.equal(event.id, id);
        assert.equal(JSON.parse(event.data!), "y".repeat(15_000));
      } finally {
        await client.close();
        await p.close();
      }
    },
  },
  {
    name: "a plain LISTEN on every topic_broadcast_{k} channel (what Go instances hear) never sees a fragment",
    async fn(t) {
      const p = await pair(t);
      const listener = postgres(p.url, { max: 1, onnotice: () => {} });
      const heard: string[] = [];
      const topic = uniqueTopic("golisten");
      try {
        for (let k = 0; k < 8; k++) await listener.listen(`topic_broadcast_${k}`, (payload) => heard.push(payload));
        const client = await SseClient.open(`${p.b.url}/topics/${topic}/events`);
        try {
          const small = await postTo(p.a.url, topic, { small: true });
          const large = await postTo(p.a.url, topic, "z".repeat(100_000));
          const [sqlLarge] = await p.sql`select ssepg.publish(${topic}, to_json(repeat('q', 50000))) as id`;
          const events = await client.events(3, 10_000);
          assert.deepEqual(events.map((e) => e.id), [small, large, sqlLarge.id]);
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(heard.length, 1, `only the small event: ${heard.map((h) => h.slice(0, 80)).join(" | ")}`);
          assert.equal(JSON.parse(heard[0]).id, small);
        } finally {
          await client.close();
        }
      } finally {
        await listener.end();
        await p.close();
      }
    },
  },
  {
    name: "a fragment set that never completes is dropped: its topic's subscribers get a gap, other topics nothing",
    async fn(t) {
      const p = await pair(t);
      const topic = uniqueTopic("broken");
      const other = uniqueTopic("bystander");
      const client = await SseClient.open(`${p.b.url}/topics/${topic}/events`);
      const bystander = await SseClient.open(`${p.b.url}/topics/${other}/events`);
      try {
        await client.next();
        await client.next();
        // Two of three fragments, then the transaction ends: the third will never come.
        await p.sql.begin(async (tx) => {
          await tx`select pg_notify('ssepg_fragments', ${`fake-id 0 3 ${topic}\n{"topic":"${topic}","data":"`})`;
          await tx`select pg_notify('ssepg_fragments', ${`fake-id 1 3 ${topic}\nxxxx`})`;
        });
        const after = await postTo(p.a.url, topic, { after: true });
        const gap = await client.nextEvent(5_000);
        assert.equal(gap.event, "gap");
        const next = await client.nextEvent(5_000);
        assert.equal(next.id, after);
        assert.deepEqual(JSON.parse(next.data!), { after: true });
        await bystander.expectNoEvent(300);
        const health = (await workerHealth(p.b.url, { workers: t.workers })).body;
        assert.equal(health.totals.fragment_sets_discarded, t.workers);
        assert.equal(health.totals.fragment_held_bytes, 0);
        assert.match(
          p.b.stderr(),
          /dropped a large event: event fake-id was interrupted with 1 of its fragments missing/,
        );
      } finally {
        await client.close();
        await bystander.close();
        await p.close();
      }
    },
  },
  {
    name: "killing the LISTEN backend while large events flow gives a gap and never a corrupt event",
    async fn(t) {
      const p = await pair(t);
      const topic = uniqueTopic("killed");
      const client = await SseClient.open(`${p.b.url}/topics/${topic}/events`);
      const size = 120 * KIB;
      try {
        await client.next();
        await client.next();
        let stop = false;
        let posted = 0;
        const publisher = (async () => {
          for (let i = 0; !stop; i++) {
            const response = await fetch(`${p.a.url}/topics/${topic}/events`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ data: { i, text: mixedText(size, i) } }),
            });
            await response.body?.cancel();
            if (response.status === 200) posted++;
            else await new Promise((r) => setTimeout(r, 50));
          }
        })();
        // Every event that arrives must be whole: its text is what its i makes.
        const received: number[] = [];
        let gaps = 0;
        const check = (block: { event?: string; data?: string }) => {
          if (block.event === "gap") {
            gaps++;
            return;
          }
          const data = JSON.parse(block.data!);
          assert.equal(data.text, mixedText(size, data.i), `event ${data.i} is whole`);
          received.push(data.i);
        };
        while (received.length < 5) check(await client.nextEvent(10_000));
        const killed = await p.sql`
          select pg_terminate_backend(pid) as ok from pg_stat_activity
          where datname = current_database() and application_name = 'ssepg-listen'`;
        assert.equal(killed.length, 2 * t.workers, "every instance's (every worker's) LISTEN backend");
        const deadline = Date.now() + 15_000;
        while ((gaps === 0 || received.length < 15) && Date.now() < deadline) check(await client.nextEvent(10_000));
        stop = true;
        await publisher;
        assert.ok(gaps >= 1, "the subscriber was told it may have missed events");
        assert.ok(received.length >= 15, `events flow again after the reconnect (${received.length} of ${posted})`);
        for (let k = 1; k < received.length; k++) assert.ok(received[k] > received[k - 1], "in publish order");
      } finally {
        await client.close();
        await p.close();
      }
    },
  },
];
