/**
 * `POST {basePath}/{topic}/events`: read, validate and publish one event, answered once the
 * database accepted it.
 *
 * @module
 */

import { parsePublishBody } from "./body.ts";
import { drainingProblem, HttpProblem } from "./problem.ts";
import type { PlainReply } from "./reply.ts";
import type { RequestHead } from "./request_head.ts";
import type { HttpTarget } from "./target.ts";

const HEADERS = Object.freeze({ "Content-Type": "application/json", "Cache-Control": "no-store" });

/**
 * Reads the body of a checked publish, publishes its `data` and returns the 200 answer
 * `{"id", "topic", "data"}`.
 *
 * @param target The instance.
 * @param topic The normalised topic, its caller authenticated and authorized.
 * @param head The request (its body is read here).
 * @param expiresAt Epoch ms at which the publisher's token expires (Infinity for never): a body
 *   that finishes after it gets 401, and nothing is published.
 * @param arrivedAt `performance.now()` when the request head reached the handler, for hop timing
 *   (`traceHops`); read here when absent.
 * @returns The 200 reply.
 * @throws {HttpProblem} 400 for a bad or broken body, 408 and 413 from the body reader, 401 for a
 * token that expired while the body arrived, 413 for an event over `maxEventBytes`, 422 for one
 * the database cannot store, 503 when the database refuses or the server began to shut
 * down while the body was arriving.
 *
 * @example
 * ```ts
 * import { createSsepg } from "../service/create.ts";
 * const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
 * const response = await svc.fetch(new Request("http://x/topics/a/events", { method: "POST", body: '{"data":1}' }));
 * console.log(response.status, await response.text()); // 200 {"id":"…","topic":"a","data":1}
 * await svc.close();
 * ```
 */
export async function publishReply(
  target: HttpTarget,
  topic: string,
  head: RequestHead,
  expiresAt: number = Infinity,
  arrivedAt?: number,
): Promise<PlainReply> {
  const { config } = target;
  // Hop timing starts when the request head reached the handler (`traceHops` only).
  arrivedAt ??= config.traceHops ? performance.now() : undefined;
  let body: Uint8Array;
  try {
    body = await head.body(config.maxBodyBytes, config.bodyTimeout);
  } catch (error) {
    throw error instanceof HttpProblem ? error : unreadableBody(target);
  }
  // The token was checked when the head arrived; a body sent slowly must not carry a publish
  // past the token's expiry.
  if (expiresAt !== Infinity && Date.now() >= expiresAt) throw tokenExpiredProblem();
  const data = parsePublishBody(body);
  const { id } = await target.publish(topic, data, arrivedAt);
  return { status: 200, headers: HEADERS, body: `{"id":${JSON.stringify(id)},"topic":"${topic}","data":${data}}` };
}

function tokenExpiredProblem(): HttpProblem {
  return new HttpProblem(
    401,
    "unauthorized",
    "Unauthorized",
    "The bearer token is not valid to publish: it expired while the body was being received",
    { "WWW-Authenticate": 'Bearer realm="ssepg", error="invalid_token"', Connection: "close" },
  );
}

/**
 * The answer when the body stream broke: the connection failed or the runtime cut it (`Deno.serve`
 * aborts bodies in flight at shutdown). Nobody may read it, but it is never a 500.
 */
function unreadableBody(target: HttpTarget): HttpProblem {
  if (target.draining) return drainingProblem();
  return new HttpProblem(400, "body-unreadable", "Bad request", "The body could not be read to its end", {
    Connection: "close",
  });
}
