/**
 * `GET /livez` and `GET /readyz`, for orchestrators: a liveness probe that stays 200 while the
 * process serves (so a database outage does not get every pod restarted), and a readiness
 * probe that is 503 while the instance cannot LISTEN or is draining (so the load balancer
 * sends new clients elsewhere). Both are constant-time, whatever the number of topics.
 *
 * @module
 */

import type { PlainReply } from "./reply.ts";
import type { HttpTarget } from "./target.ts";

const HEADERS = Object.freeze({ "Content-Type": "application/json", "Cache-Control": "no-store" });

/**
 * The reply of a probe.
 *
 * @param target The instance.
 * @param probe `livez` or `readyz`.
 * @returns 200 `{"status":"ok"}`, or for `readyz` 503 `{"status":"unavailable", …}` with the reason.
 *
 * @example
 * ```ts
 * import { createSsepg } from "../service/create.ts";
 * const svc = await createSsepg({ logger: { info() {}, warn() {}, error() {} } });
 * console.log((await svc.fetch(new Request("http://x/readyz"))).status); // 200
 * await svc.close();
 * ```
 */
export function probeReply(target: HttpTarget, probe: "livez" | "readyz"): PlainReply {
  if (probe === "livez") return { status: 200, headers: HEADERS, body: '{"status":"ok"}' };
  const { listening, draining } = target;
  const ready = listening && !draining;
  return {
    status: ready ? 200 : 503,
    headers: ready ? HEADERS : { ...HEADERS, "Retry-After": "1" },
    body: JSON.stringify({ status: ready ? "ok" : "unavailable", listen_connected: listening, draining }),
  };
}
