/**
 * Authorization cost: publishes/s and subscribe setups/s with the static tokens against JWTs,
 * on one server process in the same run. Prints figures and ratios, asserts nothing.
 *
 *     deno run -A bench/auth.ts [--runtime deno|bun|node] [--alg HS256|RS256|ES256|EdDSA]
 *                               [--seconds 3] [--rounds 2] [--concurrency 64] [--users 100] [--fresh N]
 *
 * One server is started with `publishToken`, `listenToken` and a JWT key (`--alg`: the secret
 * for HS256, a PEM public key otherwise); every phase hits that same process, alternating
 * static and JWT phases each round so that drift (JIT warm-up, GC) lands on both:
 *
 * - publish: `--concurrency` loops POSTing `{"data":1}` over keep-alive connections;
 * - subscribe: loops opening a stream on a raw socket, reading to `: listening`, closing.
 *
 * JWT phases come twice: `cached` (`--users` tokens, each reused, as real clients do: verified
 * once, then served from the token cache) and `fresh` (a new token for every request, so each
 * one is verified: the worst case, e.g. a flood of new logins). Tokens are signed before the
 * clock starts. With `DATABASE_URL` publishes go through PostgreSQL; without, through the
 * in-process bus (then the figures isolate the HTTP and auth path).
 *
 * @module
 */

import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { type Runtime, startProcess } from "../scripts/processes.ts";
import { flag } from "./support.ts";

const runtime = flag("runtime", "deno") as Runtime;
const alg = flag("alg", "HS256");
const seconds = Number(flag("seconds", "3"));
const rounds = Number(flag("rounds", "2"));
const concurrency = Number(flag("concurrency", "64"));
const users = Number(flag("users", "100"));
// Fresh tokens signed per round; RSA signing is slow (about 1 ms a token), so fewer by default.
const freshCount = Number(flag("fresh", alg === "HS256" ? "200000" : alg === "RS256" ? "20000" : "50000"));
const SECRET = "bench-secret-0123456789abcdef0123456789";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let signingKey: CryptoKey | Uint8Array = encoder.encode(SECRET);
const keyEnv: Record<string, string> = {};
if (alg === "HS256") keyEnv.SSEPG_JWT_SECRET = SECRET;
else {
  const pair = await generateKeyPair(alg, { extractable: true });
  signingKey = pair.privateKey;
  keyEnv.SSEPG_JWT_PUBLIC_KEY = await exportSPKI(pair.publicKey);
}

const databaseUrl = Deno.env.get("DATABASE_URL");
const server = await startProcess(runtime, {
  env: {
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    SSEPG_PUBLISH_TOKEN: "static-publish",
    SSEPG_LISTEN_TOKEN: "static-listen",
    SSEPG_MAX_PENDING_PUBLISHES: "100000",
    ...keyEnv,
  },
});
const url = new URL(server.url);

let serial = 0;
function mint(user: number): Promise<string> {
  // jti makes every token distinct, so "fresh" tokens never hit the cache.
  return new SignJWT({ sub: `${user}`, jti: `${serial++}`, ssepg: { publish: ["bench-*"], subscribe: ["bench-*"] } })
    .setProtectedHeader({ alg })
    .setExpirationTime("1h")
    .sign(signingKey);
}

async function tokens(count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(await mint(i % users));
  return out;
}

/** Runs `concurrency` loops of `once(i)` for `seconds`; returns completed operations per second. */
async function rate(once: (i: number) => Promise<void>, parallel: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (performance.now() < deadline) {
      await once(next++);
      done++;
    }
  }));
  return done / seconds;
}

async function publishOnce(token: string, topic: string): Promise<void> {
  const response = await fetch(`${server.url}/topics/${topic}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: '{"data":1}',
  });
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`publish answered ${response.status}`);
}

async function subscribeOnce(token: string, topic: string): Promise<void> {
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    await conn.write(encoder.encode(
      `GET /topics/${topic}/events HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    ));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!text.includes(": listening")) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`stream closed before listening: ${text.slice(0, 200)}`);
      text += decoder.decode(buffer.subarray(0, n));
      if (!text.startsWith("HTTP/1.1 200")) throw new Error(`subscribe answered ${text.split("\r\n")[0]}`);
    }
  } finally {
    conn.close();
  }
}

type Phase = { name: string; kind: "publish" | "subscribe"; token: (i: number) => string };

const cached = await tokens(users);
const results = new Map<string, number[]>();
// Subscribers are fewer: each one is a new connection, and the OS's ephemeral ports run out.
const subscribeConcurrency = Math.min(concurrency, 32);
const topicOf = (i: number) => `bench-${i % 64}`;
console.log(
  `ssepg auth bench on ${runtime} (${server.url}), ${alg}, ${databaseUrl ? "PostgreSQL" : "in-process bus"}: ` +
    `${seconds}s per phase, ${rounds} round(s), ${concurrency} publishers, ${subscribeConcurrency} subscribers`,
);
for (let round = 0; round < rounds; round++) {
  // Fresh tokens for this round, signed before the clock starts (a generous upper bound).
  const fresh = await tokens(freshCount);
  const phases: Phase[] = [
    { name: "publish static", kind: "publish", token: () => "static-publish" },
    { name: "publish jwt cached", kind: "publish", token: (i) => cached[i % users] },
    { name: "publish jwt fresh", kind: "publish", token: (i) => fresh[i % fresh.length] },
    { name: "subscribe static", kind: "subscribe", token: () => "static-listen" },
    { name: "subscribe jwt cached", kind: "subscribe", token: (i) => cached[i % users] },
    { name: "subscribe jwt fresh", kind: "subscribe", token: (i) => fresh[(fresh.length - 1 - i) % fresh.length] },
  ];
  for (const phase of phases) {
    const perSecond = phase.kind === "publish"
      ? await rate((i) => publishOnce(phase.token(i), topicOf(i)), concurrency)
      : await rate((i) => subscribeOnce(phase.token(i), topicOf(i)), subscribeConcurrency);
    results.set(phase.name, [...results.get(phase.name) ?? [], perSecond]);
    if (phase.name.endsWith("fresh") && perSecond * seconds > fresh.length) {
      console.log(`  note: ${phase.name} used more than --fresh ${fresh.length} tokens; some came from the cache`);
    }
  }
}

const mean = (name: string) => {
  const values = results.get(name)!;
  return values.reduce((a, b) => a + b, 0) / values.length;
};
console.log("");
console.log("| operation | static token /s | JWT cached /s | ratio | JWT fresh /s | ratio |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const kind of ["publish", "subscribe"]) {
  const base = mean(`${kind} static`);
  const hot = mean(`${kind} jwt cached`);
  const cold = mean(`${kind} jwt fresh`);
  const label = kind === "publish" ? "publishes" : "subscribe setups";
  console.log(
    `| ${label} | ${base.toFixed(0)} | ${hot.toFixed(0)} | ${(hot / base).toFixed(2)} | ${cold.toFixed(0)} | ${
      (cold / base).toFixed(2)
    } |`,
  );
}
const code = await server.stop("SIGTERM");
if (code !== 0) console.error(`server exited with ${code}: ${server.stderr().slice(-2000)}`);
