/**
 * A database that stalls rather than fails: a TCP proxy between ssepg and PostgreSQL freezes
 * (sockets stay open, no byte moves) and later thaws. POSTs are answered within
 * `publishTimeout` (503 when nothing was sent, 504 when the NOTIFY was sent and not answered),
 * the liveness ping turns health 503 and sends subscribers a gap, and after the thaw the
 * instance recovers by itself. The test prints the measured times.
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, dbTest, ownDatabase, publish, startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";
import { BusUnavailableError } from "../../src/bus/bus.ts";
import { encodeEnvelope, type Envelope } from "../../src/bus/envelope.ts";
import { PostgresBus } from "../../src/bus/postgres/postgres_bus.ts";
import { silentLogger } from "../../src/log.ts";

/**
 * A TCP proxy that can freeze: while frozen it neither reads nor writes on any connection (new
 * ones are accepted and wait too), so both ends see an open socket that carries nothing, as
 * behind a hung server or a black-holed route. Bytes read before the freeze are held and
 * forwarded at the thaw. `strandExisting()` freezes only the connections open now, for good,
 * while new ones work: a route that lost its existing flows (a NAT or failover that forgot them).
 */
class FreezingProxy {
  readonly #listener: Deno.Listener;
  readonly #target: { hostname: string; port: number };
  readonly #conns = new Set<Deno.Conn>();
  /** The gate of every connection pair; a pair waits while its gate is set. */
  readonly #pairs = new Set<{ gate: Promise<void> | undefined }>();
  #thawed: PromiseWithResolvers<void> | undefined;
  readonly #closed = Promise.withResolvers<void>();

  constructor(target: { hostname: string; port: number }) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    void this.#accept();
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  freeze(): void {
    this.#thawed ??= Promise.withResolvers<void>();
  }

  thaw(): void {
    this.#thawed?.resolve();
    this.#thawed = undefined;
  }

  strandExisting(): void {
    for (const pair of this.#pairs) pair.gate = this.#closed.promise;
  }

  close(): void {
    this.thaw();
    this.#closed.resolve();
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    for (const conn of this.#conns) this.#closeConn(conn);
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        this.#conns.add(client);
        void this.#connectUpstream(client);
      }
    } catch {
      // the listener was closed
    }
  }

  async #connectUpstream(client: Deno.Conn): Promise<void> {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect(this.#target);
    } catch {
      this.#closeConn(client);
      return;
    }
    this.#conns.add(upstream);
    const pair = { gate: undefined };
    this.#pairs.add(pair);
    await Promise.all([this.#pipe(client, upstream, pair), this.#pipe(upstream, client, pair)]);
    this.#pairs.delete(pair);
  }

  async #pipe(from: Deno.Conn, to: Deno.Conn, pair: { gate: Promise<void> | undefined }): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    const wait = async () => {
      await this.#thawed?.promise;
      await pair.gate;
    };
    try {
      while (true) {
        await wait();
        const n = await from.read(buffer);
        if (n === null) break;
        // A freeze that began while this read waited holds what it read until the thaw.
        await wait();
        let written = 0;
        while (written < n) written += await to.write(buffer.subarray(written, n));
      }
    } catch {
      // one side went away
    }
    this.#closeConn(from);
    this.#closeConn(to);
  }

  #closeConn(conn: Deno.Conn): void {
    if (!this.#conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * `publishTimeout` of the instances under test: shorter than the stall detection (5 to 7 s), so
 * the test shows that a POST's bound does not depend on it.
 */
const PUBLISH_TIMEOUT = 2_000;

async function healthStatus(base: string): Promise<number> {
  const response = await fetch(`${base}/healthz?limit=0`);
  await response.body?.cancel();
  return response.status;
}

/** Polls health every 50 ms until it answers `status`; returns when it did (ms since `since`). */
async function healthTurns(base: string, status: number, since: number, timeout: number): Promise<number> {
  await waitFor(async () => (await healthStatus(base)) === status, timeout, `health ${status}`);
  return Date.now() - since;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

Deno.test({
  name:
    "frozen database: 50 POSTs answered 503/504 within publishTimeout, health 503 and a gap within ~10 s, recovery after the thaw",
  ...dbTest,
  async fn() {
    const db = await ownDatabase();
    const real = new URL(databaseUrl());
    const proxy = new FreezingProxy({ hostname: real.hostname, port: Number(real.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const server = await startServer({ databaseUrl: viaProxy.href, publishTimeout: PUBLISH_TIMEOUT });
    const topic = uniqueTopic("stall");
    const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
    try {
      const before = await publish(server.url, topic, { n: "before" });
      assert.equal(before.status, 200);
      assert.equal((await client.nextEvent()).id, before.body.id);

      proxy.freeze();
      const frozenAt = Date.now();
      const answers = await Promise.all(Array.from({ length: 50 }, async (_, n) => {
        const started = Date.now();
        const { status, body, response } = await publish(server.url, topic, { n });
        return { n, status, body, retryAfter: response.headers.get("retry-after"), ms: Date.now() - started };
      }));
      const times = answers.map((a) => a.ms);
      for (const a of answers) {
        assert.ok(a.status === 503 || a.status === 504, `POST ${a.n} answered ${a.status} while frozen`);
        assert.ok(a.ms <= PUBLISH_TIMEOUT + 1_000, `POST ${a.n} answered after ${a.ms} ms`);
        if (a.status === 504) {
          assert.equal(a.body.type, "urn:ssepg:problem:publish-outcome-unknown");
          assert.match(String(a.body.detail), /may or may not be delivered/);
        } else {
          assert.equal(a.body.type, "urn:ssepg:problem:database-unavailable");
          assert.ok(Number(a.retryAfter) >= 1, "503 carries Retry-After");
        }
      }
      const unknown = new Set(answers.filter((a) => a.status === 504).map((a) => a.n));

      const toDegraded = await healthTurns(server.url, 503, frozenAt, 10_000);
      assert.ok(toDegraded <= 10_000, `health turned 503 ${toDegraded} ms after the freeze`);
      const health = await (await fetch(`${server.url}/healthz?limit=0`)).json();
      assert.equal(health.status, "degraded");
      assert.equal(health.totals.listen_connected, false);
      const gap = await client.nextEvent(3_000);
      assert.equal(gap.event, "gap", "subscribers are told when the stall is noticed");
      assert.equal(JSON.parse(gap.data!).lastEventId, before.body.id);
      const refused = await publish(server.url, topic, { n: "during" });
      assert.equal(refused.status, 503, "refused at once while the bus is down");

      proxy.thaw();
      const thawedAt = Date.now();
      const toOk = await healthTurns(server.url, 200, thawedAt, 5_000);
      assert.ok(toOk <= 5_000, `health turned 200 ${toOk} ms after the thaw`);

      const after = await publish(server.url, topic, { n: "after" });
      assert.equal(after.status, 200);
      // Until the new event: gaps, and perhaps events of 504 answers (their statements reached
      // PostgreSQL at the thaw), never one that was answered 503.
      for (let event = await client.nextEvent(); event.id !== after.body.id; event = await client.nextEvent()) {
        if (event.event === "gap") continue;
        const { n } = JSON.parse(event.data!);
        assert.ok(unknown.has(n), `event ${n} was delivered though its POST was answered 503`);
      }

      console.log(
        `frozen database: 50 POSTs answered in min ${Math.min(...times)} / median ${median(times)} / max ${
          Math.max(...times)
        } ms (${unknown.size} × 504, ${50 - unknown.size} × 503); freeze → health 503 in ${toDegraded} ms; ` +
          `thaw → health 200 in ${toOk} ms`,
      );
    } finally {
      await client.close();
      await server.shutdown();
      proxy.close();
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "connections stranded while new ones work: the liveness check replaces them and the instance recovers without a thaw",
  ...dbTest,
  async fn() {
    const db = await ownDatabase();
    const real = new URL(databaseUrl());
    const proxy = new FreezingProxy({ hostname: real.hostname, port: Number(real.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const server = await startServer({ databaseUrl: viaProxy.href, publishTimeout: PUBLISH_TIMEOUT });
    const topic = uniqueTopic("strand");
    const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
    try {
      const before = await publish(server.url, topic, { n: "before" });
      assert.equal((await client.nextEvent()).id, before.body.id);

      proxy.strandExisting();
      const strandedAt = Date.now();
      const toDegraded = await healthTurns(server.url, 503, strandedAt, 10_000);
      assert.equal((await client.nextEvent(3_000)).event, "gap");
      // Fresh connections get through: the instance is back without anyone thawing the old ones.
      const toOk = await healthTurns(server.url, 200, strandedAt, 5_000) - toDegraded;
      const after = await publish(server.url, topic, { n: "after" });
      assert.equal(after.status, 200, "publishes go through the new NOTIFY connections");
      let event = await client.nextEvent();
      while (event.event === "gap") event = await client.nextEvent();
      assert.equal(event.id, after.body.id);
      console.log(`stranded connections: health 503 after ${toDegraded} ms, back to 200 ${toOk} ms later`);
    } finally {
      await client.close();
      await server.shutdown();
      proxy.close();
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "PostgresBus: a NOTIFY still waiting for its connection at publishTimeout is withdrawn (503, never sent), not outcome-unknown",
  ...dbTest,
  async fn() {
    const db = await ownDatabase();
    const real = new URL(databaseUrl());
    const proxy = new FreezingProxy({ hostname: real.hostname, port: Number(real.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const received: Envelope[] = [];
    // No queue poll and no ping in the test's time: the NOTIFY connections open only for the
    // publish, so it is the one left waiting for a connection.
    const bus = new PostgresBus({
      url: viaProxy.href,
      notifyShards: 2,
      logger: silentLogger,
      publishTimeout: 300,
      pingInterval: 60_000,
    });
    const topic = uniqueTopic("withdrawn");
    const envelope = (id: string): Envelope => ({ topic, data: '"x"', id });
    try {
      await bus.start({ event: (e) => received.push(e), gap() {} });
      proxy.freeze();
      const started = Date.now();
      await assert.rejects(bus.publish(envelope("never"), encodeEnvelope(envelope("never"))), BusUnavailableError);
      assert.ok(Date.now() - started < 1_300, `answered after ${Date.now() - started} ms`);
      proxy.thaw();
      await bus.publish(envelope("after"), encodeEnvelope(envelope("after")));
      await waitFor(() => received.some((e) => e.id === "after"), 5_000, "the next event");
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        received.filter((e) => e.topic === topic).map((e) => e.id),
        ["after"],
        "the refused one never left",
      );
    } finally {
      await bus.close();
      proxy.close();
      await db.drop();
    }
  },
});
