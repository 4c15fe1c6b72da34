/**
 * The errors of `ssepg/client`: the server answered with a problem, or could not be reached.
 *
 * @module
 */

/**
 * An RFC 9457 problem, as ssepg answers errors (`application/problem+json`).
 *
 * @example
 * ```ts
 * import type { Problem } from "./errors.ts";
 * const problem: Problem = { type: "urn:ssepg:problem:invalid-topic", title: "Invalid topic", status: 400 };
 * ```
 */
export interface Problem {
  /** `urn:ssepg:problem:<kind>`. */
  readonly type?: string;
  /** A short summary, e.g. `Unauthorized`. */
  readonly title?: string;
  /** The HTTP status. */
  readonly status?: number;
  /** What is wrong, in a sentence. */
  readonly detail?: string;
  /** Any other member the server sent. */
  readonly [member: string]: unknown;
}

/**
 * The server refused a request: its status and, when it sent one, its problem+json body.
 *
 * @example
 * ```ts
 * import { ProblemError } from "./errors.ts";
 * const error = new ProblemError("http://127.0.0.1:8080/topics/a/events", 401, {
 *   title: "Unauthorized",
 *   detail: "A bearer token is required to publish",
 * });
 * error.message; // "401 Unauthorized: A bearer token is required to publish"
 * ```
 */
export class ProblemError extends Error {
  /** The URL that was requested. */
  readonly url: string;
  /** The HTTP status. */
  readonly status: number;
  /** The problem body, or `undefined` when the answer was not problem+json. */
  readonly problem: Problem | undefined;
  /** The `Retry-After` delay in milliseconds, when the server sent one. */
  readonly retryAfter: number | undefined;

  /**
   * Makes the error of a refused request.
   *
   * @param url The URL that was requested.
   * @param status The HTTP status.
   * @param problem The problem body, if any.
   * @param options `text`: the body when it was not a problem; `retryAfter` in ms.
   */
  constructor(
    url: string,
    status: number,
    problem: Problem | undefined,
    options: { text?: string; retryAfter?: number | undefined } = {},
  ) {
    super(
      problem
        ? `${status} ${problem.title ?? "Error"}: ${problem.detail ?? ""}`.trimEnd()
        : `${status} ${(options.text ?? "").slice(0, 200)}`.trimEnd(),
    );
    this.name = "ProblemError";
    this.url = url;
    this.status = status;
    this.problem = problem;
    this.retryAfter = options.retryAfter;
  }
}

/**
 * The server could not be reached: refused, unknown host, reset, TLS failure. `reason` says which
 * in a few words, as far as the runtime tells (a browser only says that the fetch failed).
 *
 * @example
 * ```ts
 * import { ConnectionError } from "./errors.ts";
 * const error = new ConnectionError("http://127.0.0.1:8080", "connection refused");
 * error.message; // "Cannot reach http://127.0.0.1:8080: connection refused"
 * ```
 */
export class ConnectionError extends Error {
  /** The URL that could not be reached. */
  readonly url: string;
  /** Why, e.g. `connection refused`, `host not found`. */
  readonly reason: string;

  /**
   * Makes the error of a request that never got an answer.
   *
   * @param url The URL that could not be reached.
   * @param reason Why, in a few words.
   * @param options `cause`: the runtime's own error.
   */
  constructor(url: string, reason: string, options: { cause?: unknown } = {}) {
    super(`Cannot reach ${url}: ${reason}`, { cause: options.cause });
    this.name = "ConnectionError";
    this.url = url;
    this.reason = reason;
  }
}

const CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  ECONNRESET: "connection reset",
  ConnectionClosed: "connection reset",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_SOCKET: "connection reset",
};

const MESSAGES: [RegExp, string][] = [
  [/connection refused/i, "connection refused"],
  [/dns error|failed to lookup|name or service not known|getaddrinfo/i, "host not found"],
  [/connection reset|reset by peer/i, "connection reset"],
  [/timed? ?out/i, "connection timed out"],
  [/certificate|tls|ssl/i, "TLS error"],
];

/**
 * Says in a few words why a `fetch` failed, from the error each runtime throws: Node's undici
 * puts an errno `code` on `cause` (`TypeError: fetch failed`), Bun puts its own `code` on the
 * error (`ConnectionRefused`), Deno only says it in the message (`tcp connect error: Connection
 * refused (os error 111)`), browsers say nothing (`Failed to fetch`).
 *
 * @param error What `fetch` threw.
 * @returns E.g. `connection refused`, or the runtime's message.
 */
export function networkReason(error: unknown): string {
  let messages = "";
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CODES[code]) return CODES[code];
    if (typeof code === "string" && code.startsWith("CERT_")) return `TLS error (${code})`;
    messages += ` ${(e as Error).message ?? String(e)}`;
  }
  for (const [pattern, reason] of MESSAGES) if (pattern.test(messages)) return reason;
  return (error as Error)?.message ?? String(error);
}

/**
 * Reads a refused answer into a {@link ProblemError}.
 *
 * @param url The URL that was requested.
 * @param response The answer, 4xx or 5xx.
 * @returns The error, with the problem body when there is one.
 */
export async function problemOf(url: string, response: Response): Promise<ProblemError> {
  const text = await response.text().catch(() => "");
  const seconds = Number(response.headers.get("retry-after"));
  const retryAfter = response.headers.has("retry-after") && Number.isFinite(seconds) && seconds >= 0
    ? seconds * 1000
    : undefined;
  let problem: Problem | undefined;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) problem = parsed;
  } catch { /* not JSON: keep the text */ }
  return new ProblemError(url, response.status, problem, { text, retryAfter });
}
