import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { isValidTopic, normalizeTopic, parseTopicList } from "../../src/topic.ts";

test("normalizeTopic() lower-cases, then applies ^[a-z0-9_-]{1,128}$", () => {
  assert.equal(normalizeTopic("Alpha_1-x"), "alpha_1-x");
  assert.equal(normalizeTopic("x".repeat(128)), "x".repeat(128));
  for (const bad of ["", "x".repeat(129), "a b", "a/b", "a.b", "é", "a\n", "a,b"]) {
    assert.equal(normalizeTopic(bad), undefined, bad);
  }
  assert.equal(isValidTopic("A"), false);
});

test("parseTopicList() accepts up to 32 distinct topics", () => {
  assert.deepEqual(parseTopicList("a,B,a"), { topics: ["a", "b"] });
  assert.ok("topics" in parseTopicList(Array.from({ length: 32 }, (_, i) => `t${i}`).join(",")));
  assert.ok("error" in parseTopicList(Array.from({ length: 33 }, (_, i) => `t${i}`).join(",")));
  assert.ok("error" in parseTopicList("a,,b"));
  assert.ok("error" in parseTopicList("a,b c"));
});
