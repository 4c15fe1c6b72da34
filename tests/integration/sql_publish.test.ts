/**
 * Publishing from SQL, end to end: the script installed with `ssepg sql --apply` in a database
 * of the test's own, events published by a trigger and inside transactions, and ssepg servers
 * (two in-process instances, then one process per runtime) as black boxes delivering them over
 * HTTP.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { dbTest, ownDatabase, publish, startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { type SseBlock, SseClient } from "../helpers/sse_client.ts";
import { channelFor, encodeEnvelope } from "../../src/bus/envelope.ts";
import { installScript } from "../../src/sql/install_script.ts";
import { root, runtimesUnderTest, serverCommand, type ServerProcess, startProcess } from "../../scripts/processes.ts";

type Sql = ReturnType<typeof postgres>;

const decoder = new TextDecoder();
const ID = /^[0-9a-z]{8}-[0-9a-z]{6}-[0-9a-z]+$/;

/** Runs `deno run -A mod.ts <args>` with `env` and returns its exit code and output. */
async function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}mod.ts`, ...args],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Opens a stream and waits until the server says it is listening, so nothing is missed. */
async function subscribe(base: string, topic: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const client = await SseClient.open(`${base}/topics/${topic}/events`, { headers });
  for (;;) {
    const block = await client.next();
    if (block.comments.includes(`listening ${topic}`)) return client;
    if (block.data !== undefined) throw new Error(`An event before the listening comment: ${JSON.stringify(block)}`);
  }
}

/** One statement's single value. */
async function value<T>(sql: Sql, query: string, params: (string | number)[] = []): Promise<T> {
  const [row] = await sql.unsafe(query, params);
  return Object.values(row)[0] as T;
}

/** The events of `count` SSE blocks, as id and data. */
async function received(client: SseClient, count: number): Promise<{ id?: string; event?: string; data?: string }[]> {
  return (await client.events(count)).map(({ id, event, data }: SseBlock) => ({ id, event, data }));
}

Deno.test({
  name: "publishing from SQL: ssepg sql --apply, a trigger, transactions and two instances as black boxes",
  ...dbTest,
  async fn(t) {
    const db = await ownDatabase();
    const sql = postgres(db.url, { max: 4, onnotice: () => {} });
    const clients: SseClient[] = [];
    let servers: Awaited<ReturnType<typeof startServer>>[] = [];
    let customer42: SseClient[] = [];
    try {
      await t.step("ssepg sql prints the script; --apply installs it, again and again", async () => {
        const printed = await cli(["sql"], { DATABASE_URL: db.url });
        assert.equal(printed.code, 0, printed.stderr);
        assert.equal(printed.stdout, `${installScript({ notifyShards: 8 })}\n`);

        const missing = await cli(["sql", "--apply"], { DATABASE_URL: "" });
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /--database-url or DATABASE_URL/);

        for (const shards of ["8", "4", "8"]) {
          const applied = await cli(["sql", "--apply"], { DATABASE_URL: db.url, SSEPG_NOTIFY_SHARDS: shards });
          assert.equal(applied.code, 0, applied.stderr);
          assert.equal(
            applied.stderr.trim(),
            `ssepg: installed the ssepg schema (publish, notify_shards) for ${shards} shards and events up to 1048576 bytes in ${db.url}`,
          );
          assert.equal(await value(sql, "select ssepg.notify_shards()"), Number(shards));
        }
        // --apply is one transaction: a script that fails on its last function changes nothing.
        await sql.unsafe(`
          drop function ssepg.publish(text, text);
          create function ssepg.publish(topic text, data text) returns int language sql as 'select 1';`);
        const failed = await cli(["sql", "--apply", "--notify-shards", "4"], { DATABASE_URL: db.url });
        assert.equal(failed.code, 1);
        assert.match(failed.stderr, /^ssepg: cannot install the ssepg schema in .*: cannot change return type/);
        assert.equal(await value(sql, "select ssepg.notify_shards()"), 8);
        await sql.unsafe("drop function ssepg.publish(text, text)");
        // The printed script, run twice by a migration tool outside any transaction, is idempotent too.
        await sql.unsafe(printed.stdout);
        await sql.unsafe(printed.stdout);
        // Functions only: no table, sequence or view to migrate or vacuum.
        assert.equal(
          await value(sql, "select count(*)::int from pg_class where relnamespace = 'ssepg'::regnamespace"),
          0,
        );
        const functions = await sql`
          select p.oid::regprocedure::text as signature from pg_proc p
          where p.pronamespace = 'ssepg'::regnamespace order by 1`;
        assert.deepEqual(functions.map((r) => r.signature), [
          "ssepg.base36(bigint)",
          "ssepg.channel(text)",
          "ssepg.fnv1a32(text)",
          "ssepg.max_event_bytes()",
          "ssepg.normalize_topic(text)",
          "ssepg.notify_shards()",
          "ssepg.publish(text,json)",
          "ssepg.publish(text,jsonb)",
          "ssepg.publish(text,text)",
        ]);
        // A password never reaches the output.
        const withPassword = new URL(db.url);
        withPassword.password = "s3cret";
        const refused = await cli(["sql", "--apply", "--database-url", withPassword.href], {});
        assert.ok(!refused.stderr.includes("s3cret"), refused.stderr);
      });

      servers = await Promise.all([startServer({ databaseUrl: db.url }), startServer({ databaseUrl: db.url })]);
      const [a, b] = servers;

      await t.step(
        "a trigger publishes each new order to its customer's topic; both instances deliver it",
        async () => {
          await sql.unsafe(`
          create table orders (
            id bigint generated always as identity primary key,
            customer_id int not null,
            total numeric(12, 2) not null,
            note text
          );
          create function orders_publish() returns trigger language plpgsql as $$
          begin
            perform ssepg.publish('customer-' || new.customer_id, to_jsonb(new));
            return new;
          end
          $$;
          create trigger orders_publish after insert on orders
            for each row execute function orders_publish();
        `);
          const streams = customer42 = [await subscribe(a.url, "customer-42"), await subscribe(b.url, "customer-42")];
          const other = await subscribe(b.url, "customer-7");
          clients.push(...streams, other);
          await sql`insert into orders (customer_id, total, note) values (42, 19.90, ${'first, "quoted"'})`;
          await sql`insert into orders (customer_id, total) values (7, 5), (42, 1234567890.12), (42, 0.5)`;
          const [onA, onB] = await Promise.all(streams.map((c) => received(c, 3)));
          assert.deepEqual(onA, onB, "the same ids and data on both instances");
          // jsonb's own key order (shorter keys first); compact, numbers as PostgreSQL wrote them.
          assert.deepEqual(onA.map((e) => e.data), [
            '{"id":1,"note":"first, \\"quoted\\"","total":19.90,"customer_id":42}',
            '{"id":3,"note":null,"total":1234567890.12,"customer_id":42}',
            '{"id":4,"note":null,"total":0.50,"customer_id":42}',
          ]);
          for (const event of onA) {
            assert.match(event.id!, ID);
            assert.equal(event.event, "message");
          }
          assert.equal(new Set(onA.map((e) => e.id)).size, 3);
          assert.deepEqual((await received(other, 1)).map((e) => e.data), [
            '{"id":2,"note":null,"total":5.00,"customer_id":7}',
          ]);
        },
      );

      await t.step("a rollback delivers nothing; a savepoint rollback delivers only what it did not undo", async () => {
        const topic = uniqueTopic("tx");
        const streams = [await subscribe(a.url, topic), await subscribe(b.url, topic)];
        clients.push(...streams);
        await sql.begin(async (tx) => {
          await tx`select ssepg.publish(${topic}, '"rolled back"')`;
          await tx`insert into orders (customer_id, total) values (42, 1)`;
          throw new Error("roll back");
        }).catch((error) => assert.equal(error.message, "roll back"));
        const kept = await sql.begin(async (tx) => {
          const ids: string[] = [];
          ids.push((await tx`select ssepg.publish(${topic}, '"before the savepoint"') as id`)[0].id);
          await tx.savepoint(async (sp) => {
            await sp`select ssepg.publish(${topic}, '"undone"')`;
            throw new Error("undo");
          }).catch((error) => assert.equal(error.message, "undo"));
          ids.push((await tx`select ssepg.publish(${topic}, '"after the savepoint"') as id`)[0].id);
          return ids;
        });
        const [committed] = await sql`select ssepg.publish(${topic}, '"committed later"') as id`;
        for (const client of streams) {
          // Had anything undone been sent, it would come before these (NOTIFY order is commit order).
          assert.deepEqual(await received(client, 3), [
            { id: kept[0], event: "message", data: '"before the savepoint"' },
            { id: kept[1], event: "message", data: '"after the savepoint"' },
            { id: committed.id, event: "message", data: '"committed later"' },
          ]);
        }
        // The rolled-back order published nothing to customer-42 either.
        await sql`insert into orders (customer_id, total) values (42, 2)`;
        for (const client of customer42) assert.equal(JSON.parse((await received(client, 1))[0].data!).total, 2);
      });

      await t.step(
        "100 publishes in one transaction arrive in order on both instances, identical ones too",
        async () => {
          const topic = uniqueTopic("many");
          const streams = [await subscribe(a.url, topic), await subscribe(b.url, topic)];
          clients.push(...streams);
          const ids = await sql.begin(async (tx) => {
            const out: string[] = [];
            for (let n = 0; n < 100; n++) {
              out.push((await tx`select ssepg.publish(${topic}, ${`{"n":${n}}`}::text) as id`)[0].id);
            }
            // PostgreSQL folds identical notifications of one transaction into one: the ids keep
            // these apart.
            for (let n = 0; n < 20; n++) out.push((await tx`select ssepg.publish(${topic}, '"same"') as id`)[0].id);
            return out;
          });
          assert.equal(new Set(ids).size, 120);
          const expected = ids.map((id, n) => ({ id, event: "message", data: n < 100 ? `{"n":${n}}` : '"same"' }));
          for (const client of streams) assert.deepEqual(await received(client, 120), expected);
        },
      );

      await t.step("SQL and HTTP publishes to one topic arrive in one order on both instances", async () => {
        const topic = uniqueTopic("mixed");
        const streams = [await subscribe(a.url, topic), await subscribe(b.url, topic)];
        clients.push(...streams);
        const sent = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
          if (i % 2 === 0) return (await publish((i % 4 ? a : b).url, topic, { i })).body.id as string;
          return (await sql`select ssepg.publish(${topic}, ${`{"i":${i}}`}::text) as id`)[0].id as string;
        }));
        const [onA, onB] = await Promise.all(streams.map((c) => received(c, 40)));
        assert.deepEqual(onA, onB);
        assert.deepEqual(new Set(onA.map((e) => e.id)), new Set(sent));
      });

      await t.step("an invalid topic or null data raises 22023 and aborts the transaction", async () => {
        const topic = uniqueTopic("bad");
        const stream = await subscribe(a.url, topic);
        clients.push(stream);
        for (const [badTopic, data] of [["a b", '"x"'], [topic, null], [topic, "null"]] as const) {
          const error = await sql.begin(async (tx) => {
            await tx`select ssepg.publish(${topic}, '"lost with the transaction"')`;
            await tx`select ssepg.publish(${badTopic}, ${data}::text)`;
          }).then(() => undefined, (e) => e as { code: string; message: string });
          assert.equal(error?.code, "22023");
          assert.match(error!.message, badTopic === "a b" ? /topic ids must match .*"a b"/ : /data must not be null/);
        }
        const [ok] = await sql`select ssepg.publish(${topic.toUpperCase()}, '"ok"') as id`;
        assert.deepEqual(await received(stream, 1), [{ id: ok.id, event: "message", data: '"ok"' }]);
      });

      await t.step("the id ssepg.publish() returns resumes with Last-Event-ID on either instance", async () => {
        const topic = uniqueTopic("resume");
        const watchers = [await subscribe(a.url, topic), await subscribe(b.url, topic)];
        clients.push(...watchers);
        const ids: string[] = [];
        for (let n = 1; n <= 3; n++) ids.push((await sql`select ssepg.publish(${topic}, ${n}::text) as id`)[0].id);
        // Both instances hold all three before anyone resumes.
        for (const watcher of watchers) await watcher.events(3);
        for (const server of [a, b]) {
          const resumed = await SseClient.open(`${server.url}/topics/${topic}/events`, {
            headers: { "Last-Event-ID": ids[0] },
          });
          clients.push(resumed);
          assert.deepEqual(await received(resumed, 2), [
            { id: ids[1], event: "message", data: "2" },
            { id: ids[2], event: "message", data: "3" },
          ]);
        }
      });

      await t.step("a plain LISTEN client gets the payload the servers expect", async () => {
        const topic = uniqueTopic("listen");
        const payloads: string[] = [];
        const listener = await sql.listen(channelFor(topic, 8), (payload) => payloads.push(payload));
        const stream = await subscribe(b.url, topic);
        clients.push(stream);
        const [row] = await sql`select ssepg.publish(${topic}, ${'{ "msg" : "hi",  "n": [1, 2] }'}::text) as id`;
        const [event] = await received(stream, 1);
        assert.deepEqual(event, { id: row.id, event: "message", data: '{"msg":"hi","n":[1,2]}' });
        // The LISTEN client's own connection may get it a moment after the server's.
        await waitFor(() => payloads.length > 0, 5_000, "the notification on the plain LISTEN connection");
        assert.deepEqual(payloads, [encodeEnvelope({ topic, data: '{"msg":"hi","n":[1,2]}', id: row.id })]);
        await listener.unlisten();
      });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.shutdown()));
      await sql.end();
      await db.drop();
    }
  },
});

Deno.test({
  name: "an event published from SQL reaches a subscriber of a Deno, a Bun and a Node server process",
  ...dbTest,
  async fn() {
    const runtimes = runtimesUnderTest().filter((runtime) => {
      const command = serverCommand(runtime);
      if (Array.isArray(command)) return true;
      if (Deno.env.get("CI") === "true") throw new Error(`Cannot start a ${runtime} server: ${command.missing}`);
      console.error(`SQL publish on ${runtime}: NOT RUN (${command.missing})`);
      return false;
    });
    const db = await ownDatabase();
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    const processes: ServerProcess[] = [];
    const clients: SseClient[] = [];
    try {
      await sql.unsafe(installScript({ notifyShards: 8 }));
      processes.push(...await Promise.all(runtimes.map((r) => startProcess(r, { env: { DATABASE_URL: db.url } }))));
      const topic = uniqueTopic("runtimes");
      for (const server of processes) clients.push(await subscribe(server.url, topic));
      const [row] = await sql`select ssepg.publish(${topic}, ${'{"from":"sql"}'}::text) as id`;
      for (const [i, client] of clients.entries()) {
        assert.deepEqual(
          await received(client, 1),
          [{ id: row.id, event: "message", data: '{"from":"sql"}' }],
          processes[i].runtime,
        );
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(processes.map((p) => p.stop()));
      await sql.end();
      await db.drop();
    }
  },
});
