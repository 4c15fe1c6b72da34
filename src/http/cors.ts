/**
 * CORS for browsers on other origins (`corsOrigins`): preflights and actual responses.
 * With `corsOrigins` unset no CORS header is ever sent.
 *
 * @module
 */

import type { RequestHead } from "./request_head.ts";

/** Methods the topic routes accept. */
export const ALLOWED_METHODS = "GET, POST, OPTIONS";
/** Request headers a browser may send: tokens, JSON bodies and EventSource's resume header. */
export const ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID";
/** Response headers a browser script may read besides the safelisted ones. */
export const EXPOSED_HEADERS = "Retry-After, WWW-Authenticate";

/**
 * The CORS headers for a response to `request`, or none.
 *
 * An allowed origin is echoed (or `*` when every origin is allowed); a preflight
 * (`OPTIONS` with `Access-Control-Request-Method`) also gets the allowed methods and headers.
 * Responses that echo an origin vary by it. With `credentials`, an echoed origin also gets
 * `Access-Control-Allow-Credentials: true` (cookies, `EventSource` with `withCredentials`);
 * `*` never does, as browsers refuse credentials with a wildcard.
 *
 * @param request The request (its `Origin` and preflight headers).
 * @param origins `corsOrigins`: `["*"]`, a list of lower-case origins, or undefined.
 * @param credentials Whether listed origins may send cookies (`jwtCookie` is set).
 * @returns Headers to add; empty when CORS is off or the origin is not allowed.
 *
 * @example
 * ```ts
 * import { corsHeaders } from "./cors.ts";
 * const request = { method: "GET", headers: new Headers({ origin: "https://app.example" }) };
 * corsHeaders(request, ["https://app.example"]);
 * // { "Access-Control-Allow-Origin": "https://app.example", "Access-Control-Expose-Headers": "…", Vary: "Origin" }
 * ```
 */
export function corsHeaders(
  request: Pick<RequestHead, "method" | "headers">,
  origins: readonly string[] | undefined,
  credentials = false,
): Record<string, string> {
  if (!origins) return {};
  const origin = request.headers.get("origin");
  if (!origin) return {};
  const any = origins.includes("*");
  if (!any && !origins.includes(origin.toLowerCase())) return { Vary: "Origin" };
  const headers: Record<string, string> = {
    "Access-Control-Allow-Origin": any ? "*" : origin,
    "Access-Control-Expose-Headers": EXPOSED_HEADERS,
  };
  if (!any) {
    headers.Vary = "Origin";
    if (credentials) headers["Access-Control-Allow-Credentials"] = "true";
  }
  if (request.method === "OPTIONS" && request.headers.get("access-control-request-method") !== null) {
    headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS;
    headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS;
    headers["Access-Control-Max-Age"] = "600";
  }
  return headers;
}
