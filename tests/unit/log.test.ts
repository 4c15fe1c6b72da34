import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { createLogger } from "../../src/log.ts";

test("createLogger: text keeps the message and appends fields; json writes time, level, message, fields", () => {
  const lines: string[] = [];
  const when = new Date("2026-12-01T16:00:00.000Z");
  const text = createLogger("text", (l) => lines.push(l));
  text.warn("ssepg: plain");
  text.info("ssepg: with", { topic: "a b", n: 2 });
  const json = createLogger("json", (l) => lines.push(l), () => when);
  json.error('ssepg: failed "quoted"', { ok: false });
  json.info("no prefix");
  assert.deepEqual(lines.slice(0, 2), ["ssepg: plain", 'ssepg: with topic="a b" n=2']);
  assert.deepEqual(JSON.parse(lines[2]), {
    time: "2026-12-01T16:00:00.000Z",
    level: "error",
    message: 'failed "quoted"',
    fields: { ok: false },
  });
  assert.deepEqual(JSON.parse(lines[3]), { time: when.toISOString(), level: "info", message: "no prefix" });
});
