/**
 * `GET {basePath}/{topics}/events`: the subscriber's event stream.
 *
 * @module
 */

import { acceptsGzip } from "../sse/gzip.ts";
import { HttpProblem } from "./problem.ts";
import type { Reply } from "./reply.ts";
import { queryParam, type RequestHead } from "./request_head.ts";
import type { HttpTarget } from "./target.ts";

/** Headers of every event-stream response. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
  "Vary": "Accept-Encoding",
});

const GZIP_HEADERS = Object.freeze({ ...STREAM_HEADERS, "Content-Encoding": "gzip" });

/**
 * The comment that ends a stream when its token expires.
 *
 * @example
 * ```ts
 * import { TOKEN_EXPIRED } from "./stream.ts";
 * TOKEN_EXPIRED; // "token expired" (sent as ": token expired")
 * ```
 */
export const TOKEN_EXPIRED = "token expired";

/**
 * The stream reply for checked topics: gzip when the client accepts it, resuming after
 * `Last-Event-ID` (or `?lastEventId=`). A HEAD gets the headers and opens no subscription.
 * A stream allowed by a token that expires ends then, with `: token expired`, so that no access
 * outlives its token: the client reconnects with a fresh one and resumes by `Last-Event-ID`.
 *
 * @param target The instance.
 * @param topics The normalised topics, the caller authenticated and authorized.
 * @param head The request.
 * @param expiresAt Epoch ms at which the stream's access ends; Infinity for never.
 * @returns The reply; its stream starts when the adapter attaches a writer.
 * @throws {HttpProblem} 503 `too-many-topics` (with `Retry-After`) when the stream needs new
 *   topic states at `maxTopics` and no idle topic can make room.
 *
 * @example
 * ```ts
 * import { createSsepg } from "../service/create.ts";
 * const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
 * const response = await svc.fetch(new Request("http://x/topics/a/events"));
 * response.headers.get("content-type"); // text/event-stream; charset=utf-8
 * await response.body?.cancel();
 * await svc.close();
 * ```
 */
export function streamReply(
  target: HttpTarget,
  topics: readonly string[],
  head: RequestHead,
  expiresAt: number = Infinity,
): Reply {
  const gzip = target.gzipAvailable && acceptsGzip(head.headers.get("accept-encoding"));
  const headers = gzip ? GZIP_HEADERS : STREAM_HEADERS;
  if (head.method === "HEAD") return { status: 200, headers, body: null };
  const lastEventId = head.headers.get("last-event-id") ?? queryParam(head, "lastEventId");
  const stream = target.openStream(topics, lastEventId || undefined, gzip);
  // The stream subscribes only once the adapter attaches its writer, after the headers: ask
  // now, while a refusal can still be a 503. (A race lost at attach ends the stream at once.)
  if (!stream.canSubscribe()) throw topicLimitProblem();
  if (expiresAt !== Infinity) stream.endAt(expiresAt, TOKEN_EXPIRED);
  return { status: 200, headers, stream };
}

function topicLimitProblem(): HttpProblem {
  return new HttpProblem(
    503,
    "too-many-topics",
    "Service unavailable",
    "This instance holds as many topics as maxTopics allows and every one has subscribers: no new topic can be added now",
    { "Retry-After": "1" },
  );
}
