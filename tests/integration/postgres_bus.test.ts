/**
 * The PostgreSQL bus on a real database: concurrent publishes leave in batched statements and
 * arrive intact and in order, whatever characters their data holds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, dbTest, uniqueTopic } from "../helpers/instances.ts";
import { PostgresBus } from "../../src/bus/postgres/postgres_bus.ts";
import { encodeEnvelope, type Envelope } from "../../src/bus/envelope.ts";
import { BusUnavailableError } from "../../src/bus/bus.ts";
import { silentLogger } from "../../src/log.ts";

Deno.test({
  name: "PostgresBus: 300 concurrent publishes go in batches and arrive intact, in order, on every shard",
  ...dbTest,
  async fn() {
    const received: Envelope[] = [];
    // One NOTIFY connection: one statement in flight, so the order across statements is defined too.
    const bus = new PostgresBus({ url: databaseUrl(), notifyShards: 4, logger: silentLogger, notifyConnections: 1 });
    await bus.start({ event: (e) => received.push(e), gap() {} });
    try {
      const topics = [uniqueTopic("bus"), uniqueTopic("bus"), uniqueTopic("bus")];
      // Quotes, backslashes, JSON escapes, braces and commas (what a text[] literal must escape),
      // non-Latin text and an astral character.
      const tricky = ['q"uote', "back\\slash", "\\u0000", "{a,b}", 'end\\"', "grüße 東京 🎉", "\n\t"];
      const sent: Envelope[] = Array.from({ length: 300 }, (_, i) => ({
        topic: topics[i % topics.length],
        data: JSON.stringify({ i, s: tricky[i % tricky.length] }),
        id: `id-${i}`,
      }));
      await Promise.all(sent.map((e) => bus.publish(e, encodeEnvelope(e))));
      for (let i = 0; i < 200 && received.filter((e) => e.id?.startsWith("id-")).length < sent.length; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const mine = received.filter((e) => topics.includes(e.topic));
      assert.deepEqual(mine, sent, "every event once, intact, in publish order");
      const status = bus.status();
      assert.ok(status.notifyBatches! < status.notifyEvents!, `batched: ${status.notifyBatches} statements`);
    } finally {
      await bus.close();
    }
  },
});

Deno.test({
  name: "PostgresBus refuses a publish while it does not LISTEN, and beyond maxPendingPublishes",
  ...dbTest,
  async fn() {
    const received: Envelope[] = [];
    const bus = new PostgresBus({
      url: databaseUrl(),
      notifyShards: 2,
      logger: silentLogger,
      notifyConnections: 1,
      maxPendingPublishes: 1,
    });
    const topic = uniqueTopic("bound");
    const envelope = (id: string): Envelope => ({ topic, data: '"x"', id });
    try {
      // Not listening yet: this instance would not receive its own event.
      await assert.rejects(bus.publish(envelope("early"), encodeEnvelope(envelope("early"))), BusUnavailableError);
      await bus.start({ event: (e) => received.push(e), gap() {} });
      const results = await Promise.allSettled(
        ["a", "b", "c", "d"].map((id) => bus.publish(envelope(id), encodeEnvelope(envelope(id)))),
      );
      assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "rejected", "rejected"]);
      for (const r of results.slice(1)) {
        assert.ok((r as PromiseRejectedResult).reason instanceof BusUnavailableError);
      }
      for (let i = 0; i < 100 && !received.some((e) => e.id === "a"); i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(received.filter((e) => e.topic === topic).map((e) => e.id), ["a"], "only the accepted one");
    } finally {
      await bus.close();
    }
  },
});
