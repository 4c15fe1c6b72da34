import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { eventCost, JSC_MEMORY, memoryModelFor, V8_MEMORY } from "../../src/dispatcher/memory_model.ts";
import { Dispatcher } from "../../src/dispatcher/dispatcher.ts";

test("event cost counts Latin-1 strings at one byte per character, wider ones at two, plus the UTF-8 frame", () => {
  const ascii = `{"s":"${"x".repeat(1000)}"}`;
  const latin1 = `{"s":"${"é".repeat(1000)}"}`;
  const wide = `{"s":"${"€".repeat(1000)}"}`;
  const frame = (utf8: number) => utf8 + "id: e1\n".length - 2 + 26; // as eventCost counts it
  assert.equal(eventCost(ascii, "e1", V8_MEMORY), 400 + 1008 + frame(1008) + 2);
  assert.equal(eventCost(latin1, "e1", V8_MEMORY), 400 + 1008 + frame(2008) + 2);
  assert.equal(eventCost(wide, "e1", V8_MEMORY), 400 + 2016 + frame(3008) + 2);
  assert.equal(eventCost(ascii, undefined, V8_MEMORY), 400 + 1008 + 1008 + 26);
});

test("the engine's model is chosen from the runtime name: JavaScriptCore for Bun, V8 otherwise", () => {
  assert.equal(memoryModelFor("bun 1.4.5"), JSC_MEMORY);
  assert.equal(memoryModelFor("deno 2.9.6"), V8_MEMORY);
  assert.equal(memoryModelFor("node 20.20.2"), V8_MEMORY);
  assert.equal(memoryModelFor("unknown"), V8_MEMORY);
});

test("the dispatcher's memory_usage_bytes follows its model", () => {
  const totals = (model = V8_MEMORY) => {
    const d = new Dispatcher({
      ringCapacity: 8,
      clientBuffer: 4,
      keepAlive: 60_000,
      topicIdleTimeout: 60_000,
      memoryModel: model,
    });
    for (let i = 0; i < 4; i++) d.receive({ topic: "a", data: `{"i":${i}}`, id: `e${i}` });
    const bytes = d.totals().memory_usage_bytes;
    d.close();
    return bytes;
  };
  assert.equal(totals(V8_MEMORY), 4 * eventCost('{"i":0}', "e0", V8_MEMORY));
  assert.equal(totals(JSC_MEMORY), 4 * eventCost('{"i":0}', "e0", JSC_MEMORY));
});
