import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { createSsepg } from "../../src/service.ts";
import { silentLogger } from "../../src/log.ts";
import { publishRouteFor } from "../../src/http/publish.ts";

test("publish route: takes one already-normal topic under basePath, leaves the rest to fetch", async () => {
  const svc = await createSsepg({ logger: silentLogger, basePath: "/sse/v1" });
  try {
    const route = publishRouteFor(svc.fetch);
    assert.ok(route, "offered when there is no authorize hook");
    assert.equal(route.match("POST", "/sse/v1/orders-eu_1/events"), "orders-eu_1");
    assert.equal(route.match("POST", "/sse/v1/a/events?trace=1"), "a");
    for (
      const [method, path] of [
        ["GET", "/sse/v1/a/events"],
        ["PUT", "/sse/v1/a/events"],
        ["POST", "/topics/a/events"],
        ["POST", "/sse/v1/A/events"],
        ["POST", "/sse/v1/a,b/events"],
        ["POST", "/sse/v1/%61/events"],
        ["POST", "/sse/v1/a/events/"],
        ["POST", "/sse/v1//events"],
        ["POST", "/sse/v1/a/b/events"],
        ["POST", `/sse/v1/${"a".repeat(129)}/events`],
      ]
    ) assert.equal(route.match(method, path), undefined, `${method} ${path}`);
  } finally {
    await svc.close();
  }
});

test("publish route: answers like the fetch handler, problems and CORS included", async () => {
  const svc = await createSsepg({ logger: silentLogger, publishToken: "t", corsOrigins: "*" });
  try {
    const route = publishRouteFor(svc.fetch)!;
    const head = (headers: Record<string, string>) =>
      new Request("http://x/topics/a/events", { method: "POST", headers: { origin: "https://o.example", ...headers } });
    const body = (text: string) => () => Promise.resolve(new TextEncoder().encode(text));
    const ok = await route.handle(head({ authorization: "Bearer t" }), "a", body('{"data":[1,2]}'));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["Access-Control-Allow-Origin"], "*");
    assert.deepEqual(JSON.parse(ok.body).data, [1, 2]);
    const refused = await route.handle(head({}), "a", body('{"data":1}'));
    assert.equal(refused.status, 401);
    assert.equal(refused.headers["Content-Type"], "application/problem+json");
    assert.equal(refused.headers["Access-Control-Allow-Origin"], "*");
    const broken = await route.handle(head({ authorization: "Bearer t" }), "a", () => Promise.reject(new Error("x")));
    assert.equal(broken.status, 500, "a failing reader is a 500 problem, not a throw");
    assert.doesNotMatch(broken.body, /x"/);
  } finally {
    await svc.close();
  }
});

test("publish route: not offered when an authorize hook is set", async () => {
  const svc = await createSsepg({ logger: silentLogger, authorize: () => true });
  try {
    assert.equal(publishRouteFor(svc.fetch), undefined);
  } finally {
    await svc.close();
  }
});
