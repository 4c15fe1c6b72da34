// A real EventSource in headless Chromium against ssepg on Node: a page on another origin
// authenticates with the query token through CORS, receives events over gzip, survives the loss
// of its instance by reconnecting on its own (with Last-Event-ID) to a second one that replays
// what it missed, and sees `event: gap` for an id that is gone.
//
// The ssepg servers run on each runtime of SSEPG_TEST_RUNTIMES; the test itself runs on
// `node --test` (Playwright runs best on Node), started by scripts/test.ts. Needs DATABASE_URL,
// dist/ (npm run build) and Chromium at /usr/bin/chromium (or CHROMIUM_PATH).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer as createTcpServer } from "node:net";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { chromium } from "playwright-core";

const root = new URL("../../", import.meta.url).pathname;
const databaseUrl = process.env.DATABASE_URL;
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const runtimes = (process.env.SSEPG_TEST_RUNTIMES ?? "deno,bun,node").split(",");

function which(name) {
  for (const dir of [join(root, "node_modules/.bin"), ...(process.env.PATH ?? "").split(":")]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`${name} is not installed`);
}

const commands = {
  deno: () => [which("deno"), "run", "-A", join(root, "mod.ts")],
  bun: () => [which("bun"), "run", join(root, "mod.ts")],
  node: () => [process.execPath, join(root, "dist/cli.js")],
};

function startSsepg(runtime, env) {
  const [exe, ...base] = commands[runtime]();
  const child = spawn(exe, [...base, "serve", "--port", "0", "--host", "127.0.0.1"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b) => (stderr += b));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (b) => {
      out += b;
      const match = /ssepg listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, url: match[1], stderr: () => stderr });
    });
    child.once("exit", (code) => reject(new Error(`ssepg exited with ${code}: ${stderr}`)));
  });
}

/** A one-target TCP load balancer whose target can be switched, like an LB after a failover. */
async function startBalancer(target) {
  const state = { target, sockets: new Set() };
  const server = createTcpServer((client) => {
    const upstream = connect(state.target);
    state.sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    switchTo(next) {
      state.target = next;
    },
    close() {
      for (const s of state.sockets) s.destroy();
      server.close();
    },
  };
}

function hostPort(url) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

async function publish(base, topic, data) {
  const response = await fetch(`${base}/topics/${topic}/events`, {
    method: "POST",
    headers: { authorization: "Bearer pub", "content-type": "application/json" },
    body: JSON.stringify({ data }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).id;
}

const page = (api, topic, query) =>
  `<!doctype html><meta charset="utf-8"><title>ssepg</title>
<script>
  globalThis.received = []; globalThis.gaps = []; globalThis.errors = 0; globalThis.opens = 0;
  const source = new EventSource(${JSON.stringify(api)} + "/topics/${topic}/events?access_token=listen${query}");
  source.onopen = () => globalThis.opens++;
  source.onerror = () => globalThis.errors++;
  source.onmessage = (e) => globalThis.received.push({ id: e.lastEventId, data: JSON.parse(e.data) });
  source.addEventListener("gap", (e) => globalThis.gaps.push(JSON.parse(e.data)));
</script>`;

for (const runtime of runtimes) {
  test(
    `EventSource in Chromium against ${runtime}: CORS + query token, gzip, failover resume with Last-Event-ID, gap`,
    { timeout: 120_000 },
    async () => {
      assert.ok(databaseUrl, "DATABASE_URL is needed");
      const topic = `browser-${Math.random().toString(36).slice(2, 8)}`;
      const pages = createHttpServer((req, res) => {
        const url = new URL(req.url, "http://x");
        res.writeHead(200, { "content-type": "text/html" });
        res.end(page(url.searchParams.get("api"), topic, url.searchParams.get("q") ?? ""));
      });
      pages.listen(0, "127.0.0.1");
      await once(pages, "listening");
      const pageOrigin = `http://127.0.0.1:${pages.address().port}`;
      const env = {
        DATABASE_URL: databaseUrl,
        SSEPG_PUBLISH_TOKEN: "pub",
        SSEPG_LISTEN_TOKEN: "listen",
        SSEPG_ALLOW_QUERY_TOKEN: "true",
        SSEPG_CORS_ORIGINS: pageOrigin,
        SSEPG_RETRY: "1000",
        SSEPG_GRACEFUL_DRAIN: "1s",
      };
      const a = await startSsepg(runtime, env);
      const b = await startSsepg(runtime, env);
      const lb = await startBalancer(hostPort(a.url));
      let browser;
      try {
        // Flags from the machine notes: without the background-networking ones Chromium keeps
        // dialling hosts this closed network refuses. Playwright gives it a fresh profile.
        browser = await chromium.launch({
          executablePath,
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        });
        const tab = await browser.newPage();
        const encodings = [];
        tab.on("response", async (response) => {
          if (response.url().includes("/events")) encodings.push((await response.allHeaders())["content-encoding"]);
        });
        await tab.goto(`${pageOrigin}/?api=${encodeURIComponent(lb.url)}`);
        await tab.waitForFunction(() => globalThis.opens === 1, null, { timeout: 10_000 });

        const ids = [];
        for (let i = 0; i < 3; i++) ids.push(await publish(a.url, topic, { i }));
        await tab.waitForFunction((n) => globalThis.received.length >= n, 3, { timeout: 10_000 });
        assert.deepEqual(await tab.evaluate(() => globalThis.received.map((e) => e.id)), ids);
        assert.ok(encodings.includes("gzip"), `the stream was gzip-encoded (${encodings})`);

        // Instance A goes away; the balancer sends the next connection to B. Events published while
        // the page is away reach B through PostgreSQL, and B replays them on reconnection.
        lb.switchTo(hostPort(b.url));
        a.child.kill("SIGTERM");
        await once(a.child, "exit");
        for (let i = 3; i < 6; i++) ids.push(await publish(b.url, topic, { i }));
        await tab.waitForFunction((n) => globalThis.received.length >= n, 6, { timeout: 15_000 });
        const afterFailover = await tab.evaluate(() => ({
          ids: globalThis.received.map((e) => e.id),
          opens: globalThis.opens,
          gaps: globalThis.gaps,
        }));
        assert.deepEqual(afterFailover.ids, ids, "every event exactly once, in order, across the failover");
        assert.ok(afterFailover.opens >= 2, "EventSource reconnected on its own");
        assert.deepEqual(afterFailover.gaps, []);
        const metrics = await (await fetch(`${b.url}/metrics`)).text();
        const replayed = Number(/^ssepg_replayed_events_total (\d+)$/m.exec(metrics)?.[1]);
        assert.ok(replayed >= 3, `B replayed what the page missed (${replayed})`);

        const second = await browser.newPage();
        await second.goto(
          `${pageOrigin}/?api=${encodeURIComponent(b.url)}&q=${encodeURIComponent("&lastEventId=long-gone")}`,
        );
        await second.waitForFunction(() => globalThis.gaps.length === 1, null, { timeout: 10_000 });
        assert.deepEqual(await second.evaluate(() => globalThis.gaps), [{ lastEventId: "long-gone" }]);
        const live = await publish(b.url, topic, { i: "live" });
        await second.waitForFunction(() => globalThis.received.length === 1, null, { timeout: 10_000 });
        assert.equal(await second.evaluate(() => globalThis.received[0].id), live);
      } finally {
        await browser?.close();
        lb.close();
        pages.close();
        for (const s of [a, b]) if (s.child.exitCode === null) s.child.kill("SIGKILL");
      }
    },
  );
}
