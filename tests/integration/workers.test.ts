/**
 * `ssepg serve --workers N` on every runtime: one listening line for N processes on one port,
 * events from any worker on every worker's streams, resume by Last-Event-ID on any worker,
 * health naming the worker, /metrics answering for all workers, a killed worker started again, one drain for all on SIGTERM, and
 * workers that stop when their supervisor is killed. (The conformance suite also runs whole
 * against two-worker servers.)
 *
 * @module
 */

import assert from "node:assert/strict";
import { runtimesUnderTest, serverCommand, startProcess } from "../../scripts/processes.ts";
import { databaseUrl, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { runCommand } from "../helpers/run_command.ts";
import { SseClient } from "../helpers/sse_client.ts";
import { workerHealth } from "../helpers/worker_health.ts";
import { createSsepg } from "../../src/service/create.ts";
import { ConfigError } from "../../src/config/config.ts";
import { silentLogger } from "../../src/log.ts";

const serveArgs = ["serve", "--port", "0", "--host", "127.0.0.1"];

function alive(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped) counts as gone.
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

async function publish(base: string, topic: string, data: unknown): Promise<string> {
  const response = await fetch(`${base}/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ data }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.id;
}

/** Streams on fresh connections until every worker holds at least one of them. */
async function streamsOnEveryWorker(base: string, topic: string, lastEventId?: string): Promise<SseClient[]> {
  const clients: SseClient[] = [];
  for (let i = 0; i < 40; i++) {
    const headers: Record<string, string> = { connection: "close" };
    if (lastEventId) headers["last-event-id"] = lastEventId;
    const client = await SseClient.open(`${base}/topics/${topic}/events`, { headers });
    await client.next(); // retry
    await client.next(); // : listening
    clients.push(client);
    if (clients.length < 6) continue;
    const { reports } = await workerHealth(base, { workers: 2 });
    const counts = reports.map((r) => r.topics.find((x: { topic: string }) => x.topic === topic)?.subscribers ?? 0);
    if (counts.every((n) => n > 0)) return clients;
  }
  throw new Error("the streams did not reach both workers");
}

for (const runtime of runtimesUnderTest()) {
  const command = serverCommand(runtime);

  Deno.test({
    name: `${runtime}: --workers above 1 needs a database, and a bad value is refused (exit 2)`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      // Empty counts as unset; the test runner's own DATABASE_URL must not leak in.
      const alone = await runCommand(command, [...serveArgs, "--workers", "2"], { DATABASE_URL: "" });
      assert.equal(alone.code, 2, alone.stderr);
      assert.match(alone.stderr, /workers \(--workers, SSEPG_WORKERS\).*workers share events through PostgreSQL/);
      const bad = await runCommand(command, serveArgs, { SSEPG_WORKERS: "many", DATABASE_URL: databaseUrl() });
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /auto or 1 to 1024/);
      assert.equal(alone.stdout + bad.stdout, "", "never listening");
    },
  });

  Deno.test({
    name: `${runtime}: a worker that cannot start stops the others and the supervisor exits 1 with its error`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      const result = await runCommand(command, [...serveArgs, "--workers", "2"], {
        DATABASE_URL: "postgres://nobody-here@127.0.0.1:5432/postgres",
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /role "nobody-here" does not exist/);
      assert.match(result.stderr, /a worker exited with code 1 while starting/);
      assert.equal(result.stdout, "", "never listening");
    },
  });

  Deno.test({
    name:
      `${runtime}: --workers 2 serves one port: events and resume across workers, a killed worker restarts, SIGTERM drains all`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      const server = await startProcess(runtime, {
        env: { DATABASE_URL: databaseUrl(), SSEPG_WORKERS: "2", SSEPG_GRACEFUL_DRAIN: "2s" },
      });
      const clients: SseClient[] = [];
      try {
        const { reports } = await workerHealth(server.url, { workers: 2 });
        assert.deepEqual(reports.map((r) => r.worker.count), [2, 2]);
        assert.deepEqual(reports.map((r) => r.worker.index).sort(), [1, 2]);
        const pids = reports.map((r) => r.worker.pid as number);
        assert.ok(pids.every((pid) => pid !== server.pid && alive(pid)), `worker pids ${pids}`);
        // One scrape, whichever worker takes it, has both workers' samples.
        for (let i = 0; i < 4; i++) {
          const text = await (await fetch(`${server.url}/metrics`, { headers: { connection: "close" } })).text();
          for (const index of [1, 2]) {
            assert.match(text, new RegExp(`^ssepg_subscribers\\{worker="${index}"\\} \\d`, "m"));
          }
        }

        const topic = uniqueTopic("workers");
        clients.push(...await streamsOnEveryWorker(server.url, topic));
        const ids: string[] = [];
        for (let n = 0; n < 6; n++) ids.push(await publish(server.url, topic, { n }));
        for (const client of clients) {
          for (let n = 0; n < 6; n++) {
            const event = await client.nextEvent(5_000);
            assert.deepEqual(
              [event.id, JSON.parse(event.data!)],
              [ids[n], { n }],
              "every stream, every event, in order",
            );
          }
        }
        await Promise.all(clients.splice(0).map((c) => c.close()));

        // Missed while away; a resume may land on either worker and must get the same events.
        const missed: string[] = [];
        for (let n = 6; n < 9; n++) missed.push(await publish(server.url, topic, { n }));
        clients.push(...await streamsOnEveryWorker(server.url, topic, ids[5]));
        for (const client of clients) {
          for (const id of missed) assert.equal((await client.nextEvent(5_000)).id, id, "resumed on any worker");
        }
        await Promise.all(clients.splice(0).map((c) => c.close()));

        // A worker that dies is started again on the same port; the other kept serving.
        const victim = reports.find((r) => r.worker.index === 2).worker.pid as number;
        Deno.kill(victim, "SIGKILL");
        await waitFor(
          async () => {
            const again = await workerHealth(server.url, { workers: 2 }).catch(() => undefined);
            const pid = again?.reports.find((r) => r.worker.index === 2)?.worker.pid;
            return pid !== undefined && pid !== victim;
          },
          20_000,
          "worker 2 to be started again",
        );
        assert.match(server.stderr(), /worker 2 \(pid \d+\) exited with code 137; starting it again/);
        const after = (await workerHealth(server.url, { workers: 2 })).reports.map((r) => r.worker.pid as number);

        const last = await SseClient.open(`${server.url}/topics/${topic}/events`);
        clients.push(last);
        await last.next();
        await last.next();
        const code = server.stop("SIGTERM");
        assert.deepEqual((await last.next(5_000)).comments, ["server shutting down"]);
        assert.equal(await code, 0, server.stderr());
        assert.match(server.stderr(), /SIGTERM received, draining 2 workers/);
        assert.match(server.stderr(), /ssepg: stopped/);
        await waitFor(() => after.every((pid) => !alive(pid)), 5_000, "the workers to exit");
      } finally {
        await Promise.all(clients.map((c) => c.close()));
        await server.stop("SIGKILL");
      }
    },
  });

  Deno.test({
    name: `${runtime}: workers stop on their own when the supervisor is killed`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      const server = await startProcess(runtime, {
        env: { DATABASE_URL: databaseUrl(), SSEPG_WORKERS: "2", SSEPG_GRACEFUL_DRAIN: "1s" },
      });
      const { reports } = await workerHealth(server.url, { workers: 2 });
      const pids = reports.map((r) => r.worker.pid as number);
      await server.stop("SIGKILL");
      await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, `workers ${pids} to exit`);
    },
  });
}

Deno.test("the library refuses workers above 1: starting processes is `ssepg serve`'s job", async () => {
  await assert.rejects(
    () => createSsepg({ workers: "2", databaseUrl: databaseUrl(), logger: silentLogger }),
    (error: unknown) => error instanceof ConfigError && /option of `ssepg serve`/.test(error.message),
  );
});
