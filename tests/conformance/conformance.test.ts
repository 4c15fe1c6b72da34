/**
 * Runs the conformance suite against two server processes per runtime (Deno, Bun, Node) on
 * one database. A runtime that is not installed fails the run in CI and is reported, not
 * counted, elsewhere.
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, freePort, uniqueTopic } from "../helpers/instances.ts";
import {
  type Runtime,
  runtimesUnderTest,
  serverCommand,
  type ServerProcess,
  startProcess,
} from "../../scripts/processes.ts";
import { SseClient } from "../helpers/sse_client.ts";
import { GzipSseClient } from "../helpers/gzip_client.ts";
import { cases, type Target } from "./suite.ts";
import { requestTargetCases } from "./request_target.ts";
import { edgeCases } from "./edges.ts";
import { jwtCases } from "./jwt.ts";
import { largeEventCases } from "./large_events.ts";

const publishToken = "conformance-publish";
const listenToken = "conformance-listen";
const keepAlive = 300;
const clientBuffer = 16;
const corsOrigin = "https://app.example";
const bodyTimeout = 500;

// Deno serves with node:http by default and with Deno.serve when asked, Bun with Bun.serve, Node
// with node:http: every server runs the suite.
const targets = runtimesUnderTest().flatMap((
  runtime,
): { runtime: Runtime; label: string; server: string; extra: Record<string, string> }[] => {
  const node = { runtime, label: runtime, server: "node:http", extra: {} };
  const server = runtime === "bun" ? "Bun.serve" : "node:http";
  // Each server below is two processes on one port: every case runs across workers, whose
  // connections the kernel (SO_REUSEPORT) or Node's cluster primary spreads between them.
  const workers = { runtime, label: `${runtime} (--workers 2)`, server, extra: { SSEPG_WORKERS: "2" } };
  if (runtime === "deno") {
    return [
      node,
      { runtime, label: "deno (Deno.serve)", server: "Deno.serve", extra: { SSEPG_DENO_SERVE: "true" } },
      workers,
    ];
  }
  if (runtime === "bun") return [{ runtime, label: runtime, server, extra: {} }, workers];
  return [node, workers];
});

for (const { runtime, label, server, extra } of targets) {
  const command = serverCommand(runtime);
  if (!Array.isArray(command)) {
    if (Deno.env.get("CI") === "true") {
      Deno.test(`conformance on ${runtime}`, () => {
        throw new Error(`Cannot run the conformance suite on ${runtime}: ${command.missing}`);
      });
    } else {
      console.error(`conformance on ${runtime}: NOT RUN (${command.missing})`);
    }
    continue;
  }
  Deno.test({
    name: `conformance on ${label}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const env = {
        DATABASE_URL: databaseUrl(),
        SSEPG_PUBLISH_TOKEN: publishToken,
        SSEPG_LISTEN_TOKEN: listenToken,
        SSEPG_KEEP_ALIVE: String(keepAlive),
        SSEPG_CLIENT_BUFFER: String(clientBuffer),
        SSEPG_GRACEFUL_DRAIN: "3s",
        SSEPG_CORS_ORIGINS: corsOrigin,
        SSEPG_BODY_TIMEOUT: String(bodyTimeout),
        SSEPG_ALLOW_QUERY_TOKEN: "true",
        ...extra,
      };
      const servers: ServerProcess[] = await Promise.all([
        startProcess(runtime, { env }),
        startProcess(runtime, { env }),
      ]);
      const [a, b] = servers;
      const target: Target = {
        runtime,
        server,
        a: a.url,
        b: b.url,
        publishToken,
        listenToken,
        keepAlive,
        clientBuffer,
        corsOrigin,
        bodyTimeout,
        workers: Number(extra.SSEPG_WORKERS ?? 1),
        serverEnv: extra,
      };
      try {
        for (const c of [...cases, ...requestTargetCases, ...edgeCases, ...largeEventCases, ...jwtCases]) {
          const ok = await t.step(c.name, () => c.fn(target));
          if (!ok) console.error(`${runtime} server A stderr:\n${a.stderr().slice(-3000)}`);
        }
        await t.step("with a health port, health and metrics are served only there", async () => {
          const healthPort = freePort();
          const server = await startProcess(runtime, { env: { ...env, SSEPG_HEALTH_PORT: String(healthPort) } });
          try {
            const health = await fetch(`http://127.0.0.1:${healthPort}/healthz`);
            assert.equal(health.status, 200);
            assert.match((await health.json()).runtime, new RegExp(`^${runtime} `));
            const metrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`);
            assert.equal(metrics.status, 200);
            await metrics.body?.cancel();
            for (const path of ["/healthz", "/metrics"]) {
              const main = await fetch(`${server.url}${path}`);
              assert.equal(main.status, 404, path);
              await main.body?.cancel();
            }
          } finally {
            assert.equal(await server.stop("SIGTERM"), 0);
          }
        });
        await t.step("the servers logged no stack trace during the suite (expected failures log one line)", () => {
          for (const server of servers) assert.doesNotMatch(server.stderr(), /^\s+at /m, server.stderr().slice(-3000));
        });
        await t.step(
          "SIGTERM: streams get ': server shutting down' and end (gzip ones with a valid trailer); a POST in flight gets 503; the process exits 0",
          async () => {
            // A POST whose head arrived before the shutdown and whose body arrives after it.
            const url = new URL(a.url);
            const inFlight = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
            const body = '{"data":"late"}';
            await inFlight.write(new TextEncoder().encode(
              `POST /topics/${
                uniqueTopic("late")
              }/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${publishToken}\r\n` +
                `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
            ));
            await new Promise((r) => setTimeout(r, 200));
            const topic = uniqueTopic("bye");
            const gzipped = await GzipSseClient.open(`${a.url}/topics/${topic}/events`, {
              authorization: `Bearer ${listenToken}`,
            });
            await gzipped.waitForText(`: listening ${topic}`);
            const client = await SseClient.open(`${a.url}/topics/${topic}/events`, {
              headers: { authorization: `Bearer ${listenToken}` },
            });
            assert.deepEqual((await client.next()).retry, 5000);
            assert.deepEqual((await client.next()).comments, [`listening ${topic}`]);
            const code = a.stop("SIGTERM");
            await new Promise((r) => setTimeout(r, 100));
            await inFlight.write(new TextEncoder().encode(body.slice(5))).catch(() => 0);
            const answer = new Uint8Array(4096);
            const read = await Promise.race([
              inFlight.read(answer).catch(() => null),
              new Promise<null>((r) => setTimeout(() => r(null), 3_000)),
            ]);
            inFlight.close();
            const status = new TextDecoder().decode(answer.subarray(0, read ?? 0)).split("\r\n")[0];
            assert.match(status, /^HTTP\/1\.1 503/, `the POST in flight at shutdown got ${JSON.stringify(status)}`);
            const bye = await client.next(5_000);
            assert.deepEqual(bye.comments, ["server shutting down"]);
            await client.waitForEnd(5_000);
            await gzipped.waitForEnd(5_000); // the inflater checked the final block, CRC and length
            assert.ok(gzipped.text.endsWith(": server shutting down\n\n"));
            await gzipped.close();
            assert.equal(await code, 0, a.stderr());
          },
        );
      } finally {
        await Promise.all(servers.map((s) => s.stop("SIGTERM")));
      }
    },
  });
}
