import assert from "node:assert/strict";
import { dbTest, ownDatabase, publish, startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";
import { HOP_STAGES, type HopsReport } from "../../src/hops/hop_tracer.ts";

Deno.test({
  name: "traceHops: health reports every stage of events published with subscribers, in a plausible order",
  ...dbTest,
  async fn() {
    const db = await ownDatabase();
    const server = await startServer({ databaseUrl: db.url, traceHops: true });
    const topic = uniqueTopic("hops");
    const clients = await Promise.all([1, 2].map(() => SseClient.open(`${server.url}/topics/${topic}/events`)));
    try {
      const n = 40;
      for (let i = 0; i < n; i++) assert.equal((await publish(server.url, topic, { i })).status, 200);
      for (const client of clients) assert.equal((await client.events(n)).length, n);
      let hops: HopsReport | undefined;
      await waitFor(
        async () => {
          hops = (await (await fetch(`${server.url}/healthz`)).json()).hops;
          return hops !== undefined && hops.traced_events >= n;
        },
        5_000,
        "every event traced",
      );
      const stages = hops!.stages_ms;
      assert.deepEqual(Object.keys(stages).sort(), [...HOP_STAGES].sort());
      for (const stage of HOP_STAGES) {
        const s = stages[stage];
        assert.ok(s.count > 0, `${stage} has observations`);
        assert.ok(s.p50 >= 0 && s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max * 1.02, `${stage} ordered`);
        assert.ok(s.max < 5_000, `${stage} is plausible: ${s.max} ms`);
      }
      for (const stage of ["arrival_to_notify", "notify_to_commit", "commit_to_listen", "arrival_to_last_write"]) {
        assert.equal(stages[stage as keyof typeof stages].count, n, `${stage}: one per own event`);
      }
      // The whole trip is at least each of its parts.
      const whole = stages.arrival_to_last_write;
      assert.ok(whole.p50 > 0);
      assert.ok(whole.max >= stages.notify_to_commit.p50, "arrival to last write covers the commit");
      assert.ok(whole.max >= stages.listen_to_first_write.p50);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await server.shutdown();
      await db.drop();
    }
  },
});

Deno.test({
  name: "traceHops off: health has no hops field",
  ...dbTest,
  async fn() {
    const db = await ownDatabase();
    const server = await startServer({ databaseUrl: db.url });
    try {
      assert.equal((await publish(server.url, uniqueTopic("hops"), 1)).status, 200);
      const health = await (await fetch(`${server.url}/healthz`)).json();
      assert.equal("hops" in health, false);
      assert.equal("hops" in server.service.health(), false);
    } finally {
      await server.shutdown();
      await db.drop();
    }
  },
});
