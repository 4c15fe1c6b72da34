import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { requestToken, requireToken, tokensEqual } from "../../src/http/auth.ts";
import { HttpProblem } from "../../src/http/problem.ts";

/** The parts of a request the token checks read. */
function head(url: string, init?: RequestInit) {
  return { headers: new Request(url, init).headers, query: new URL(url).search.slice(1) };
}

test("tokensEqual() compares exactly", () => {
  assert.equal(tokensEqual("abc", "abc"), true);
  assert.equal(tokensEqual("abd", "abc"), false);
  assert.equal(tokensEqual("ab", "abc"), false);
  assert.equal(tokensEqual("abcd", "abc"), false);
  assert.equal(tokensEqual("", "abc"), false);
});

test("requestToken() reads Bearer case-insensitively and the query token only when allowed", () => {
  const header = (v: string) => head("http://x/", { headers: { authorization: v } });
  assert.equal(requestToken(header("Bearer t1"), false), "t1");
  assert.equal(requestToken(header("bEaReR   t1"), false), "t1");
  assert.equal(requestToken(header("Basic dTpw"), false), undefined);
  assert.equal(requestToken(head("http://x/?access_token=q"), false), undefined);
  assert.equal(requestToken(head("http://x/?access_token=q"), true), "q");
});

test("requireToken() throws 401 with WWW-Authenticate: Bearer", () => {
  requireToken(head("http://x/"), undefined, false, "publish");
  requireToken(head("http://x/", { headers: { authorization: "Bearer s" } }), "s", false, "publish");
  for (
    const req of [head("http://x/"), head("http://x/", { headers: { authorization: "Bearer bad" } })]
  ) {
    try {
      requireToken(req, "s", false, "publish");
      assert.fail("should throw");
    } catch (error) {
      assert.ok(error instanceof HttpProblem);
      const reply = error.toReply();
      assert.equal(reply.status, 401);
      assert.match(reply.headers["WWW-Authenticate"] ?? "", /^Bearer/);
      assert.equal(reply.headers["Content-Type"], "application/problem+json");
      const body = JSON.parse(reply.body ?? "");
      assert.deepEqual(Object.keys(body).sort(), ["detail", "status", "title", "type"]);
    }
  }
});
