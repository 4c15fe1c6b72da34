import assert from "node:assert/strict";
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, type JWK, SignJWT } from "jose";
import { test } from "../helpers/test.ts";
import { ConfigError, type ConfigInput, resolveConfig } from "../../src/config/config.ts";
import { JwksUnavailableError, RemoteJwks } from "../../src/http/jwt/jwks.ts";
import { JwtRejectedError, JwtVerifier, type JwtVerifierOptions } from "../../src/http/jwt/verifier.ts";

const SECRET = "test-secret-that-is-long-enough-for-hs256!";
const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) =>
  btoa(typeof value === "string" ? value : JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(
    /\//g,
    "_",
  );

async function verifier(input: ConfigInput, options?: JwtVerifierOptions): Promise<JwtVerifier> {
  const v = await JwtVerifier.create(resolveConfig({ overrides: input }), options);
  assert.ok(v);
  return v;
}

function sign(alg: string, key: CryptoKey | Uint8Array, claims: Record<string, unknown> = {}, kid?: string) {
  const jwt = new SignJWT({ ssepg: { subscribe: ["news"] }, ...claims }).setProtectedHeader({ alg, kid });
  if (!("exp" in claims)) jwt.setExpirationTime(now() + 60);
  return jwt.sign(key);
}

async function rejected(v: JwtVerifier, token: string, status: 401 | 403, reason: RegExp) {
  const error = await v.verify(token).then(() => undefined, (e) => e);
  assert.ok(error instanceof JwtRejectedError, `refused: ${error}`);
  assert.equal(error.status, status);
  assert.match(error.message, reason);
}

async function pemPair(alg: string, options?: { crv?: string }) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { pem: await exportSPKI(publicKey), publicKey, privateKey };
}

test("JwtVerifier verifies HS256 with the secret's UTF-8 bytes and accepts HS* by default", async () => {
  const v = await verifier({ jwtSecret: SECRET });
  assert.deepEqual(v.algorithms, ["HS256", "HS384", "HS512"]);
  const key = new TextEncoder().encode(SECRET);
  const verified = await v.verify(await sign("HS256", key, { sub: "u1" }));
  assert.equal(verified.claims.sub, "u1");
  assert.ok(verified.expiresAt > Date.now() && verified.expiresAt <= Date.now() + 61_000);
  await v.verify(await sign("HS512", key));
  await rejected(v, await sign("HS256", new TextEncoder().encode(`${SECRET}x`)), 401, /signature does not verify/);
});

test("JwtVerifier verifies RS256, PS256, ES256 and EdDSA tokens with a PEM public key of that type", async () => {
  for (const [alg, others] of [["RS256", ["PS256"]], ["ES256", []], ["EdDSA", ["Ed25519"]]] as const) {
    const { pem, privateKey } = await pemPair(alg);
    const v = await verifier({ jwtPublicKey: pem });
    assert.ok(v.algorithms.includes(alg), `${alg}: ${v.algorithms}`);
    for (const other of others) assert.ok(v.algorithms.includes(other), `${alg} key also verifies ${other}`);
    assert.ok(!v.algorithms.some((a) => a.startsWith("HS")), "no HMAC without a secret");
    assert.equal((await v.verify(await sign(alg, privateKey, { sub: alg }))).claims.sub, alg);
    const stranger = await pemPair(alg);
    await rejected(v, await sign(alg, stranger.privateKey), 401, /signature does not verify/);
  }
  // A PEM pasted on one line with \n escapes, as env files carry it.
  const { pem, privateKey } = await pemPair("ES256");
  const v = await verifier({ jwtPublicKey: pem.trim().replaceAll("\n", "\\n") });
  await v.verify(await sign("ES256", privateKey));
});

test("JwtVerifier refuses expired, not-yet-valid, wrong audience and wrong issuer tokens", async () => {
  const key = new TextEncoder().encode(SECRET);
  const v = await verifier({ jwtSecret: SECRET, jwtAudience: "ssepg", jwtIssuer: "https://auth.example" });
  const good = { aud: "ssepg", iss: "https://auth.example" };
  await v.verify(await sign("HS256", key, good));
  await rejected(v, await sign("HS256", key, { ...good, exp: now() - 10 }), 401, /expired/);
  await rejected(v, await sign("HS256", key, { ...good, nbf: now() + 60 }), 401, /not valid yet/);
  await rejected(v, await sign("HS256", key, { ...good, aud: "other" }), 401, /not meant for this server \(aud\)/);
  await rejected(v, await sign("HS256", key, { iss: "https://auth.example" }), 401, /aud/);
  await rejected(v, await sign("HS256", key, { ...good, iss: "https://evil.example" }), 401, /issuer \(iss\)/);
  await rejected(v, "not-a-token", 401, /malformed/);
});

test("JwtVerifier refuses alg none and the HS256-signed-with-the-public-key confusion", async () => {
  const { pem, privateKey } = await pemPair("RS256");
  const unsigned = `${b64url({ alg: "none", typ: "JWT" })}.${
    b64url({ ssepg: { subscribe: ["*"] }, exp: now() + 60 })
  }.`;
  const confused = await sign("HS256", new TextEncoder().encode(pem), { ssepg: { subscribe: ["*"] } });
  // Only the public key: HMAC is not accepted at all.
  const rsaOnly = await verifier({ jwtPublicKey: pem });
  await rejected(rsaOnly, unsigned, 401, /algorithm is not accepted|malformed/);
  await rejected(rsaOnly, confused, 401, /algorithm is not accepted/);
  // Public key and a secret: HS256 is checked against the secret, never against the PEM.
  const both = await verifier({ jwtPublicKey: pem, jwtSecret: SECRET });
  await rejected(both, confused, 401, /signature does not verify/);
  await rejected(both, unsigned, 401, /algorithm is not accepted|malformed/);
  await both.verify(await sign("RS256", privateKey));
  await both.verify(await sign("HS256", new TextEncoder().encode(SECRET)));
  // An explicit allow-list narrows the defaults (one RSA key, imported for PKCS#1 and PSS).
  const narrowed = await verifier({ jwtPublicKey: pem, jwtAlgorithms: "PS256" });
  assert.deepEqual(narrowed.algorithms, ["PS256"]);
  await rejected(narrowed, await sign("RS256", privateKey), 401, /algorithm is not accepted/);
  const pss = await importPKCS8(await exportPKCS8(privateKey), "PS256");
  await narrowed.verify(await sign("PS256", pss));
});

test("JwtVerifier answers 403 for a valid token whose ssepg claim has the wrong shape", async () => {
  const key = new TextEncoder().encode(SECRET);
  const v = await verifier({ jwtSecret: SECRET });
  await rejected(
    v,
    await sign("HS256", key, { ssepg: { subscribe: "news" } }),
    403,
    /ssepg\.subscribe must be an array/,
  );
  await rejected(v, await sign("HS256", key, { ssepg: true }), 403, /ssepg must be an object/);
});

test("JwtVerifier caches a verified token until its exp, and never a refused one", async () => {
  const key = new TextEncoder().encode(SECRET);
  const v = await verifier({ jwtSecret: SECRET });
  const token = await sign("HS256", key, { exp: now() + 2 });
  assert.equal(v.cached(token), undefined);
  const first = await v.verify(token);
  assert.equal(v.cached(token), first);
  assert.equal(await v.verify(token), first, "the same verification, from the cache");
  assert.equal(v.cached(token, first.expiresAt), undefined, "gone at exp");
  const bad = `${token}x`;
  await rejected(v, bad, 401, /signature/);
  assert.equal(v.cached(bad), undefined);
  const noExp = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).sign(key);
  assert.equal((await v.verify(noExp)).expiresAt, Infinity);
});

test("a JWT key that cannot be used is a ConfigError naming the option, without echoing the key", async () => {
  const { pem: rsa } = await pemPair("RS256");
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const privatePem = await exportPKCS8(privateKey);
  const load = async (input: ConfigInput) => await JwtVerifier.create(resolveConfig({ overrides: input }));
  const refuses = async (input: ConfigInput, option: string, allowed: RegExp) => {
    const error = await load(input).then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError, `${JSON.stringify(input).slice(0, 80)}: ${error}`);
    assert.equal(error.option, option);
    assert.match(error.message, allowed);
    assert.doesNotMatch(error.message, /MII|MFkw|MCow|AAAAAAAA/, "the key text is never shown");
  };
  await refuses({ jwtPublicKey: privatePem }, "jwtPublicKey", /a public key, not a private key/);
  await refuses({ jwtPublicKey: "not a pem" }, "jwtPublicKey", /PEM public key/);
  await refuses(
    { jwtPublicKey: "-----BEGIN PUBLIC KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PUBLIC KEY-----" },
    "jwtPublicKey",
    /could not be imported/,
  );
  await refuses({ jwtPublicKey: rsa, jwtAlgorithms: "ES256" }, "jwtPublicKey", /cannot verify ES256/);
  const small = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const der = new Uint8Array(await crypto.subtle.exportKey("spki", small.publicKey));
  const smallPem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...der))}\n-----END PUBLIC KEY-----`;
  await refuses({ jwtPublicKey: smallPem }, "jwtPublicKey", /at least 2048 bits: this one has 1024/);
  await refuses({ jwtSecret: SECRET, jwtAlgorithms: "none" }, "jwtAlgorithms", /never none/);
  await refuses({ jwtSecret: SECRET, jwtAlgorithms: "HS256,RS256" }, "jwtAlgorithms", /RS256 needs jwtPublicKey/);
  await refuses({ jwtPublicKey: rsa, jwtAlgorithms: "HS256" }, "jwtAlgorithms", /HS256 needs jwtSecret/);
  await refuses({ jwtCookie: "token" }, "jwtCookie", /only with jwtSecret, jwtPublicKey or jwtJwksUrl/);
  await refuses({ jwtSecret: SECRET, jwtCookie: "bad name" }, "jwtCookie", /a cookie name/);
  await refuses({ jwtAudience: "x" }, "jwtAudience", /only with/);
  await refuses({ jwtJwksUrl: "ftp://x/jwks" }, "jwtJwksUrl", /http\(s\):\/\/ URL/);
  assert.equal(await load({}), undefined, "no JWT key: no verifier");
});

/** A JWKS "server" as a fetch function: serves `set.keys`, or fails as told, counting calls. */
function fakeJwks(set: { keys: JWK[] }) {
  const state = { calls: 0, mode: "ok" as "ok" | "down" | "hang" | "500" | "garbage" };
  const fetch = (_input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    state.calls++;
    switch (state.mode) {
      case "down":
        return Promise.reject(new TypeError("fetch failed"));
      case "500":
        return Promise.resolve(new Response("oops", { status: 500 }));
      case "garbage":
        return Promise.resolve(new Response("<html>", { status: 200 }));
      case "hang":
        return new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
      default:
        return Promise.resolve(Response.json(set));
    }
  };
  return { state, fetch: fetch as typeof globalThis.fetch };
}

async function jwk(alg: string, kid: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...await exportJWK(publicKey), kid, alg } };
}

test("JWKS: RS256, ES256 and EdDSA keys by kid; a new kid refetches the set (rotation), a removed one is refused", async () => {
  const rsa = await jwk("RS256", "rsa-1");
  const ec = await jwk("ES256", "ec-1");
  const ed = await jwk("EdDSA", "ed-1");
  const set = { keys: [rsa.jwk, ec.jwk, ed.jwk] };
  const server = fakeJwks(set);
  const v = await verifier({ jwtJwksUrl: "https://issuer.example/jwks.json" }, {
    jwks: { fetch: server.fetch, refreshCooldown: 100 },
  });
  await v.verify(await sign("RS256", rsa.privateKey, {}, "rsa-1"));
  await v.verify(await sign("ES256", ec.privateKey, {}, "ec-1"));
  await v.verify(await sign("EdDSA", ed.privateKey, {}, "ed-1"));
  assert.equal(server.state.calls, 1, "one fetch serves every key");
  // Rotation: the issuer adds rsa-2 and drops rsa-1.
  const next = await jwk("RS256", "rsa-2");
  set.keys = [next.jwk, ec.jwk, ed.jwk];
  await new Promise((r) => setTimeout(r, 120));
  await v.verify(await sign("RS256", next.privateKey, {}, "rsa-2"));
  assert.equal(server.state.calls, 2, "the unknown kid fetched the set again");
  // (A new token: the first one, verified before the rotation, stays valid from the cache until its exp.)
  await rejected(v, await sign("RS256", rsa.privateKey, { jti: "after" }, "rsa-1"), 401, /no signing key matches/);
  assert.equal(server.state.calls, 2, "within the cooldown a made-up kid fetches nothing");
  // A key that signs under another's kid is still refused.
  await rejected(v, await sign("RS256", rsa.privateKey, {}, "rsa-2"), 401, /signature does not verify/);
});

test("JWKS down, failing or hanging: 401 within the bounded attempts, and fast while the failure is held", async () => {
  const rsa = await jwk("RS256", "k");
  for (const mode of ["down", "500", "garbage", "hang"] as const) {
    const server = fakeJwks({ keys: [rsa.jwk] });
    server.state.mode = mode;
    const errors: string[] = [];
    const v = await verifier({ jwtJwksUrl: "https://issuer.example/jwks.json" }, {
      jwks: {
        fetch: server.fetch,
        timeout: 150,
        attempts: 2,
        retryDelay: 20,
        failureHold: 300,
        onError: (m) => errors.push(m),
      },
    });
    const token = await sign("RS256", rsa.privateKey, {}, "k");
    let started = Date.now();
    await rejected(v, token, 401, /signing keys are unavailable/);
    assert.ok(Date.now() - started < 1_000, `${mode}: bounded (${Date.now() - started} ms)`);
    assert.equal(server.state.calls, 2, `${mode}: two attempts`);
    assert.equal(errors.length, 1, `${mode}: reported once`);
    assert.match(
      errors[0],
      /Cannot fetch the signing keys from jwtJwksUrl: .*\(https:\/\/issuer\.example\/jwks\.json, 2 attempt\(s\)\)/,
    );
    started = Date.now();
    await rejected(v, token, 401, /signing keys are unavailable/);
    assert.ok(Date.now() - started < 50, `${mode}: the held failure answers at once`);
    assert.equal(server.state.calls, 2, `${mode}: no fetch while the failure is held`);
    // The endpoint recovers: after the hold the next token fetches again and passes.
    server.state.mode = "ok";
    await new Promise((r) => setTimeout(r, 320));
    await v.verify(token);
    assert.equal(server.state.calls, 3);
  }
});

test("a PEM key and a JWKS together: tokens with a kid go to the JWKS, others to the PEM key", async () => {
  const pem = await pemPair("ES256");
  const listed = await jwk("ES256", "k1");
  const server = fakeJwks({ keys: [listed.jwk] });
  const v = await verifier({ jwtPublicKey: pem.pem, jwtJwksUrl: "https://issuer.example/jwks.json" }, {
    jwks: { fetch: server.fetch },
  });
  await v.verify(await sign("ES256", pem.privateKey));
  await v.verify(await sign("ES256", listed.privateKey, {}, "k1"));
  await rejected(v, await sign("ES256", pem.privateKey, {}, "k1"), 401, /signature does not verify/);
  await rejected(v, await sign("ES256", listed.privateKey), 401, /signature does not verify/);
});

test("RemoteJwks refreshes a set past its maximum age in the background, keeping the old keys if that fails", async () => {
  const rsa = await jwk("RS256", "k");
  const server = fakeJwks({ keys: [rsa.jwk] });
  const jwks = new RemoteJwks("https://issuer.example/jwks.json", { fetch: server.fetch, maxAge: 50, timeout: 100 });
  await jwks.key({ alg: "RS256", kid: "k" });
  await new Promise((r) => setTimeout(r, 70));
  server.state.mode = "hang";
  const started = Date.now();
  await jwks.key({ alg: "RS256", kid: "k" }); // served from the old set at once
  assert.ok(Date.now() - started < 50);
  assert.equal(server.state.calls, 2, "the refresh started");
  await new Promise((r) => setTimeout(r, 350)); // both attempts time out
  await jwks.key({ alg: "RS256", kid: "k" }); // still the old keys
  server.state.mode = "ok";
});

test("RemoteJwks shares one fetch between concurrent callers", async () => {
  const rsa = await jwk("RS256", "k");
  const server = fakeJwks({ keys: [rsa.jwk] });
  const jwks = new RemoteJwks("https://issuer.example/jwks.json", { fetch: server.fetch });
  await Promise.all(Array.from({ length: 20 }, () => jwks.key({ alg: "RS256", kid: "k" })));
  assert.equal(server.state.calls, 1);
  assert.equal(jwks.fetches, 1);
  await assert.rejects(
    new RemoteJwks("http://127.0.0.1:1/jwks.json", { attempts: 1, timeout: 500 }).key({ alg: "RS256" }),
    JwksUnavailableError,
  );
});

test("JWKS: an endless body without Content-Length is cut at the size cap, not buffered", async () => {
  const rsa = await jwk("RS256", "k");
  let pulled = 0;
  let cancelled = false;
  const endless = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 65_536;
          controller.enqueue(new Uint8Array(65_536).fill(0x20));
        },
        cancel() {
          cancelled = true;
        },
      }),
      { status: 200 },
    );
  const errors: string[] = [];
  const v = await verifier({ jwtJwksUrl: "https://issuer.example/jwks.json" }, {
    jwks: {
      fetch: (() => Promise.resolve(endless())) as typeof globalThis.fetch,
      attempts: 1,
      onError: (m) => errors.push(m),
    },
  });
  await rejected(v, await sign("RS256", rsa.privateKey, {}, "k"), 401, /signing keys are unavailable/);
  assert.ok(cancelled, "the body was cancelled");
  assert.ok(pulled <= 2 * 1_048_576, `read ${pulled} bytes before stopping`);
  assert.match(errors[0], /more than \d+ bytes/);
});
