/**
 * Startup refuses tokens that no `Authorization: Bearer` header can carry (exit 2, naming the
 * option, never showing the value), and warns about a token variable that is set but empty,
 * on every runtime's `ssepg serve`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runtimesUnderTest, serverCommand } from "../../scripts/processes.ts";
import { runCommand } from "../helpers/run_command.ts";

const serveArgs = ["serve", "--port", "0", "--host", "127.0.0.1"];

for (const runtime of runtimesUnderTest()) {
  const command = serverCommand(runtime);
  Deno.test({
    name: `${runtime}: a token that cannot be sent as a Bearer token exits 2 before listening, without its value`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed: ${JSON.stringify(command)}`);
      for (
        const [env, option] of [
          [{ SSEPG_PUBLISH_TOKEN: "sécret" }, "publishToken"],
          [{ SSEPG_LISTEN_TOKEN: "a b" }, "listenToken"],
          [{ SSEPG_LISTEN_TOKEN: "tab\there" }, "listenToken"],
        ] as const
      ) {
        const result = await runCommand(command as string[], serveArgs, env, 10_000);
        assert.equal(result.code, 2, `${JSON.stringify(env)}: ${result.stderr}`);
        assert.doesNotMatch(result.stdout, /listening/);
        assert.match(result.stderr, new RegExp(`Cannot use ${option} .* visible ASCII`));
        const value = Object.values(env)[0];
        assert.ok(!result.stderr.includes(value), "the token is not echoed");
      }
    },
  });

  Deno.test({
    name: `${runtime}: a token variable set but empty is reported at startup`,
    async fn() {
      assert.ok(Array.isArray(command), `${runtime} is not installed: ${JSON.stringify(command)}`);
      const result = await runCommand(command as string[], serveArgs, { SSEPG_PUBLISH_TOKEN: "" }, 4_000);
      assert.match(
        result.stderr,
        /SSEPG_PUBLISH_TOKEN is set but empty, so it is ignored and publishToken stays unset/,
      );
      assert.match(result.stdout, /ssepg listening on/);
    },
  });
}
