/**
 * The `Bun.serve` listener.
 *
 * @module
 */

import type { FetchHandler, Listener, ListenOptions } from "./listener.ts";

/** The part of Bun's API used here (Deno type-checks this file without Bun's types). */
interface BunServer {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void>;
  timeout(request: Request, seconds: number): void;
}
interface BunGlobal {
  readonly version: string;
  serve(options: {
    port: number;
    hostname: string;
    idleTimeout?: number;
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}

function bun(): BunGlobal {
  return (globalThis as unknown as { Bun: BunGlobal }).Bun;
}

/**
 * Serves `handler` with `Bun.serve`.
 *
 * Bun closes a connection that is silent for `idleTimeout` (10 s by default), which would cut
 * an SSE stream between keep-alives; the timeout is lifted for event streams only, so idle
 * plain requests still time out.
 *
 * @param handler The fetch handler.
 * @param options Port and hostname.
 * @returns The listener.
 *
 * @example
 * ```ts
 * import { listenBun } from "./bun.ts";
 * const listener = await listenBun(() => new Response("ok"), { port: 0, hostname: "127.0.0.1" });
 * await listener.close();
 * ```
 */
export function listenBun(handler: FetchHandler, options: ListenOptions): Promise<Listener> {
  const server = bun().serve({
    port: options.port,
    hostname: options.hostname,
    async fetch(request, server) {
      const response = await handler(request);
      if (response.headers.get("content-type")?.startsWith("text/event-stream")) server.timeout(request, 0);
      return response;
    },
  });
  return Promise.resolve({
    port: server.port,
    hostname: server.hostname,
    close: () => server.stop(false),
  });
}

/** `bun <version>`. */
export function bunRuntime(): string {
  return `bun ${bun().version}`;
}
