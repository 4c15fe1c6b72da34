/**
 * SIGTERM with 1000 connected subscribers, on every runtime: each gets the events queued for it
 * and then `: server shutting down`, its stream ends, no POST is accepted any more, and the
 * process exits 0 within gracefulDrain.
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, uniqueTopic } from "../helpers/instances.ts";
import { runtimesUnderTest, startProcess } from "../../scripts/processes.ts";
import { SseClient } from "../helpers/sse_client.ts";

const SUBSCRIBERS = 1000;
const EVENTS = 10;

for (const runtime of runtimesUnderTest()) {
  Deno.test({
    name: `SIGTERM with ${SUBSCRIBERS} subscribers drains every stream and exits 0 on ${runtime}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const server = await startProcess(runtime, { env: { DATABASE_URL: databaseUrl(), SSEPG_GRACEFUL_DRAIN: "10s" } });
      const topics = Array.from({ length: 10 }, () => uniqueTopic(`drain-${runtime}`));
      const clients: SseClient[] = [];
      try {
        for (let i = 0; i < SUBSCRIBERS; i += 100) {
          clients.push(
            ...await Promise.all(
              Array.from(
                { length: 100 },
                (_, j) => SseClient.open(`${server.url}/topics/${topics[(i + j) % topics.length]}/events`),
              ),
            ),
          );
        }
        for (let e = 0; e < EVENTS; e++) {
          await Promise.all(
            topics.map((topic) =>
              fetch(`${server.url}/topics/${topic}/events`, { method: "POST", body: JSON.stringify({ data: { e } }) })
                .then((r) => r.body?.cancel())
            ),
          );
        }
        // A client that is connected (and idle) when SIGTERM arrives, to try a POST during the drain.
        const url = new URL(server.url);
        const late = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
        const stoppedAt = Date.now();
        const exit = server.stop("SIGTERM");
        await Promise.all(clients.map(async (client, i) => {
          const events = await client.events(EVENTS, 15_000);
          assert.deepEqual(
            events.map((ev) => JSON.parse(ev.data!).e),
            Array.from({ length: EVENTS }, (_, e) => e),
            `client ${i}`,
          );
          const bye = await client.next(15_000);
          assert.deepEqual(bye.comments, ["server shutting down"], `client ${i}`);
          await client.waitForEnd(15_000);
        }));
        const request = `POST /topics/${
          topics[0]
        }/events HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 10\r\n\r\n{"data":1}`;
        let answer = "";
        try {
          await late.write(new TextEncoder().encode(request));
          const buffer = new Uint8Array(4096);
          const n = await late.read(buffer);
          answer = n === null ? "" : new TextDecoder().decode(buffer.subarray(0, n));
        } catch {
          answer = ""; // the server had already closed the idle connection: nothing accepted either
        }
        assert.ok(answer === "" || /^HTTP\/1\.1 503/.test(answer), `a POST during the drain: ${answer.slice(0, 80)}`);
        late.close();
        assert.equal(await exit, 0, server.stderr());
        assert.ok(Date.now() - stoppedAt < 12_000, `exited after ${Date.now() - stoppedAt} ms`);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        await server.stop("SIGKILL");
      }
    },
  });
}
