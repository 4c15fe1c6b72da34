/**
 * The SQL functions of `ssepg sql`, run in PostgreSQL and compared with the servers' own code:
 * FNV-1a and channels (`channelFor`), topic validation (`normalizeTopic`), the envelope
 * (`encodeEnvelope`), ids (`publishTime`), errors, and the shard check.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { databaseUrl, dbTest, ownDatabase } from "../helpers/instances.ts";
import { channelFor, decodeEnvelope, encodeEnvelope, fnv1a32 } from "../../src/bus/envelope.ts";
import { normalizeTopic } from "../../src/topic.ts";
import { publishTime } from "../../src/dispatcher/resume.ts";
import { installScript } from "../../src/sql/install_script.ts";
import { checkInstalledShards } from "../../src/sql/shard_check.ts";

type Sql = ReturnType<typeof postgres>;

/** A database of the test's own with the script installed for `shards`. */
async function installed(
  shards = 8,
  maxEventBytes?: number,
): Promise<{ url: string; sql: Sql; done: () => Promise<void> }> {
  const db = await ownDatabase();
  const sql = postgres(db.url, { max: 4, onnotice: () => {} });
  await sql.unsafe(installScript({ notifyShards: shards, maxEventBytes }));
  return {
    url: db.url,
    sql,
    done: async () => {
      await sql.end();
      await db.drop();
    },
  };
}

const TOPIC_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";

function randomTopic(): string {
  const length = 1 + Math.floor(Math.random() ** 2 * 128);
  let topic = "";
  for (let i = 0; i < length; i++) topic += TOPIC_CHARS[Math.floor(Math.random() * TOPIC_CHARS.length)];
  return topic;
}

/** The SQLSTATE and message of what `run` throws. */
async function sqlError(run: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run();
  } catch (error) {
    const e = error as { code?: string; message: string };
    return { code: String(e.code), message: e.message };
  }
  throw new Error("expected an error");
}

Deno.test({
  name: "ssepg.fnv1a32() and ssepg.channel() equal fnv1a32() and channelFor() for 200 topics",
  ...dbTest,
  async fn() {
    const db = await installed(8);
    try {
      const topics = Array.from({ length: 200 }, randomTopic);
      const rows = await db.sql`
        select t, ssepg.fnv1a32(t)::text as hash, ssepg.channel(t) as channel
        from unnest(${topics}::text[]) with ordinality as u(t, n) order by n`;
      assert.equal(rows.length, 200);
      for (const [i, row] of rows.entries()) {
        // The SQL hash takes the topic as given; the channel, like publish, the normalised one.
        assert.equal(Number(row.hash), fnv1a32(topics[i]), topics[i]);
        assert.equal(row.channel, channelFor(topics[i].toLowerCase(), 8), topics[i]);
      }
      // The hash is over UTF-8 bytes, as the servers' (and Go's) is.
      const texts = ["", "a", "foobar", "é", "日本語", "🙂 emoji", "K"];
      const hashes = await db
        .sql`select ssepg.fnv1a32(t)::text as hash from unnest(${texts}::text[]) with ordinality as u(t, n) order by n`;
      assert.deepEqual(hashes.map((r) => Number(r.hash)), texts.map(fnv1a32));
      // The largest shard count checks ten bits of every hash, not three.
      await db.sql.unsafe(installScript({ notifyShards: 1024 }));
      const wide = await db
        .sql`select ssepg.channel(t) as channel from unnest(${topics}::text[]) with ordinality as u(t, n) order by n`;
      assert.deepEqual(wide.map((r) => r.channel), topics.map((t) => channelFor(t.toLowerCase(), 1024)));
    } finally {
      await db.done();
    }
  },
});

Deno.test({
  name: "ssepg.publish() notifies channelFor(topic) with exactly the envelope the servers encode",
  ...dbTest,
  async fn() {
    const db = await installed(8);
    const received: { channel: string; payload: string }[] = [];
    try {
      for (let k = 0; k < 8; k++) {
        const channel = `topic_broadcast_${k}`;
        await db.sql.listen(channel, (payload) => received.push({ channel, payload }));
      }
      const topics = Array.from({ length: 200 }, (_, i) => `${randomTopic().slice(0, 120)}-${i}`);
      const ids = await db.sql.begin(async (tx) => {
        const out: string[] = [];
        for (const [i, topic] of topics.entries()) {
          // ::text first: postgres.js JSON-encodes a value it sends as json, so a string would become a JSON string.
          const [row] = await tx`select ssepg.publish(${topic}, ${JSON.stringify({ i })}::text::json) as id`;
          out.push(row.id);
        }
        return out;
      });
      const deadline = Date.now() + 5_000;
      while (received.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(received.length, 200);
      for (const [i, { channel, payload }] of received.entries()) {
        const topic = topics[i].toLowerCase();
        assert.equal(channel, channelFor(topic, 8));
        assert.equal(payload, encodeEnvelope({ topic, data: `{"i":${i}}`, id: ids[i] }));
      }
    } finally {
      await db.done();
    }
  },
});

Deno.test({
  name: "ssepg.publish() compacts json, jsonb and text data as the servers would deliver it",
  ...dbTest,
  async fn() {
    const db = await installed(8);
    const payloads: string[] = [];
    try {
      await db.sql.listen(channelFor("compact", 8), (payload) => payloads.push(payload));
      // [data as given, type, the compact text expected]
      const cases: [string, string, string][] = [
        [
          '{ "a" : [1, 2, {"b": "x  y \\" , z"}],\n\t"big": 12345678901234567890, "tiny": 1e-400, "bs": "a\\\\" }',
          "json",
          '{"a":[1,2,{"b":"x  y \\" , z"}],"big":12345678901234567890,"tiny":1e-400,"bs":"a\\\\"}',
        ],
        // jsonb has its own text form (keys sorted, "a": 1 with spaces); the spaces go.
        ['{"b": [1, 2], "a": {"c": "d e"}}', "jsonb", '{"a":{"c":"d e"},"b":[1,2]}'],
        // Duplicate keys and key order of json are kept, as over HTTP.
        ['{"k": 1, "k": 2}', "json", '{"k":1,"k":2}'],
        ['  "text with \\"quotes\\" and \\u00e9"  ', "text", '"text with \\"quotes\\" and \\u00e9"'],
        ["[ ]", "json", "[]"],
        ["0", "jsonb", "0"],
        ["false", "json", "false"],
      ];
      const ids: string[] = [];
      for (const [data, type] of cases) {
        const [row] = await db.sql.unsafe(`select ssepg.publish('compact', $1::text::${type}) as id`, [data]);
        ids.push(row.id);
      }
      const deadline = Date.now() + 5_000;
      while (payloads.length < cases.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(payloads.length, cases.length);
      for (const [i, [, , expected]] of cases.entries()) {
        assert.equal(payloads[i], encodeEnvelope({ topic: "compact", data: expected, id: ids[i] }));
        // What a server makes of it: the same compact data, the same id.
        assert.deepEqual(decodeEnvelope(payloads[i]), { topic: "compact", data: expected, id: ids[i] });
      }
    } finally {
      await db.done();
    }
  },
});

Deno.test({
  name: "ssepg.publish() accepts and refuses exactly the topics the servers do (22023 otherwise)",
  ...dbTest,
  async fn() {
    const db = await installed(8);
    try {
      const special = [
        "Alpha",
        "ORDERS_eu-1",
        "a b",
        "",
        "a,b",
        "a.b",
        "a/b",
        "x".repeat(128),
        "x".repeat(129),
        "X".repeat(200),
        "\u212Aelvin", // KELVIN SIGN: JavaScript lower-cases it to "k"
        "\u0130stanbul", // LATIN CAPITAL I WITH DOT: "i̇", not a topic
        "stra\u00dfe",
        "caf\u00e9",
        "tab\there",
        "new\nline",
        "emoji-🙂",
      ];
      const pool = TOPIC_CHARS + " .,/é\u212AÄ🙂";
      const random = Array.from({ length: 200 }, () => {
        const length = Math.floor(Math.random() * 12);
        return Array.from({ length }, () => [...pool][Math.floor(Math.random() * [...pool].length)]).join("");
      });
      for (const raw of [...special, ...random]) {
        const expected = normalizeTopic(raw);
        if (expected === undefined) {
          const error = await sqlError(() => db.sql`select ssepg.publish(${raw}, '1'::json)`);
          assert.equal(error.code, "22023", raw);
          const shown = raw.length > 140 ? `${raw.slice(0, 140)}...` : raw;
          assert.equal(
            error.message,
            `ssepg.publish: topic ids must match ^[a-z0-9_-]{1,128}$ after lower-casing: current value is ${
              JSON.stringify(shown)
            }`,
          );
        } else {
          const [row] = await db.sql`select ssepg.normalize_topic(${raw}) as topic`;
          assert.equal(row.topic, expected, raw);
        }
      }
    } finally {
      await db.done();
    }
  },
});

Deno.test({
  name: "ssepg.publish() refuses null data, JSON null and events over maxEventBytes with 22023",
  ...dbTest,
  async fn() {
    const db = await installed(8, 20_000);
    try {
      for (
        const call of ["null::json", "null::jsonb", "null::text", "null", "'null'::json", "'null'::jsonb", "'null'"]
      ) {
        const error = await sqlError(() => db.sql.unsafe(`select ssepg.publish('alpha', ${call})`));
        assert.equal(error.code, "22023", call);
        assert.match(error.message, /^ssepg\.publish: data must not be null/, call);
      }
      const notJson = await sqlError(() => db.sql.unsafe(`select ssepg.publish('alpha', 'not json')`));
      assert.equal(notJson.code, "22023");
      assert.match(notJson.message, /^ssepg\.publish: data must be JSON text: invalid input syntax for type json/);
      const nullTopic = await sqlError(() => db.sql.unsafe(`select ssepg.publish(null, '1')`));
      assert.deepEqual(nullTopic, { code: "22023", message: "ssepg.publish: the topic must not be null" });

      // The envelope is {"topic":"alpha","data":"xxx…","id":"<17-20 chars>"}: 38 bytes + id + data.
      const big = await sqlError(() => db.sql`select ssepg.publish('alpha', to_json(repeat('x', 19990)))`);
      assert.equal(big.code, "22023");
      assert.match(big.message, /is 200\d\d bytes as a NOTIFY envelope, over maxEventBytes \(20000 bytes\)/);
      // Multi-byte characters count as bytes, as PostgreSQL counts them.
      const wide = await sqlError(() => db.sql`select ssepg.publish('alpha', to_json(repeat('é', 9990)))`);
      assert.equal(wide.code, "22023");
      // Over one NOTIFY but within maxEventBytes: sent as fragments (see sql_large_events.test.ts).
      const [fits] = await db.sql`select ssepg.publish('alpha', to_json(repeat('x', 19900))) as id`;
      assert.equal(typeof fits.id, "string");
    } finally {
      await db.done();
    }
  },
});

Deno.test({
  name: "ids have the servers' shape and publish time, count up in a transaction, and differ across sessions",
  ...dbTest,
  async fn() {
    const db = await installed(8);
    try {
      const before = Date.now();
      const ids = await db.sql.begin(async (tx) => {
        const out: string[] = [];
        for (let i = 0; i < 40; i++) out.push((await tx`select ssepg.publish('ids', ${i}::text) as id`)[0].id);
        return out;
      });
      const after = Date.now();
      const shape = /^([0-9a-z]{8})-([0-9a-z]{6})-([0-9a-z]+)$/;
      for (const [i, id] of ids.entries()) {
        const [, ms, tag, counter] = shape.exec(id) ?? assert.fail(id);
        assert.equal(tag, shape.exec(ids[0])![2], "one tag per transaction");
        assert.equal(parseInt(counter, 36), i, "the counter keeps the publish order");
        // The dispatcher reads the publish time back from the id (latency, resume waits).
        assert.equal(publishTime(id), parseInt(ms, 36));
        assert.ok(publishTime(id)! >= before - 1_000 && publishTime(id)! <= after + 1_000, id);
      }
      // Concurrent sessions, each in its own transactions: no id is given twice.
      const sessions = await Promise.all(Array.from({ length: 4 }, () =>
        db.sql.begin(async (tx) => {
          const out: string[] = [];
          for (let i = 0; i < 100; i++) out.push((await tx`select ssepg.publish('ids', '1') as id`)[0].id);
          return out;
        })));
      const all = sessions.flat();
      assert.equal(new Set(all).size, all.length);
      assert.equal(new Set(sessions.map((s) => s[0].split("-")[1])).size, 4, "one tag per transaction");
      // Autocommit statements are transactions of their own: a new tag each, counter 0.
      const single = await Promise.all(
        Array.from({ length: 50 }, async () => (await db.sql`select ssepg.publish('ids', '1') as id`)[0].id as string),
      );
      assert.equal(new Set(single).size, 50);
      assert.ok(single.every((id) => id.endsWith("-0")));
    } finally {
      await db.done();
    }
  },
});

Deno.test({
  name: "checkInstalledShards(): nothing without the schema or when equal, a warning on a mismatch",
  ...dbTest,
  async fn() {
    const db = await ownDatabase();
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      assert.equal(await checkInstalledShards(sql, 8), undefined, "no schema");
      await sql.unsafe("create schema ssepg");
      assert.equal(await checkInstalledShards(sql, 8), undefined, "a schema without the function");
      await sql.unsafe(installScript({ notifyShards: 8 }));
      assert.equal(await checkInstalledShards(sql, 8), undefined);

      const fewer = await checkInstalledShards(sql, 16);
      assert.match(fewer!, /^ssepg: ⚠️ {2}ssepg\.publish\(\) in this database hashes topics over 8 NOTIFY shards/);
      assert.match(fewer!, /notifyShards is 16: events published from SQL still reach this instance/);
      assert.match(fewer!, /ssepg sql --apply --notify-shards 16/);

      const more = await checkInstalledShards(sql, 4);
      assert.match(more!, /over 8 NOTIFY shards but notifyShards is 4/);
      assert.match(more!, /topic_broadcast_4…7 reach no instance that uses 4/);
      assert.match(more!, /or set notifyShards to 8 on every instance/);
      assert.equal(more!.split("\n").length, 1, "one line");

      // A function of that name that fails is reported, not thrown.
      await sql.unsafe(`create or replace function ssepg.notify_shards() returns integer language sql as 'select 1/0'`);
      assert.match((await checkInstalledShards(sql, 8))!, /cannot read ssepg\.notify_shards\(\).*division by zero/);
    } finally {
      await sql.end();
      await db.drop();
    }
    // A database that cannot be reached is the caller's error.
    const gone = postgres("postgres://postgres@127.0.0.1:1/none", { max: 1, connect_timeout: 2 });
    await assert.rejects(() => checkInstalledShards(gone, 8));
    await gone.end();
  },
});

Deno.test({
  name: "the script installs and publishes in a LATIN1 database too",
  ...dbTest,
  async fn() {
    const base = new URL(databaseUrl());
    const name = `ssepg_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const admin = postgres(base.href, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name} encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0`);
    const url = new URL(base.href);
    url.pathname = `/${name}`;
    const sql = postgres(url.href, { max: 2, onnotice: () => {} });
    try {
      await sql.unsafe(installScript({ notifyShards: 8 }));
      const payloads: string[] = [];
      await sql.listen(channelFor("latin", 8), (payload) => payloads.push(payload));
      const [row] =
        await sql`select ssepg.publish('Latin', ${'{"a": "é ü"}'}::text) as id, ssepg.fnv1a32('é')::text as hash`;
      assert.equal(Number(row.hash), fnv1a32("é"), "hashed as UTF-8 whatever the database's encoding");
      const deadline = Date.now() + 5_000;
      while (payloads.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(payloads, [encodeEnvelope({ topic: "latin", data: '{"a":"é ü"}', id: row.id })]);
      const error = await sqlError(() => sql`select ssepg.publish('a b', '1')`);
      assert.equal(error.code, "22023");
    } finally {
      await sql.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  },
});
