import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { compact, compactMember } from "../../src/json.ts";

test("compactMember() returns the member's text with whitespace removed outside strings", () => {
  assert.equal(compactMember('{ "data" : { "a" : [ 1 , 2 ] , "s" : " x  y " } }', "data"), '{"a":[1,2],"s":" x  y "}');
  assert.equal(compactMember('{"data":"q\\"uote\\\\"}', "data"), '"q\\"uote\\\\"');
  assert.equal(compactMember('{"x":1,"data":true}', "data"), "true");
  assert.equal(compactMember('{"x":1}', "data"), undefined);
});

test("compactMember() keeps numbers exactly as sent", () => {
  assert.equal(
    compactMember('{"data":[1e400, 12345678901234567890, -0.10]}', "data"),
    "[1e400,12345678901234567890,-0.10]",
  );
});

test("compactMember() takes the last duplicate key and decodes escaped key names, like JSON.parse", () => {
  assert.equal(compactMember('{"data":1,"data":2}', "data"), "2");
  assert.equal(compactMember('{"d\\u0061ta":3}', "data"), "3");
});

test("compactMember() handles deep nesting without recursion", () => {
  const depth = 100_000;
  const text = `{"data":${"[".repeat(depth)}${"]".repeat(depth)}}`;
  assert.equal(compactMember(text, "data")?.length, 2 * depth);
});

test("compact() returns the same string when there is nothing to remove", () => {
  const s = '{"a":"b c"}';
  assert.equal(compact(s), s);
  assert.equal(compact(' {\n"a" :\t"b c" } '), s);
});
