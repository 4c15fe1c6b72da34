/**
 * Errors as `application/problem+json` (RFC 9457).
 *
 * @module
 */

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
 * A response as status, headers and text.
 *
 * @example
 * ```ts
 * import type { PlainResponse } from "./problem.ts";
 * const ok: PlainResponse = { status: 200, headers: { "Content-Type": "application/json" }, body: "{}" };
 * ```
 */
export interface PlainResponse {
  /** HTTP status. */
  readonly status: number;
  /** Response headers. */
  readonly headers: Record<string, string>;
  /** The body text. */
  readonly body: string;
}

/**
 * An HTTP error that knows its response, thrown anywhere below a route handler.
 *
 * @example
 * ```ts
 * import { HttpProblem } from "./problem.ts";
 * const problem = new HttpProblem(400, "invalid-topic", "Invalid topic", "Topic ids must match …");
 * const response = problem.toResponse();
 * response.status; // 400
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
   * The problem as a response.
   *
   * @param extraHeaders Headers added to the problem's own (e.g. CORS).
   * @returns The `application/problem+json` response.
   */
  toResponse(extraHeaders: Record<string, string> = {}): Response {
    const { status, headers, body } = this.toPlain();
    return new Response(body, { status, headers: { ...headers, ...extraHeaders } });
  }

  /**
   * The problem as status, headers and text, for adapters that write responses themselves.
   *
   * @returns The `application/problem+json` answer.
   */
  toPlain(): PlainResponse {
    return {
      status: this.status,
      headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store", ...this.headers },
      body: JSON.stringify(this.toJSON()),
    };
  }
}

/**
 * The 503 answer while the instance shuts down (SPEC §6): clients retry after a second,
 * elsewhere.
 *
 * @returns The problem to throw.
 *
 * @example
 * ```ts
 * import { drainingProblem } from "./problem.ts";
 * drainingProblem().headers["Retry-After"]; // "1"
 * ```
 */
export function drainingProblem(): HttpProblem {
  return new HttpProblem(503, "draining", "Service unavailable", "The server is shutting down", { "Retry-After": "1" });
}

const INTERNAL = () =>
  new HttpProblem(500, "internal", "Internal server error", "The server failed to handle the request");

/**
 * The answer for any error thrown while handling a request, as status, headers and text: its
 * own problem, or a 500 that leaks nothing.
 *
 * @param error What was thrown.
 * @returns The problem answer.
 *
 * @example
 * ```ts
 * import { problemOf } from "./problem.ts";
 * problemOf(new Error("boom")).status; // 500
 * ```
 */
export function problemOf(error: unknown): PlainResponse {
  return (error instanceof HttpProblem ? error : INTERNAL()).toPlain();
}

/**
 * The response for any error thrown by a handler: its own problem, or a 500 that leaks nothing.
 *
 * @param error What was thrown.
 * @returns A problem response.
 *
 * @example
 * ```ts
 * import { problemResponse } from "./problem.ts";
 * problemResponse(new Error("boom")).status; // 500
 * ```
 */
export function problemResponse(error: unknown): Response {
  return (error instanceof HttpProblem ? error : INTERNAL()).toResponse();
}
