/**
 * The pipeline on Web-standard `Request` and `Response`, for `Deno.serve`, `Bun.serve` and any
 * `fetch` platform: a `Request` becomes a {@link RequestHead}, a {@link Reply} a `Response`.
 *
 * These runtimes build `request.url` from the `Host` header, so the URL is read only when the
 * `Host` is well-formed; then the URL's path is the request target's.
 *
 * @module
 */

import { readBodyLimited } from "./body.ts";
import type { Handler } from "./handler.ts";
import { isValidHost } from "./host.ts";
import { isStreamReply, type Reply } from "./reply.ts";
import { type RequestHead, splitTarget } from "./request_head.ts";

/**
 * The head of a Web `Request`.
 *
 * @param request The request.
 * @returns The head, whose body reader reads `request.body`. With a malformed `Host` the URL
 *   is not read (its path may come from the header) and the path is left empty: the pipeline
 *   refuses such a request before routing.
 *
 * @example
 * ```ts
 * import { requestHead } from "./web.ts";
 * const head = requestHead(new Request("http://x/topics/a/events?lastEventId=e1"));
 * console.log(head.path, head.query); // /topics/a/events lastEventId=e1
 * ```
 */
export function requestHead(request: Request): RequestHead {
  const host = request.headers.get("host");
  const { path, query } = host === null || isValidHost(host) ? splitTarget(request.url) : NO_TARGET;
  return {
    method: request.method,
    path,
    query,
    headers: request.headers,
    body: (limit, timeout) => readBodyLimited(request, limit, timeout),
  };
}

const NO_TARGET = Object.freeze({ path: "", query: "" });

/**
 * A reply as a Web `Response`; an event stream becomes a pull-driven body.
 *
 * @param reply The handler's answer.
 * @returns The response.
 *
 * @example
 * ```ts
 * import { toResponse } from "./web.ts";
 * const response = toResponse({ status: 204, headers: { Allow: "GET" }, body: null });
 * response.status; // 204
 * ```
 */
export function toResponse(reply: Reply): Response {
  const body = isStreamReply(reply) ? reply.stream.readable() : reply.body;
  return new Response(body, { status: reply.status, headers: reply.headers });
}

/**
 * A `fetch` handler over `handler`.
 *
 * @param handler The pipeline.
 * @returns `(request) => Promise<Response>`.
 *
 * @example
 * ```ts
 * import { fetchHandler } from "./web.ts";
 * const fetch = fetchHandler(() => Promise.resolve({ status: 200, headers: {}, body: "ok" }));
 * console.log((await fetch(new Request("http://x/"))).status); // 200
 * ```
 */
export function fetchHandler(handler: Handler): (request: Request) => Promise<Response> {
  return async (request) => toResponse(await handler(requestHead(request)));
}
