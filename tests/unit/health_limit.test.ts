import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { DEFAULT_HEALTH_TOPICS, healthReply, MAX_HEALTH_TOPICS } from "../../src/http/observe.ts";
import type { HttpTarget } from "../../src/http/target.ts";
import { requestHead } from "../../src/http/web.ts";
import { createSsepg } from "../../src/service/create.ts";
import { silentLogger } from "../../src/log.ts";

/** The limit the health route asks the instance for. */
function limitAsked(url: string): number {
  let asked = NaN;
  const target = {
    health(limit: number) {
      asked = limit;
      return { status: "ok" };
    },
  } as unknown as HttpTarget;
  healthReply(target, requestHead(new Request(url)));
  return asked;
}

test("health lists the 100 busiest topics unless ?limit= asks, and ?limit= is capped at 10 000", () => {
  assert.equal(DEFAULT_HEALTH_TOPICS, 100);
  assert.equal(MAX_HEALTH_TOPICS, 10_000);
  assert.equal(limitAsked("http://x/healthz"), 100);
  assert.equal(limitAsked("http://x/healthz?limit=0"), 0);
  assert.equal(limitAsked("http://x/healthz?limit=5"), 5);
  assert.equal(limitAsked("http://x/healthz?limit=10000"), 10_000);
  assert.equal(limitAsked("http://x/healthz?limit=999999999"), 10_000);
});

test("GET /healthz on an instance with 150 topics lists 100 of them; totals count all", async () => {
  const svc = await createSsepg({ logger: silentLogger });
  try {
    for (let i = 0; i < 150; i++) await svc.publish(`t${i}`, i);
    const report = await (await svc.fetch(new Request("http://x/healthz"))).json();
    assert.equal(report.topics.length, 100);
    assert.equal(report.totals.topics, 150);
    const all = await (await svc.fetch(new Request("http://x/healthz?limit=200"))).json();
    assert.equal(all.topics.length, 150);
  } finally {
    await svc.close();
  }
});
