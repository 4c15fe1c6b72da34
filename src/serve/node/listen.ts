/**
 * The `node:http` listener: Node's request and response objects straight to the pipeline.
 *
 * @module
 */

import { createServer, type IncomingMessage, maxHeaderSize, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Handler } from "../../http/handler.ts";
import type { Listener, ListenOptions } from "../listener.ts";
import { RawFront, type ReadyReplies } from "./raw_front.ts";
import { nodeHead } from "./request.ts";
import { HttpChunkFramer, sendReply } from "./response.ts";

/**
 * A `node:http` request listener for the pipeline, for `http.createServer`.
 *
 * @param target The pipeline, or an ssepg instance (its `handle`).
 * @returns A `(req, res)` listener that streams with backpressure.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createSsepg } from "../../../mod.ts";
 * import { nodeHandler } from "./listen.ts";
 * const svc = await createSsepg();
 * const server = createServer(nodeHandler(svc));
 * server.requestTimeout = 0; // SSE streams outlive Node's 300 s default
 * ```
 */
export function nodeHandler(
  target: Handler | { readonly handle: Handler },
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return requestListener(typeof target === "function" ? target : target.handle, new HttpChunkFramer(), undefined);
}

/** The request listener; a reply the raw front already made for the socket is sent as is. */
function requestListener(
  handle: Handler,
  framer: HttpChunkFramer,
  ready: ReadyReplies | undefined,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      const made = ready?.get(req.socket as Socket);
      if (made !== undefined) ready!.delete(req.socket as Socket);
      sendReply(made ?? await handle(nodeHead(req)), req, res, framer);
    } catch {
      // The pipeline answers every failure itself; this is a write to a socket that broke.
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  };
}

/** How long a client may take to send a request head: Bun.serve's idle timeout, for one rule everywhere. */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * Serves `handler` with `node:http`.
 *
 * Node ends a request after `requestTimeout` (300 s by default), which would cut every SSE
 * stream after five minutes; it is turned off here, and a request head must arrive within
 * {@link HEADERS_TIMEOUT_MS}. Idle keep-alive connections close after Node's 5 s. Event streams
 * asked for with a plain `GET` are served on the raw socket ({@link RawFront}); everything
 * else by `node:http`.
 *
 * @param handler The pipeline.
 * @param options Port and hostname.
 * @returns The listener.
 *
 * @example
 * ```ts
 * import { listenNode } from "./listen.ts";
 * const listener = await listenNode(() => Promise.resolve({ status: 200, headers: {}, body: "ok" }), { port: 0, hostname: "127.0.0.1" });
 * await listener.close();
 * ```
 */
export function listenNode(handler: Handler, options: ListenOptions): Promise<Listener> {
  const framer = new HttpChunkFramer();
  const ready: ReadyReplies = new WeakMap();
  const server = createServer({
    // A request head must arrive within HEADERS_TIMEOUT_MS, checked every second (Node checks
    // every 30 s by default, which lets a slow-header client hold a connection for 90 s).
    headersTimeout: HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: 1_000,
  }, requestListener(handler, framer, ready));
  const front = new RawFront(server, handler, {
    framer,
    ready,
    headersTimeout: HEADERS_TIMEOUT_MS,
    maxHeaderSize,
  });
  // requestTimeout would cut every stream after it; bodies have bodyTimeout, streams keep-alives.
  server.requestTimeout = 0;
  server.timeout = 0;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // reusePort: Deno's node:http sets SO_REUSEPORT; Node 20 ignores it (cluster workers share
    // the port through the primary instead), and its types do not know it yet.
    const where: { port: number; host: string; reusePort?: boolean } = {
      port: options.port,
      host: options.hostname,
      reusePort: options.reusePort,
    };
    server.listen(where, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      resolve({
        port,
        hostname: options.hostname,
        close: () =>
          new Promise<void>((done) => {
            // Keep-alive connections become idle as their streams end during the drain; close
            // them as they do instead of waiting out keepAliveTimeout.
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            server.close(() => {
              clearInterval(sweep);
              done();
            });
            server.closeIdleConnections();
            front.close();
          }),
      });
    });
  });
}
