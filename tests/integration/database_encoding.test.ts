/**
 * A database whose encoding cannot hold every character (LATIN1): the event that carries one is
 * refused with 422 on its own, and the publishes that shared its statement are sent again and
 * delivered, instead of all being refused with a 503 that no retry could fix.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dbTest, ownDatabase, startServer, uniqueTopic } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";

Deno.test({
  name: "LATIN1 database: an event with a character it lacks gets 422 alone; the others in its statement are delivered",
  ...dbTest,
  async fn() {
    const db = await ownDatabase({ encoding: "LATIN1" });
    const server = await startServer({ databaseUrl: db.url });
    const topic = uniqueTopic("latin1");
    const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
    try {
      const post = (data: unknown) =>
        fetch(`${server.url}/topics/${topic}/events`, { method: "POST", body: JSON.stringify({ data }) });
      // Latin-1 text fits, small and fragmented.
      for (const data of ["é", "é".repeat(20_000)]) {
        const response = await post(data);
        assert.equal(response.status, 200);
        await response.body?.cancel();
      }
      // 200 publishes at once, one of them with a euro sign: they share statements.
      const datas = Array.from({ length: 200 }, (_, i) => (i === 100 ? { i, text: "5 €" } : { i }));
      const responses = await Promise.all(datas.map(post));
      const statuses = responses.map((r) => r.status);
      const bodies = await Promise.all(responses.map((r) => r.json()));
      assert.equal(statuses[100], 422, JSON.stringify(bodies[100]));
      assert.equal(bodies[100].type, "urn:ssepg:problem:event-rejected");
      assert.match(bodies[100].detail, /nothing was published: .*LATIN1/);
      assert.deepEqual(statuses.filter((s) => s !== 200).length, 1, "only the event with the euro sign is refused");
      const events = await client.events(2 + 199, 20_000);
      assert.equal(JSON.parse(events[1].data!).length, 20_000);
      const delivered = events.slice(2).map((e) => JSON.parse(e.data!).i).sort((a, b) => a - b);
      assert.deepEqual(delivered, datas.map((d) => d.i).filter((i) => i !== 100));
      const health = server.service.health();
      assert.equal(health.totals.published, 201);
      // 202 publishes reached the bus; more were carried because the refused statement's went again.
      assert.ok(health.totals.notify_events > 202, `${health.totals.notify_events} carried`);
    } finally {
      await client.close();
      await server.shutdown();
      await db.drop();
    }
  },
});
