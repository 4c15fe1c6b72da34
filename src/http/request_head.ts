/**
 * The parts of a request that ssepg's checks read (method, URL, headers), so that tokens, CORS
 * and the publish route work on a Web `Request` and on a runtime's own request object alike.
 *
 * @module
 */

/**
 * The parts of a request the checks read; a Web `Request` has them.
 *
 * @example
 * ```ts
 * import type { RequestHead } from "./request_head.ts";
 * const head: RequestHead = new Request("http://x/topics/a/events", { method: "POST" });
 * ```
 */
export interface RequestHead {
  /** The method, upper case. */
  readonly method: string;
  /** The absolute URL. */
  readonly url: string;
  /** Header lookup by lower-case name. */
  readonly headers: { get(name: string): string | null; has(name: string): boolean };
}
