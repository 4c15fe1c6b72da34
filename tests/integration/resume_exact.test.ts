import assert from "node:assert/strict";
import { databaseUrl, dbTest, publish, startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";
import { createSsepg } from "../../src/service/create.ts";
import { silentLogger } from "../../src/log.ts";

function url(): string {
  return Deno.env.get("DATABASE_URL") ? databaseUrl() : "postgres://postgres@127.0.0.1:5432/test";
}

Deno.test({
  name: "a multi-topic resume over HTTP starts with event: gap when another topic's ring wrapped after the id",
  ...dbTest,
  async fn() {
    const server = await startServer({ databaseUrl: url(), ringCapacity: 16, clientBuffer: 16 });
    const a = uniqueTopic("ra");
    const b = uniqueTopic("rb");
    try {
      // Watching both makes sure every event has arrived before the resume.
      const watcher = await SseClient.open(`${server.url}/topics/${a},${b}/events`);
      await watcher.next();
      const x = (await publish(server.url, a, "x")).body.id as string;
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) ids.push((await publish(server.url, b, `b${i}`)).body.id as string);
      await watcher.events(41);
      await watcher.close();

      const resumed = await SseClient.open(`${server.url}/topics/${a},${b}/events`, {
        headers: { "Last-Event-ID": x },
      });
      const gap = await resumed.nextEvent();
      assert.equal(gap.event, "gap", "b0…b23 arrived after X and are gone");
      assert.deepEqual(JSON.parse(gap.data!), { lastEventId: x });
      const replay = await resumed.events(16);
      assert.deepEqual(replay.map((e) => e.id), ids.slice(24));
      assert.deepEqual(replay.map((e) => e.event), Array(16).fill(b));
      const live = (await publish(server.url, a, "live")).body.id;
      assert.equal((await resumed.nextEvent()).id, live);
      await resumed.close();
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "svc.subscribe right after svc.publish on PostgreSQL: no gap, no duplicate (3 of 3)",
  ...dbTest,
  async fn() {
    const svc = await createSsepg({ databaseUrl: url(), logger: silentLogger });
    try {
      for (let round = 0; round < 3; round++) {
        const topic = uniqueTopic("after");
        const { id } = await svc.publish(topic, "first");
        const seen: string[] = [];
        const off = svc.subscribe(topic, (event) => seen.push(`event ${event.id}`), {
          lastEventId: id,
          onGap: (last) => seen.push(`gap ${last}`),
        });
        const next = await svc.publish(topic, "second");
        await waitFor(() => seen.length > 0, 5_000, "the second event");
        await new Promise((r) => setTimeout(r, 100)); // anything more would be wrong
        off();
        assert.deepEqual(seen, [`event ${next.id}`], `round ${round + 1}`);
      }
    } finally {
      await svc.close();
    }
  },
});
