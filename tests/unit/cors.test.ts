import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { corsHeaders, withCors } from "../../src/http/cors.ts";

const request = (origin?: string, init: RequestInit = {}) =>
  new Request("http://api.example/topics/a/events", {
    ...init,
    headers: { ...(origin ? { origin } : {}), ...init.headers },
  });

test("corsHeaders() sends nothing when corsOrigins is unset", () => {
  assert.deepEqual(corsHeaders(request("https://app.example"), undefined), {});
});

test("corsHeaders() echoes an allowed origin, varies by Origin and exposes Retry-After", () => {
  const h = corsHeaders(request("https://App.example"), ["https://app.example"]);
  assert.equal(h["Access-Control-Allow-Origin"], "https://App.example");
  assert.equal(h.Vary, "Origin");
  assert.match(h["Access-Control-Expose-Headers"], /Retry-After/);
  assert.equal(h["Access-Control-Allow-Methods"], undefined, "not a preflight");
});

test("corsHeaders() refuses other origins and answers * for a wildcard", () => {
  assert.deepEqual(corsHeaders(request("https://evil.example"), ["https://app.example"]), { Vary: "Origin" });
  assert.deepEqual(corsHeaders(request(), ["https://app.example"]), {});
  assert.equal(corsHeaders(request("https://any.example"), ["*"])["Access-Control-Allow-Origin"], "*");
});

test("corsHeaders() answers preflights with methods, Authorization and Last-Event-ID", () => {
  const preflight = request("https://app.example", {
    method: "OPTIONS",
    headers: { "access-control-request-method": "GET", "access-control-request-headers": "last-event-id" },
  });
  const h = corsHeaders(preflight, ["https://app.example"]);
  assert.equal(h["Access-Control-Allow-Methods"], "GET, POST, OPTIONS");
  assert.equal(h["Access-Control-Allow-Headers"], "Authorization, Content-Type, Last-Event-ID");
  assert.equal(h["Access-Control-Max-Age"], "600");
});

test("withCors() merges Vary", () => {
  const response = withCors(new Response("x", { headers: { Vary: "Accept-Encoding" } }), {
    Vary: "Origin",
    "X-A": "1",
  });
  assert.equal(response.headers.get("vary"), "Accept-Encoding, Origin");
  assert.equal(response.headers.get("x-a"), "1");
});
