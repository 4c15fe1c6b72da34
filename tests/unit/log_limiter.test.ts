import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { LogLimiter } from "../../src/log_limiter.ts";

test("LogLimiter logs one line per kind per interval and counts what it held back", () => {
  const lines: string[] = [];
  let now = 0;
  const limiter = new LogLimiter(
    { info: (m) => lines.push(`i ${m}`), warn: (m) => lines.push(`w ${m}`), error() {} },
    1000,
    () => now,
  );
  for (let i = 0; i < 500; i++) limiter.warn("refused", "publish refused");
  limiter.info("dropped", "subscriber dropped");
  assert.deepEqual(lines, ["w publish refused", "i subscriber dropped"]);
  now = 999;
  limiter.warn("refused", "publish refused");
  assert.equal(lines.length, 2);
  now = 1000;
  limiter.warn("refused", "publish refused");
  assert.deepEqual(lines.slice(2), ["w publish refused (500 more since the last)"]);
});
