/**
 * Long-lived streams survive every runtime's idle and request timeouts: with the default
 * keep-alive (15 s), a stream is held past Bun's idle timeout (10 s) and Node's requestTimeout
 * (300 s) on servers of all three runtimes at once, and still delivers afterwards.
 *
 * It takes `SSEPG_HOLD_MS` (default 310 s), so the test script runs it beside the other suites.
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, uniqueTopic } from "../helpers/instances.ts";
import { runtimesUnderTest, serverCommand, startProcess } from "../../scripts/processes.ts";
import { SseClient } from "../helpers/sse_client.ts";

const holdMs = Number(Deno.env.get("SSEPG_HOLD_MS") ?? 310_000);
const keepAliveMs = 15_000;

Deno.test({
  name: `streams held ${Math.round(holdMs / 1000)} s with 15 s keep-alives stay open on every runtime`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const runtimes = runtimesUnderTest();
    for (const runtime of runtimes) {
      const command = serverCommand(runtime);
      if (!Array.isArray(command)) throw new Error(`Cannot hold a stream on ${runtime}: ${command.missing}`);
    }
    await Promise.all(runtimes.map(async (runtime) => {
      const server = await startProcess(runtime, { env: { DATABASE_URL: databaseUrl() } });
      const topic = uniqueTopic(`hold-${runtime}`);
      const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
      try {
        const started = Date.now();
        let keepAlives = 0;
        while (Date.now() - started < holdMs) {
          const block = await client.next(keepAliveMs + 5_000).catch((error) => {
            throw new Error(
              `${runtime}: the stream went quiet or ended after ${Date.now() - started} ms: ${error.message}`,
            );
          });
          if (block.comments.includes("keep-alive")) keepAlives++;
        }
        assert.ok(keepAlives >= Math.floor(holdMs / keepAliveMs) - 1, `${runtime}: ${keepAlives} keep-alives`);
        const response = await fetch(`${server.url}/topics/${topic}/events`, {
          method: "POST",
          body: '{"data":"still here"}',
        });
        const { id } = await response.json();
        const event = await client.nextEvent();
        assert.equal(event.id, id, `${runtime}: delivery after the hold`);
      } finally {
        await client.close();
        await server.stop("SIGTERM");
      }
    }));
  },
});
