/**
 * Conformance cases for JWT authorization (issue #14), run against servers of each runtime
 * started here with JWT settings: an HMAC secret and a JWKS served by a local `Deno.serve`
 * (RS256, ES256, EdDSA keys, rotated during the run), a PEM public key, a JWKS that is down,
 * and public keys that cannot be used.
 *
 * @module
 */

import assert from "node:assert/strict";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { databaseUrl, uniqueTopic } from "../helpers/instances.ts";
import { SseClient } from "../helpers/sse_client.ts";
import { serverCommand, type ServerProcess, startProcess } from "../../scripts/processes.ts";
import type { Case, Target } from "./suite.ts";

const SECRET = "conformance-jwt-secret-0123456789abcdef";
const HMAC_KEY = new TextEncoder().encode(SECRET);
const AUDIENCE = "ssepg-conformance";
const ISSUER = "https://auth.conformance.test";
const COOKIE = "ssepg_token";
const ORIGIN = "https://app.example";

interface SigningKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(alg: string, kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...await exportJWK(publicKey), kid, alg, use: "sig" } };
}

/** Servers and keys of one target; started by the first case, stopped by the last. */
interface Fixture {
  readonly jwt: ServerProcess;
  readonly pem: ServerProcess;
  readonly pemKey: { pem: string; privateKey: CryptoKey };
  readonly keys: Map<string, SigningKey>;
  /** What the JWKS endpoint serves; replace it to rotate. */
  jwks: { keys: JWK[] };
  jwksRequests: number;
  readonly jwksServer: Deno.HttpServer;
}

const fixtures = new Map<string, Promise<Fixture>>();

function extraEnv(t: Target): Record<string, string> {
  return { ...t.serverEnv };
}

function fixture(t: Target): Promise<Fixture> {
  let f = fixtures.get(t.a);
  if (!f) {
    f = startFixture(t);
    fixtures.set(t.a, f);
  }
  return f;
}

async function startFixture(t: Target): Promise<Fixture> {
  const keys = new Map<string, SigningKey>();
  for (const [alg, kid] of [["RS256", "rsa-1"], ["ES256", "ec-1"], ["EdDSA", "ed-1"]]) {
    keys.set(kid, await signingKey(alg, kid));
  }
  const state = { jwks: { keys: [...keys.values()].map((k) => k.jwk) }, jwksRequests: 0 };
  const jwksServer = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    state.jwksRequests++;
    return Response.json(state.jwks);
  });
  const pair = await generateKeyPair("RS256", { extractable: true });
  const pemKey = { pem: await exportSPKI(pair.publicKey), privateKey: pair.privateKey };
  const common = {
    DATABASE_URL: databaseUrl(),
    SSEPG_PUBLISH_TOKEN: t.publishToken,
    SSEPG_LISTEN_TOKEN: t.listenToken,
    SSEPG_RETRY: "200ms",
    SSEPG_KEEP_ALIVE: "1s",
    ...extraEnv(t),
  };
  const [jwt, pem] = await Promise.all([
    startProcess(t.runtime as "deno", {
      env: {
        ...common,
        SSEPG_JWT_SECRET: SECRET,
        SSEPG_JWT_JWKS_URL: `http://127.0.0.1:${jwksServer.addr.port}/.well-known/jwks.json`,
        SSEPG_JWT_AUDIENCE: AUDIENCE,
        SSEPG_JWT_ISSUER: ISSUER,
        SSEPG_JWT_COOKIE: COOKIE,
        SSEPG_CORS_ORIGINS: ORIGIN,
      },
    }),
    // One line with \n escapes, as env files carry a PEM.
    startProcess(t.runtime as "deno", {
      env: { ...common, SSEPG_JWT_PUBLIC_KEY: pemKey.pem.trim().replaceAll("\n", "\\n") },
    }),
  ]);
  return {
    jwt,
    pem,
    pemKey,
    keys,
    jwksServer,
    get jwks() {
      return state.jwks;
    },
    set jwks(value) {
      state.jwks = value;
    },
    get jwksRequests() {
      return state.jwksRequests;
    },
    set jwksRequests(value) {
      state.jwksRequests = value;
    },
  };
}

interface TokenOptions {
  readonly alg?: string;
  readonly kid?: string;
  readonly key?: CryptoKey | Uint8Array;
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
  readonly claims?: Record<string, unknown>;
}

const now = () => Math.floor(Date.now() / 1000);

function token(ssepg: unknown, options: TokenOptions = {}): Promise<string> {
  const { alg = "HS256", kid, key = HMAC_KEY, expiresIn = 60, claims = {} } = options;
  return new SignJWT({ aud: AUDIENCE, iss: ISSUER, ssepg, ...claims })
    .setProtectedHeader({ alg, kid })
    .setExpirationTime(now() + expiresIn)
    .sign(key);
}

function withKey(f: Fixture, kid: string, ssepg: unknown, options: TokenOptions = {}): Promise<string> {
  const k = f.keys.get(kid)!;
  return token(ssepg, { alg: k.alg, kid, key: k.privateKey, ...options });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function statusOf(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, init);
  const body = response.headers.get("content-type")?.startsWith("text/event-stream")
    ? (await response.body?.cancel(), "")
    : await response.text();
  return { status: response.status, body, headers: response.headers };
}

const stream = (base: string, topics: string, headers: Record<string, string>) =>
  statusOf(`${base}/topics/${topics}/events`, { headers });

function publish(base: string, topic: string, data: unknown, headers: Record<string, string>) {
  return statusOf(`${base}/topics/${topic}/events`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ data }),
  });
}

function assertInvalid(r: { status: number; body: string; headers: Headers }, reason: RegExp, label: string) {
  assert.equal(r.status, 401, `${label}: ${r.body}`);
  assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="ssepg", error="invalid_token"', label);
  assert.match(JSON.parse(r.body).detail, reason, label);
}

/** Runs the CLI with `env` and expects it to exit 2 without listening. */
async function startFails(t: Target, env: Record<string, string>): Promise<string> {
  const command = serverCommand(t.runtime as "deno");
  assert.ok(Array.isArray(command));
  const [exe, ...args] = command;
  const child = new Deno.Command(exe, {
    args: [...args, "serve", "--port", "0", "--host", "127.0.0.1"],
    env: { NO_COLOR: "1", DATABASE_URL: databaseUrl(), ...extraEnv(t), ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const out = new TextDecoder().decode(stdout);
  assert.equal(out.includes("listening"), false, out);
  assert.equal(code, 2, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stderr);
}

/** The JWT cases, run after the main suite. */
export const jwtCases: Case[] = [
  {
    name: "JWT: HS256 (secret) and RS256, ES256, EdDSA (JWKS) tokens subscribe and publish on the topics they grant",
    async fn(t) {
      const f = await fixture(t);
      const topic = uniqueTopic("jwt");
      const grant = { subscribe: [topic], publish: [topic] };
      for (
        const [label, make] of [
          ["HS256", () => token(grant)],
          ["RS256", () => withKey(f, "rsa-1", grant)],
          ["ES256", () => withKey(f, "ec-1", grant)],
          ["EdDSA", () => withKey(f, "ed-1", grant)],
        ] as const
      ) {
        const jwt = await make();
        const client = await SseClient.open(`${f.jwt.url}/topics/${topic}/events`, { headers: bearer(jwt) });
        try {
          assert.deepEqual((await client.next()).comments, []); // retry
          assert.deepEqual((await client.next()).comments, [`listening ${topic}`]);
          const posted = await publish(f.jwt.url, topic, { via: label }, bearer(jwt));
          assert.equal(posted.status, 200, `${label} publish: ${posted.body}`);
          const event = await client.nextEvent();
          assert.equal(event.data, JSON.stringify({ via: label }), label);
        } finally {
          await client.close();
        }
      }
      // Once per worker: each process keeps its own key set.
      assert.equal(f.jwksRequests, t.workers, "the JWKS was fetched once for every key");
      // The static tokens keep working beside JWTs.
      assert.equal((await stream(f.jwt.url, topic, bearer(t.listenToken))).status, 200);
      assert.equal((await publish(f.jwt.url, topic, 1, bearer(t.publishToken))).status, 200);
      // And a PEM-configured server verifies RS256 too.
      const rs = await token({ subscribe: [topic] }, { alg: "RS256", key: f.pemKey.privateKey });
      assert.equal((await stream(f.pem.url, topic, bearer(rs))).status, 200);
    },
  },
  {
    name:
      "JWT: expired, not-yet-valid, wrong audience or issuer, alg none, HS256 signed with the public key: 401 invalid_token",
    async fn(t) {
      const f = await fixture(t);
      const all = { subscribe: ["*"], publish: ["*"] };
      const topic = uniqueTopic("bad");
      const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${
        b64({ aud: AUDIENCE, iss: ISSUER, ssepg: all, exp: now() + 60 })
      }.`;
      const cases: [string, string, RegExp][] = [
        ["expired", await token(all, { expiresIn: -5 }), /expired/],
        ["not yet valid", await token(all, { claims: { nbf: now() + 120 } }), /not valid yet/],
        ["wrong audience", await token(all, { claims: { aud: "someone-else" } }), /\(aud\)/],
        ["wrong issuer", await token(all, { claims: { iss: "https://evil.test" } }), /\(iss\)/],
        ["alg none", unsigned, /algorithm is not accepted|malformed/],
        ["wrong secret", await token(all, { key: new TextEncoder().encode(`${SECRET}!`) }), /signature/],
        ["unknown JWKS kid", await withKey(f, "rsa-1", all, { kid: "nope" }), /no signing key/],
      ];
      for (const [label, jwt, reason] of cases) {
        assertInvalid(await stream(f.jwt.url, topic, bearer(jwt)), reason, `${label} (stream)`);
        assertInvalid(await publish(f.jwt.url, topic, 1, bearer(jwt)), reason, `${label} (publish)`);
      }
      // The classic confusion: HS256 with the server's public key as the HMAC secret.
      const confused = await token(all, { key: new TextEncoder().encode(f.pemKey.pem) });
      assertInvalid(
        await stream(f.pem.url, topic, bearer(confused)),
        /algorithm is not accepted/,
        "HS256 with the PEM",
      );
      const missing = await stream(f.jwt.url, topic, {});
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="ssepg"');
    },
  },
  {
    name:
      "JWT: wildcard claims and multi-topic streams need every topic granted (403 otherwise, and for a malformed claim)",
    async fn(t) {
      const f = await fixture(t);
      const user = `user-${crypto.randomUUID().slice(0, 6)}`;
      const jwt = await token({ subscribe: [`${user}-*`, "news"], publish: [`${user}-*`] });
      assert.equal((await stream(f.jwt.url, `${user}-orders`, bearer(jwt))).status, 200);
      assert.equal((await stream(f.jwt.url, `${user}-orders,news,${user}-cart`, bearer(jwt))).status, 200);
      const partly = await stream(f.jwt.url, `${user}-orders,other-topic`, bearer(jwt));
      assert.equal(partly.status, 403, partly.body);
      assert.match(JSON.parse(partly.body).detail, /does not grant subscribe on other-topic/);
      assert.equal(partly.headers.get("www-authenticate"), 'Bearer realm="ssepg", error="insufficient_scope"');
      assert.equal((await publish(f.jwt.url, `${user}-orders`, 1, bearer(jwt))).status, 200);
      assert.equal((await publish(f.jwt.url, "news", 1, bearer(jwt))).status, 403, "subscribe does not publish");
      const malformed = await stream(f.jwt.url, "news", bearer(await token({ subscribe: "news" })));
      assert.equal(malformed.status, 403);
      assert.match(JSON.parse(malformed.body).detail, /ssepg\.subscribe must be an array of topics or patterns/);
    },
  },
  {
    name:
      "JWT: a stream ends at its token's exp with ': token expired'; a fresh token resumes by Last-Event-ID without loss",
    async fn(t) {
      const f = await fixture(t);
      const topic = uniqueTopic("exp");
      const short = await token({ subscribe: [topic] }, { expiresIn: 2 });
      const started = Date.now();
      const client = await SseClient.open(`${f.jwt.url}/topics/${topic}/events`, { headers: bearer(short) });
      await client.next();
      await client.next();
      const first = await publish(f.jwt.url, topic, 1, bearer(t.publishToken));
      const event = await client.nextEvent();
      assert.equal(event.id, JSON.parse(first.body).id);
      let end;
      do end = await client.next(5_000); while (end.comments.length === 0 || end.comments[0] === "keep-alive");
      assert.deepEqual(end.comments, ["token expired"]);
      await client.waitForEnd(2_000);
      const took = Date.now() - started;
      assert.ok(took >= 1_000 && took < 4_000, `ended at exp (${took} ms)`);
      // Published while the client was away; it resumes with a fresh token.
      const missed = await publish(f.jwt.url, topic, 2, bearer(t.publishToken));
      const fresh = await token({ subscribe: [topic] });
      const again = await SseClient.open(`${f.jwt.url}/topics/${topic}/events`, {
        headers: { ...bearer(fresh), "last-event-id": event.id! },
      });
      try {
        const resumed = await again.nextEvent();
        assert.equal(resumed.id, JSON.parse(missed.body).id);
        assert.equal(resumed.data, "2");
      } finally {
        await again.close();
      }
      // The expired token itself is refused now.
      assertInvalid(await stream(f.jwt.url, topic, bearer(short)), /expired/, "the old token");
    },
  },
  {
    name: "JWT: JWKS key rotation: a new kid fetches the set again; a key dropped from it is refused",
    async fn(t) {
      const f = await fixture(t);
      const topic = uniqueTopic("rot");
      const grant = { subscribe: [topic] };
      assert.equal((await stream(f.jwt.url, topic, bearer(await withKey(f, "rsa-1", grant)))).status, 200);
      const before = f.jwksRequests;
      const next = await signingKey("RS256", `rsa-${crypto.randomUUID().slice(0, 4)}`);
      f.keys.set(next.kid, next);
      f.jwks = { keys: f.jwks.keys.filter((k) => k.kid !== "rsa-1").concat(next.jwk) };
      await new Promise((r) => setTimeout(r, 1_100)); // the refresh cooldown since the last fetch
      // Each worker refetches when it first meets the new kid; new connections reach them all.
      const fresh = { ...bearer(await withKey(f, next.kid, grant)), connection: "close" };
      for (let i = 0; i < 100 && (i === 0 || f.jwksRequests < before + t.workers); i++) {
        assert.equal((await stream(f.jwt.url, topic, fresh)).status, 200);
      }
      assert.equal(f.jwksRequests, before + t.workers, "one refetch for the new kid (per worker)");
      for (let i = 0; i < 4 * t.workers; i++) {
        const dropped = await withKey(f, "rsa-1", grant, { claims: { jti: crypto.randomUUID() } });
        const headers = { ...bearer(dropped), connection: "close" };
        assertInvalid(await stream(f.jwt.url, topic, headers), /no signing key matches/, "a dropped key");
      }
    },
  },
  {
    name: "JWT: cookies for EventSource, credentialed CORS for listed origins, and health hides topic names",
    async fn(t) {
      const f = await fixture(t);
      const topic = uniqueTopic("cookie");
      const jwt = await token({ subscribe: [topic], publish: [topic] });
      const viaCookie = await stream(f.jwt.url, topic, { cookie: `theme=dark; ${COOKIE}=${jwt}`, origin: ORIGIN });
      assert.equal(viaCookie.status, 200);
      assert.equal(viaCookie.headers.get("access-control-allow-origin"), ORIGIN);
      assert.equal(viaCookie.headers.get("access-control-allow-credentials"), "true");
      const cookiePublish = await publish(f.jwt.url, topic, 1, { cookie: `${COOKIE}=${jwt}` });
      assert.equal(cookiePublish.status, 401, "a cookie never publishes");
      const preflight = await statusOf(`${f.jwt.url}/topics/${topic}/events`, {
        method: "OPTIONS",
        headers: {
          origin: ORIGIN,
          "access-control-request-method": "GET",
          "access-control-request-headers": "last-event-id",
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-credentials"), "true");
      const other = await stream(f.jwt.url, topic, { cookie: `${COOKIE}=${jwt}`, origin: "https://evil.example" });
      assert.equal(other.headers.get("access-control-allow-origin"), null);
      assert.equal(other.headers.get("access-control-allow-credentials"), null);
      // Health: the topic exists (published above); only full access sees its name.
      await publish(f.jwt.url, topic, 2, bearer(t.publishToken));
      const names = async (headers: Record<string, string>) => {
        const r = await statusOf(`${f.jwt.url}/healthz?limit=10000`, { headers });
        assert.equal(r.status, 200);
        return (JSON.parse(r.body).topics as { topic: string }[]).map((x) => x.topic);
      };
      assert.deepEqual(await names({}), []);
      assert.deepEqual(await names(bearer(jwt)), []);
      assert.ok((await names(bearer(t.listenToken))).includes(topic));
      assert.ok((await names(bearer(await token({ subscribe: ["*"] })))).includes(topic));
      const metrics = await statusOf(`${f.jwt.url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.ok(!metrics.body.includes(topic), "metrics carry no topic names");
    },
  },
  {
    name: "JWT: a JWKS that is down answers 401 within the bounded retries, and the server stays healthy",
    async fn(t) {
      const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (closed.addr as Deno.NetAddr).port;
      closed.close(); // nothing listens there now
      const server = await startProcess(t.runtime as "deno", {
        env: {
          DATABASE_URL: databaseUrl(),
          SSEPG_JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
          ...extraEnv(t),
        },
      });
      try {
        const key = await signingKey("ES256", "k");
        const jwt = await token({ subscribe: ["*"] }, { alg: "ES256", kid: "k", key: key.privateKey });
        for (let i = 0; i < 3; i++) {
          const started = Date.now();
          const r = await stream(server.url, "news", bearer(jwt));
          assertInvalid(r, /signing keys are unavailable/, `attempt ${i}`);
          assert.ok(Date.now() - started < 3_000, `bounded: ${Date.now() - started} ms`);
        }
        assert.equal((await statusOf(`${server.url}/livez`)).status, 200);
        assert.match(server.stderr(), /Cannot fetch the signing keys from jwtJwksUrl/);
      } finally {
        assert.equal(await server.stop("SIGTERM"), 0);
      }
    },
  },
  {
    name: "JWT: a public key that cannot be used stops the start with exit 2 naming jwtPublicKey",
    async fn(t) {
      const garbage = "-----BEGIN PUBLIC KEY-----\\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\\n-----END PUBLIC KEY-----";
      let stderr = await startFails(t, { SSEPG_JWT_PUBLIC_KEY: garbage });
      assert.match(
        stderr,
        /Cannot use jwtPublicKey \(--jwt-public-key, SSEPG_JWT_PUBLIC_KEY\) as it must be .*could not be imported/,
      );
      stderr = await startFails(t, { SSEPG_JWT_PUBLIC_KEY: "not a key" });
      assert.match(stderr, /Cannot use jwtPublicKey .* PEM public key/);
      stderr = await startFails(t, { SSEPG_JWT_SECRET: SECRET, SSEPG_JWT_ALGORITHMS: "HS256,none" });
      assert.match(stderr, /Cannot use jwtAlgorithms .*never none/);
    },
  },
  {
    name: "JWT: the JWT servers stop cleanly",
    async fn(t) {
      const f = fixtures.get(t.a);
      if (!f) return;
      fixtures.delete(t.a);
      const { jwt, pem, jwksServer } = await f;
      const codes = await Promise.all([jwt.stop("SIGTERM"), pem.stop("SIGTERM")]);
      await jwksServer.shutdown();
      assert.deepEqual(codes, [0, 0]);
      for (const server of [jwt, pem]) assert.doesNotMatch(server.stderr(), /^\s+at /m, server.stderr().slice(-2000));
    },
  },
];
