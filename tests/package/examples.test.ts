/**
 * Starts every embedding example under its runtime and checks it serves ssepg end to end.
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, freePort, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { root, type Runtime, runtimesUnderTest, which } from "../../scripts/processes.ts";
import { SseClient } from "../helpers/sse_client.ts";

interface Example {
  name: string;
  runtime: Runtime;
  command: () => string[] | undefined;
  basePath?: string;
  check?: (base: string) => Promise<void>;
  /**
   * `deno serve` answers the first SIGINT/SIGTERM with a graceful shutdown that waits for the
   * event loop to empty, which the module's PostgreSQL connections never let happen; the second
   * signal stops it (the Deploy platform manages isolate lifetimes itself).
   */
  stopTwice?: boolean;
}

const examples: Example[] = [
  {
    name: "svc.fetch in Deno.serve (examples/deno_serve.ts)",
    runtime: "deno",
    command: () => [Deno.execPath(), "run", "-A", "examples/deno_serve.ts"],
  },
  {
    name: "svc.attach(app) in a Hono app with its own routes (examples/hono_app.ts)",
    runtime: "deno",
    command: () => [Deno.execPath(), "run", "-A", "examples/hono_app.ts"],
    basePath: "/sse",
    async check(base) {
      assert.deepEqual(await (await fetch(`${base}/api/hello`)).json(), { hello: "world" });
    },
  },
  {
    name: "Bun.serve (examples/bun_serve.ts)",
    runtime: "bun",
    command: () => {
      const bun = which("bun");
      return bun ? [bun, "run", "examples/bun_serve.ts"] : undefined;
    },
  },
  {
    name: "node:http through the Node adapter (examples/node_http.mjs)",
    runtime: "node",
    command: () => {
      const node = which("node");
      return node ? [node, "examples/node_http.mjs"] : undefined;
    },
  },
  {
    name: "a Deno Deploy-style module run by deno serve (examples/deno_deploy.ts)",
    runtime: "deno",
    command: () => [Deno.execPath(), "serve", "-A", "--host", "127.0.0.1", "--port", "PORT", "examples/deno_deploy.ts"],
    stopTwice: true,
  },
];

for (const example of examples) {
  if (!runtimesUnderTest().includes(example.runtime)) {
    console.error(`example: ${example.name}: NOT RUN (${example.runtime} is not available)`);
    continue;
  }
  Deno.test({
    name: `example: ${example.name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const command = example.command();
      if (!command) throw new Error("its runtime is not installed (npm install)");
      const port = freePort();
      const [exe, ...args] = command.map((a) => (a === "PORT" ? String(port) : a));
      const child = new Deno.Command(exe, {
        args,
        cwd: root,
        env: { DATABASE_URL: databaseUrl(), PORT: String(port), NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const base = `http://127.0.0.1:${port}`;
      const path = example.basePath ?? "/topics";
      try {
        await waitFor(
          async () => {
            try {
              const response = await fetch(`${base}/healthz`);
              await response.body?.cancel();
              return response.status === 200;
            } catch {
              return false;
            }
          },
          30_000,
          `${example.name} to answer on ${base}`,
        );
        await example.check?.(base);
        const topic = uniqueTopic("example");
        const client = await SseClient.open(`${base}${path}/${topic}/events`);
        const response = await fetch(`${base}${path}/${topic}/events`, {
          method: "POST",
          body: '{"data":{"from":"example"}}',
        });
        assert.equal(response.status, 200);
        const { id } = await response.json();
        const event = await client.nextEvent();
        assert.equal(event.id, id);
        assert.equal(event.data, '{"from":"example"}');
        await client.close();
      } finally {
        const signal = example.stopTwice ? "SIGINT" : "SIGTERM";
        child.kill(signal);
        if (example.stopTwice) {
          await new Promise((r) => setTimeout(r, 500));
          try {
            child.kill(signal);
          } catch { /* it had already stopped */ }
        }
        const status = await child.status;
        const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
        assert.ok(status.success || status.signal === signal, `exit ${status.code}: ${stderr}`);
      }
    },
  });
}
