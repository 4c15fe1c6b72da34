import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { test } from "../helpers/test.ts";
import { createSsepg, type SsepgOptions } from "../../src/service/create.ts";
import type { JwtClaims } from "../../src/http/jwt/verifier.ts";

const SECRET = "access-test-secret-0123456789abcdef";
const KEY = new TextEncoder().encode(SECRET);
const quiet = { info() {}, warn() {}, error() {} };

function token(ssepg: unknown, extra: Record<string, unknown> = {}, lifetime = 60): Promise<string> {
  return new SignJWT({ ssepg, ...extra }).setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.ceil(Date.now() / 1000 + lifetime)).sign(KEY);
}

async function service(options: SsepgOptions = {}) {
  return await createSsepg({
    jwtSecret: SECRET,
    publishToken: "static-pub",
    listenToken: "static-lis",
    logger: quiet,
    ...options,
  });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function status(response: Response): Promise<number> {
  await response.body?.cancel();
  return response.status;
}

async function problem(response: Response, expected: number, detail: RegExp) {
  assert.equal(response.status, expected);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  assert.match((await response.json()).detail, detail);
  return response;
}

test("JWT access: static tokens still pass; a JWT must grant every topic (401 invalid, 403 not granted)", async () => {
  const svc = await service();
  try {
    const get = (path: string, headers: Record<string, string> = {}) =>
      svc.fetch(new Request(`http://x/topics/${path}/events`, { headers }));
    assert.equal(await status(await get("anything", bearer("static-lis"))), 200);
    const missing = await problem(await get("user-42-a"), 401, /bearer token is required to listen/);
    assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="ssepg"');
    const bad = await problem(
      await get("user-42-a", bearer("static-pub")),
      401,
      /not valid to listen: the token is malformed/,
    );
    assert.equal(bad.headers.get("www-authenticate"), 'Bearer realm="ssepg", error="invalid_token"');
    const expired = await token({ subscribe: ["*"] }, {}, -5);
    await problem(await get("user-42-a", bearer(expired)), 401, /the token expired/);
    const user = await token({ subscribe: ["user-42-*", "news"] });
    assert.equal(await status(await get("user-42-orders", bearer(user))), 200);
    assert.equal(await status(await get("user-42-orders,news,user-42-cart", bearer(user))), 200);
    const denied = await problem(
      await get("news,user-43-orders", bearer(user)),
      403,
      /does not grant subscribe on user-43-orders/,
    );
    assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="ssepg", error="insufficient_scope"');
    await problem(
      await get("news", bearer(await token({ subscribe: "news" }))),
      403,
      /ssepg\.subscribe must be an array/,
    );
    await problem(await get("news", bearer(await token(undefined))), 403, /does not grant subscribe on news/);
  } finally {
    await svc.close();
  }
});

test("JWT access: publishing needs the publish claim, from the Authorization header only", async () => {
  const svc = await service({ jwtCookie: "ssepg_token", allowQueryToken: true });
  try {
    const post = (topic: string, headers: Record<string, string>, query = "") =>
      svc.fetch(
        new Request(`http://x/topics/${topic}/events${query}`, { method: "POST", headers, body: '{"data":1}' }),
      );
    const both = await token({ publish: ["user-42-*"], subscribe: ["*"] });
    assert.equal(await status(await post("user-42-orders", bearer(both))), 200);
    assert.equal(await status(await post("news", bearer("static-pub"))), 200);
    await problem(await post("user-43-orders", bearer(both)), 403, /does not grant publish on user-43-orders/);
    await problem(await post("news", bearer(await token({ subscribe: ["*"] }))), 403, /does not grant publish/);
    await problem(await post("news", bearer("static-lis")), 401, /not valid to publish/);
    await problem(await post("user-42-a", { cookie: `ssepg_token=${both}` }), 401, /required to publish/);
    await problem(await post("user-42-a", {}, `?access_token=${both}`), 401, /required to publish/);
  } finally {
    await svc.close();
  }
});

test("JWT access: streams take the token from the header, ?access_token= (when allowed) or the jwtCookie cookie", async () => {
  const user = await token({ subscribe: ["user-42-*"] });
  const withCookie = await service({ jwtCookie: "ssepg_token" });
  try {
    const get = (headers: Record<string, string>, query = "") =>
      withCookie.fetch(new Request(`http://x/topics/user-42-a/events${query}`, { headers }));
    assert.equal(await status(await get({ cookie: `theme=dark; ssepg_token=${user}` })), 200);
    assert.equal(await status(await get({ cookie: `other=${user}` })), 401);
    assert.equal(await status(await get({}, `?access_token=${user}`)), 401, "query tokens are off by default");
    assert.equal(await status(await get({ ...bearer("nope"), cookie: `ssepg_token=${user}` })), 401, "the header wins");
  } finally {
    await withCookie.close();
  }
  const withQuery = await service({ allowQueryToken: true });
  try {
    const response = await withQuery.fetch(new Request(`http://x/topics/user-42-a/events?access_token=${user}`));
    assert.equal(await status(response), 200);
  } finally {
    await withQuery.close();
  }
});

test("JWT access: the authorize hook gets the verified claims (undefined for a static token)", async () => {
  const seen: (JwtClaims | undefined)[] = [];
  const svc = await service({
    authorize: (_request, topics, _action, claims) => {
      seen.push(claims);
      return claims === undefined || topics.every((t) => t.startsWith(`user-${claims.sub}-`));
    },
  });
  try {
    const user = await token({ subscribe: ["*"] }, { sub: "42", tenant: "acme" });
    const get = (topic: string, t: string) =>
      svc.fetch(new Request(`http://x/topics/${topic}/events`, { headers: bearer(t) }));
    assert.equal(await status(await get("user-42-a", user)), 200);
    assert.equal(await status(await get("user-43-a", user)), 403, "the hook refuses what the claim allowed");
    assert.equal(await status(await get("user-43-a", "static-lis")), 200);
    assert.equal(seen[0]?.sub, "42");
    assert.equal(seen[0]?.tenant, "acme");
    assert.deepEqual(seen[0]?.ssepg, { subscribe: ["*"] });
    assert.equal(seen[2], undefined);
  } finally {
    await svc.close();
  }
});

test("JWT access: a stream ends at its token's exp with ': token expired'", async () => {
  const svc = await service();
  try {
    const short = await token({ subscribe: ["t"] }, {}, 1);
    const started = Date.now();
    const response = await svc.fetch(new Request("http://x/topics/t/events", { headers: bearer(short) }));
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.ok(text.endsWith(": token expired\n\n"), text);
    assert.ok(Date.now() - started < 2_500, "ended at exp, not later");
    // A static token's stream has no end: cancel it, and no timer may remain (the leak check).
    const open = await svc.fetch(new Request("http://x/topics/t/events", { headers: bearer("static-lis") }));
    await open.body?.cancel();
    const long = await svc.fetch(
      new Request("http://x/topics/t/events", { headers: bearer(await token({ subscribe: ["t"] })) }),
    );
    await long.body?.cancel();
  } finally {
    await svc.close();
  }
});

test("health on the main port hides topic names unless the request may subscribe to every topic", async () => {
  const svc = await service({ healthPort: undefined });
  try {
    await svc.publish("user-42-orders", 1);
    const topics = async (headers: Record<string, string> = {}, fetcher = svc.fetch) => {
      const response = await fetcher(new Request("http://x/healthz", { headers }));
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(typeof body.totals.topics, "number", "totals are always there");
      return body.topics.map((t: { topic: string }) => t.topic);
    };
    assert.deepEqual(await topics(), []);
    assert.deepEqual(await topics(bearer(await token({ subscribe: ["user-42-*"] }))), []);
    assert.deepEqual(await topics(bearer("garbage")), [], "a bad token hides, it does not fail the probe");
    assert.deepEqual(await topics(bearer("static-lis")), ["user-42-orders"]);
    assert.deepEqual(await topics(bearer("static-pub")), ["user-42-orders"]);
    assert.deepEqual(await topics(bearer(await token({ subscribe: ["*"] }))), ["user-42-orders"]);
    assert.deepEqual(await topics({}, svc.healthFetch), ["user-42-orders"], "the health port is for operators");
    const metrics = await (await svc.fetch(new Request("http://x/metrics"))).text();
    assert.ok(!metrics.includes("user-42"), "metrics carry no topic names");
  } finally {
    await svc.close();
  }
  const open = await createSsepg({ logger: quiet });
  try {
    await open.publish("news", 1);
    const body = await (await open.fetch(new Request("http://x/healthz"))).json();
    assert.deepEqual(body.topics.map((t: { topic: string }) => t.topic), ["news"], "without auth nothing is hidden");
  } finally {
    await open.close();
  }
});

test("CORS: credentials are allowed for listed origins when jwtCookie is set, never with *", async () => {
  const origin = "https://app.example";
  const preflight = (svc: { fetch(r: Request): Promise<Response> }) =>
    svc.fetch(
      new Request("http://x/topics/a/events", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "last-event-id" },
      }),
    );
  const listed = await service({ jwtCookie: "t", corsOrigins: origin });
  try {
    const response = await preflight(listed);
    assert.equal(response.headers.get("access-control-allow-origin"), origin);
    assert.equal(response.headers.get("access-control-allow-credentials"), "true");
    const denied = await listed.fetch(new Request("http://x/topics/a/events", { headers: { origin } }));
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("access-control-allow-credentials"), "true", "the 401 is readable by the page");
  } finally {
    await listed.close();
  }
  const wildcard = await service({ jwtCookie: "t", corsOrigins: "*" });
  try {
    const response = await preflight(wildcard);
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    assert.equal(response.headers.get("access-control-allow-credentials"), null);
  } finally {
    await wildcard.close();
  }
  const noCookie = await service({ corsOrigins: origin });
  try {
    assert.equal((await preflight(noCookie)).headers.get("access-control-allow-credentials"), null);
  } finally {
    await noCookie.close();
  }
});

test("JWT access: a publish whose body finishes after the token expired gets 401 and publishes nothing", async () => {
  const svc = await service();
  try {
    const expiring = await token({ publish: ["slow"] }, {}, 1);
    const body = new TextEncoder().encode('{"data":1}');
    const reply = await svc.handle({
      method: "POST",
      path: "/topics/slow/events",
      query: "",
      headers: new Headers(bearer(expiring)),
      // The head arrives in time; the body only after the token's exp.
      body: () => new Promise((resolve) => setTimeout(() => resolve(body), 2_100)),
    });
    assert.equal(reply.status, 401);
    assert.match(String(reply.headers["WWW-Authenticate"]), /invalid_token/);
    assert.equal(svc.health().totals.published, 0);
  } finally {
    await svc.close();
  }
});

test("JWT access: an Authorization header of another scheme (Basic) does not hide the cookie or the query token", async () => {
  const svc = await service({ jwtCookie: "ssepg_token", allowQueryToken: true });
  try {
    const good = await token({ subscribe: ["basic"] });
    const viaCookie = await svc.fetch(
      new Request("http://x/topics/basic/events", {
        headers: { authorization: "Basic dXNlcjpwYXNz", cookie: `ssepg_token=${good}` },
      }),
    );
    assert.equal(await status(viaCookie), 200);
    const viaQuery = await svc.fetch(
      new Request(`http://x/topics/basic/events?access_token=${good}`, {
        headers: { authorization: "Basic dXNlcjpwYXNz" },
      }),
    );
    assert.equal(await status(viaQuery), 200);
    // A Bearer header, even a broken one, is the client's answer: no fallback past it.
    const broken = await svc.fetch(
      new Request("http://x/topics/basic/events", {
        headers: { authorization: "Bearer", cookie: `ssepg_token=${good}` },
      }),
    );
    assert.equal(await status(broken), 401);
    // A claim of the wrong shape: 403 with insufficient_scope.
    const shapeless = await svc.fetch(
      new Request("http://x/topics/basic/events", { headers: bearer(await token({ subscribe: "basic" })) }),
    );
    assert.equal(shapeless.status, 403);
    assert.match(shapeless.headers.get("www-authenticate") ?? "", /insufficient_scope/);
    await shapeless.body?.cancel();
  } finally {
    await svc.close();
  }
});
