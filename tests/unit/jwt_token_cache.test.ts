import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { TokenCache } from "../../src/http/jwt/token_cache.ts";

test("TokenCache.get() returns an entry until its deadline, then forgets it", () => {
  const cache = new TokenCache<string>(4);
  cache.set("t", "v", 1_000);
  assert.equal(cache.get("t", 999), "v");
  assert.equal(cache.get("t", 1_000), undefined);
  assert.equal(cache.size, 0, "the expired entry is removed");
  cache.set("forever", "v", Infinity);
  assert.equal(cache.get("forever", Number.MAX_SAFE_INTEGER), "v");
});

test("TokenCache holds at most its size, evicting the least recently used entry", () => {
  const cache = new TokenCache<number>(2);
  cache.set("a", 1, Infinity);
  cache.set("b", 2, Infinity);
  assert.equal(cache.get("a", 0), 1); // a is now the most recent
  cache.set("c", 3, Infinity);
  assert.equal(cache.size, 2);
  assert.equal(cache.get("b", 0), undefined, "b was the least recently used");
  assert.equal(cache.get("a", 0), 1);
  assert.equal(cache.get("c", 0), 3);
  for (let i = 0; i < 1_000; i++) cache.set(`k${i}`, i, Infinity);
  assert.equal(cache.size, 2);
  cache.clear();
  assert.equal(cache.size, 0);
});

test("TokenCache refuses a size below 1", () => {
  assert.throws(() => new TokenCache(0), RangeError);
});
