/**
 * ssepg's routes inside your own Hono app, next to your routes. In your app, import from
 * `jsr:@ssepg/ssepg` (Deno) or `ssepg` (npm).
 *
 *     DATABASE_URL=postgres://… PORT=8080 deno run -A examples/hono_app.ts
 *
 * @module
 */

import { Hono } from "hono";
import { createSsepg } from "../mod.ts";

const svc = await createSsepg({ databaseUrl: Deno.env.get("DATABASE_URL"), basePath: "/sse" });

const app = new Hono();
app.get("/api/hello", (c) => c.json({ hello: "world" }));
app.post("/api/orders", async (c) => {
  const order = await c.req.json();
  // Your own logic, then tell every browser watching this order's topic.
  const { id } = await svc.publish(`order-${order.id}`, { status: "received" });
  return c.json({ ok: true, event: id });
});
svc.attach(app); // GET/POST /sse/:topic/events, OPTIONS, /healthz

const server = Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8080), hostname: "127.0.0.1" }, app.fetch);

Deno.addSignalListener("SIGTERM", async () => {
  await Promise.all([svc.close(), server.shutdown()]);
  Deno.exit(0);
});
