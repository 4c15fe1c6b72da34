/**
 * A subscriber that stops reading for good is dropped at `clientBuffer` and, once the drop
 * grace time has passed without the socket draining, its connection is closed by the server:
 * it does not hold a socket forever. On Node and on Deno (both serve through `node:http`, whose
 * socket ssepg owns); Bun's server and `Deno.serve` do not close a connection whose response
 * write is blocked, whatever the body stream does (see README).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DROP_GRACE_MS } from "../../src/sse/event_stream.ts";
import { databaseUrl, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { type Runtime, runtimesUnderTest, serverCommand, startProcess } from "../../scripts/processes.ts";

/**
 * TCP state of the server's side of the connection from `clientPort` to `serverPort`, from
 * /proc/net/tcp: "01" established, others once the server closed it; undefined when gone.
 */
function serverSideState(serverPort: number, clientPort: number): string | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (local?.endsWith(`:${hex(serverPort)}`) && remote?.endsWith(`:${hex(clientPort)}`)) return state;
  }
  return undefined;
}

const runtimes = runtimesUnderTest().filter((r): r is Runtime => r === "deno" || r === "node");
for (const runtime of runtimes) {
  Deno.test({
    name: `${runtime}: a dropped subscriber that never reads again has its connection closed after the grace time`,
    ignore: !Array.isArray(serverCommand(runtime)) && Deno.env.get("CI") !== "true",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const server = await startProcess(runtime, {
        env: { DATABASE_URL: databaseUrl(), SSEPG_CLIENT_BUFFER: "16" },
      });
      const topic = uniqueTopic("cut");
      const host = new URL(server.url);
      const post = async (data: unknown) => {
        const r = await fetch(`${server.url}/topics/${topic}/events`, {
          method: "POST",
          body: JSON.stringify({ data }),
        });
        await r.body?.cancel();
      };
      const health = async () => (await (await fetch(`${server.url}/healthz`)).json());
      try {
        const stalled = await Deno.connect({ hostname: host.hostname, port: Number(host.port) });
        try {
          await stalled.write(new TextEncoder().encode(`GET /topics/${topic}/events HTTP/1.1\r\nHost: x\r\n\r\n`));
          await waitFor(async () => (await health()).totals.subscribers === 1, 5_000, "the subscriber");
          const state = () => serverSideState(Number(host.port), stalled.localAddr.port);
          assert.equal(state(), "01", "established");
          // Never read: the kernel buffers fill, then clientBuffer frames, and it is dropped.
          const pad = "x".repeat(7000);
          const deadline = Date.now() + 30_000;
          while ((await health()).totals.dropped_clients === 0 && Date.now() < deadline) {
            await Promise.all(Array.from({ length: 20 }, (_, i) => post({ i, pad })));
          }
          const droppedAt = Date.now();
          assert.equal((await health()).totals.dropped_clients, 1, "dropped for not reading");
          assert.equal(state(), "01", "the runtime may still finish its write within the grace time");
          await waitFor(() => state() !== "01", DROP_GRACE_MS + 5_000, "the server to close the connection");
          const after = Date.now() - droppedAt;
          assert.ok(after >= DROP_GRACE_MS - 1_000, `closed after the grace time, not before (${after} ms)`);
        } finally {
          stalled.close();
        }
        assert.equal((await health()).status, "ok", "the server lives on");
      } finally {
        assert.equal(await server.stop(), 0);
      }
    },
  });
}
