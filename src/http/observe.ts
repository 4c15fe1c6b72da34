/**
 * `GET {healthz}` and `GET /metrics`: the instance's health report and its Prometheus text.
 *
 * @module
 */

import { HttpProblem } from "./problem.ts";
import type { PlainReply } from "./reply.ts";
import { queryParam, type RequestHead } from "./request_head.ts";
import type { HttpTarget } from "./target.ts";

/**
 * Topics listed by the health route without `?limit=`: the busiest ones. An instance may hold
 * 100 000 topics, and a report of all of them (megabytes of JSON, a stats object each) on
 * every probe would stall the event loop.
 *
 * @example
 * ```ts
 * import { DEFAULT_HEALTH_TOPICS } from "./observe.ts";
 * DEFAULT_HEALTH_TOPICS; // 100
 * ```
 */
export const DEFAULT_HEALTH_TOPICS = 100;

/**
 * The most topics `?limit=` can ask for; larger values are lowered to it.
 *
 * @example
 * ```ts
 * import { MAX_HEALTH_TOPICS } from "./observe.ts";
 * MAX_HEALTH_TOPICS; // 10000
 * ```
 */
export const MAX_HEALTH_TOPICS = 10_000;

/**
 * The health reply: 200 when `ok`, 503 when `degraded`; `topics[]` lists the
 * {@link DEFAULT_HEALTH_TOPICS} busiest topics, or `?limit=N` of them (at most
 * {@link MAX_HEALTH_TOPICS}), or none when the request may not see topic names.
 *
 * @param target The instance.
 * @param head The request (for `?limit=`).
 * @param showTopics False to leave `topics[]` empty (the totals stay).
 * @returns The JSON reply.
 * @throws {HttpProblem} 400 for a limit that is not a whole number.
 *
 * @example
 * ```ts
 * import { createSsepg } from "../service/create.ts";
 * const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
 * const response = await svc.fetch(new Request("http://x/healthz?limit=10"));
 * console.log(response.status); // 200
 * await svc.close();
 * ```
 */
export function healthReply(target: HttpTarget, head: RequestHead, showTopics = true): PlainReply {
  const limitText = queryParam(head, "limit");
  let limit = DEFAULT_HEALTH_TOPICS;
  if (limitText !== null) {
    if (!/^\d{1,9}$/.test(limitText)) {
      throw new HttpProblem(
        400,
        "invalid-limit",
        "Invalid limit",
        `limit must be a whole number: current value is ${JSON.stringify(limitText.slice(0, 40))}`,
      );
    }
    limit = Math.min(Number(limitText), MAX_HEALTH_TOPICS);
  }
  const report = target.health(showTopics ? limit : 0);
  return {
    status: report.status === "ok" ? 200 : 503,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
    body: JSON.stringify(report),
  };
}

/**
 * The metrics reply in Prometheus text format.
 *
 * @param target The instance.
 * @returns `text/plain; version=0.0.4`: this instance's figures, or with `--workers` every worker's.
 *
 * @example
 * ```ts
 * import { createSsepg } from "../service/create.ts";
 * const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
 * const response = await svc.fetch(new Request("http://x/metrics"));
 * console.log((await response.text()).includes("ssepg_")); // true
 * await svc.close();
 * ```
 */
export async function metricsReply(target: HttpTarget): Promise<PlainReply> {
  return {
    status: 200,
    headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" },
    body: target.allMetrics ? await target.allMetrics() : target.metrics(),
  };
}
