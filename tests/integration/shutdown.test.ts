import assert from "node:assert/strict";
import { databaseUrl, dbTest, publish, startServer, uniqueTopic } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";

const decoder = new TextDecoder();
const root = new URL("../../", import.meta.url).pathname;

Deno.test({
  name: "shutdown: streams get ': server shutting down' and end, new POSTs get 503",
  ...dbTest,
  async fn() {
    const server = await startServer({ databaseUrl: databaseUrl(), gracefulDrain: 2_000 });
    const topic = uniqueTopic("bye");
    const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
    await client.next();
    const { body } = await publish(server.url, topic, "last");
    const stopping = server.shutdown();
    const response = await server.service.fetch(
      new Request(`${server.url}/topics/${topic}/events`, { method: "POST", body: '{"data":1}' }),
    );
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
    await response.body?.cancel();
    const event = await client.nextEvent();
    assert.equal(event.id, body.id, "queued frames are delivered first");
    const bye = await client.next();
    assert.deepEqual(bye.comments, ["server shutting down"]);
    await client.waitForEnd();
    await stopping;
  },
});

async function readLine(reader: ReadableStreamDefaultReader<Uint8Array>, timeout = 30_000): Promise<string> {
  let text = "";
  const deadline = Date.now() + timeout;
  while (!text.includes("\n")) {
    if (Date.now() > deadline) throw new Error(`no line within ${timeout} ms: ${JSON.stringify(text)}`);
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  return text.split("\n")[0];
}

Deno.test({
  name: "`deno run -A mod.ts` prints one listening line, serves, and exits 0 on SIGTERM after draining",
  ...dbTest,
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "mod.ts", "serve", "--port", "0", "--host", "127.0.0.1", "--graceful-drain", "2s"],
      cwd: root,
      env: { DATABASE_URL: databaseUrl() },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = child.stdout.getReader();
    const line = await readLine(stdout);
    const match = /^ssepg listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    assert.ok(match, line);
    const base = match[1];
    const topic = uniqueTopic("cli");
    const client = await SseClient.open(`${base}/topics/${topic}/events`);
    const { status, body } = await publish(base, topic, "via cli");
    assert.equal(status, 200);
    assert.equal((await client.nextEvent()).id, body.id);
    child.kill("SIGTERM");
    assert.deepEqual((await client.next()).comments, ["server shutting down"]);
    await client.waitForEnd();
    const { code } = await child.status;
    assert.equal(code, 0);
    let rest = "";
    for (;;) {
      const { value, done } = await stdout.read();
      if (done) break;
      rest += decoder.decode(value);
    }
    assert.equal(rest, "", "stdout holds only the listening line");
    const stderr = decoder.decode(await new Response(child.stderr).arrayBuffer());
    assert.match(stderr, /SIGTERM received/);
    assert.match(stderr, /Subscribe endpoints are UNAUTHENTICATED/);
  },
});

Deno.test({
  name: "a bad option exits 2 before listening, naming the option, the value and what is allowed",
  ...dbTest,
  async fn() {
    for (
      const [args, env, fragment] of [
        [["--ring-capacity", "1000"], {}, "ringCapacity"],
        [[], { SSEPG_KEEP_ALIVE: "soon" }, "keepAlive"],
        [["--port=99999"], {}, "port"],
        [["--no-such-flag"], {}, "Unknown flag --no-such-flag"],
      ] as const
    ) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "mod.ts", ...args],
        cwd: root,
        env: { ...env },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(output.code, 2, `${args} ${JSON.stringify(env)}`);
      assert.equal(decoder.decode(output.stdout), "", "never listened");
      assert.ok(decoder.decode(output.stderr).includes(fragment), decoder.decode(output.stderr));
    }
  },
});

Deno.test({
  name: "`--help` lists every option with its env name and default; `--version` prints the version",
  ...dbTest,
  async fn() {
    const help = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", "mod.ts", "--help"], cwd: root })
      .output();
    assert.equal(help.code, 0);
    const text = decoder.decode(help.stdout);
    const { OPTIONS } = await import("../../src/config/config.ts");
    for (const o of OPTIONS) {
      assert.ok(text.includes(o.flag), o.flag);
      assert.ok(text.includes(o.env), o.env);
    }
    const version = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", "mod.ts", "--version"], cwd: root })
      .output();
    assert.match(decoder.decode(version.stdout), /^ssepg \d+\.\d+\.\d+/);
  },
});

Deno.test({
  name: "`--embedded-postgres` starts a local PostgreSQL, prints its URL and serves on it",
  ...dbTest,
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "mod.ts", "--embedded-postgres", "--port", "0", "--host", "127.0.0.1"],
      cwd: root,
      env: { DATABASE_URL: "" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const line = await readLine(child.stdout.getReader(), 60_000);
    const base = /^ssepg listening on (http:\/\/\S+)$/.exec(line)?.[1];
    assert.ok(base, line);
    const health = await (await fetch(`${base}/healthz`)).json();
    assert.equal(health.bus, "postgres");
    assert.equal(health.totals.listen_connected, true);
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    const stderr = decoder.decode(await new Response(child.stderr).arrayBuffer());
    assert.match(stderr, /embedded PostgreSQL at postgres:\/\/\S+ \(more instances can join with --database-url/);
  },
});
