/**
 * The publish route (SPEC §3, `POST {basePath}/{topic}/events`) as plain steps: the Hono route
 * runs them on a Web `Request`, and an adapter that can answer a publish without building one
 * (the `node:http` listener) runs them on the runtime's own request object.
 *
 * Building a Web `Request` and `Response` is most of a publish's cost on Node's HTTP server
 * (profiled: headers copy, undici's Request, a body stream, a streamed response); the plain
 * path doubled publishes/s there with no subscriber, and lifted scenario B by about 45 %.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { invalidTopicDetail, isValidTopic, parseTopicList } from "../topic.ts";
import type { RouteTarget } from "./app.ts";
import { requireToken } from "./auth.ts";
import { parsePublishBody } from "./body.ts";
import { corsHeaders } from "./cors.ts";
import { drainingProblem, HttpProblem, type PlainResponse, problemOf } from "./problem.ts";
import type { RequestHead } from "./request_head.ts";

/**
 * Reads the request body, refusing more than `limit` bytes (413) or a body slower than
 * `timeout` ms (408), both as {@link HttpProblem}s with `Connection: close`.
 *
 * @example
 * ```ts
 * import type { BodyReader } from "./publish.ts";
 * import { readBodyLimited } from "./body.ts";
 * const request = new Request("http://x/", { method: "POST", body: '{"data":1}' });
 * const read: BodyReader = (limit, timeout) => readBodyLimited(request, limit, timeout);
 * ```
 */
export type BodyReader = (limit: number, timeout: number) => Promise<Uint8Array>;

/**
 * The topic of a publish to `raw` (the `{topic}` path segment, decoded), once the path and the
 * publish token are checked.
 *
 * @param config The instance's config (`publishToken`).
 * @param head The request.
 * @param raw The path segment.
 * @returns The normalised topic.
 * @throws {HttpProblem} 400 for a bad or listed topic, 401 for a missing or wrong token.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../config/config.ts";
 * import { publishTopic } from "./publish.ts";
 * publishTopic(resolveConfig(), new Request("http://x/topics/Alpha/events", { method: "POST" }), "Alpha"); // "alpha"
 * ```
 */
export function publishTopic(config: Config, head: RequestHead, raw: string): string {
  const parsed = parseTopicList(raw);
  if ("error" in parsed) throw new HttpProblem(400, "invalid-topic", "Invalid topic", parsed.error);
  if (parsed.topics.length !== 1 || raw.includes(",")) {
    throw new HttpProblem(400, "invalid-topic", "Invalid topic", `Publish to one topic: ${invalidTopicDetail(raw)}`);
  }
  requireToken(head, config.publishToken, false, "publish");
  return parsed.topics[0];
}

/**
 * Reads, validates and publishes the body of a publish whose topic and caller are checked, and
 * returns the answer: `{"id", "topic", "data"}` once the event is committed.
 *
 * @param target The service.
 * @param topic The normalised topic.
 * @param readBody Reads the body within `maxBodyBytes` and `bodyTimeout`.
 * @returns The 200 answer.
 * @throws {HttpProblem} 503 while draining or when the database refuses, 400 for a bad body,
 * 408 and 413 from the reader, 413 for an envelope over `maxNotifyBytes`.
 *
 * @example
 * ```ts
 * import { createSsepg } from "../service.ts";
 * import { readBodyLimited } from "./body.ts";
 * import { publishBody } from "./publish.ts";
 * const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
 * const request = new Request("http://x/topics/a/events", { method: "POST", body: '{"data":1}' });
 * const answer = await publishBody(svc as never, "a", (limit, timeout) => readBodyLimited(request, limit, timeout));
 * console.log(answer.status, answer.body); // 200 {"id":"…","topic":"a","data":1}
 * await svc.close();
 * ```
 */
export async function publishBody(target: RouteTarget, topic: string, readBody: BodyReader): Promise<PlainResponse> {
  if (target.draining) throw drainingProblem();
  const { config } = target;
  const data = parsePublishBody(await readBody(config.maxBodyBytes, config.bodyTimeout));
  const { id } = await target.publishCompact(topic, data);
  return {
    status: 200,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
    body: `{"id":${JSON.stringify(id)},"topic":"${topic}","data":${data}}`,
  };
}

/**
 * A publish route an adapter can serve without a Web `Request`: it recognises the publishes it
 * can take (one already-normal topic in the path, no `authorize` hook to call) and answers
 * them, errors and CORS headers included. Anything else goes through the `fetch` handler.
 *
 * @example
 * ```ts
 * import { createSsepg } from "../service.ts";
 * import { publishRouteFor } from "./publish.ts";
 * const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
 * const route = publishRouteFor(svc.fetch);
 * route?.match("POST", "/topics/alpha/events"); // "alpha"
 * route?.match("POST", "/topics/Alpha/events"); // undefined: the fetch handler normalises it
 * await svc.close();
 * ```
 */
export interface PublishRoute {
  /**
   * The topic when this is a publish the route serves.
   *
   * @param method The request method.
   * @param target The request target: path and query as sent.
   * @returns The topic, or undefined for a request the `fetch` handler must take.
   */
  match(method: string, target: string): string | undefined;
  /**
   * Answers a matched publish; never throws.
   *
   * @param head The request.
   * @param topic What {@link PublishRoute.match} returned.
   * @param readBody Reads the body.
   * @returns The answer or the problem, with CORS headers.
   */
  handle(head: RequestHead, topic: string, readBody: BodyReader): Promise<PlainResponse>;
}

const routes = new WeakMap<object, PublishRoute>();

/**
 * Offers `route` to adapters serving `handler` (see {@link publishRouteFor}).
 *
 * @param handler The service's `fetch` handler.
 * @param target The service behind it.
 * @returns The route.
 *
 * @example
 * ```ts
 * // in the service: offerPublishRoute(this.fetch, this) when no authorize hook is set
 * ```
 */
export function offerPublishRoute(handler: object, target: RouteTarget): PublishRoute {
  const { config } = target;
  const prefix = `${config.basePath}/`;
  const suffix = "/events";
  const route: PublishRoute = {
    match(method, path) {
      if (method !== "POST") return undefined;
      const end = path.indexOf("?");
      const pathname = end === -1 ? path : path.slice(0, end);
      if (!pathname.startsWith(prefix) || !pathname.endsWith(suffix)) return undefined;
      const topic = pathname.slice(prefix.length, pathname.length - suffix.length);
      return isValidTopic(topic) ? topic : undefined;
    },
    async handle(head, topic, readBody) {
      let answer: PlainResponse;
      try {
        answer = await publishBody(target, publishTopic(config, head, topic), readBody);
      } catch (error) {
        answer = problemOf(error);
      }
      const cors = corsHeaders(head, config.corsOrigins);
      return Object.keys(cors).length === 0 ? answer : { ...answer, headers: { ...answer.headers, ...cors } };
    },
  };
  routes.set(handler, route);
  return route;
}

/**
 * The publish route offered for `handler`, if any.
 *
 * @param handler A `fetch` handler, e.g. `svc.fetch`.
 * @returns The route, or undefined (any other handler, or a service with an `authorize` hook).
 *
 * @example
 * ```ts
 * import { publishRouteFor } from "./publish.ts";
 * publishRouteFor(() => new Response("ok")); // undefined
 * ```
 */
export function publishRouteFor(handler: object): PublishRoute | undefined {
  return routes.get(handler);
}
