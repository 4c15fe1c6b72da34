/**
 * A Deno Deploy-style module: `export default { fetch }`, no signals, files or process APIs.
 * Point it at a PostgreSQL the platform can reach. Locally:
 *
 *     DATABASE_URL=postgres://… deno serve -A --port 8080 examples/deno_deploy.ts
 *
 * @module
 */

import { createSsepg } from "../mod.ts";

const svc = await createSsepg({ databaseUrl: Deno.env.get("DATABASE_URL") });

export default { fetch: svc.fetch } satisfies Deno.ServeDefaultExport;
