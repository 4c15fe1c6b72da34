/**
 * The HTTP routes of SPEC §3 on a Hono app: publish, subscribe, preflight, health.
 *
 * Every handler turns its own errors into problem responses, so the routes behave the same
 * whether they run in ssepg's own app or were attached to a user's app with its own error
 * handling.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { Config } from "../config/config.ts";
import { parseTopicList } from "../topic.ts";
import { requireToken } from "./auth.ts";
import { ALLOWED_METHODS, corsHeaders, withCors } from "./cors.ts";
import { acceptsGzip } from "../sse/gzip.ts";
import { readBodyLimited } from "./body.ts";
import { publishBody, publishTopic } from "./publish.ts";
import type { HealthReport } from "./health.ts";
import { drainingProblem, HttpProblem, problemResponse } from "./problem.ts";

/** What the routes need from the service. */
export interface RouteTarget {
  readonly config: Config;
  /** True once shutdown began. */
  readonly draining: boolean;
  /** Publishes compact JSON `data`; resolves once committed. */
  publishCompact(topic: string, data: string): Promise<{ id: string }>;
  /** Opens the SSE body for `topics`, gzip-encoded when asked. */
  openStream(topics: string[], lastEventId: string | undefined, gzip: boolean): ReadableStream<Uint8Array>;
  /** Whether streams can be gzip-encoded here. */
  readonly gzipAvailable: boolean;
  /** The health report. */
  health(limit?: number): HealthReport;
  /** The Prometheus exposition. */
  metrics(): string;
  /** The library's `authorize` hook; throws a 403 problem when it refuses. */
  authorize(request: Request, topics: string[], action: "publish" | "listen"): Promise<void>;
}

const ALLOW = ALLOWED_METHODS;

/** Headers of every SSE response (SPEC §3). */
export const STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
  "Vary": "Accept-Encoding",
});

type Guard = (handler: (c: Context) => Promise<Response> | Response) => (c: Context) => Promise<Response>;

/** Wraps a handler: errors become problem responses, and every response gets its CORS headers. */
function guardFor(origins: readonly string[] | undefined): Guard {
  return (handler) => async (c) => {
    let response: Response;
    try {
      response = await handler(c);
    } catch (error) {
      response = problemResponse(error);
    }
    return withCors(response, corsHeaders(c.req.raw, origins));
  };
}

function topicsOf(c: Context): string[] {
  const parsed = parseTopicList(c.req.param("topics") ?? "");
  if ("error" in parsed) throw new HttpProblem(400, "invalid-topic", "Invalid topic", parsed.error);
  return parsed.topics;
}

/**
 * Adds the ssepg routes to a Hono app.
 *
 * @param app Any Hono app; ssepg's own or the user's.
 * @param target The service the routes call.
 * @param options `health: false` leaves out the health route (it has its own port).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createSsepg } from "../../mod.ts";
 * const svc = await createSsepg();
 * const app = new Hono();
 * svc.attach(app); // calls registerRoutes(app, …)
 * await svc.close();
 * ```
 */
export function registerRoutes(app: Hono, target: RouteTarget, options: { health: boolean }): void {
  const { config } = target;
  const eventsPath = `${config.basePath}/:topics/events`;
  const guard = guardFor(config.corsOrigins);

  app.get(
    eventsPath,
    guard(async (c) => {
      const topics = topicsOf(c);
      requireToken(c.req.raw, config.listenToken, config.allowQueryToken, "listen");
      await target.authorize(c.req.raw, topics, "listen");
      if (target.draining) throw drainingProblem();
      const gzip = target.gzipAvailable && acceptsGzip(c.req.header("accept-encoding") ?? null);
      const headers = gzip ? { ...STREAM_HEADERS, "Content-Encoding": "gzip" } : { ...STREAM_HEADERS };
      // Hono answers HEAD with the GET route; a HEAD must not open a subscription.
      if (c.req.method === "HEAD") return new Response(null, { headers });
      const lastEventId = c.req.header("last-event-id") ?? c.req.query("lastEventId") ?? undefined;
      // The runtime cancels the body when the client leaves, which unsubscribes; no
      // `request.signal` listener (Deno 2 aborts that signal after every response, too).
      const body = target.openStream(topics, lastEventId === "" ? undefined : lastEventId, gzip);
      return new Response(body, { headers });
    }),
  );

  app.post(
    eventsPath,
    guard(async (c) => {
      const topic = publishTopic(config, c.req.raw, c.req.param("topics") ?? "");
      await target.authorize(c.req.raw, [topic], "publish");
      const answer = await publishBody(
        target,
        topic,
        (limit, timeout) => readBodyLimited(c.req.raw, limit, timeout),
      );
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    }),
  );

  app.options(`${config.basePath}/*`, guard(() => new Response(null, { status: 204, headers: { Allow: ALLOW } })));

  app.all(
    eventsPath,
    guard((c) => {
      throw new HttpProblem(405, "method-not-allowed", "Method not allowed", `${c.req.method} is not allowed here`, {
        Allow: ALLOW,
      });
    }),
  );

  if (options.health) {
    app.get(config.healthz, guard((c) => healthResponse(target, c.req.raw)));
    app.get(METRICS_PATH, guard(() => metricsResponse(target)));
  }
}

/** Where the Prometheus metrics are served, beside health. */
export const METRICS_PATH = "/metrics";

/**
 * The metrics response in Prometheus text format.
 *
 * @param target The service.
 * @returns `text/plain; version=0.0.4`.
 *
 * @example
 * ```ts
 * // const response = metricsResponse(svc);
 * ```
 */
export function metricsResponse(target: RouteTarget): Response {
  return new Response(target.metrics(), {
    headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" },
  });
}

/**
 * The health response: 200 when `ok`, 503 when `degraded`; `?limit=N` caps `topics[]`.
 *
 * @param target The service.
 * @param request The request (for `?limit=`).
 * @returns The JSON response.
 *
 * @example
 * ```ts
 * // const response = healthResponse(svc, new Request("http://x/healthz?limit=10"));
 * ```
 */
export function healthResponse(target: RouteTarget, request: Request): Response {
  const limitText = new URL(request.url).searchParams.get("limit");
  let limit = Infinity;
  if (limitText !== null) {
    if (!/^\d{1,9}$/.test(limitText)) {
      return new HttpProblem(
        400,
        "invalid-limit",
        "Invalid limit",
        `limit must be a whole number: current value is ${JSON.stringify(limitText.slice(0, 40))}`,
      ).toResponse();
    }
    limit = Number(limitText);
  }
  const report = target.health(limit);
  return new Response(JSON.stringify(report), {
    status: report.status === "ok" ? 200 : 503,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
  });
}
