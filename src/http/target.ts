/**
 * What the HTTP layer needs from an ssepg instance. The instance implements it; the handlers
 * know nothing else about it.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { Logger } from "../log.ts";
import type { EventStream } from "../sse/event_stream.ts";
import type { HealthReport } from "./health.ts";
import type { JwtClaims } from "./jwt/verifier.ts";
import type { RequestHead } from "./request_head.ts";

/**
 * The instance behind the handlers.
 *
 * @example
 * ```ts
 * import type { HttpTarget } from "./target.ts";
 * const answers = (target: HttpTarget) => target.config.basePath;
 * ```
 */
export interface HttpTarget {
  /** The validated configuration. */
  readonly config: Config;
  /** True once shutdown began: new publishes and streams get 503. */
  readonly draining: boolean;
  /** Where unexpected errors are logged. */
  readonly logger: Logger;
  /** Whether streams can be gzip-encoded here. */
  readonly gzipAvailable: boolean;
  /**
   * Publishes compact JSON `data` to a valid topic; resolves once the database accepted it.
   * `arrivedAt` is the request's `performance.now()`, for hop timing (`traceHops`).
   *
   * @throws {HttpProblem} 413 for an envelope over `maxNotifyBytes`, 503 when the database refuses.
   */
  publish(topic: string, data: string, arrivedAt?: number): Promise<{ id: string }>;
  /** A subscriber's event stream for valid, distinct topics, not yet started. */
  openStream(topics: readonly string[], lastEventId: string | undefined, gzip: boolean): EventStream;
  /** The health report with at most `limit` topics. */
  health(limit?: number): HealthReport;
  /** The Prometheus exposition. */
  metrics(): string;
  /**
   * With `--workers`, every worker's exposition merged (each sample labelled with its worker);
   * `/metrics` answers this when it is there.
   */
  allMetrics?(): Promise<string>;
  /** Whether the LISTEN connection is up (always, for the in-process bus); cheap at any size. */
  readonly listening: boolean;
}

/**
 * The request as the `authorize` hook sees it: everything but the body.
 *
 * @example
 * ```ts
 * import type { AuthorizeRequest } from "./target.ts";
 * const userOf = (request: AuthorizeRequest) => request.headers.get("x-user-id");
 * ```
 */
export type AuthorizeRequest = Omit<RequestHead, "body">;

/**
 * A check after the tokens: return false to refuse with 403, or throw an `HttpProblem` for
 * another answer. Called for every publish and every stream, with the normalised topics, and
 * with the verified claims when a JWT allowed the request (undefined for a static token or
 * open access).
 *
 * @example
 * ```ts
 * import type { Authorize } from "./target.ts";
 * const onlyOwnTopics: Authorize = (request, topics) =>
 *   topics.every((t) => t.startsWith(`user-${request.headers.get("x-user-id")}-`));
 * const bySubject: Authorize = (_request, topics, _action, claims) =>
 *   claims === undefined || topics.every((t) => t.startsWith(`user-${claims.sub}-`));
 * ```
 */
export type Authorize = (
  request: AuthorizeRequest,
  topics: readonly string[],
  action: "publish" | "listen",
  claims?: JwtClaims | undefined,
) => boolean | Promise<boolean>;
