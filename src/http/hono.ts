/**
 * ssepg's routes inside a user's Hono app: every path ssepg serves is handed to the same
 * pipeline as every other adapter uses.
 *
 * @module
 */

/**
 * A Hono app (any `new Hono()`), described by shape so that ssepg's API does not expose Hono's
 * generic types.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { HonoApp } from "./hono.ts";
 * const app: HonoApp = new Hono();
 * ```
 */
export interface HonoApp {
  /** Hono's route registration for every method. */
  all: (...args: never[]) => unknown;
  /** Hono's fetch handler. */
  fetch: (request: Request, ...rest: never[]) => Response | Promise<Response>;
}

/** The part of Hono's context used here. */
interface HonoContext {
  readonly req: { readonly raw: Request };
}
type HonoAll = (path: string, handler: (c: HonoContext) => Promise<Response>) => unknown;

/**
 * Routes `paths` of `app` to `fetch`. Mount ssepg at the app's root: the pipeline routes by
 * the request's own path.
 *
 * @param app The user's Hono app.
 * @param paths Hono path patterns to hand over.
 * @param fetch The pipeline as a `fetch` handler.
 * @throws {TypeError} when `app` is not a Hono app.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { attachToHono } from "./hono.ts";
 * const app = new Hono();
 * attachToHono(app, ["/topics/*"], () => Promise.resolve(new Response("ssepg")));
 * ```
 */
export function attachToHono(
  app: HonoApp,
  paths: readonly string[],
  fetch: (request: Request) => Promise<Response>,
): void {
  if (typeof app?.all !== "function") throw new TypeError("Cannot attach the routes as attach() takes a Hono app");
  const all = (app.all as unknown as HonoAll).bind(app);
  for (const path of paths) all(path, (c) => fetch(c.req.raw));
}
