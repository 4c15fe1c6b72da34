/**
 * The SQL install script as text: idempotent statements only, functions only, the shard count
 * baked in, nothing that depends on the database's encoding. What the functions do is checked
 * against PostgreSQL in tests/integration/sql_functions.test.ts and sql_publish.test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { installScript, MAX_SQL_PAYLOAD_BYTES, SQL_FUNCTIONS } from "../../src/sql/install_script.ts";
import { parseArgs } from "../../src/cli/args.ts";
import { SQL_FLAGS, sqlCommand } from "../../src/cli/sql_command.ts";
import type { CliIo } from "../../src/cli/io.ts";

/** The script's statements, without comments, function bodies and literals, one line each. */
function statements(script: string): string[] {
  const withoutBodies = script.replace(/\$fn\$[\s\S]*?\$fn\$/g, "$fn$…$fn$").replace(/^--.*$/gm, "")
    .replace(/'(?:[^']|'')*'/g, "'…'");
  return withoutBodies.split(";").map((s) => s.replace(/\s+/g, " ").trim()).filter((s) => s !== "");
}

test("installScript() creates the schema if missing and replaces functions: nothing else", () => {
  const list = statements(installScript({ notifyShards: 8 }));
  assert.equal(list[0], "create schema if not exists ssepg");
  for (const statement of list.slice(1)) {
    assert.match(statement, /^(create or replace function ssepg\.|comment on function ssepg\.)/, statement);
  }
  const defined = new Set(list.map((s) => /^create or replace function ssepg\.(\w+)\(/.exec(s)?.[1]).filter(Boolean));
  assert.deepEqual([...defined], [...SQL_FUNCTIONS]);
  const script = installScript({ notifyShards: 8 }).toLowerCase();
  for (const object of ["table", "sequence", "view", "type", "extension", "trigger"]) {
    assert.ok(!new RegExp(`create (or replace )?${object}\\b`).test(script), `no ${object}`);
  }
});

test("installScript() bakes the shard count into ssepg.notify_shards() and nowhere else", () => {
  for (const shards of [1, 8, 1024]) {
    const script = installScript({ notifyShards: shards });
    assert.ok(script.includes(`as 'select ${shards}';`));
    assert.equal(
      script.replace(`'select ${shards}'`, "'select N'"),
      installScript({ notifyShards: 3 }).replace(
        "'select 3'",
        "'select N'",
      ),
    );
  }
  assert.ok(installScript({ notifyShards: 8 }).includes(`octet_length(payload) <= ${MAX_SQL_PAYLOAD_BYTES}`));
  assert.ok(installScript({ notifyShards: 8, maxEventBytes: 5000 }).includes(`as 'select 5000';`));
  assert.throws(() => installScript({ notifyShards: 8, maxEventBytes: 10 }), RangeError);
  assert.equal(MAX_SQL_PAYLOAD_BYTES, 7999);
});

test("installScript() refuses shard counts the servers refuse", () => {
  for (const shards of [0, -1, 1025, 1.5, Number.NaN]) {
    assert.throws(() => installScript({ notifyShards: shards }), RangeError, String(shards));
  }
});

test("the script is ASCII and independent of standard_conforming_strings", () => {
  const script = installScript({ notifyShards: 8 });
  // Non-ASCII text would not install in a LATIN1 or SQL_ASCII database.
  const outside = [...script].filter((c) => c !== "\t" && c !== "\n" && (c < " " || c > "~"));
  assert.deepEqual(outside, []);
  // A backslash outside a function body's E'' literal would mean different things with
  // standard_conforming_strings on and off.
  for (const line of script.split("\n").filter((l) => l.includes("\\"))) {
    assert.match(line, /E'/, line);
  }
});

function captureIo(env: Record<string, string> = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    args: [],
    env,
    out,
    err,
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    onStopSignal: () => () => {},
  };
}

test("ssepg sql prints the script for --notify-shards, else SSEPG_NOTIFY_SHARDS, else 8", async () => {
  const cases: [string[], Record<string, string>, number][] = [
    [[], {}, 8],
    [[], { SSEPG_NOTIFY_SHARDS: "16" }, 16],
    [["--notify-shards", "4"], { SSEPG_NOTIFY_SHARDS: "16" }, 4],
    // Options of serve alone are not read: a bad one does not stop a migration.
    [[], { PORT: "not a port", SSEPG_KEEP_ALIVE: "soon" }, 8],
  ];
  for (const [args, env, shards] of cases) {
    const io = captureIo(env);
    const parsed = parseArgs(args, SQL_FLAGS);
    assert.equal(await sqlCommand(io, parsed.positionals, parsed.flags), 0);
    assert.deepEqual(io.out, [installScript({ notifyShards: shards })]);
    assert.deepEqual(io.err, []);
  }
});

test("ssepg sql: bad shard counts, --apply without a database and extra arguments exit 2", async () => {
  const bad = captureIo({ SSEPG_NOTIFY_SHARDS: "2000" });
  assert.equal(await sqlCommand(bad, [], {}), 2);
  assert.match(bad.err.join("\n"), /notifyShards \(--notify-shards, SSEPG_NOTIFY_SHARDS\)/);
  assert.deepEqual(bad.out, []);

  const noUrl = captureIo();
  assert.equal(await sqlCommand(noUrl, [], { apply: true }), 2);
  assert.match(noUrl.err.join("\n"), /--database-url or DATABASE_URL/);

  await assert.rejects(() => sqlCommand(captureIo(), ["now"], {}), /takes no arguments/);
  await assert.rejects(() => sqlCommand(captureIo(), [], { apply: "maybe" }), /--apply takes true or false/);
  // --apply=false prints, as without --apply.
  const off = captureIo();
  assert.equal(await sqlCommand(off, [], { apply: "false" }), 0);
  assert.equal(off.out.length, 1);
});
