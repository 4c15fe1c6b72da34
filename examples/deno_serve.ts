/**
 * ssepg inside your own `Deno.serve`. In your app, import from `jsr:@ssepg/ssepg`.
 *
 *     DATABASE_URL=postgres://… PORT=8080 deno run -A examples/deno_serve.ts
 *
 * @module
 */

import { createSsepg } from "../mod.ts";

const svc = await createSsepg({ databaseUrl: Deno.env.get("DATABASE_URL") });
const server = Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8080), hostname: "127.0.0.1" }, svc.fetch);

Deno.addSignalListener("SIGTERM", async () => {
  await Promise.all([svc.close(), server.shutdown()]);
  Deno.exit(0);
});
