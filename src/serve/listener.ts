/**
 * What every runtime adapter provides: an HTTP listener around a `fetch` handler.
 *
 * @module
 */

/**
 * A Web-standard request handler.
 *
 * @example
 * ```ts
 * import type { FetchHandler } from "./listener.ts";
 * const hello: FetchHandler = () => new Response("hello");
 * ```
 */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * Where to listen.
 *
 * @example
 * ```ts
 * import type { ListenOptions } from "./listener.ts";
 * const where: ListenOptions = { port: 0, hostname: "127.0.0.1" };
 * ```
 */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Address to bind. */
  readonly hostname: string;
}

/**
 * A listening HTTP server.
 *
 * @example
 * ```ts
 * import { listenNode } from "./node.ts";
 * const listener = await listenNode(() => new Response("ok"), { port: 0, hostname: "127.0.0.1" });
 * console.log(listener.port);
 * await listener.close();
 * ```
 */
export interface Listener {
  /** The port actually bound. */
  readonly port: number;
  /** The address bound. */
  readonly hostname: string;
  /** Stops accepting connections and resolves once open responses have finished. */
  close(): Promise<void>;
}

/** Starts an HTTP server for `handler`; one per runtime. */
export type Listen = (handler: FetchHandler, options: ListenOptions) => Promise<Listener>;
