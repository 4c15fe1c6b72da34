/**
 * `serve(config)`: an ssepg instance on this runtime's HTTP server (`Deno.serve`, `Bun.serve`
 * or `node:http`), with the optional health port.
 *
 * @module
 */

import { createSsepg, type Ssepg, type SsepgOptions } from "../service.ts";
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
  /** Graceful shutdown (SPEC §6): drain streams, stop listening, close the bus. */
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
}

interface RuntimeAdapter {
  readonly listen: Listen;
  readonly runtime: string;
}

async function adapter(): Promise<RuntimeAdapter> {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) {
    const { listenDeno, denoRuntime } = await import("./deno.ts");
    return { listen: listenDeno, runtime: denoRuntime() };
  }
  if (g.Bun) {
    const { listenBun, bunRuntime } = await import("./bun.ts");
    return { listen: listenBun, runtime: bunRuntime() };
  }
  const { listenNode, nodeRuntime } = await import("./node.ts");
  return { listen: listenNode, runtime: nodeRuntime() };
}

/**
 * Starts ssepg on this runtime's HTTP server.
 *
 * @param options Config fields (SPEC §2) and library options.
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
  const { announce = true, ...rest } = options;
  const { listen, runtime } = await adapter();
  const service = await createSsepg({ runtime, ...rest });
  const { config } = service;
  let main: Listener | undefined;
  let health: Listener | undefined;
  try {
    main = await listen(service.fetch, { port: config.port, hostname: config.hostname });
    if (config.healthPort !== undefined) {
      health = await listen(service.healthFetch, { port: config.healthPort, hostname: config.hostname });
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
