import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { requestToken, requireToken, tokensEqual } from "../../src/http/auth.ts";
import { HttpProblem } from "../../src/http/problem.ts";

test("tokensEqual() compares exactly", () => {
  assert.equal(tokensEqual("abc", "abc"), true);
  assert.equal(tokensEqual("abd", "abc"), false);
  assert.equal(tokensEqual("ab", "abc"), false);
  assert.equal(tokensEqual("abcd", "abc"), false);
  assert.equal(tokensEqual("", "abc"), false);
});

test("requestToken() reads Bearer case-insensitively and the query token only when allowed", () => {
  const header = (v: string) => new Request("http://x/", { headers: { authorization: v } });
  assert.equal(requestToken(header("Bearer t1"), false), "t1");
  assert.equal(requestToken(header("bEaReR   t1"), false), "t1");
  assert.equal(requestToken(header("Basic dTpw"), false), undefined);
  assert.equal(requestToken(new Request("http://x/?access_token=q"), false), undefined);
  assert.equal(requestToken(new Request("http://x/?access_token=q"), true), "q");
});

test("requireToken() throws 401 with WWW-Authenticate: Bearer", async () => {
  requireToken(new Request("http://x/"), undefined, false, "publish");
  requireToken(new Request("http://x/", { headers: { authorization: "Bearer s" } }), "s", false, "publish");
  for (
    const req of [new Request("http://x/"), new Request("http://x/", { headers: { authorization: "Bearer bad" } })]
  ) {
    try {
      requireToken(req, "s", false, "publish");
      assert.fail("should throw");
    } catch (error) {
      assert.ok(error instanceof HttpProblem);
      const response = error.toResponse();
      assert.equal(response.status, 401);
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal(response.headers.get("content-type"), "application/problem+json");
      const body = await response.json();
      assert.deepEqual(Object.keys(body).sort(), ["detail", "status", "title", "type"]);
    }
  }
});
