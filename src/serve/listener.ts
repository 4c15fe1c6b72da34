/**
 * What every runtime adapter provides: an HTTP listener around the request pipeline.
 *
 * @module
 */

import type { Handler } from "../http/handler.ts";

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
  /**
   * Share the port with other processes that set it too (SO_REUSEPORT): how `--workers` runs
   * several processes on one port on Deno and Bun. Ignored where the runtime cannot (Node 20,
   * whose workers share the port through the cluster module instead).
   */
  readonly reusePort?: boolean;
}

/**
 * A listening HTTP server.
 *
 * @example
 * ```ts
 * import { listenNode } from "./node.ts";
 * const listener = await listenNode(() => Promise.resolve({ status: 200, headers: {}, body: "ok" }), { port: 0, hostname: "127.0.0.1" });
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

/**
 * Starts an HTTP server for the pipeline; one per runtime.
 *
 * @example
 * ```ts
 * import type { Listen } from "./listener.ts";
 * import { listenNode } from "./node.ts";
 * const listen: Listen = listenNode;
 * ```
 */
export type Listen = (handler: Handler, options: ListenOptions) => Promise<Listener>;
