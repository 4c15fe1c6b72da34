import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { parseArgs, UsageError } from "../../src/cli/args.ts";

const specs = [{ flag: "--port", key: "port" }, { flag: "--allow-query-token", key: "allowQueryToken", bool: true }];

test("parseArgs() reads --flag value, --flag=value and booleans", () => {
  assert.deepEqual(parseArgs(["serve", "--port", "1", "--allow-query-token"], specs), {
    positionals: ["serve"],
    flags: { port: "1", allowQueryToken: true },
    help: false,
    version: false,
  });
  assert.deepEqual(parseArgs(["--port=2", "--allow-query-token", "false"], specs).flags, {
    port: "2",
    allowQueryToken: "false",
  });
  assert.equal(parseArgs(["-h"], specs).help, true);
  assert.equal(parseArgs(["--version"], specs).version, true);
});

test("parseArgs() refuses unknown flags and missing values", () => {
  assert.throws(() => parseArgs(["--nope"], specs), UsageError);
  assert.throws(() => parseArgs(["--port"], specs), /needs a value/);
});
