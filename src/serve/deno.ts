/**
 * The `Deno.serve` listener.
 *
 * @module
 */

import type { FetchHandler, Listener, ListenOptions } from "./listener.ts";

/**
 * Serves `handler` with `Deno.serve`.
 *
 * @param handler The fetch handler.
 * @param options Port and hostname.
 * @returns The listener once it accepts connections.
 *
 * @example
 * ```ts
 * import { listenDeno } from "./deno.ts";
 * const listener = await listenDeno(() => new Response("ok"), { port: 0, hostname: "127.0.0.1" });
 * await listener.close();
 * ```
 */
export function listenDeno(handler: FetchHandler, options: ListenOptions): Promise<Listener> {
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        port: options.port,
        hostname: options.hostname,
        onListen: (addr) => {
          resolve({
            port: addr.port,
            hostname: addr.hostname,
            close: () => server.shutdown(),
          });
        },
      }, handler);
    } catch (error) {
      reject(error);
    }
  });
}

/** `deno <version>`. */
export function denoRuntime(): string {
  return `deno ${Deno.version.deno}`;
}
