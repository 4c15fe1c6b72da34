/**
 * The `Deno.serve` listener.
 *
 * @module
 */

import type { FetchHandler, Listener, ListenOptions } from "./listener.ts";

/** The part of Deno's API used here, so the npm build type-checks without Deno's types. */
interface DenoGlobal {
  readonly version: { readonly deno: string };
  serve(
    options: { port: number; hostname: string; onListen(addr: { port: number; hostname: string }): void },
    handler: FetchHandler,
  ): { shutdown(): Promise<void> };
}

function deno(): DenoGlobal {
  return (globalThis as unknown as { Deno: DenoGlobal }).Deno;
}

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
      const server = deno().serve({
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
  return `deno ${deno().version.deno}`;
}
