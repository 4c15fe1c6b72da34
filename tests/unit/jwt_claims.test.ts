import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { compilePatterns, covers, isPattern, matchPattern, parseTopicClaims } from "../../src/http/jwt/topic_claims.ts";

test("matchPattern() lets * match any run of topic characters, including none", () => {
  assert.equal(matchPattern("user-42-*", "user-42-orders"), true);
  assert.equal(matchPattern("user-42-*", "user-42-"), true);
  assert.equal(matchPattern("user-42-*", "user-421-orders"), false);
  assert.equal(matchPattern("user-*-orders", "user-42-orders"), true);
  assert.equal(matchPattern("user-*-orders", "user-42-invoices"), false);
  assert.equal(matchPattern("*-orders", "user-42-orders"), true);
  assert.equal(matchPattern("*", "anything_at-all"), true);
  assert.equal(matchPattern("a*b*c", "axxbyyc"), true);
  assert.equal(matchPattern("a*b*c", "axxbyy"), false);
  assert.equal(matchPattern("news", "news"), true);
  assert.equal(matchPattern("news", "newsy"), false);
  assert.equal(matchPattern("news", "new"), false);
  assert.equal(matchPattern("a**b", "ab"), true);
});

test("matchPattern() stays fast for patterns full of stars (no backtracking blow-up)", () => {
  const pattern = "a*".repeat(60) + "b";
  const topic = "a".repeat(128);
  const started = performance.now();
  assert.equal(matchPattern(pattern, topic), false);
  assert.ok(performance.now() - started < 50, "linear-ish matching");
});

test("covers() needs every topic of a multi-topic stream to be granted", () => {
  const list = compilePatterns(["news", "user-42-*"]);
  assert.equal(covers(list, ["news"]), true);
  assert.equal(covers(list, ["news", "user-42-orders", "user-42-cart"]), true);
  assert.equal(covers(list, ["news", "user-43-orders"]), false);
  assert.equal(covers(compilePatterns([]), ["news"]), false);
  assert.equal(covers(compilePatterns(["*"]), ["a", "b"]), true);
  assert.equal(compilePatterns(["*"]).all, true);
  assert.equal(covers(compilePatterns(["NEWS", "User-*"]), ["news", "user-1"]), true, "entries are lower-cased");
});

test("parseTopicClaims() reads ssepg.publish and ssepg.subscribe; a missing claim grants nothing", () => {
  const grants = parseTopicClaims({ sub: "u", ssepg: { publish: ["a"], subscribe: ["b-*"] } });
  assert.ok(!("error" in grants));
  assert.equal(covers(grants.publish, ["a"]), true);
  assert.equal(covers(grants.publish, ["b-1"]), false);
  assert.equal(covers(grants.subscribe, ["b-1"]), true);
  const none = parseTopicClaims({ sub: "u" });
  assert.ok(!("error" in none));
  assert.equal(covers(none.subscribe, ["a"]), false);
  const onlySubscribe = parseTopicClaims({ ssepg: { subscribe: ["a"] } });
  assert.ok(!("error" in onlySubscribe));
  assert.equal(covers(onlySubscribe.publish, ["a"]), false);
});

test("parseTopicClaims() names what is wrong with a claim of the wrong shape", () => {
  const error = (payload: Record<string, unknown>) => {
    const result = parseTopicClaims(payload);
    assert.ok("error" in result, JSON.stringify(payload));
    return result.error;
  };
  assert.match(error({ ssepg: "news" }), /^ssepg must be an object .* found "news"$/);
  assert.match(error({ ssepg: ["news"] }), /^ssepg must be an object .* found an array$/);
  assert.match(error({ ssepg: null }), /found null$/);
  assert.match(error({ ssepg: { subscribe: "news" } }), /^ssepg\.subscribe must be an array .* found "news"$/);
  assert.match(
    error({ ssepg: { publish: [1] } }),
    /^ssepg\.publish\[0\] must be a topic or a pattern .* found a number$/,
  );
  assert.match(error({ ssepg: { subscribe: ["ok", "a/b"] } }), /^ssepg\.subscribe\[1\] .* found "a\/b"$/);
  assert.match(error({ ssepg: { subscribe: [""] } }), /ssepg\.subscribe\[0\]/);
  assert.match(error({ ssepg: { subscribe: ["x".repeat(257)] } }), /at most 256 characters/);
});

test("isPattern() accepts topic characters and *, case-insensitively", () => {
  assert.equal(isPattern("User-42-*"), true);
  assert.equal(isPattern("*"), true);
  assert.equal(isPattern("a b"), false);
  assert.equal(isPattern("a.b"), false);
  assert.equal(isPattern(""), false);
});
