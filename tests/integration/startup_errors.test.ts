/**
 * Errors that help, on every runtime's `ssepg serve`: a database that cannot be reached is named
 * as PostgreSQL, with its URL (never its password), the reason in words and where the URL comes
 * from; a URL the driver would refuse is a config error (exit 2) naming the option; a misspelt
 * `SSEPG_*` variable is pointed out; `-p` is `--port`; `SSEPG_LOG_FORMAT=json` logs one JSON
 * object per line. And the library: `embeddedPostgres` is refused rather than ignored, health
 * names the runtime, and the built package can be `require()`d (no top-level await).
 *
 * @module
 */

import assert from "node:assert/strict";
import { root, runtimesUnderTest, serverCommand } from "../../scripts/processes.ts";
import { createSsepg } from "../../src/service/create.ts";
import { ConfigError } from "../../src/config/config.ts";
import { silentLogger } from "../../src/log.ts";
import { runCommand } from "../helpers/run_command.ts";

const decoder = new TextDecoder();

const serveArgs = ["serve", "--port", "0", "--host", "127.0.0.1"];

for (const runtime of runtimesUnderTest()) {
  const command = serverCommand(runtime);
  Deno.test({
    name:
      `${runtime}: an unreachable database is named as PostgreSQL, with its URL without the password and the reason`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      for (
        const [url, reason] of [
          ["postgres://app:SuperSecret@nohost.invalid:5432/x", /the host name does not resolve/],
          ["postgres://app:SuperSecret@127.0.0.1:1/x", /nothing accepts connections there .*ECONNREFUSED/],
          ["postgres://nobody-here@127.0.0.1:5432/postgres", /role "nobody-here" does not exist/],
        ] as const
      ) {
        const result = await runCommand(command, serveArgs, { DATABASE_URL: url });
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /ssepg: cannot start: cannot connect to PostgreSQL at postgres:\/\//);
        assert.match(result.stderr, reason);
        assert.match(result.stderr, /the URL comes from --database-url or DATABASE_URL/);
        assert.ok(!result.stderr.includes("SuperSecret"), result.stderr);
        assert.equal(result.stdout, "", "never listening");
      }
    },
  });

  Deno.test({
    name: `${runtime}: a URL the driver would refuse exits 2 naming the option, without the password`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      for (const url of ["postgres://app:SuperSecret@127.0.0.1:99999/x", "postgress://app:SuperSecret@db/x"]) {
        const result = await runCommand(command, serveArgs, { DATABASE_URL: url });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /^ssepg: Cannot use databaseUrl \(--database-url, DATABASE_URL\) as it must be/);
        assert.match(result.stderr, /app:\*\*\*@/);
        assert.ok(!result.stderr.includes("SuperSecret"), result.stderr);
      }
    },
  });

  Deno.test({
    name: `${runtime}: misspelt SSEPG_ variables are pointed out; -p is --port; -x is an unknown flag`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      const port = String(20_000 + Math.floor(Math.random() * 20_000));
      const result = await runCommand(command, ["serve", "-p", port, "--host", "127.0.0.1"], {
        SSEPG_PUBLISH_TOKN: "x",
        SSEPG_NOT_A_THING: "1",
      }, 4_000);
      assert.match(result.stdout, new RegExp(`ssepg listening on http://127\\.0\\.0\\.1:${port}`));
      assert.match(
        result.stderr,
        /ssepg: ⚠️ {2}SSEPG_PUBLISH_TOKN is not an ssepg variable and is ignored \(did you mean SSEPG_PUBLISH_TOKEN\?\)/,
      );
      assert.match(result.stderr, /SSEPG_NOT_A_THING is not an ssepg variable and is ignored\n/);
      const wrong = await runCommand(command, ["serve", "-x", "1"], {});
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /^ssepg: Unknown flag -x; see ssepg --help/);
    },
  });

  Deno.test({
    name: `${runtime}: a JWT key variable that is set but empty exits 2 instead of starting open`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      for (const name of ["SSEPG_JWT_SECRET", "SSEPG_JWT_PUBLIC_KEY", "SSEPG_JWT_JWKS_URL"]) {
        const result = await runCommand(command, serveArgs, { [name]: "" });
        assert.equal(result.code, 2, `${name}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`${name}\\) as it is set but empty`));
        assert.equal(result.stdout, "", "never listening");
      }
    },
  });

  Deno.test({
    name: `${runtime}: SSEPG_LOG_FORMAT=json logs one JSON object per line, errors included`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed`);
      const result = await runCommand(command, serveArgs, { SSEPG_LOG_FORMAT: "json", SSEPG_TYPO_HERE: "1" }, 4_000);
      assert.match(result.stdout, /ssepg listening on/);
      const lines = result.stderr.trim().split("\n");
      assert.ok(lines.length >= 3, result.stderr);
      for (const line of lines) {
        const entry = JSON.parse(line);
        assert.ok(!Number.isNaN(Date.parse(entry.time)), line);
        assert.ok(["info", "warn", "error"].includes(entry.level), line);
        assert.equal(typeof entry.message, "string");
        assert.ok(!entry.message.startsWith("ssepg: "), line);
      }
      assert.ok(lines.some((l) => JSON.parse(l).level === "warn" && l.includes("SSEPG_TYPO_HERE")));
      const failed = await runCommand(command, serveArgs, { SSEPG_LOG_FORMAT: "json", SSEPG_KEEP_ALIVE: "soon" });
      assert.equal(failed.code, 2);
      assert.equal(JSON.parse(failed.stderr.trim()).level, "error");
      const bad = await runCommand(command, serveArgs, { SSEPG_LOG_FORMAT: "yaml" });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /logFormat .* must be text or json/);
    },
  });
}

Deno.test("the library refuses embeddedPostgres (a CLI option) instead of ignoring it; health names the runtime", async () => {
  await assert.rejects(() => createSsepg({ embeddedPostgres: true, logger: silentLogger }), (error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.option, "embeddedPostgres");
    assert.match(error.message, /an option of `ssepg serve`/);
    return true;
  });
  const svc = await createSsepg({ logger: silentLogger });
  try {
    assert.match(svc.health().runtime, /^deno \d/);
  } finally {
    await svc.close();
  }
});

Deno.test("built package: Bun require()s it (no top-level await) and Node's health names the runtime", async () => {
  const runtimes = runtimesUnderTest();
  if (runtimes.includes("bun")) {
    const bun = serverCommand("bun");
    assert.ok(Array.isArray(bun));
    const required = await new Deno.Command(bun[0], {
      args: ["-e", `const m = require(${JSON.stringify(`${root}dist/mod.js`)}); console.log(typeof m.createSsepg);`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(decoder.decode(required.stdout).trim(), "function", decoder.decode(required.stderr));
  }
  if (runtimes.includes("node")) {
    const script = `const { createSsepg } = await import(${JSON.stringify(`${root}dist/mod.js`)});
      const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
      console.log(svc.health().runtime); await svc.close();`;
    const node = await new Deno.Command("node", { args: ["--input-type=module", "-e", script], stdout: "piped" })
      .output();
    assert.match(decoder.decode(node.stdout), /^node 20\.|^node \d+\./);
  }
});
