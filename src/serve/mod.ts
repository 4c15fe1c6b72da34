/**
 * `serve(config)`: an ssepg instance on this runtime's HTTP server (`node:http` on Node and, by
 * default, on Deno; `Bun.serve` on Bun; `Deno.serve` with `denoServe`), with the optional health
 * port.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { createSsepg, type Ssepg, type SsepgOptions } from "../service/create.ts";
import type { Listen, Listener } from "./listener.ts";

/**
 * A running server.
 *
 * @example
 * ```ts
 * import { serve } from "./mod.ts";
 * const server = await serve({ port: 0, announce: false });
 * console.log(server.url, server.service.health().status);
 * await server.shutdown();
 * ```
 */
export interface SsepgServer {
  /** The ssepg instance behind it. */
  readonly service: Ssepg;
  /** `http://host:port` of the main listener. */
  readonly url: string;
  /** `http://host:port` of the health listener, when `healthPort` is set. */
  readonly healthUrl: string | undefined;
  /** Graceful shutdown : drain streams, stop listening, close the bus. */
  shutdown(): Promise<void>;
}

/**
 * Options of {@link serve}.
 *
 * @example
 * ```ts
 * import type { ServeOptions } from "./mod.ts";
 * const options: ServeOptions = { port: 8080, keepAlive: "10s", announce: false };
 * ```
 */
export interface ServeOptions extends SsepgOptions {
  /** Print the `ssepg listening on …` lines on stdout. @default true */
  readonly announce?: boolean;
  /**
   * Share the ports with other processes that set it too (SO_REUSEPORT on Deno and Bun; Node 20
   * ignores it, its cluster workers share ports through the primary). @default false
   */
  readonly reusePort?: boolean;
}

interface RuntimeAdapter {
  readonly runtime: string;
  /** The HTTP server to use: the runtime's native one when asked for, else node:http. */
  listen(config: Config): Promise<Listen>;
}

const nodeListen = async () => (await import("./node/listen.ts")).listenNode;

async function adapter(): Promise<RuntimeAdapter> {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) {
    const { denoRuntime } = await import("./deno.ts");
    return {
      runtime: denoRuntime(),
      // node:http on Deno holds about a third of Deno.serve's memory per open stream (20 vs 61 KB
      // measured) and lets the Node adapter write frames to the socket directly.
      listen: async (config) => config.denoServe ? (await import("./deno.ts")).listenDeno : nodeListen(),
    };
  }
  if (g.Bun) {
    const { listenBun, bunRuntime } = await import("./bun.ts");
    // Bun.serve, not Bun's node:http: in Bun 1.4.5 node:http's socket writes never push back, so
    // a subscriber that stops reading would be buffered without bound instead of dropped.
    return { runtime: bunRuntime(), listen: () => Promise.resolve(listenBun) };
  }
  const { nodeRuntime } = await import("./node.ts");
  return { runtime: nodeRuntime(), listen: nodeListen };
}

/**
 * Starts ssepg on this runtime's HTTP server.
 *
 * @param options Config fields (see the options table in the README) and library options.
 * @returns The running server.
 *
 * @example
 * ```ts
 * import { serve } from "./mod.ts";
 * const server = await serve({ port: 0, hostname: "127.0.0.1", announce: false, logger: { info() {}, warn() {}, error() {} } });
 * console.log(server.url);
 * await server.shutdown();
 * ```
 */
export async function serve(options: ServeOptions = {}): Promise<SsepgServer> {
  const { announce = true, reusePort = false, ...rest } = options;
  const runtimeAdapter = await adapter();
  const service = await createSsepg({ runtime: runtimeAdapter.runtime, ...rest });
  const { config } = service;
  const listen = await runtimeAdapter.listen(config);
  let main: Listener | undefined;
  let health: Listener | undefined;
  try {
    main = await listen(service.handle, { port: config.port, hostname: config.hostname, reusePort });
    if (config.healthPort !== undefined) {
      health = await listen(service.handleHealth, { port: config.healthPort, hostname: config.hostname, reusePort });
    }
  } catch (error) {
    await Promise.allSettled([service.close(), main?.close(), health?.close()]);
    throw error;
  }
  const url = `http://${formatHost(main.hostname)}:${main.port}`;
  const healthUrl = health && `http://${formatHost(health.hostname)}:${health.port}`;
  if (announce) {
    console.log(`ssepg listening on ${url}`);
    if (healthUrl) console.log(`ssepg health on ${healthUrl}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    service,
    url,
    healthUrl,
    shutdown: () => stopping ??= stop(service, [main, health], config.gracefulDrain),
  };
}

/** Connections still open this long after the drain are left for the process exit to cut. */
const LISTENER_GRACE_MS = 2_000;

async function stop(service: Ssepg, listeners: (Listener | undefined)[], drain: number): Promise<void> {
  // Listeners stop accepting at once; their close() resolves when open responses end, which
  // the service's drain brings about. A client that never reads must not hold the exit.
  const closed = Promise.all(listeners.map((l) => l?.close()));
  await service.close();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    closed,
    new Promise((resolve) => timer = setTimeout(resolve, Math.min(drain, LISTENER_GRACE_MS))),
  ]);
  clearTimeout(timer);
}

function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
