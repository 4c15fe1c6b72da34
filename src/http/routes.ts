/**
 * Which route a request path names. Routing reads the path of the request target and nothing
 * else: not the `Host` header, not the query.
 *
 * @module
 */

/** Where the Prometheus metrics are served, beside health. */
export const METRICS_PATH = "/metrics";
/** The liveness probe: 200 while the process serves. */
export const LIVEZ_PATH = "/livez";
/** The readiness probe: 503 while LISTEN is down or the server drains. */
export const READYZ_PATH = "/readyz";

/** Methods the topic routes accept. */
export const TOPIC_METHODS = "GET, POST, OPTIONS";
/** Methods the health and metrics routes accept. */
export const READ_METHODS = "GET, HEAD";

/**
 * A matched route.
 *
 * @example
 * ```ts
 * import type { Route } from "./routes.ts";
 * const route: Route = { kind: "events", segment: "a,b" };
 * ```
 */
export type Route =
  /** `{basePath}/{topics}/events`; `segment` is the topics segment, still percent-encoded. */
  | { readonly kind: "events"; readonly segment: string }
  /** Any other path under `{basePath}/`: only preflights are answered there. */
  | { readonly kind: "topics" }
  /** `{healthz}`. */
  | { readonly kind: "health" }
  /** `/metrics`. */
  | { readonly kind: "metrics" }
  /** `/livez`. */
  | { readonly kind: "livez" }
  /** `/readyz`. */
  | { readonly kind: "readyz" };

/**
 * The paths one listener serves.
 *
 * @example
 * ```ts
 * import type { RouteTable } from "./routes.ts";
 * const main: RouteTable = { basePath: "/topics", healthz: "/healthz", topics: true, health: true };
 * ```
 */
export interface RouteTable {
  /** Prefix of the topic routes. */
  readonly basePath: string;
  /** Path of the health report. */
  readonly healthz: string;
  /** Serve the topic routes. */
  readonly topics: boolean;
  /** Serve health, metrics and the probes. */
  readonly health: boolean;
}

const EVENTS = "/events";

/**
 * The route `path` names in `table`, or undefined (404).
 *
 * @param table The listener's routes.
 * @param path The path of the request target, percent-encoded as sent.
 * @returns The route.
 *
 * @example
 * ```ts
 * import { matchRoute } from "./routes.ts";
 * const table = { basePath: "/topics", healthz: "/healthz", topics: true, health: true };
 * matchRoute(table, "/topics/a,b/events"); // { kind: "events", segment: "a,b" }
 * matchRoute(table, "/healthz"); // { kind: "health" }
 * matchRoute(table, "/topics/a/events/"); // { kind: "topics" }: only OPTIONS answers there
 * ```
 */
export function matchRoute(table: RouteTable, path: string): Route | undefined {
  if (
    table.topics && path.length > table.basePath.length && path.startsWith(table.basePath) &&
    path.charCodeAt(table.basePath.length) === 47 /* "/" */
  ) {
    const start = table.basePath.length + 1;
    if (path.endsWith(EVENTS) && path.length > start + EVENTS.length) {
      const segment = path.slice(start, path.length - EVENTS.length);
      if (!segment.includes("/")) return { kind: "events", segment };
    }
    return { kind: "topics" };
  }
  if (table.health) {
    if (path === table.healthz) return { kind: "health" };
    if (path === METRICS_PATH) return { kind: "metrics" };
    if (path === LIVEZ_PATH) return { kind: "livez" };
    if (path === READYZ_PATH) return { kind: "readyz" };
  }
  return undefined;
}
