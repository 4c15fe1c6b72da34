/**
 * ssepg inside your own `Bun.serve`. In your app, import from `ssepg`.
 *
 *     DATABASE_URL=postgres://… PORT=8080 bun run examples/bun_serve.ts
 *
 * @module
 */

import { createSsepg } from "../mod.ts";

// Bun's types are not loaded when Deno type-checks the examples.
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: { timeout(request: Request, seconds: number): void }): Promise<Response>;
  }): { stop(): Promise<void> };
};
declare const process: {
  env: Record<string, string | undefined>;
  on(s: string, f: () => void): void;
  exit(c: number): never;
};

const svc = await createSsepg({ databaseUrl: process.env.DATABASE_URL });
const server = Bun.serve({
  port: Number(process.env.PORT ?? 8080),
  hostname: "127.0.0.1",
  fetch(request, server) {
    // Bun closes connections idle for 10 s; an SSE stream is quiet between keep-alives.
    server.timeout(request, 0);
    return svc.fetch(request);
  },
});

process.on("SIGTERM", async () => {
  await Promise.all([svc.close(), server.stop()]);
  process.exit(0);
});
