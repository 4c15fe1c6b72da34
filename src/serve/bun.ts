/**
 * The `Bun.serve` listener: each `Request` becomes the pipeline's head, each reply a
 * `Response`.
 *
 * @module
 */

import type { Handler } from "../http/handler.ts";
import { isStreamReply } from "../http/reply.ts";
import { requestHead, toResponse } from "../http/web.ts";
import type { Listener, ListenOptions } from "./listener.ts";

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
    reusePort?: boolean;
    fetch(request: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}

function bun(): BunGlobal {
  return (globalThis as unknown as { Bun: BunGlobal }).Bun;
}

/**
 * Serves the pipeline with `Bun.serve`.
 *
 * Bun closes a connection that is silent for `idleTimeout` (10 s by default), which would cut
 * an SSE stream between keep-alives; the timeout is lifted for event streams only, so idle
 * plain requests still time out.
 *
 * @param handler The pipeline.
 * @param options Port and hostname.
 * @returns The listener.
 *
 * @example
 * ```ts
 * import { listenBun } from "./bun.ts";
 * const listener = await listenBun(() => Promise.resolve({ status: 200, headers: {}, body: "ok" }), { port: 0, hostname: "127.0.0.1" });
 * await listener.close();
 * ```
 */
export function listenBun(handler: Handler, options: ListenOptions): Promise<Listener> {
  const server = bun().serve({
    port: options.port,
    hostname: options.hostname,
    reusePort: options.reusePort,
    async fetch(request, server) {
      const reply = await handler(requestHead(request));
      if (isStreamReply(reply)) server.timeout(request, 0);
      return toResponse(reply);
    },
  });
  return Promise.resolve({ port: server.port, hostname: server.hostname, close: () => server.stop(false) });
}

/**
 * The runtime name for health reports.
 *
 * @returns `bun <version>`.
 *
 * @example
 * ```ts
 * import { bunRuntime } from "./bun.ts";
 * bunRuntime(); // "bun 1.4.5"
 * ```
 */
export function bunRuntime(): string {
  return `bun ${bun().version}`;
}
