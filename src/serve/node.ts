/**
 * `ssepg/node`: serve ssepg from your own `http.createServer`, or start its `node:http`
 * listener.
 *
 * ```ts
 * import { createServer } from "node:http";
 * import { createSsepg } from "../../mod.ts";
 * import { nodeHandler } from "./node.ts";
 * const svc = await createSsepg();
 * const server = createServer(nodeHandler(svc));
 * server.requestTimeout = 0;
 * ```
 *
 * @module
 */

import { versions } from "node:process";

export { listenNode, nodeHandler } from "./node/listen.ts";
export type { Listener, ListenOptions } from "./listener.ts";
export type { Handler } from "../http/handler.ts";

/**
 * The runtime name for health reports.
 *
 * @returns `node <version>`.
 *
 * @example
 * ```ts
 * import { nodeRuntime } from "./node.ts";
 * nodeRuntime(); // "node 20.20.2"
 * ```
 */
export function nodeRuntime(): string {
  return `node ${versions.node}`;
}
