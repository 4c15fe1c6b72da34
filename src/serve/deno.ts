/**
 * The `Deno.serve` listener (`--deno-serve`): each `Request` becomes the pipeline's head, each
 * reply a `Response`.
 *
 * @module
 */

import type { Handler } from "../http/handler.ts";
import { requestHead, toResponse } from "../http/web.ts";
import type { Listener, ListenOptions } from "./listener.ts";

/** The part of Deno's API used here, so the npm build type-checks without Deno's types. */
interface DenoGlobal {
  readonly version: { readonly deno: string };
  serve(
    options: {
      port: number;
      hostname: string;
      reusePort?: boolean;
      onListen(addr: { port: number; hostname: string }): void;
    },
    handler: (request: Request) => Promise<Response>,
  ): { shutdown(): Promise<void> };
}

function deno(): DenoGlobal {
  return (globalThis as unknown as { Deno: DenoGlobal }).Deno;
}

/**
 * Serves the pipeline with `Deno.serve`.
 *
 * @param handler The pipeline.
 * @param options Port and hostname.
 * @returns The listener once it accepts connections.
 *
 * @example
 * ```ts
 * import { listenDeno } from "./deno.ts";
 * const listener = await listenDeno(() => Promise.resolve({ status: 200, headers: {}, body: "ok" }), { port: 0, hostname: "127.0.0.1" });
 * await listener.close();
 * ```
 */
export function listenDeno(handler: Handler, options: ListenOptions): Promise<Listener> {
  return new Promise((resolve, reject) => {
    try {
      const server = deno().serve({
        port: options.port,
        hostname: options.hostname,
        reusePort: options.reusePort,
        onListen: (addr) => resolve({ port: addr.port, hostname: addr.hostname, close: () => server.shutdown() }),
      }, async (request) => toResponse(await handler(requestHead(request))));
    } catch (error) {
      reject(error);
    }
  });
}

/**
 * The runtime name for health reports.
 *
 * @returns `deno <version>`.
 *
 * @example
 * ```ts
 * import { denoRuntime } from "./deno.ts";
 * denoRuntime(); // "deno 2.9.6"
 * ```
 */
export function denoRuntime(): string {
  return `deno ${deno().version.deno}`;
}
