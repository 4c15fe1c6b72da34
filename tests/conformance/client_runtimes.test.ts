/**
 * `ssepg/client` on Deno, Bun and Node: the same script (`tests/client/run_client.mjs`) runs
 * under each runtime against one in-process server whose streams end at each JWT's `exp` (1 s),
 * with tokens from a small token endpoint, as an application's backend would hand them out.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { freePort, startServer, uniqueTopic } from "../helpers/instances.ts";
import { root, runtimesUnderTest, which } from "../../scripts/processes.ts";

const SECRET = "client-runtimes-secret-of-32-bytes-or-more";
const decoder = new TextDecoder();

function jwt(ssepg: Record<string, string[]>, seconds: number): Promise<string> {
  return new SignJWT({ ssepg })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.ceil(Date.now() / 1000 + seconds))
    .sign(new TextEncoder().encode(SECRET));
}

function command(runtime: string): string[] {
  const script = `${root}tests/client/run_client.mjs`;
  switch (runtime) {
    case "deno":
      return [Deno.execPath(), "run", "-A", script];
    case "bun":
      return [which("bun")!, "run", script];
    default:
      return [which("node")!, script];
  }
}

for (const runtime of runtimesUnderTest()) {
  Deno.test({
    name: `ssepg/client under ${runtime}: multi-topic handlers, resume after token expiry, gap, errors`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const server = await startServer({ jwtSecret: SECRET, retry: 100 });
      const topics = [uniqueTopic("rta"), uniqueTopic("rtb")];
      const tokens = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen: () => {} },
        async () => new Response(await jwt({ subscribe: topics }, 1)),
      );
      const module = runtime === "node"
        ? new URL("dist/src/client/mod.js", `file://${root}`).href
        : new URL("src/client/mod.ts", `file://${root}`).href;
      const config = {
        module,
        server: server.url,
        tokenUrl: `http://127.0.0.1:${tokens.addr.port}/`,
        publishToken: await jwt({ publish: ["*"] }, 120),
        topics,
        closedUrl: `http://127.0.0.1:${freePort()}`,
      };
      try {
        const [exe, ...args] = command(runtime);
        const output = await new Deno.Command(exe, {
          args: [...args, JSON.stringify(config)],
          cwd: root,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = decoder.decode(output.stderr);
        assert.equal(output.code, 0, stderr);
        const result = JSON.parse(decoder.decode(output.stdout).trim().split("\n").pop()!);
        assert.deepEqual(result.received, result.published, "every event once, in order, across reconnections");
        assert.deepEqual(result.perTopic[topics[0]].filter((n: number) => n < 100), [0, 2]);
        assert.deepEqual(result.perTopic[topics[1]], [1, 3, 200]);
        assert.ok(result.reconnects.length >= 1 && result.reconnects.every((r: string) => r === "token expired"));
        assert.ok(result.tokens >= 2, "a fresh token per connection");
        assert.equal(result.opens[0], null);
        assert.ok(result.opens[1], "the reconnection sent Last-Event-ID");
        assert.deepEqual(result.gaps, [{ lastEventId: "long-gone" }]);
        assert.deepEqual(result.badTopic, { problem: true, status: 400, type: "urn:ssepg:problem:invalid-topic" });
        assert.deepEqual(result.down, {
          connection: true,
          message: `Cannot reach ${config.closedUrl}: connection refused`,
        });
      } finally {
        await tokens.shutdown();
        await server.shutdown();
      }
    },
  });
}
