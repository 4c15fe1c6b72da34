// ssepg/client in headless Chromium: a page on another origin (same site, another port) imports
// the built module (dist/src/client/mod.js, with an import map for eventsource-parser, as a
// bundler would resolve it) and
// - subscribes to two topics with a handler each, sending `Authorization: Bearer` from a token
//   callback (CORS preflight); each 1 s JWT ends its stream, and the client reconnects with a
//   fresh token and Last-Event-ID, losing nothing;
// - subscribes with `credentials: "include"` and an HttpOnly JWT cookie, no token;
// - gets `event: gap` in onGap for an id that is gone.
//
// The server runs on Node (dist/cli.js) with its in-process bus; the test runs on `node --test`,
// started by scripts/test.ts. Needs dist/ (npm run build) and Chromium at /usr/bin/chromium
// (or CHROMIUM_PATH).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join, normalize } from "node:path";
import { test } from "node:test";
import { SignJWT } from "jose";
import { chromium } from "playwright-core";

const root = new URL("../../", import.meta.url).pathname;
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SECRET = "browser-client-secret-of-32-bytes-or-more";
const COOKIE = "ssepg_token";

function jwt(ssepg, seconds) {
  return new SignJWT({ ssepg })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.ceil(Date.now() / 1000 + seconds))
    .sign(new TextEncoder().encode(SECRET));
}

function startSsepg(env) {
  const child = spawn(process.execPath, [join(root, "dist/cli.js"), "serve", "--port", "0", "--host", "127.0.0.1"], {
    env: { PATH: process.env.PATH, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b) => (stderr += b));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (b) => {
      out += b;
      const match = /ssepg listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once("exit", (code) => reject(new Error(`ssepg exited with ${code}: ${stderr}`)));
  });
}

const page = (api, topics) =>
  `<!doctype html><meta charset="utf-8"><title>ssepg/client</title>
<script type="importmap">{ "imports": { "eventsource-parser": "/node_modules/eventsource-parser/dist/index.js" } }</script>
<script type="module">
  import { subscribe } from "/dist/src/client/mod.js";
  const [a, b] = ${JSON.stringify(topics)};
  const api = ${JSON.stringify(api)};
  globalThis.state = { received: [], perTopic: { [a]: [], [b]: [] }, opens: [], reconnects: [], tokens: 0, errors: [] };
  const state = globalThis.state;
  globalThis.withToken = () => subscribe({ baseUrl: api, topics: [a, b] }, {
    token: async () => (state.tokens++, await (await fetch("/token")).text()),
    onOpen: (info) => state.opens.push(info.lastEventId ?? null),
    onEvent: (e) => state.received.push(e.id),
    handlers: { [a]: (e) => state.perTopic[a].push(e.data.n), [b]: (e) => state.perTopic[b].push(e.data.n) },
    onReconnect: (info) => state.reconnects.push(info.reason),
    onError: (error) => state.errors.push(error.message),
  });
  globalThis.withCookie = async () => {
    await fetch("/login", { method: "POST" });
    state.cookie = [];
    return subscribe(api + "/topics/" + a + "/events", {
      credentials: "include",
      onOpen: () => state.cookieOpen = true,
      onEvent: (e) => state.cookie.push(e.data.n),
      onError: (error) => state.errors.push(error.message),
    });
  };
  globalThis.withGap = () => {
    state.gaps = [];
    return subscribe({ baseUrl: api, topics: a }, {
      token: async () => await (await fetch("/token")).text(),
      lastEventId: "long-gone",
      onGap: (gap) => state.gaps.push(gap),
    });
  };
  globalThis.ready = true;
</script>`;

const FILES = { "/dist/": "dist/", "/node_modules/eventsource-parser/": "node_modules/eventsource-parser/" };

test(
  "ssepg/client in Chromium: token callback + CORS, multi-topic handlers, resume after token expiry, cookie auth, gap",
  {
    timeout: 120_000,
  },
  async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const topics = [`browser-client-a-${suffix}`, `browser-client-b-${suffix}`];
    const target = { api: "" };
    const pages = createServer(async (req, res) => {
      const path = new URL(req.url, "http://x").pathname;
      if (path === "/token") {
        res.writeHead(200, { "content-type": "text/plain" });
        return res.end(await jwt({ subscribe: topics }, 1));
      }
      if (path === "/login" && req.method === "POST") {
        const token = await jwt({ subscribe: topics }, 60);
        res.writeHead(204, { "set-cookie": `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60` });
        return res.end();
      }
      const prefix = Object.keys(FILES).find((p) => path.startsWith(p));
      if (prefix && path.endsWith(".js")) {
        const file = normalize(join(root, FILES[prefix], path.slice(prefix.length)));
        if (file.startsWith(join(root, FILES[prefix]))) {
          try {
            const body = await readFile(file);
            res.writeHead(200, { "content-type": "text/javascript" });
            return res.end(body);
          } catch { /* 404 below */ }
        }
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { "content-type": "text/html" });
      res.end(page(target.api, topics));
    });
    pages.listen(0, "127.0.0.1");
    await once(pages, "listening");
    const pageOrigin = `http://localhost:${pages.address().port}`;
    const ssepg = await startSsepg({
      SSEPG_JWT_SECRET: SECRET,
      SSEPG_JWT_COOKIE: COOKIE,
      SSEPG_CORS_ORIGINS: pageOrigin,
      SSEPG_RETRY: "200",
      SSEPG_GRACEFUL_DRAIN: "1s",
    });
    target.api = `http://localhost:${ssepg.port}`;
    const direct = `http://127.0.0.1:${ssepg.port}`;
    const publisher = await jwt({ publish: ["*"] }, 120);
    const published = [];
    const publish = async (topic, n) => {
      const response = await fetch(`${direct}/topics/${topic}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${publisher}`, "content-type": "application/json" },
        body: JSON.stringify({ data: { n } }),
      });
      assert.equal(response.status, 200);
      const { id } = await response.json();
      published.push(id);
      return id;
    };
    let browser;
    try {
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
      const console = [];
      tab.on("console", (m) => console.push(m.text()));
      tab.on("pageerror", (e) => console.push(String(e)));
      await tab.goto(`${pageOrigin}/`);
      await tab.waitForFunction(() => globalThis.ready === true, null, { timeout: 10_000 }).catch(() => {
        throw new Error(`the page did not load the client: ${console.join("\n")}`);
      });

      // Token callback, two topics, across token expiries.
      await tab.evaluate(() => void (globalThis.subscription = globalThis.withToken()));
      await tab.waitForFunction(() => globalThis.state.opens.length === 1, null, { timeout: 10_000 });
      const [a, b] = topics;
      const deadline = Date.now() + 2_500;
      for (let n = 0; Date.now() < deadline; n++) {
        await publish(n % 2 ? b : a, n);
        await new Promise((r) => setTimeout(r, 50));
      }
      await tab.waitForFunction((n) => globalThis.state.received.length >= n, published.length, { timeout: 10_000 });
      const state = await tab.evaluate(() => globalThis.state);
      assert.deepEqual(state.received, published, "every event once, in order, across reconnections");
      assert.ok(state.reconnects.length >= 1, "the stream ended at the token's exp");
      assert.ok(state.reconnects.every((r) => r === "token expired"), state.reconnects.join());
      assert.ok(state.tokens >= 2, "a fresh token per connection");
      assert.ok(state.opens[1], "the reconnection sent Last-Event-ID");
      assert.deepEqual(state.errors, []);
      const count = published.length;
      assert.deepEqual(state.perTopic[a], [...Array(count).keys()].filter((n) => n % 2 === 0));
      assert.deepEqual(state.perTopic[b], [...Array(count).keys()].filter((n) => n % 2 === 1));
      await tab.evaluate(() => globalThis.subscription.close());

      // Cookie auth: credentials "include", no token.
      await tab.evaluate(async () => void (globalThis.cookieSubscription = await globalThis.withCookie()));
      await tab.waitForFunction(() => globalThis.state.cookieOpen === true, null, { timeout: 10_000 });
      await publish(a, 1000);
      await tab.waitForFunction(() => globalThis.state.cookie.length === 1, null, { timeout: 10_000 });
      assert.deepEqual(await tab.evaluate(() => globalThis.state.cookie), [1000]);

      // Gap.
      await tab.evaluate(() => void globalThis.withGap());
      await tab.waitForFunction(() => globalThis.state.gaps.length === 1, null, { timeout: 10_000 });
      assert.deepEqual(await tab.evaluate(() => globalThis.state.gaps), [{ lastEventId: "long-gone" }]);
      assert.deepEqual(await tab.evaluate(() => globalThis.state.errors), []);
    } finally {
      await browser?.close();
      pages.close();
      if (ssepg.child.exitCode === null) ssepg.child.kill("SIGKILL");
    }
  },
);
