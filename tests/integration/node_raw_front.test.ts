/**
 * The raw-socket front of the node:http listener, on Node (dist/cli.js) and on Deno's
 * node:http, over raw sockets: a plain GET for a stream is served on the socket (chunked or,
 * on HTTP/1.0, close-delimited, with `Connection: close`), a client leaving unsubscribes, and
 * everything the front does not serve — other requests, malformed heads, pipelined requests
 * after a non-stream GET, slow heads — is answered as node:http answers it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, dbTest, uniqueTopic, waitFor } from "../helpers/instances.ts";
import {
  type Runtime,
  runtimesUnderTest,
  serverCommand,
  type ServerProcess,
  startProcess,
} from "../../scripts/processes.ts";
import { createSsepg } from "../../src/service/create.ts";
import { listenNode } from "../../src/serve/node.ts";
import { silentLogger } from "../../src/log.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");
const listenToken = "raw-front-listen";
const publishToken = "raw-front-publish";

/** A raw connection: writes, a half-close, and reads as they come. */
class Raw {
  readonly #conn: Deno.TcpConn;
  #text = "";
  #closed = false;
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reading = (async () => {
      const buffer = new Uint8Array(65_536);
      try {
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) break;
          this.#text += decoder.decode(buffer.subarray(0, n));
        }
      } catch {
        // reset by the server, or closed here
      }
      this.#closed = true;
    })();
  }

  static async open(base: string): Promise<Raw> {
    const url = new URL(base);
    return new Raw(await Deno.connect({ hostname: url.hostname, port: Number(url.port) }));
  }

  get text(): string {
    return this.#text;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async write(text: string): Promise<void> {
    await this.#conn.write(encoder.encode(text));
  }

  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }

  /** Waits until `done(text)` or the server closes; fails after `ms`. */
  async until(done: (text: string) => boolean, ms = 3_000, what = "the answer"): Promise<string> {
    const deadline = Date.now() + ms;
    while (!done(this.#text) && !this.#closed) {
      if (Date.now() > deadline) assert.fail(`${what} did not come within ${ms} ms: ${JSON.stringify(this.#text)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.#text;
  }

  /** Waits for the server to close the connection; fails after `ms`. */
  async untilClosed(ms = 3_000): Promise<string> {
    await this.until(() => false, ms, "the close");
    return this.#text;
  }

  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
    await this.#reading;
  }
}

const streamGet = (topic: string, version = "HTTP/1.1", extra = "") =>
  `GET /topics/${topic}/events ${version}\r\n${version === "HTTP/1.1" ? "Host: x\r\n" : ""}` +
  `Authorization: Bearer ${listenToken}\r\nAccept: text/event-stream\r\n${extra}\r\n`;

const listening = (topic: string) => (text: string) => text.includes(`: listening ${topic}\n\n`);

function headOf(text: string): string {
  return text.slice(0, text.indexOf("\r\n\r\n") + 2);
}

async function publish(base: string, topic: string, data: unknown): Promise<string> {
  const response = await fetch(`${base}/topics/${topic}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${publishToken}`, "content-type": "application/json" },
    body: JSON.stringify({ data }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).id;
}

async function subscribers(base: string): Promise<number> {
  const response = await fetch(`${base}/healthz`);
  return (await response.json()).totals.subscribers;
}

/** One server per runtime, with every case run against it; no stack trace may be logged. */
function suite(runtime: Runtime, cases: [string, (base: string) => Promise<void>][]): void {
  const command = serverCommand(runtime);
  if (!Array.isArray(command)) {
    console.error(`raw front on ${runtime}: NOT RUN (${command.missing})`);
    return;
  }
  Deno.test({
    name: `raw front on ${runtime}'s node:http`,
    ...dbTest,
    async fn(t) {
      const server: ServerProcess = await startProcess(runtime, {
        env: {
          DATABASE_URL: databaseUrl(),
          SSEPG_LISTEN_TOKEN: listenToken,
          SSEPG_PUBLISH_TOKEN: publishToken,
        },
      });
      try {
        for (const [name, fn] of cases) await t.step(name, () => fn(server.url));
        assert.doesNotMatch(server.stderr(), /^\s+at \S/m, "no stack trace logged");
      } finally {
        await server.stop();
      }
    },
  });
}

const cases: [string, (base: string) => Promise<void>][] = [
  [
    "a stream GET is served on the socket: chunked, Connection: close, events arrive; leaving unsubscribes",
    async (base) => {
      const topic = uniqueTopic("raw");
      const raw = await Raw.open(base);
      try {
        await raw.write(streamGet(topic));
        const head = headOf(await raw.until(listening(topic)));
        assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(head, /\r\nContent-Type: text\/event-stream; charset=utf-8\r\n/);
        assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/);
        assert.match(head, /\r\nConnection: close\r\n/);
        assert.match(head, /\r\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
        assert.equal(await subscribers(base), 1);
        const id = await publish(base, topic, { n: 1 });
        const text = await raw.until((s) => s.includes(`id: ${id}\n`));
        assert.match(text, /\r\n[0-9a-f]+\r\nid: [^\n]+\nevent: message\ndata: \{"n":1\}\n\n\r\n/);
      } finally {
        await raw.close();
      }
      await waitFor(async () => await subscribers(base) === 0, 3_000);
    },
  ],
  [
    "an HTTP/1.0 stream without Host is close-delimited",
    async (base) => {
      const topic = uniqueTopic("raw10");
      const raw = await Raw.open(base);
      try {
        await raw.write(streamGet(topic, "HTTP/1.0"));
        const text = await raw.until(listening(topic));
        assert.doesNotMatch(headOf(text), /Transfer-Encoding/i);
        assert.match(text, /\r\n\r\nretry: \d+\n\n: listening /);
        const id = await publish(base, topic, 2);
        assert.match(await raw.until((s) => s.includes(`id: ${id}\n`)), /\ndata: 2\n\n$/);
      } finally {
        await raw.close();
      }
    },
  ],
  [
    "a head sent in pieces is read to its end",
    async (base) => {
      const topic = uniqueTopic("pieces");
      const request = streamGet(topic);
      const raw = await Raw.open(base);
      try {
        for (const piece of [request.slice(0, 3), request.slice(3, 20), request.slice(20, -1), request.slice(-1)]) {
          await raw.write(piece);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.match(await raw.until(listening(topic)), /^HTTP\/1\.1 200 /);
      } finally {
        await raw.close();
      }
    },
  ],
  [
    "a client that half-closes after the head is closed and unsubscribed",
    async (base) => {
      const topic = uniqueTopic("fin");
      const raw = await Raw.open(base);
      try {
        await raw.write(streamGet(topic));
        await raw.until(listening(topic));
        await raw.closeWrite();
        await raw.untilClosed();
      } finally {
        await raw.close();
      }
      await waitFor(async () => await subscribers(base) === 0, 3_000);
    },
  ],
  [
    "a client that resets right after the head leaves nothing subscribed",
    async (base) => {
      for (let i = 0; i < 20; i++) {
        const raw = await Raw.open(base);
        await raw.write(streamGet(uniqueTopic("reset")));
        await raw.close();
      }
      await waitFor(async () => await subscribers(base) === 0, 3_000);
    },
  ],
  [
    "bytes pipelined behind a stream GET are not answered: the stream is served and says Connection: close",
    async (base) => {
      const topic = uniqueTopic("pipestream");
      const raw = await Raw.open(base);
      try {
        await raw.write(streamGet(topic) + "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
        const text = await raw.until(listening(topic));
        const id = await publish(base, topic, 3);
        await raw.until((s) => s.includes(`id: ${id}\n`));
        assert.equal(text.match(/HTTP\/1\.1 /g)?.length, 1, text);
      } finally {
        await raw.close();
      }
    },
  ],
  [
    "GETs that are not streams go to node:http with their reply: keep-alive and pipelining as before",
    async (base) => {
      const raw = await Raw.open(base);
      try {
        await raw.write("GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        const text = await raw.until((s) => s.includes('"totals"'));
        const heads = text.match(/HTTP\/1\.1 \d{3}/g);
        assert.deepEqual(heads, ["HTTP/1.1 200", "HTTP/1.1 200"]);
        assert.match(text, /\r\nConnection: keep-alive\r\n/);
        assert.ok(text.indexOf('{"status":"ok"}') < text.indexOf('"totals"'), "in order");
        // The same connection, now node:http's, still serves a stream.
        const topic = uniqueTopic("after");
        await raw.write(streamGet(topic));
        const stream = (await raw.until(listening(topic))).slice(text.length);
        assert.match(stream, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(headOf(stream), /\r\nConnection: keep-alive\r\n/, "node:http's stream");
      } finally {
        await raw.close();
      }
    },
  ],
  [
    "a refused stream GET (no token) gets its 401 through node:http, and the connection serves on",
    async (base) => {
      const raw = await Raw.open(base);
      try {
        await raw.write(`GET /topics/${uniqueTopic("noauth")}/events HTTP/1.1\r\nHost: x\r\n\r\n`);
        const text = await raw.until((s) => s.includes("}"));
        assert.match(text, /^HTTP\/1\.1 401 /);
        assert.match(text, /\r\nContent-Type: application\/problem\+json\r\n/i);
        await raw.write("GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert.match((await raw.untilClosed()).slice(text.length), /^HTTP\/1\.1 200 [^]*\{"status":"ok"\}$/);
      } finally {
        await raw.close();
      }
    },
  ],
  [
    "malformed or unusual heads get node:http's own answers",
    async (base) => {
      const topic = uniqueTopic("odd");
      const path = `/topics/${topic}/events`;
      const auth = `Authorization: Bearer ${listenToken}\r\n`;
      const expectations: [string, RegExp][] = [
        [`get ${path} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, /^HTTP\/1\.1 400 /],
        [`GET ${path} HTTP/1.1\nHost: x\n${auth.replace("\r", "")}\n`, /^HTTP\/1\.1 400 /],
        [`GET ${path} HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n${auth}\r\n`, /^HTTP\/1\.1 400 /],
        [
          `GET ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n${auth}\r\nab`,
          /^HTTP\/1\.1 400 /,
        ],
        [
          `GET ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n${auth}\r\n0\r\n\r\n`,
          /^HTTP\/1\.1 400 /,
        ],
        [`GET ${path} HTTP/1.1\r\n${auth}\r\n`, /^HTTP\/1\.1 400 /],
        [`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n${auth}\r\n`, /^HTTP\/1\.1 431 /],
        [`GET ${path} HTTP/1.1\r\nHost: b\xfccher\r\n${auth}Connection: close\r\n\r\n`, /^HTTP\/1\.1 400 [^]*problem/],
        [`HEAD ${path} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`, /^HTTP\/1\.1 200 [^]*event-stream/],
        [`GET ${path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n${auth}\r\n`, /^HTTP\/1\.1 100 [^]*: listening/],
        [`GET http://x${path} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, /^HTTP\/1\.1 200 [^]*keep-alive[^]*: listening/],
      ];
      const failures: string[] = [];
      for (const [request, expected] of expectations) {
        const raw = await Raw.open(base);
        try {
          await raw.write(request);
          const text = await raw.until((s) => expected.test(s), 3_000).catch((error) => error.message);
          if (!expected.test(text)) {
            failures.push(`${JSON.stringify(request.slice(0, 60))} → ${JSON.stringify(text.slice(0, 200))}`);
          }
        } finally {
          await raw.close();
        }
      }
      assert.deepEqual(failures, []);
    },
  ],
  [
    "a head that never ends, and a connection that sends nothing, get 408 and are closed within about 10 s",
    async (base) => {
      const [slow, silent] = await Promise.all([Raw.open(base), Raw.open(base)]);
      try {
        const started = Date.now();
        await slow.write("GET /topics/a/events HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        const [a, b] = await Promise.all([slow.untilClosed(14_000), silent.untilClosed(14_000)]);
        assert.ok(Date.now() - started >= 9_000, "not before the timeout");
        assert.match(a, /^HTTP\/1\.1 408 /);
        assert.match(b, /^HTTP\/1\.1 408 /);
      } finally {
        await Promise.all([slow.close(), silent.close()]);
      }
    },
  ],
  [
    "a POST whose body arrives in many packets is parsed in order: one answer, never body bytes read as requests",
    async (base) => {
      // On Deno, node:http's parser once read new packets before the bytes the front put back:
      // a valid publish got 400, and a body of requests was answered as requests. Node's net
      // client sends the pieces as fast as the race needs (Deno's, awaited write by write, not).
      const url = new URL(base);
      const client = `
        const net = require("node:net");
        const [port, token, topic] = process.argv.slice(1);
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        const bodies = [JSON.stringify({ data: { x: "x".repeat(20000) } }),
          "GET /livez HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n".repeat(40)];
        (async () => {
          for (let attempt = 0; attempt < 200; attempt++) {
            const body = Buffer.from(bodies[attempt % 2]);
            const s = net.connect(Number(port), "127.0.0.1");
            s.setNoDelay(true);
            let got = "";
            s.on("data", (d) => got += d.toString("latin1"));
            s.on("error", () => {});
            await new Promise((r) => s.on("connect", r));
            s.write("POST /topics/" + topic + "/events HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer " + token +
              "\\r\\nContent-Type: application/json\\r\\nContent-Length: " + body.length + "\\r\\nConnection: close\\r\\n\\r\\n");
            for (let at = 0; at < body.length; at += 500) { s.write(body.subarray(at, at + 500)); await sleep(at % 2000 === 0 ? 1 : 0); }
            // The answer is whole when its Content-Length bytes are in (or the server closes).
            const whole = () => {
              const end = got.indexOf("\\r\\n\\r\\n");
              const length = /content-length: (\\d+)/i.exec(got);
              return end >= 0 && length !== null && got.length >= end + 4 + Number(length[1]);
            };
            for (let waited = 0; !whole() && !s.destroyed && s.readable && waited < 5000; waited += 5) await sleep(5);
            await sleep(20); // anything after the answer would be a second one
            console.log(JSON.stringify(got.split("\\r\\n")[0] + " x" + (got.split("HTTP/1.1 ").length - 1)));
            s.destroy();
          }
        })();`;
      const out = await new Deno.Command("node", {
        args: ["-e", client, url.port, publishToken, uniqueTopic("pieces")],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const lines = decoder.decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l) as string);
      assert.equal(lines.length, 200, decoder.decode(out.stderr));
      lines.forEach((line, attempt) => {
        const expected = attempt % 2 === 0 ? "HTTP/1.1 200 OK x1" : "HTTP/1.1 400 Bad Request x1";
        assert.equal(line, expected, `attempt ${attempt}`);
      });
    },
  ],
];

for (const runtime of runtimesUnderTest()) {
  if (runtime !== "bun") suite(runtime, cases);
}

Deno.test("raw front: the pipeline runs once per request, whether the front or node:http sends the reply", async () => {
  const svc = await createSsepg({ logger: silentLogger });
  const paths: string[] = [];
  const listener = await listenNode((head) => {
    paths.push(head.path);
    return svc.handle(head);
  }, { port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${listener.port}`;
  const raw = await Raw.open(base);
  const stream = await Raw.open(base);
  try {
    await raw.write("GET /livez HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    await raw.until((s) => s.match(/HTTP\/1\.1 200 /g)?.length === 2);
    await stream.write("GET /topics/once/events HTTP/1.1\r\nHost: x\r\n\r\n");
    await stream.until(listening("once"));
    assert.deepEqual(paths, ["/livez", "/readyz", "/topics/once/events"]);
  } finally {
    await Promise.all([raw.close(), stream.close()]);
    await svc.close();
    await listener.close();
  }
});
