/**
 * Bearer-token checks for publishing and listening.
 *
 * @module
 */

import { HttpProblem } from "./problem.ts";
import { queryParam, type RequestHead } from "./request_head.ts";

/**
 * Compares two strings in time that depends only on the expected length, so response timing
 * does not reveal how much of a guessed token was right.
 *
 * @param given The token the client sent.
 * @param expected The configured token.
 * @returns True when equal.
 *
 * @example
 * ```ts
 * import { tokensEqual } from "./auth.ts";
 * tokensEqual("s3cret", "s3cret"); // true
 * ```
 */
export function tokensEqual(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ (given.charCodeAt(i % Math.max(1, given.length)) || 0);
  }
  return diff === 0;
}

/**
 * The token of a request: `Authorization: Bearer <token>` (scheme case-insensitive), else
 * `?access_token=` when allowed. An `Authorization` header of another scheme is not ssepg's and
 * is passed over.
 *
 * @param request The request.
 * @param allowQuery Whether `?access_token=` counts.
 * @returns The token, or undefined.
 *
 * @example
 * ```ts
 * import { requestToken } from "./auth.ts";
 * requestToken({ headers: new Headers({ authorization: "bearer abc" }), query: "" }, false); // "abc"
 * ```
 */
export function requestToken(request: Pick<RequestHead, "headers" | "query">, allowQuery: boolean): string | undefined {
  const header = request.headers.get("authorization");
  // Only a Bearer header speaks for ssepg: another scheme (Basic, sent by browsers to a site
  // behind basic auth on every request) is someone else's, so the other sources still count.
  // A malformed Bearer header is an answer, though: no fallback past a token the client meant.
  if (header && /^bearer(?:[ \t]|$)/i.test(header)) {
    const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return match ? match[1] : undefined;
  }
  if (allowQuery) {
    const token = queryParam(request, "access_token");
    if (token) return token;
  }
  return undefined;
}

/**
 * Throws 401 unless the request carries `expected` (or no token is configured).
 *
 * @param request The request.
 * @param expected The configured token; undefined leaves the action open.
 * @param allowQuery Whether `?access_token=` counts.
 * @param action `publish` or `listen`, for the error detail.
 * @throws {HttpProblem} 401 with `WWW-Authenticate: Bearer`.
 *
 * @example
 * ```ts
 * import { requireToken } from "./auth.ts";
 * requireToken({ headers: new Headers(), query: "" }, undefined, false, "listen"); // open: no throw
 * ```
 */
export function requireToken(
  request: Pick<RequestHead, "headers" | "query">,
  expected: string | undefined,
  allowQuery: boolean,
  action: "publish" | "listen",
): void {
  if (expected === undefined) return;
  const given = requestToken(request, allowQuery);
  if (given !== undefined && tokensEqual(given, expected)) return;
  const challenge = given === undefined ? 'Bearer realm="ssepg"' : 'Bearer realm="ssepg", error="invalid_token"';
  throw new HttpProblem(
    401,
    "unauthorized",
    "Unauthorized",
    given === undefined ? `A bearer token is required to ${action}` : `The bearer token is not valid to ${action}`,
    { "WWW-Authenticate": challenge },
  );
}
