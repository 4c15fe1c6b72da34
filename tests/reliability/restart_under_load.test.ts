/**
 * PostgreSQL restarts under load, on every runtime: 200 subscribers, 200 events/s, a database
 * restart in the middle. The server stays up and recovers; POSTs during the outage get 503 and
 * are never delivered; every event accepted before the outage (sent more than 250 ms before the
 * restart) and every event sent after a subscriber's gap notice reaches that subscriber, once.
 *
 * The test runs its own embedded PostgreSQL (restarting a shared one would disturb other tests).
 *
 * @module
 */

import assert from "node:assert/strict";
import { startEmbeddedPostgres } from "../../src/cli/embedded_postgres.ts";
import { uniqueTopic, waitFor } from "../helpers/instances.ts";
import { runtimesUnderTest, startProcess } from "../../scripts/processes.ts";
import { SseClient } from "../helpers/sse_client.ts";

const SUBSCRIBERS = 200;
const RATE = 200;
const DURATION_MS = 6_000;
const RESTART_AT_MS = 2_000;
/** Events sent this close to the restart may be lost with the LISTEN connection. */
const BOUNDARY_MS = 250;

interface Outcome {
  seq: number;
  sentAt: number;
  status: number;
}

for (const runtime of runtimesUnderTest()) {
  Deno.test({
    name: `PostgreSQL restart under load (${SUBSCRIBERS} subscribers, ${RATE} events/s) on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const pg = await startEmbeddedPostgres();
      const server = await startProcess(runtime, { env: { DATABASE_URL: pg.url } });
      const topic = uniqueTopic(`restart-${runtime}`);
      const clients = await Promise.all(
        Array.from({ length: SUBSCRIBERS }, () => SseClient.open(`${server.url}/topics/${topic}/events`)),
      );
      const received = clients.map(() => [] as { seq: number; at: number }[]);
      const gapAt: (number | undefined)[] = clients.map(() => undefined);
      let reading = true;
      const readers = clients.map(async (client, i) => {
        while (reading) {
          try {
            const event = await client.nextEvent(500);
            if (event.event === "gap") gapAt[i] ??= Date.now();
            else received[i].push({ seq: JSON.parse(event.data!).seq, at: Date.now() });
          } catch {
            if (client.ended) return;
          }
        }
      });
      try {
        const outcomes: Outcome[] = [];
        const inflight: Promise<void>[] = [];
        const started = Date.now();
        let restartStarted = Infinity;
        let restart: Promise<void> | undefined;
        for (let seq = 0; Date.now() - started < DURATION_MS; seq++) {
          const due = started + (seq * 1000) / RATE;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          if (!restart && Date.now() - started >= RESTART_AT_MS) {
            restartStarted = Date.now();
            restart = pg.restart(1_000);
          }
          const outcome: Outcome = { seq, sentAt: Date.now(), status: 0 };
          outcomes.push(outcome);
          inflight.push(
            fetch(`${server.url}/topics/${topic}/events`, { method: "POST", body: JSON.stringify({ data: { seq } }) })
              .then(async (r) => {
                outcome.status = r.status;
                await r.body?.cancel();
              }, () => {
                outcome.status = -1;
              }),
          );
        }
        await Promise.all(inflight);
        await restart;
        await waitFor(
          async () => (await (await fetch(`${server.url}/healthz?limit=0`)).json()).status === "ok",
          10_000,
          "recovery",
        );
        // Let the last deliveries arrive: every subscriber has the last accepted event (the
        // clients share this process with the test, so under load they read behind), or 10 s.
        const lastAccepted = Math.max(...outcomes.filter((o) => o.status === 200).map((o) => o.seq));
        await waitFor(
          () => received.every((events) => events.some((e) => e.seq === lastAccepted)),
          10_000,
          "the last accepted event at every subscriber",
        ).catch(() => {}); // the checks below say what is missing

        const statuses = new Set(outcomes.map((o) => o.status));
        // 504: the statement was sent when the connection broke, so its outcome is unknown.
        assert.ok([...statuses].every((s) => s === 200 || s === 503 || s === 504), `statuses ${[...statuses]}`);
        const accepted = new Set(outcomes.filter((o) => o.status === 200).map((o) => o.seq));
        const unknown = new Set(outcomes.filter((o) => o.status === 504).map((o) => o.seq));
        const refused = outcomes.filter((o) => o.status === 503);
        assert.ok(refused.length > 0, "some POSTs met the outage and got 503");
        // A NOTIFY committed just before the restart may still be on its way to the listener when
        // PostgreSQL cuts the connection: such events are covered by the gap notice, not promised.
        const before = outcomes.filter((o) => o.status === 200 && o.sentAt < restartStarted - BOUNDARY_MS)
          .map((o) => o.seq);
        const health = await (await fetch(`${server.url}/healthz?limit=0`)).json();
        assert.equal(health.totals.subscribers, SUBSCRIBERS, "nobody was dropped");
        assert.ok(health.totals.reconnect_attempts >= 1);
        for (let i = 0; i < SUBSCRIBERS; i++) {
          const seqs = received[i].map((e) => e.seq);
          assert.equal(new Set(seqs).size, seqs.length, `subscriber ${i}: no duplicates`);
          for (const seq of seqs) {
            assert.ok(accepted.has(seq) || unknown.has(seq), `subscriber ${i}: got ${seq}, which was refused`);
          }
          const got = new Set(seqs);
          for (const seq of before) {
            assert.ok(got.has(seq), `subscriber ${i}: missed ${seq}, accepted before the outage`);
          }
          assert.ok(
            gapAt[i] !== undefined,
            `subscriber ${i}: no gap notice; server said: ${server.stderr()}; raw tail ${
              JSON.stringify(clients[i].raw.slice(-300))
            }`,
          );
          const after = outcomes.filter((o) => o.status === 200 && o.sentAt > gapAt[i]!).map((o) => o.seq);
          for (const seq of after) assert.ok(got.has(seq), `subscriber ${i}: missed ${seq}, sent after its gap notice`);
        }
        console.log(
          `${runtime}: ${outcomes.length} publishes, ${accepted.size} accepted, ${refused.length} refused during the outage; ` +
            `every subscriber got all ${before.length} events from before the outage and all sent after its gap`,
        );
      } finally {
        reading = false;
        await Promise.all(clients.map((c) => c.close()));
        await Promise.all(readers);
        await server.stop("SIGTERM");
        await pg.stop();
      }
    },
  });
}
