/**
 * The one request pipeline: every adapter turns its runtime's request into a
 * {@link RequestHead} and calls the handler made here, for every route. Routing, methods,
 * authentication (static tokens and JWTs, see {@link Access}), the `authorize` hook, draining,
 * problems and CORS are decided here and nowhere else.
 *
 * @module
 */

import { RESERVED_EVENT_NAMES } from "../sse/frame.ts";
import { invalidTopicDetail, parseTopicList } from "../topic.ts";
import { Access } from "./access.ts";
import { corsHeaders } from "./cors.ts";
import { hostProblem } from "./host.ts";
import { healthReply, metricsReply } from "./observe.ts";
import { probeReply } from "./probes.ts";
import { drainingProblem, HttpProblem, internalProblem } from "./problem.ts";
import { publishReply } from "./publish.ts";
import { type Reply, withHeaders } from "./reply.ts";
import type { RequestHead } from "./request_head.ts";
import { matchRoute, READ_METHODS, type Route, type RouteTable, TOPIC_METHODS } from "./routes.ts";
import { streamReply } from "./stream.ts";
import type { Authorize, HttpTarget } from "./target.ts";

/**
 * Answers one request.
 *
 * @example
 * ```ts
 * import type { Handler } from "./handler.ts";
 * const teapot: Handler = () => Promise.resolve({ status: 418, headers: {}, body: null });
 * ```
 */
export type Handler = (head: RequestHead) => Promise<Reply>;

/**
 * Options of {@link createHandler}.
 *
 * @example
 * ```ts
 * import type { HandlerOptions } from "./handler.ts";
 * const healthPort: HandlerOptions = { topics: false, health: true };
 * ```
 */
export interface HandlerOptions {
  /** Serve the topic routes (publish, stream, preflight). */
  readonly topics: boolean;
  /** Serve health and metrics. */
  readonly health: boolean;
  /** The library's check after the tokens. */
  readonly authorize?: Authorize | undefined;
  /**
   * Who may publish and subscribe, shared by an instance's handlers (it holds the JWT cache).
   * @default the static tokens of `target.config`, without JWTs
   */
  readonly access?: Access | undefined;
}

/**
 * Makes the handler of one listener.
 *
 * @param target The instance.
 * @param options Which routes this listener serves, and the `authorize` hook.
 * @returns The handler; it never throws: every failure is a problem reply.
 *
 * @example
 * ```ts
 * import { createSsepg } from "../service/create.ts";
 * const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
 * const reply = await svc.handle({
 *   method: "TRACE", path: "/topics/a/events", query: "", headers: new Headers(),
 *   body: () => Promise.resolve(new Uint8Array(0)),
 * });
 * reply.status; // 405, with Allow: GET, POST, OPTIONS
 * await svc.close();
 * ```
 */
export function createHandler(target: HttpTarget, options: HandlerOptions): Handler {
  const { config } = target;
  const table: RouteTable = { basePath: config.basePath, healthz: config.healthz, ...options };
  const origins = config.corsOrigins;
  const access = options.access ?? new Access(config, undefined);
  // Credentialed CORS (cookies) only for listed origins: browsers refuse it with `*` anyway,
  // and echoing any origin with credentials would let every site read a user's streams.
  const credentials = config.jwtCookie !== undefined;
  return async (head) => {
    // Hop timing (`traceHops`) starts here, so that a publish's time includes its authentication.
    const arrivedAt = config.traceHops ? performance.now() : undefined;
    let reply: Reply;
    try {
      const badHost = hostProblem(head.headers.get("host"));
      if (badHost) throw badHost;
      const route = matchRoute(table, head.path);
      if (route === undefined) throw notFound(head);
      reply = await answer(target, options, access, route, head, arrivedAt);
    } catch (error) {
      if (!(error instanceof HttpProblem)) {
        target.logger.error(`ssepg: unhandled error: ${error instanceof Error ? error.stack : String(error)}`);
      }
      reply = (error instanceof HttpProblem ? error : internalProblem()).toReply();
    }
    return origins ? withHeaders(reply, corsHeaders(head, origins, credentials)) : reply;
  };
}

async function answer(
  target: HttpTarget,
  options: HandlerOptions,
  access: Access,
  route: Route,
  head: RequestHead,
  arrivedAt: number | undefined,
): Promise<Reply> {
  const method = head.method;
  switch (route.kind) {
    case "health":
    case "metrics":
    case "livez":
    case "readyz":
      if (method !== "GET" && method !== "HEAD") throw notAllowed(method, READ_METHODS);
      if (route.kind === "health") {
        // Topic names are often user ids: on the main port they are shown only to a request that
        // could subscribe to every topic anyway. The health port is the operators' and shows all.
        return healthReply(target, head, !options.topics || await access.seesTopicNames(head));
      }
      return route.kind === "metrics" ? metricsReply(target) : probeReply(target, route.kind);
    case "topics":
      if (method === "OPTIONS") return { status: 204, headers: { Allow: TOPIC_METHODS }, body: null };
      throw notFound(head);
    case "events": {
      if (method === "OPTIONS") return { status: 204, headers: { Allow: TOPIC_METHODS }, body: null };
      const action = method === "POST" ? "publish" : method === "GET" || method === "HEAD" ? "listen" : undefined;
      if (action === undefined) throw notAllowed(method, TOPIC_METHODS);
      const topics = topicsOf(route.segment, action);
      const grant = await access.check(head, action, topics);
      const authorize = options.authorize;
      if (authorize && !await authorize(head, topics, action, grant.claims)) {
        throw new HttpProblem(403, "forbidden", "Forbidden", `Not allowed to ${action} on ${topics.join(",")}`);
      }
      if (target.draining) throw drainingProblem();
      return action === "publish"
        ? publishReply(target, topics[0], head, grant.expiresAt, arrivedAt)
        : streamReply(target, topics, head, grant.expiresAt);
    }
  }
}

/** The topics of a path segment: one to publish, up to 32 to listen. */
function topicsOf(segment: string, action: "publish" | "listen"): string[] {
  let raw = segment;
  if (segment.includes("%")) {
    try {
      raw = decodeURIComponent(segment);
    } catch {
      throw new HttpProblem(400, "invalid-topic", "Invalid topic", invalidTopicDetail(segment));
    }
  }
  const parsed = parseTopicList(raw);
  if ("error" in parsed) throw new HttpProblem(400, "invalid-topic", "Invalid topic", parsed.error);
  if (action === "publish" && raw.includes(",")) {
    throw new HttpProblem(400, "invalid-topic", "Invalid topic", `Publish to one topic: ${invalidTopicDetail(raw)}`);
  }
  // A multi-topic stream names each event by its topic: these names would read as the
  // server's gap notice or fire EventSource's own error/open listeners.
  const reserved = parsed.topics.length > 1 ? parsed.topics.find((t) => RESERVED_EVENT_NAMES.includes(t)) : undefined;
  if (reserved !== undefined) {
    throw new HttpProblem(
      400,
      "reserved-topic",
      "Invalid topic",
      `A stream of several topics cannot include ${
        JSON.stringify(reserved)
      }: its events would be named like the server's ` +
        `notices (${RESERVED_EVENT_NAMES.join(", ")}); subscribe to it in a stream of its own`,
    );
  }
  return parsed.topics;
}

function notFound(head: RequestHead): HttpProblem {
  const path = head.path.length > 200 ? `${head.path.slice(0, 200)}…` : head.path;
  return new HttpProblem(404, "not-found", "Not found", `No route for ${head.method.slice(0, 20)} ${path}`);
}

function notAllowed(method: string, allow: string): HttpProblem {
  return new HttpProblem(
    405,
    "method-not-allowed",
    "Method not allowed",
    `${method.slice(0, 20)} is not allowed here`,
    {
      Allow: allow,
    },
  );
}
