/**
 * Conformance cases for request routing, sent over raw sockets because `fetch` would normalise
 * the `Host` header and the request target: the route is chosen by the request target alone,
 * a hostile, invalid or missing `Host` never reaches another route, an absolute-form target is
 * routed by its path, unsupported methods get 405, and nothing answers 5xx or logs a stack
 * trace.
 *
 * @module
 */

import assert from "node:assert/strict";
import { uniqueTopic } from "../helpers/instances.ts";
import { processAt } from "../../scripts/processes.ts";
import { type RawRequest, rawRequest, type RawResponse } from "../helpers/raw_http.ts";
import { SseClient } from "../helpers/sse_client.ts";
import type { Case, Target } from "./suite.ts";

const lis = (t: Target) => ({ Authorization: `Bearer ${t.listenToken}`, Connection: "close" });
const pub = (t: Target) => ({
  Authorization: `Bearer ${t.publishToken}`,
  "Content-Type": "application/json",
  Connection: "close",
});

/**
 * `Host` values that are not `host[:port]` (RFC 9110 §7.2, RFC 3986 §3.2.2). An empty Host has
 * its own case: RFC 9112 §3.2 allows the empty value when the target has no authority.
 */
const INVALID_HOSTS: readonly string[] = [
  "x/metrics#",
  "x\\healthz?",
  "a/b",
  "a\\b",
  "user@a",
  "a b",
  "bücher.example", // sent as UTF-8 bytes
  "a:99999",
  "a:x",
];

/** `Host` values that are valid and name some other server. */
const VALID_HOSTS: readonly string[] = [
  "other.example",
  "other.example:8080",
  "OTHER.EXAMPLE",
  "127.0.0.1",
  "[::1]:80",
];

function describe(request: RawRequest): string {
  const host = request.host === null ? "no Host" : `Host ${JSON.stringify(request.host)}`;
  return `${request.method} ${request.target} ${request.version ?? "HTTP/1.1"} with ${host}`;
}

function summary(response: RawResponse): string {
  const type = response.headers["content-type"] ?? "no content-type";
  return `${response.status || "no status"} ${type}${response.stream ? " (stream)" : ""}, ${response.end}, body ` +
    JSON.stringify(response.body.slice(0, 120));
}

/**
 * Runs `check` for every item and fails once at the end, listing every item that failed, so
 * one run shows the whole picture.
 */
async function forEach<T>(items: readonly T[], check: (item: T) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const item of items) {
    try {
      await check(item);
    } catch (error) {
      failures.push(`- ${(error as Error).message.replace(/\s*\n\s*/g, " ")}`);
    }
  }
  if (failures.length > 0) assert.fail(`${failures.length} of ${items.length} failed:\n${failures.join("\n")}`);
}

/** Sends `request` to instance A and checks it was answered, without 5xx, within the timeout. */
async function send(t: Target, request: RawRequest): Promise<RawResponse> {
  const response = await rawRequest(t.a, request);
  const what = `${describe(request)} → ${summary(response)}`;
  assert.notEqual(response.end, "timeout", `no answer within the timeout: ${what}`);
  assert.ok(response.status >= 200 && response.status < 500, `answered 2xx-4xx: ${what}`);
  return response;
}

const isHealth = (r: RawResponse) => /"listen_connected"/.test(r.body) || /"status":"(ok|degraded)"/.test(r.body);
const isMetrics = (r: RawResponse) => /^# TYPE ssepg_|^ssepg_\w+[ {]/m.test(r.body);
const isStream = (r: RawResponse) => r.stream || /^retry: |^: listening /m.test(r.body);

/** Asserts that `response` is none of the routes' answers except `allowed`. */
function assertNotAnswerOf(
  request: RawRequest,
  response: RawResponse,
  allowed: "health" | "metrics" | "stream" | "none",
): void {
  const what = `${describe(request)} → ${summary(response)}`;
  if (allowed !== "health") assert.ok(!isHealth(response), `answered with the health report: ${what}`);
  if (allowed !== "metrics") assert.ok(!isMetrics(response), `answered with the metrics: ${what}`);
  if (allowed !== "stream") assert.ok(!isStream(response), `answered with an event stream: ${what}`);
}

/** The body as JSON; a body that is not JSON fails with the request and answer named. */
function json(request: RawRequest, response: RawResponse): Record<string, unknown> {
  try {
    return JSON.parse(response.body);
  } catch {
    assert.fail(`the body is not JSON: ${describe(request)} → ${summary(response)}`);
  }
}

/** Asserts a problem+json answer with `status`. */
function assertProblem(request: RawRequest, response: RawResponse, status: number): void {
  const what = `${describe(request)} → ${summary(response)}`;
  assert.equal(response.status, status, what);
  assert.equal(response.headers["content-type"], "application/problem+json", what);
  const body = json(request, response);
  assert.equal(body.status, status, what);
  for (const field of ["type", "title", "detail"]) assert.equal(typeof body[field], "string", `${field}: ${what}`);
}

/**
 * Sends a request to each route with `host` (null: none) under `version` and accepts, for each,
 * either a 400 problem or that route's own answer: never 5xx, never another route's answer.
 */
async function routedOrRefused(t: Target, version: string, host: string | null): Promise<void> {
  const topic = uniqueTopic("routed");
  const plain = { Connection: "close" };
  const requests: [RawRequest, "health" | "metrics" | "stream" | "publish"][] = [
    [{ method: "GET", target: "/healthz", version, host, headers: plain }, "health"],
    [{ method: "GET", target: "/metrics", version, host, headers: plain }, "metrics"],
    [{ method: "GET", target: `/topics/${topic}/events`, version, host, headers: lis(t) }, "stream"],
    ...[topic, topic.toUpperCase()].map((path): [RawRequest, "publish"] => [{
      method: "POST",
      target: `/topics/${path}/events`,
      version,
      host,
      headers: pub(t),
      body: '{"data":1}',
    }, "publish"]),
  ];
  await forEach(requests, async ([request, route]) => {
    const response = await send(t, request);
    const what = `${describe(request)} → ${summary(response)}`;
    if (response.status === 400) return assertNotAnswerOf(request, response, "none");
    assert.equal(response.status, 200, what);
    if (route === "publish") {
      assertNotAnswerOf(request, response, "none");
      assert.equal(json(request, response).topic, topic, what);
      return;
    }
    assertNotAnswerOf(request, response, route);
    if (route === "health") assert.ok(isHealth(response), what);
    if (route === "metrics") assert.ok(isMetrics(response), what);
    if (route === "stream") assert.ok(isStream(response), what);
  });
}

const STACK_LINE = /^\s+at \S/m;

/**
 * Wraps a case: besides its own assertions, the server must not write a stack trace to stderr
 * while it runs.
 */
function withoutStackTraces(name: string, fn: (t: Target) => Promise<void>): Case {
  return {
    name,
    async fn(t) {
      const server = processAt(t.a);
      assert.ok(server, `no server process at ${t.a}: these cases read its stderr`);
      const from = server.stderr().length;
      let failure: unknown;
      try {
        await fn(t);
      } catch (error) {
        failure = error;
      }
      await new Promise((r) => setTimeout(r, 300)); // let the stderr pipe deliver what was logged
      const written = server.stderr().slice(from);
      const trace = STACK_LINE.exec(written);
      const excerpt = trace &&
        written.slice(Math.max(0, written.lastIndexOf("\n", trace.index - 1) - 300), trace.index + 700);
      if (failure) {
        if (excerpt && failure instanceof Error) {
          failure.message += `\n(the server also logged a stack trace:\n${excerpt})`;
        }
        throw failure;
      }
      assert.equal(excerpt, null, `the server logged a stack trace:\n${excerpt}`);
    },
  };
}

/** Every request-routing case, in order. */
export const requestTargetCases: Case[] = [
  withoutStackTraces(
    "a hostile Host never steers a request to another route: topic routes answer neither health nor metrics",
    async (t) => {
      const topic = uniqueTopic("steer");
      const attempts: [RawRequest, "stream" | "health" | "metrics"][] = [];
      for (const host of ["x/metrics#", "x\\metrics?", "x/healthz#", "x\\healthz?"]) {
        attempts.push([{ method: "GET", target: `/topics/${topic}/events`, host, headers: lis(t) }, "stream"]);
      }
      for (const host of [`x/topics/${topic}/events#`, `x\\topics\\${topic}\\events?`, "x/metrics#"]) {
        attempts.push([{ method: "GET", target: "/healthz", host, headers: { Connection: "close" } }, "health"]);
      }
      for (const host of [`x/topics/${topic}/events#`, "x\\healthz?"]) {
        attempts.push([{ method: "GET", target: "/metrics", host, headers: { Connection: "close" } }, "metrics"]);
      }
      await forEach(attempts, async ([request, own]) => assertNotAnswerOf(request, await send(t, request), own));
    },
  ),
  withoutStackTraces(
    "a hostile Host never steers a publish to another topic: POST /topics/A/events with Host x\\topics\\b\\events? publishes nothing to b",
    async (t) => {
      const [a, b] = [uniqueTopic("steer-a"), uniqueTopic("steer-b")];
      const [toA, toB] = await Promise.all(
        [a, b].map((topic) => SseClient.open(`${t.a}/topics/${topic}/events`, { headers: lis(t) })),
      );
      try {
        for (const client of [toA, toB]) await client.next(); // retry:
        for (const client of [toA, toB]) await client.next(); // : listening
        const accepted: string[] = [];
        const requests: RawRequest[] = [];
        for (const path of [a.toUpperCase(), a]) {
          for (const host of [`x\\topics\\${b}\\events?`, `x/topics/${b}/events#`, `x\\topics\\${b}\\events#`]) {
            requests.push({
              method: "POST",
              target: `/topics/${path}/events`,
              host,
              headers: pub(t),
              body: JSON.stringify({ data: { steered: host } }),
            });
          }
        }
        let answers: unknown;
        try {
          await forEach(requests, async (request) => {
            const response = await send(t, request);
            assertNotAnswerOf(request, response, "none");
            if (response.status === 200) {
              const { id, topic } = json(request, response) as { id: string; topic: string };
              if (topic === a) accepted.push(id);
              assert.equal(topic, a, `answered for another topic: ${describe(request)} → ${summary(response)}`);
            }
          });
        } catch (error) {
          answers = error;
        }
        // b's events arrive in publish order: a steered POST would come before this sentinel.
        const sentinel = await fetch(`${t.a}/topics/${b}/events`, {
          method: "POST",
          headers: pub(t),
          body: '{"data":"sentinel"}',
        });
        assert.equal(sentinel.status, 200);
        const { id } = await sentinel.json();
        const steered: string[] = [];
        for (;;) {
          const event = await toB.nextEvent();
          if (event.id === id) break;
          steered.push(event.data ?? "");
        }
        const problems = answers ? [(answers as Error).message] : [];
        if (steered.length > 0) {
          problems.push(`topic b received ${steered.length} steered events: ${steered.join(", ")}`);
        }
        if (problems.length > 0) assert.fail(problems.join("\n"));
        if (accepted.length > 0) {
          assert.deepEqual(
            (await toA.events(accepted.length)).map((e) => e.id),
            accepted,
            "a receives what a accepted",
          );
        }
      } finally {
        await Promise.all([toA.close(), toB.close()]);
      }
    },
  ),
  withoutStackTraces(
    "an invalid Host (with / \\ @ or a space, non-ASCII, a bad port) is answered 400 problem+json on every route",
    async (t) => {
      const topic = uniqueTopic("badhost");
      const body = '{"data":1}';
      type Own = "health" | "metrics" | "stream" | "none";
      const requests = INVALID_HOSTS.flatMap((host): [RawRequest, Own][] => [
        [{ method: "GET", target: "/healthz", host, headers: { Connection: "close" } }, "health"],
        [{ method: "GET", target: "/metrics", host, headers: { Connection: "close" } }, "metrics"],
        [{ method: "GET", target: `/topics/${topic}/events`, host, headers: lis(t) }, "stream"],
        [{ method: "POST", target: `/topics/${topic}/events`, host, headers: pub(t), body }, "none"],
        [{ method: "POST", target: `/topics/${topic.toUpperCase()}/events`, host, headers: pub(t), body }, "none"],
        [{ method: "OPTIONS", target: `/topics/${topic}/events`, host, headers: { Connection: "close" } }, "none"],
      ]);
      await forEach(requests, async ([request, own]) => {
        const response = await send(t, request);
        assertNotAnswerOf(request, response, own); // another route's answer is the worse failure: named first
        assertProblem(request, response, 400);
      });
    },
  ),
  withoutStackTraces(
    "a missing Host on HTTP/1.1 is answered 4xx (Deno.serve lets it through: routed by the target), never another route",
    async (t) => {
      // Deno.serve does not enforce HTTP/1.1's Host; ssepg routes it by its target like an
      // HTTP/1.0 request (load-balancer health checks send those without Host).
      if (t.server === "Deno.serve") return await routedOrRefused(t, "HTTP/1.1", null);
      const topic = uniqueTopic("nohost");
      const body = '{"data":1}';
      const requests: RawRequest[] = [
        { method: "GET", target: "/healthz", host: null, headers: { Connection: "close" } },
        { method: "GET", target: "/metrics", host: null, headers: { Connection: "close" } },
        { method: "GET", target: `/topics/${topic}/events`, host: null, headers: lis(t) },
        { method: "POST", target: `/topics/${topic}/events`, host: null, headers: pub(t), body },
        { method: "POST", target: `/topics/${topic.toUpperCase()}/events`, host: null, headers: pub(t), body },
      ];
      await forEach(requests, async (request) => {
        const response = await send(t, request);
        assert.ok(response.status >= 400, `${describe(request)} → ${summary(response)}`);
        assertNotAnswerOf(request, response, "none");
      });
    },
  ),
  withoutStackTraces(
    "a missing Host on HTTP/1.0 is routed by the target or answered 400, never 5xx or another route",
    (t) => routedOrRefused(t, "HTTP/1.0", null),
  ),
  withoutStackTraces(
    "an empty Host is routed by the target or answered 400, never 5xx or another route",
    (t) => routedOrRefused(t, "HTTP/1.1", ""),
  ),
  withoutStackTraces(
    "any valid Host routes by the request target alone",
    async (t) => {
      const topic = uniqueTopic("okhost");
      await forEach(VALID_HOSTS, async (host) => {
        const health: RawRequest = { method: "GET", target: "/healthz", host, headers: { Connection: "close" } };
        const answer = await send(t, health);
        assert.equal(answer.status, 200, `${describe(health)} → ${summary(answer)}`);
        assert.ok(isHealth(answer), `${describe(health)} → ${summary(answer)}`);
        const stream: RawRequest = { method: "GET", target: `/topics/${topic}/events`, host, headers: lis(t) };
        const opened = await send(t, stream);
        assert.equal(opened.status, 200, `${describe(stream)} → ${summary(opened)}`);
        assert.match(opened.body, new RegExp(`: listening ${topic}\n`), `${describe(stream)} → ${summary(opened)}`);
      });
    },
  ),
  withoutStackTraces(
    "an absolute-form target (GET http://other.example/healthz) is routed by its path",
    async (t) => {
      const topic = uniqueTopic("absolute");
      const host = "other.example";
      const plain = { Connection: "close" };
      const checks: [RawRequest, (r: RawResponse) => void][] = [
        [{ method: "GET", target: `http://${host}/healthz`, host, headers: plain }, (r) => {
          assert.equal(r.status, 200);
          assert.ok(isHealth(r), "the health report");
        }],
        [{ method: "GET", target: `http://${host}/healthz?limit=0`, host, headers: plain }, (r) => {
          assert.equal(r.status, 200);
          assert.deepEqual(JSON.parse(r.body).topics, [], "?limit=0 is read");
        }],
        [{ method: "GET", target: `http://${host}/metrics`, host, headers: plain }, (r) => {
          assert.equal(r.status, 200);
          assert.ok(isMetrics(r), "the metrics");
        }],
        [{ method: "GET", target: `http://${host}/topics/${topic}/events`, host, headers: lis(t) }, (r) => {
          assert.equal(r.status, 200);
          assert.ok(r.stream, "an event stream");
          assert.match(r.body, new RegExp(`: listening ${topic}\n`));
        }],
        ...[topic, topic.toUpperCase()].map((path): [RawRequest, (r: RawResponse) => void] => [{
          method: "POST",
          target: `http://${host}/topics/${path}/events`,
          host,
          headers: pub(t),
          body: '{"data":"absolute"}',
        }, (r) => {
          assert.equal(r.status, 200);
          assert.equal(JSON.parse(r.body).topic, topic);
        }]),
      ];
      await forEach(checks, async ([request, check]) => {
        const response = await send(t, request);
        try {
          check(response);
        } catch (error) {
          throw new Error(`${describe(request)} → ${summary(response)}: ${(error as Error).message.split("\n")[0]}`);
        }
      });
    },
  ),
  withoutStackTraces(
    "a request target that is not a path (*, healthz, http:/healthz) gets 4xx, never 5xx or a route's answer",
    async (t) => {
      const topic = uniqueTopic("target");
      const requests: RawRequest[] = [
        { method: "OPTIONS", target: "*", host: "localhost", headers: { Connection: "close" } },
        { method: "GET", target: "*", host: "localhost", headers: { Connection: "close" } },
        { method: "GET", target: "healthz", host: "localhost", headers: { Connection: "close" } },
        { method: "GET", target: "metrics", host: "localhost", headers: { Connection: "close" } },
        { method: "GET", target: "http:/healthz", host: "localhost", headers: { Connection: "close" } },
        { method: "GET", target: `topics/${topic}/events`, host: "localhost", headers: lis(t) },
        { method: "POST", target: `topics/${topic}/events`, host: "localhost", headers: pub(t), body: '{"data":1}' },
      ];
      await forEach(requests, async (request) => {
        const response = await send(t, request);
        // OPTIONS * asks about the server as a whole: a 2xx is as good as a 4xx there.
        if (request.target !== "*" || request.method !== "OPTIONS") {
          assert.ok(response.status >= 400, `${describe(request)} → ${summary(response)}`);
        }
        assertNotAnswerOf(request, response, "none");
      });
    },
  ),
  withoutStackTraces(
    "TRACE, PROPFIND, PATCH, PUT and DELETE on a topic route get 405 with Allow: GET, POST, OPTIONS",
    async (t) => {
      const topic = uniqueTopic("methods");
      await forEach(["TRACE", "PROPFIND", "PATCH", "PUT", "DELETE"], async (method) => {
        const withBody = method === "PATCH" || method === "PUT";
        const request: RawRequest = {
          method,
          target: `/topics/${topic}/events`,
          host: "localhost",
          headers: pub(t),
          ...(withBody ? { body: '{"data":1}' } : {}),
        };
        const response = await send(t, request);
        assertProblem(request, response, 405);
        const allow = (response.headers["allow"] ?? "").split(",").map((m) => m.trim());
        for (const m of ["GET", "POST", "OPTIONS"]) {
          assert.ok(allow.includes(m), `Allow lists ${m}: ${describe(request)} → ${summary(response)}`);
        }
      });
    },
  ),
  withoutStackTraces(
    "TRACE and PROPFIND on health, metrics and unknown paths get 4xx, never 5xx",
    async (t) => {
      const requests = ["TRACE", "PROPFIND"].flatMap((method) =>
        ["/healthz", "/metrics", "/not-a-route"].map((target): RawRequest => ({
          method,
          target,
          host: "localhost",
          headers: { Connection: "close" },
        }))
      );
      await forEach(requests, async (request) => {
        const response = await send(t, request);
        assert.ok(response.status >= 400, `${describe(request)} → ${summary(response)}`);
        assertNotAnswerOf(request, response, "none");
      });
    },
  ),
];
