import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { createSsepg, type SsepgOptions } from "../../src/service/create.ts";
import type { Logger } from "../../src/log.ts";
import { silentLogger } from "../../src/log.ts";
import { type RequestHead, splitTarget } from "../../src/http/request_head.ts";
import { matchRoute } from "../../src/http/routes.ts";
import { isValidHost } from "../../src/http/host.ts";
import { isStreamReply, type Reply } from "../../src/http/reply.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import type { Bus } from "../../src/bus/bus.ts";

const encoder = new TextEncoder();

function head(method: string, target: string, headers: Record<string, string> = {}, body = ""): RequestHead {
  return {
    method,
    ...splitTarget(target),
    headers: new Headers(headers),
    body: () => Promise.resolve(encoder.encode(body)),
  };
}

async function withService(options: SsepgOptions, fn: (svc: Awaited<ReturnType<typeof createSsepg>>) => Promise<void>) {
  const svc = await createSsepg({ logger: silentLogger, ...options });
  try {
    await fn(svc);
  } finally {
    await svc.close();
  }
}

const json = (reply: Reply) => JSON.parse(isStreamReply(reply) ? "null" : reply.body ?? "null");

test("splitTarget() takes path and query from the target; absolute-form is routed by its path", () => {
  assert.deepEqual(splitTarget("/topics/a/events?lastEventId=e1"), {
    path: "/topics/a/events",
    query: "lastEventId=e1",
  });
  assert.deepEqual(splitTarget("/healthz"), { path: "/healthz", query: "" });
  assert.deepEqual(splitTarget("http://other.example/metrics?x=1"), { path: "/metrics", query: "x=1" });
  assert.deepEqual(splitTarget("HTTPS://other.example:8443"), { path: "/", query: "" });
  assert.deepEqual(splitTarget("http://h?x"), { path: "/", query: "x" });
  assert.deepEqual(splitTarget("http://x/metrics#/topics/a/events"), { path: "/metrics", query: "" });
  assert.deepEqual(splitTarget("*"), { path: "*", query: "" });
  assert.deepEqual(splitTarget("example.com:443"), { path: "example.com:443", query: "" });
});

test("matchRoute() matches basePath, healthz and /metrics by path only", () => {
  const table = { basePath: "/sse/v1", healthz: "/healthz", topics: true, health: true };
  assert.deepEqual(matchRoute(table, "/sse/v1/orders-eu_1/events"), { kind: "events", segment: "orders-eu_1" });
  assert.deepEqual(matchRoute(table, "/sse/v1/a,b/events"), { kind: "events", segment: "a,b" });
  assert.deepEqual(matchRoute(table, "/healthz"), { kind: "health" });
  assert.deepEqual(matchRoute(table, "/metrics"), { kind: "metrics" });
  for (const path of ["/sse/v1/a/events/", "/sse/v1//events", "/sse/v1/a/b/events", "/sse/v1/events", "/sse/v1/"]) {
    assert.deepEqual(matchRoute(table, path), { kind: "topics" }, path);
  }
  for (const path of ["/topics/a/events", "/sse/v1", "/sse/v1x/a/events", "/healthz/", "/", "*", ""]) {
    assert.equal(matchRoute(table, path), undefined, path);
  }
  assert.equal(matchRoute({ ...table, health: false }, "/healthz"), undefined, "health on its own port");
  assert.equal(matchRoute({ ...table, topics: false }, "/sse/v1/a/events"), undefined, "the health port");
});

test("isValidHost() accepts host[:port] and refuses what a URL would read differently", () => {
  for (const host of ["x", "api.example.com:8080", "127.0.0.1", "[::1]:80", "a-b_c~d"]) {
    assert.equal(isValidHost(host), true, host);
  }
  for (
    const host of ["", "x/metrics#", "x\\healthz?", "a b", "u@h", "h:99999", "h:", "é.example", "h?x", "h#", "[::1"]
  ) {
    assert.equal(isValidHost(host), false, host);
  }
});

test("pipeline: 405 with Allow for other methods, 404 elsewhere, 204 for OPTIONS under basePath", async () => {
  await withService({}, async (svc) => {
    for (const method of ["TRACE", "PROPFIND", "PATCH", "PUT", "DELETE", "CONNECT"]) {
      const reply = await svc.handle(head(method, "/topics/a/events"));
      assert.equal(reply.status, 405, method);
      assert.equal(reply.headers.Allow, "GET, POST, OPTIONS");
      assert.equal(json(reply).type, "urn:ssepg:problem:method-not-allowed");
    }
    const postHealth = await svc.handle(head("POST", "/healthz"));
    assert.equal(postHealth.status, 405);
    assert.equal(postHealth.headers.Allow, "GET, HEAD");
    assert.equal((await svc.handle(head("GET", "/nope"))).status, 404);
    assert.equal((await svc.handle(head("GET", "/topics/a/events/"))).status, 404);
    const options = await svc.handle(head("OPTIONS", "/topics/anything/at/all"));
    assert.equal(options.status, 204);
    assert.equal(options.headers.Allow, "GET, POST, OPTIONS");
  });
});

test("pipeline: a malformed Host is 400 on every route; absolute-form targets route by path", async () => {
  await withService({}, async (svc) => {
    for (const host of ["x/metrics#", "x\\healthz?", "a b", "x:99999"]) {
      for (const target of ["/topics/a/events", "/healthz", "/metrics"]) {
        const reply = await svc.handle(head("GET", target, { host }));
        assert.equal(reply.status, 400, `${host} ${target}`);
        assert.equal(json(reply).type, "urn:ssepg:problem:invalid-host");
      }
    }
    const health = await svc.handle(head("GET", "http://other.example/healthz", { host: "x" }));
    assert.equal(health.status, 200);
    assert.equal(json(health).status, "ok");
    // The fetch adapter never reads a URL built from a bad Host.
    const response = await svc.fetch(new Request("http://x/healthz", { headers: { host: "x\\topics\\b\\events?" } }));
    assert.equal(response.status, 400);
    await response.body?.cancel();
  });
});

test("pipeline: publish by the same steps on every adapter, topics percent-decoded and normalised", async () => {
  await withService({ publishToken: "t", corsOrigins: "*" }, async (svc) => {
    const auth = { authorization: "Bearer t", origin: "https://o.example" };
    const ok = await svc.handle(head("POST", "/topics/%41lpha/events?trace=1", auth, '{"data":[1,2]}'));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["Access-Control-Allow-Origin"], "*");
    assert.deepEqual(json(ok).data, [1, 2]);
    assert.equal(json(ok).topic, "alpha");
    const refused = await svc.handle(head("POST", "/topics/a/events", { origin: "https://o.example" }, "{}"));
    assert.equal(refused.status, 401);
    assert.equal(refused.headers["Access-Control-Allow-Origin"], "*", "problems carry CORS too");
    const listed = await svc.handle(head("POST", "/topics/a,b/events", auth, '{"data":1}'));
    assert.equal(listed.status, 400);
    const badEncoding = await svc.handle(head("GET", "/topics/%E0%A4%A/events"));
    assert.equal(badEncoding.status, 400);
  });
});

test("pipeline: a broken body is 400 (503 while draining), never a 500 or a stack in the log", async () => {
  const errors: string[] = [];
  const logger: Logger = { info() {}, warn() {}, error: (m) => errors.push(m) };
  const svc = await createSsepg({ logger });
  const broken: RequestHead = { ...head("POST", "/topics/a/events"), body: () => Promise.reject(new Error("boom")) };
  const reply = await svc.handle(broken);
  assert.equal(reply.status, 400);
  assert.equal(json(reply).type, "urn:ssepg:problem:body-unreadable");
  // The body of a POST already past the draining check breaks because the server shuts down.
  let release!: () => void;
  const slow: RequestHead = {
    ...head("POST", "/topics/a/events"),
    body: () => new Promise((_, reject) => release = () => reject(new Error("aborted by the runtime"))),
  };
  const inFlight = svc.handle(slow);
  await new Promise((r) => setTimeout(r, 0));
  const closing = svc.close();
  release();
  const cut = await inFlight;
  assert.equal(cut.status, 503);
  assert.equal(cut.headers["Retry-After"], "1");
  await closing;
  assert.deepEqual(errors, [], "expected failures log no error");
});

test("pipeline: a bug below a handler is a 500 problem with the stack in the log only", async () => {
  const errors: string[] = [];
  const logger: Logger = { info() {}, warn() {}, error: (m) => errors.push(m) };
  await withService({ logger }, async (svc) => {
    const broken = {
      ...head("GET", "/topics/a/events"),
      headers: {
        get: () => {
          throw new Error("boom");
        },
      },
    };
    const reply = await svc.handle(broken);
    assert.equal(reply.status, 500);
    assert.doesNotMatch(isStreamReply(reply) ? "" : reply.body ?? "", /boom/);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /boom/);
  });
});

test("pipeline: the authorize hook sees the head on every route and answers 403", async () => {
  const seen: string[] = [];
  await withService({
    authorize: (request, topics, action) => {
      seen.push(`${action} ${request.path} ${request.headers.get("x-user")} ${topics.join(",")}`);
      return topics.every((t) => t.startsWith(`user-${request.headers.get("x-user")}-`));
    },
  }, async (svc) => {
    const user = { "x-user": "42" };
    assert.equal((await svc.handle(head("POST", "/topics/user-42-a/events", user, '{"data":1}'))).status, 200);
    assert.equal((await svc.handle(head("POST", "/topics/user-7-a/events", user, '{"data":1}'))).status, 403);
    const stream = await svc.handle(head("GET", "/topics/user-42-a,user-42-b/events", user));
    assert.ok(isStreamReply(stream));
    assert.equal((await svc.handle(head("GET", "/topics/user-42-a,user-7-b/events", user))).status, 403);
    assert.equal((await svc.handle(head("HEAD", "/topics/user-7-b/events", user))).status, 403);
    assert.equal(seen.length, 5);
    assert.equal(seen[0], "publish /topics/user-42-a/events 42 user-42-a");
  });
});

test("pipeline: draining answers 503 to publishes and streams", async () => {
  const svc = await createSsepg({ logger: silentLogger });
  const closing = svc.close();
  for (const [method, body] of [["POST", '{"data":1}'], ["GET", ""]]) {
    const reply = await svc.handle(head(method, "/topics/a/events", {}, body));
    assert.equal(reply.status, 503, method);
    assert.equal(reply.headers["Retry-After"], "1");
  }
  await closing;
});

test("a request without Host is routed by its target (HTTP/1.0 health checks send none)", async () => {
  await withService({}, async (svc) => {
    const response = await svc.fetch(new Request("http://guessed.example/healthz"));
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });
});

test("pipeline: a multi-topic stream cannot name gap, error or open; alone they stream as message", async () => {
  await withService({}, async (svc) => {
    for (const topic of ["gap", "error", "open", "GAP"]) {
      const reply = await svc.handle(head("GET", `/topics/news,${topic}/events`));
      assert.equal(reply.status, 400, topic);
      assert.equal(json(reply).type, "urn:ssepg:problem:reserved-topic");
    }
    const alone = await svc.handle(head("GET", "/topics/error/events"));
    assert.ok(isStreamReply(alone), "a stream of its own names events `message`");
    const published = await svc.handle(head("POST", "/topics/gap/events", {}, '{"data":1}'));
    assert.equal(published.status, 200, "publishing to such a topic stays allowed");
  });
});

test("probes: /livez stays 200; /readyz is 503 while LISTEN is down or the server drains", async () => {
  const memory = new MemoryBus();
  let connected = true;
  const bus: Bus = {
    start: (handlers) => memory.start(handlers),
    publish: (envelope, payload) => memory.publish(envelope, payload),
    status: () => ({ ...memory.status(), connected }),
    close: () => memory.close(),
  };
  const svc = await createSsepg({ logger: silentLogger, bus });
  const probe = async (path: string) => {
    const reply = await svc.handle(head("GET", path));
    return { status: reply.status, body: json(reply) };
  };
  assert.deepEqual(await probe("/livez"), { status: 200, body: { status: "ok" } });
  assert.equal((await probe("/readyz")).status, 200);
  connected = false;
  assert.equal((await probe("/livez")).status, 200, "a database outage does not fail liveness");
  assert.deepEqual(await probe("/readyz"), {
    status: 503,
    body: { status: "unavailable", listen_connected: false, draining: false },
  });
  connected = true;
  const closing = svc.close();
  assert.equal((await probe("/readyz")).body.draining, true);
  assert.equal((await probe("/readyz")).status, 503);
  await closing;
  assert.equal((await svc.handle(head("POST", "/readyz"))).status, 405);
});
