// JWT cookie auth in headless Chromium: a page on another origin (same site, another port) logs
// in at its own server, which sets an HttpOnly cookie holding a short-lived JWT; the page opens
// `new EventSource(url, { withCredentials: true })` on ssepg, which reads the token from the
// cookie (SSEPG_JWT_COOKIE) and allows the credentialed CORS request for the listed origin.
// Each stream ends when its token expires; the page keeps renewing the cookie, so EventSource
// reconnects on its own with the fresh cookie and Last-Event-ID, and no event is lost.
//
// Runs on `node --test` like eventsource.test.mjs, against each runtime of SSEPG_TEST_RUNTIMES.
// Needs DATABASE_URL, dist/ (npm run build) and Chromium at /usr/bin/chromium (or CHROMIUM_PATH).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { SignJWT } from "jose";
import { chromium } from "playwright-core";

const root = new URL("../../", import.meta.url).pathname;
const databaseUrl = process.env.DATABASE_URL;
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const runtimes = (process.env.SSEPG_TEST_RUNTIMES ?? "deno,bun,node").split(",");

const SECRET = "browser-jwt-secret-0123456789abcdef";
const COOKIE = "ssepg_token";
/** Token lifetime in seconds: short, so the run sees several expiries. */
const LIFETIME = 3;

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
      const match = /ssepg listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]), stderr: () => stderr });
    });
    child.once("exit", (code) => reject(new Error(`ssepg exited with ${code}: ${stderr}`)));
  });
}

function mint(topic) {
  return new SignJWT({ sub: "user-42", ssepg: { subscribe: [topic] } })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(Date.now() / 1000) + LIFETIME)
    .sign(new TextEncoder().encode(SECRET));
}

const page = (api, topic) =>
  `<!doctype html><meta charset="utf-8"><title>ssepg jwt</title>
<script type="module">
  globalThis.received = []; globalThis.opens = 0; globalThis.errors = 0; globalThis.gaps = 0; globalThis.logins = 0;
  // The app's own login: its server sets the HttpOnly cookie; script never sees the token.
  const login = async () => { await fetch("/login", { method: "POST" }); globalThis.logins++; };
  await login();
  // Renew well before expiry, so that every reconnection carries a valid cookie.
  setInterval(login, ${(LIFETIME * 1000) / 3});
  const source = new EventSource(${JSON.stringify(api)} + "/topics/${topic}/events", { withCredentials: true });
  source.onopen = () => globalThis.opens++;
  source.onerror = () => globalThis.errors++;
  source.onmessage = (e) => globalThis.received.push({ id: e.lastEventId, data: JSON.parse(e.data) });
  source.addEventListener("gap", () => globalThis.gaps++);
  globalThis.source = source;
</script>`;

for (const runtime of runtimes) {
  test(
    `EventSource withCredentials in Chromium against ${runtime}: HttpOnly JWT cookie, stream ends at exp, reconnects with the renewed cookie, no loss`,
    { timeout: 120_000 },
    async () => {
      assert.ok(databaseUrl, "DATABASE_URL is needed");
      const topic = `browser-jwt-${Math.random().toString(36).slice(2, 8)}`;
      const target = { api: "" };
      const pages = createServer(async (req, res) => {
        if (req.url === "/login" && req.method === "POST") {
          const token = await mint(topic);
          res.writeHead(204, {
            // Host-only for localhost: sent to ssepg on another port (cookies ignore ports),
            // and same-site, so SameSite=Strict still rides along with the EventSource request.
            "set-cookie": `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${LIFETIME}`,
          });
          return res.end();
        }
        res.writeHead(200, { "content-type": "text/html" });
        res.end(page(target.api, topic));
      });
      pages.listen(0, "127.0.0.1");
      await once(pages, "listening");
      const pageOrigin = `http://localhost:${pages.address().port}`;
      const ssepg = await startSsepg(runtime, {
        DATABASE_URL: databaseUrl,
        SSEPG_PUBLISH_TOKEN: "pub",
        SSEPG_JWT_SECRET: SECRET,
        SSEPG_JWT_COOKIE: COOKIE,
        SSEPG_CORS_ORIGINS: pageOrigin,
        SSEPG_RETRY: "300",
        SSEPG_GRACEFUL_DRAIN: "1s",
      });
      target.api = `http://localhost:${ssepg.port}`;
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
        const statuses = [];
        tab.on("response", (response) => {
          if (response.url().includes("/events")) statuses.push(response.status());
        });
        await tab.goto(`${pageOrigin}/`);
        await tab.waitForFunction(() => globalThis.opens === 1, null, { timeout: 10_000 });
        assert.equal(await tab.evaluate(() => document.cookie.includes("ssepg_token")), false, "HttpOnly");

        // Publish for longer than two token lifetimes: the stream ends at each exp, and events
        // published while the page reconnects are replayed from Last-Event-ID.
        const ids = [];
        const until = Date.now() + (LIFETIME * 2 + 1.5) * 1000;
        for (let i = 0; Date.now() < until; i++) {
          const response = await fetch(`http://127.0.0.1:${ssepg.port}/topics/${topic}/events`, {
            method: "POST",
            headers: { authorization: "Bearer pub", "content-type": "application/json" },
            body: JSON.stringify({ data: { i } }),
          });
          assert.equal(response.status, 200);
          ids.push((await response.json()).id);
          await new Promise((r) => setTimeout(r, 50));
        }
        await tab.waitForFunction((n) => globalThis.received.length >= n, ids.length, { timeout: 15_000 });
        const seen = await tab.evaluate(() => ({
          ids: globalThis.received.map((e) => e.id),
          opens: globalThis.opens,
          gaps: globalThis.gaps,
          state: globalThis.source.readyState,
        }));
        assert.deepEqual(seen.ids, ids, "every event exactly once, in order, across token expiries");
        assert.ok(seen.opens >= 3, `the stream ended at exp and reconnected (${seen.opens} opens)`);
        assert.equal(seen.gaps, 0);
        assert.notEqual(seen.state, 2, "EventSource is still open or reconnecting, never closed by a 401");
        assert.ok(statuses.every((s) => s === 200), `every stream request was allowed: ${statuses}`);
        assert.ok(statuses.length >= 3);
      } finally {
        await browser?.close();
        pages.close();
        if (ssepg.child.exitCode === null) {
          ssepg.child.kill("SIGTERM");
          await once(ssepg.child, "exit");
        }
      }
    },
  );
}
