/**
 * The one request shape every adapter produces and every handler reads: the method, the path
 * and query of the request target, header lookup, and a body read only when a handler asks.
 *
 * Adapters build it from their runtime's own request (`node:http`'s `IncomingMessage`, a Web
 * `Request` from `Deno.serve`, `Bun.serve` or any `fetch` platform). The path comes from the
 * request target alone, never from the `Host` header, so a hostile `Host` cannot steer a
 * request to another route.
 *
 * @module
 */

/**
 * Reads the request body, refusing more than `limit` bytes (413) or a body slower than
 * `timeout` ms (408), both as `HttpProblem`s with `Connection: close`.
 *
 * @example
 * ```ts
 * import type { BodyReader } from "./request_head.ts";
 * const empty: BodyReader = () => Promise.resolve(new Uint8Array(0));
 * ```
 */
export type BodyReader = (limit: number, timeout: number) => Promise<Uint8Array>;

/**
 * Header lookup by lower-case name; several values of one header come joined by `, `. A Web
 * `Headers` object has this shape.
 *
 * @example
 * ```ts
 * import type { HeaderLookup } from "./request_head.ts";
 * const headers: HeaderLookup = new Headers({ authorization: "Bearer t" });
 * headers.get("authorization"); // "Bearer t"
 * ```
 */
export interface HeaderLookup {
  /** The header's value, or null when absent. */
  get(name: string): string | null;
}

/**
 * A request as the handlers see it.
 *
 * @example
 * ```ts
 * import type { RequestHead } from "./request_head.ts";
 * const head: RequestHead = {
 *   method: "GET",
 *   path: "/topics/alpha/events",
 *   query: "lastEventId=e1",
 *   headers: new Headers({ accept: "text/event-stream" }),
 *   body: () => Promise.resolve(new Uint8Array(0)),
 * };
 * ```
 */
export interface RequestHead {
  /** The method, upper case as sent. */
  readonly method: string;
  /** The path of the request target, still percent-encoded, without the query. */
  readonly path: string;
  /** The query of the request target without `?`; empty when there is none. */
  readonly query: string;
  /** Header lookup. */
  readonly headers: HeaderLookup;
  /** Reads the body within the given size and time; call at most once. */
  readonly body: BodyReader;
}

/**
 * Splits a request target into path and query. An absolute-form target
 * (`http://host/path?query`, as sent to proxies) is routed by its path; an authority-form or
 * asterisk-form target gets its text as the path, which no route matches.
 *
 * @param target The request target as sent (`req.url` on `node:http`).
 * @returns The path (at least `/` for absolute-form) and the query without `?`; a fragment,
 *   which clients do not send, is cut off.
 *
 * @example
 * ```ts
 * import { splitTarget } from "./request_head.ts";
 * splitTarget("/topics/a/events?lastEventId=e1"); // { path: "/topics/a/events", query: "lastEventId=e1" }
 * splitTarget("http://other.example/healthz"); // { path: "/healthz", query: "" }
 * ```
 */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  if (target.charCodeAt(0) !== 47 /* "/" */) {
    const authority = ABSOLUTE_FORM.exec(target);
    if (authority) {
      rest = target.slice(authority[0].length);
      if (rest.charCodeAt(0) !== 47) rest = `/${rest}`;
    }
  }
  const hash = rest.indexOf("#");
  if (hash !== -1) rest = rest.slice(0, hash);
  const mark = rest.indexOf("?");
  return mark === -1 ? { path: rest, query: "" } : { path: rest.slice(0, mark), query: rest.slice(mark + 1) };
}

/** Scheme and authority of an absolute-form target. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * One parameter of the query, decoded (`+` as space), or null.
 *
 * @param head The request.
 * @param name The parameter name.
 * @returns The first value, or null when absent or not decodable.
 *
 * @example
 * ```ts
 * import { queryParam } from "./request_head.ts";
 * const head = { method: "GET", path: "/", query: "limit=5&x=1", headers: new Headers(), body: () => Promise.resolve(new Uint8Array(0)) };
 * queryParam(head, "limit"); // "5"
 * ```
 */
export function queryParam(head: Pick<RequestHead, "query">, name: string): string | null {
  if (head.query === "") return null;
  return new URLSearchParams(head.query).get(name);
}
