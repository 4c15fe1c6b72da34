import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { corsHeaders } from "../../src/http/cors.ts";
import { type PlainReply, withHeaders } from "../../src/http/reply.ts";

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

test("withHeaders() merges Vary and adds the rest", () => {
  const plain: PlainReply = { status: 200, headers: { Vary: "Accept-Encoding" }, body: "x" };
  const reply = withHeaders(plain, {
    Vary: "Origin",
    "X-A": "1",
  });
  assert.equal(reply.headers.Vary, "Accept-Encoding, Origin");
  assert.equal(reply.headers["X-A"], "1");
});
