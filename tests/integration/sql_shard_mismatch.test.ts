/**
 * A server whose `notifyShards` differs from the installed SQL functions' says so at startup
 * (a log line) and in health (`warnings`); one that agrees says nothing.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { dbTest, ownDatabase, startServer } from "../helpers/instances.ts";
import { installScript } from "../../src/sql/install_script.ts";
import type { Logger } from "../../src/log.ts";

Deno.test({
  name: "a notifyShards that differs from the installed ssepg.notify_shards() is logged and reported in health",
  ...dbTest,
  async fn() {
    const db = await ownDatabase();
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(installScript({ notifyShards: 4 }));
      for (const [shards, expectWarning] of [[8, true], [4, false]] as const) {
        const lines: string[] = [];
        const logger: Logger = { info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) };
        const server = await startServer({ databaseUrl: db.url, notifyShards: shards, logger });
        try {
          const health = await (await fetch(`${server.url}/healthz`)).json();
          if (expectWarning) {
            assert.equal(health.warnings.length, 1, JSON.stringify(health.warnings));
            assert.match(health.warnings[0], /4/);
            assert.match(health.warnings[0], /8/);
            assert.ok(lines.some((l) => l.includes(health.warnings[0])), lines.join("\n"));
          } else {
            assert.deepEqual(health.warnings, []);
            assert.deepEqual(lines, []);
          }
        } finally {
          await server.shutdown();
        }
      }
    } finally {
      await sql.end();
      await db.drop();
    }
  },
});
