/**
 * Errors as `application/problem+json` (RFC 9457).
 *
 * @module
 */

import type { PlainReply } from "./reply.ts";

/**
 * The body of a problem response.
 *
 * @example
 * ```ts
 * import { HttpProblem } from "./problem.ts";
 * const body = new HttpProblem(400, "invalid-topic", "Invalid topic", "…").toJSON();
 * body.type; // "urn:ssepg:problem:invalid-topic"
 * ```
 */
export interface ProblemBody {
  /** A URI naming the kind of problem, `urn:ssepg:problem:<slug>`. */
  readonly type: string;
  /** Short summary of the kind of problem. */
  readonly title: string;
  /** HTTP status. */
  readonly status: number;
  /** What went wrong in this request. */
  readonly detail: string;
}

/**
 * An HTTP error that knows its reply, thrown anywhere below a handler.
 *
 * @example
 * ```ts
 * import { HttpProblem } from "./problem.ts";
 * const problem = new HttpProblem(400, "invalid-topic", "Invalid topic", "Topic ids must match …");
 * problem.toReply().status; // 400
 * ```
 */
export class HttpProblem extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Kind of problem, the end of its `type` URI. */
  readonly slug: string;
  /** Short summary of the kind of problem. */
  readonly title: string;
  /** Extra response headers. */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * Creates the problem.
   *
   * @param status HTTP status.
   * @param slug Kind of problem, the end of its `type` URI.
   * @param title Short summary.
   * @param detail What went wrong (the error message).
   * @param headers Extra response headers (`Retry-After`, `WWW-Authenticate`, `Allow`).
   */
  constructor(status: number, slug: string, title: string, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.name = "HttpProblem";
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.headers = headers;
  }

  /**
   * The problem body.
   *
   * @returns `{ type, title, status, detail }`.
   */
  toJSON(): ProblemBody {
    return { type: `urn:ssepg:problem:${this.slug}`, title: this.title, status: this.status, detail: this.message };
  }

  /**
   * The problem as a reply.
   *
   * @returns The `application/problem+json` reply.
   */
  toReply(): PlainReply {
    return {
      status: this.status,
      headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store", ...this.headers },
      body: JSON.stringify(this.toJSON()),
    };
  }
}

/**
 * The 503 answer while the server shuts down.
 *
 * @returns The problem to throw.
 *
 * @example
 * ```ts
 * import { drainingProblem } from "./problem.ts";
 * drainingProblem().status; // 503
 * ```
 */
export function drainingProblem(): HttpProblem {
  return new HttpProblem(503, "draining", "Service unavailable", "The server is shutting down", { "Retry-After": "1" });
}

/**
 * The 500 problem for an error that is not an {@link HttpProblem}: a bug, whose details stay
 * in the log.
 *
 * @returns The problem.
 *
 * @example
 * ```ts
 * import { internalProblem } from "./problem.ts";
 * internalProblem().status; // 500
 * ```
 */
export function internalProblem(): HttpProblem {
  return new HttpProblem(500, "internal", "Internal server error", "The server failed to handle the request");
}
