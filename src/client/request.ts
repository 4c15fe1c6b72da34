/**
 * What `subscribe` and `publish` share: the endpoint URL and the bearer token.
 *
 * @module
 */

/**
 * A token, or a function that returns a fresh one (called before every request, so that a
 * short-lived JWT can be renewed before each reconnection). `undefined` sends no
 * `Authorization` header (cookies or an open server).
 *
 * @example
 * ```ts
 * import type { TokenSource } from "./request.ts";
 * const fixed: TokenSource = "listen-token";
 * const fresh: TokenSource = async () => (await fetch("/session/ssepg-token")).text();
 * ```
 */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/**
 * Resolves a URL against the page's address in a browser, and as an absolute URL elsewhere.
 *
 * @param url An absolute URL, or a path in a browser.
 * @returns The URL.
 * @throws {TypeError} when `url` is not a URL.
 */
export function absoluteUrl(url: string | URL): URL {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, page);
  } catch {
    throw new TypeError(`Cannot use ${JSON.stringify(String(url))} as a URL: expected e.g. "http://127.0.0.1:8080"`);
  }
}

/**
 * The events URL of `topics` under `baseUrl`: `{baseUrl}{basePath}/{a},{b}/events`.
 *
 * @param baseUrl The server, e.g. `http://127.0.0.1:8080` (a path in it is kept).
 * @param topics One or more topics.
 * @param basePath The server's `basePath`.
 * @returns The URL.
 * @throws {TypeError} when there is no topic.
 */
export function eventsUrl(baseUrl: string | URL, topics: readonly string[], basePath = "/topics"): URL {
  if (topics.length === 0 || topics.some((t) => t === "")) {
    throw new TypeError(`Cannot use an empty topic: current value is ${JSON.stringify(topics)}`);
  }
  const url = absoluteUrl(baseUrl);
  const prefix = url.pathname.replace(/\/+$/, "") + "/" + basePath.replace(/^\/+|\/+$/g, "");
  url.pathname = `${prefix.replace(/\/+$/, "")}/${topics.map(encodeURIComponent).join(",")}/events`;
  url.search = "";
  url.hash = "";
  return url;
}

/**
 * The current token of `source`.
 *
 * @param source A token, a function giving one, or undefined.
 * @returns The token, or undefined for none.
 */
export async function tokenOf(source: TokenSource | undefined): Promise<string | undefined> {
  const token = typeof source === "function" ? await source() : source;
  return token === "" ? undefined : token;
}
