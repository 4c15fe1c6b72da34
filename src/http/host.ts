/**
 * The `Host` header's grammar (RFC 9110 §7.2: `uri-host [ ":" port ]`). Routing never reads
 * the header, but adapters on `fetch` platforms only get a URL that the runtime built from it,
 * so a request whose `Host` is outside the grammar is refused (400) on every adapter alike.
 *
 * @module
 */

import { HttpProblem } from "./problem.ts";

/**
 * An IP literal in brackets, or a reg-name (unreserved, percent-encoded and sub-delims). Empty
 * is refused: an `http` URI always has an authority, so its `Host` is never empty.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::(\d{1,5}))?$/;

/**
 * Whether `value` is a well-formed `Host` header value.
 *
 * @param value The header value.
 * @returns False for an empty value and for anything a URL would read differently: `/`, `\`,
 *   `@`, `#`, `?`, whitespace, non-ASCII characters, or a port over 65535.
 *
 * @example
 * ```ts
 * import { isValidHost } from "./host.ts";
 * isValidHost("api.example.com:8080"); // true
 * isValidHost("x/metrics#"); // false
 * ```
 */
export function isValidHost(value: string): boolean {
  const match = HOST.exec(value);
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65535);
}

/**
 * The 400 problem for a malformed `Host`, or undefined when the header is absent or fine.
 *
 * @param host The `Host` header value, or null.
 * @returns The problem to answer with.
 *
 * @example
 * ```ts
 * import { hostProblem } from "./host.ts";
 * hostProblem("x\\healthz?")?.status; // 400
 * hostProblem(null); // undefined
 * ```
 */
export function hostProblem(host: string | null): HttpProblem | undefined {
  if (host === null || isValidHost(host)) return undefined;
  const shown = host.length > 100 ? `${host.slice(0, 100)}…` : host;
  return new HttpProblem(
    400,
    "invalid-host",
    "Bad request",
    `The Host header must be a host name or address with an optional port: current value is ${JSON.stringify(shown)}`,
    { Connection: "close" },
  );
}
