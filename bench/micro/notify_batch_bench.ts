/**
 * NOTIFY batching (`deno task bench:micro`): the batcher's own cost with a statement that
 * commits at once, and, when `DATABASE_URL` is set, 1000 NOTIFYs against PostgreSQL as one
 * statement (lists as JSON, as the bus sends them, or as `text[]` literals) versus one statement each.
 *
 * @module
 */

import postgres from "postgres";
import { NotifyBatcher } from "../../src/bus/postgres/notify_batcher.ts";

const payload = JSON.stringify({ topic: "bench", data: { pad: "x".repeat(200) }, id: "mwybh72n-2hrhgk-0" });

const batcher = new NotifyBatcher(() => Promise.resolve(), { maxInFlight: 2 });
Deno.bench("batcher: 1000 concurrent publishes, statement free", { group: "batcher" }, async () => {
  await Promise.all(Array.from({ length: 1000 }, () => batcher.publish("topic_broadcast_0", payload)));
});

const url = Deno.env.get("DATABASE_URL");
if (url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const channels = Array.from({ length: 1000 }, (_, i) => `bench_${i % 8}`);
  const payloads = channels.map(() => payload);
  const array = (values: string[]) => `{${values.map((v) => `"${v.replace(/[\\"]/g, "\\$&")}"`).join(",")}}`;

  // What PostgresBus sends: the lists as JSON text.
  Deno.bench(
    "postgres: 1000 NOTIFYs in one statement, lists as JSON",
    { group: "postgres", baseline: true },
    async () => {
      await sql`select pg_notify(c, p) from rows from (json_array_elements_text(${
        JSON.stringify(channels)
      }::text::json),
      json_array_elements_text(${JSON.stringify(payloads)}::text::json)) with ordinality as t(c, p, n) order by n`;
    },
  );

  // What it sent before: text[] literals built in JavaScript.
  Deno.bench("postgres: 1000 NOTIFYs in one statement, lists as text[]", { group: "postgres" }, async () => {
    await sql`select pg_notify(c, p) from unnest(${array(channels)}::text[], ${
      array(payloads)
    }::text[]) with ordinality as t(c, p, n) order by n`;
  });

  Deno.bench("postgres: 1000 NOTIFYs, one statement each (pipelined)", { group: "postgres" }, async () => {
    await Promise.all(channels.map((c) => sql`select pg_notify(${c}, ${payload})`));
  });

  globalThis.addEventListener("unload", () => void sql.end());
} else {
  console.error("notify_batch_bench: set DATABASE_URL to include the PostgreSQL figures");
}
