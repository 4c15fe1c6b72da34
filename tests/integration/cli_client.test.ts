import assert from "node:assert/strict";
import { databaseUrl, dbTest, freePort, startServer, uniqueTopic, waitFor } from "../helpers/instances.ts";

const root = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();

function cli(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "mod.ts", ...args],
    cwd: root,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test({
  name: "ssepg publish and subscribe: events as JSON lines, reconnection with Last-Event-ID after a restart",
  ...dbTest,
  async fn() {
    const port = freePort();
    const options = { databaseUrl: databaseUrl(), port, retry: 100, publishToken: "p", listenToken: "l" };
    let server = await startServer(options);
    const topic = uniqueTopic("cli");
    const subscriber = cli(["subscribe", topic, "--url", server.url], { SSEPG_TOKEN: "l" }).spawn();
    const lines: string[] = [];
    let stderr = "";
    const reading = (async () => {
      let buffer = "";
      for await (const chunk of subscriber.stdout) {
        buffer += decoder.decode(chunk);
        const parts = buffer.split("\n");
        buffer = parts.pop()!;
        lines.push(...parts);
      }
    })();
    const errors = (async () => {
      for await (const chunk of subscriber.stderr) stderr += decoder.decode(chunk);
    })();
    try {
      await waitFor(() => server.service.health().totals.subscribers === 1, 10_000, "the CLI subscriber");
      const published = await cli(["publish", topic, '{"n":1}', "--url", server.url, "--token", "p"]).output();
      assert.equal(published.code, 0, decoder.decode(published.stderr));
      const answer = JSON.parse(decoder.decode(published.stdout));
      assert.equal(answer.topic, topic);
      await waitFor(() => lines.length >= 1, 5_000, "the first event line");
      assert.deepEqual(JSON.parse(lines[0]), { id: answer.id, event: "message", data: { n: 1 } });

      await server.shutdown();
      server = await startServer(options); // a new instance: it never saw the first event
      await waitFor(() => lines.length >= 2, 10_000, "the gap line after reconnecting");
      assert.deepEqual(
        JSON.parse(lines[1]),
        { id: null, event: "gap", data: { lastEventId: answer.id } },
        "Last-Event-ID was sent",
      );
      assert.match(stderr, /reconnecting in 100 ms/);
      const again = await cli(["publish", topic, '"two"', "--url", server.url, "--token", "p"]).output();
      assert.equal(again.code, 0);
      await waitFor(() => lines.length >= 3, 5_000, "the event after reconnecting");
      assert.equal(JSON.parse(lines[2]).data, "two");
    } finally {
      subscriber.kill("SIGINT");
      assert.equal((await subscriber.status).code, 0, stderr);
      await reading;
      await errors;
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "ssepg publish/subscribe errors: bad data exits 2, refused requests exit 1 with the problem on stderr",
  ...dbTest,
  async fn() {
    const server = await startServer({ databaseUrl: databaseUrl(), publishToken: "p", listenToken: "l" });
    try {
      const notJson = await cli(["publish", "a", "not json", "--url", server.url]).output();
      assert.equal(notJson.code, 2);
      assert.match(decoder.decode(notJson.stderr), /must be JSON/);
      const missing = await cli(["publish", "a", "--url", server.url]).output();
      assert.equal(missing.code, 2);
      const noToken = await cli(["publish", "a", "1", "--url", server.url]).output();
      assert.equal(noToken.code, 1);
      assert.match(decoder.decode(noToken.stderr), /401 Unauthorized: A bearer token is required to publish/);
      const badTopic = await cli(["publish", "bad topic", "1", "--url", server.url, "--token", "p"]).output();
      assert.equal(badTopic.code, 1);
      assert.match(decoder.decode(badTopic.stderr), /400/);
      const badListen = await cli(["subscribe", "a", "--url", server.url, "--token", "wrong"]).output();
      assert.equal(badListen.code, 1);
      assert.match(decoder.decode(badListen.stderr), /401/);
      const unknownFlag = await cli(["publish", "a", "1", "--port", "1"]).output();
      assert.equal(unknownFlag.code, 2);
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "ssepg publish against a server that is down names the URL and the reason, and exits 1",
  async fn() {
    const url = `http://127.0.0.1:${freePort()}`;
    const result = await cli(["publish", "alpha", "1", "--url", url]).output();
    assert.equal(result.code, 1);
    assert.equal(decoder.decode(result.stderr).trim(), `ssepg: cannot reach ${url}: connection refused`);
    assert.equal(decoder.decode(result.stdout), "");
  },
});
