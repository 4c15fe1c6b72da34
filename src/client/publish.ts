/**
 * `publish()`: one event, one POST.
 *
 * @module
 */

import { ConnectionError, networkReason, problemOf } from "./errors.ts";
import { eventsUrl, tokenOf, type TokenSource } from "./request.ts";

/**
 * Options of {@link publish}.
 *
 * @example
 * ```ts
 * import type { PublishOptions } from "./publish.ts";
 * const options: PublishOptions = { token: "publish-token", signal: AbortSignal.timeout(5_000) };
 * ```
 */
export interface PublishOptions {
  /** The publish token or a JWT allowed to publish, or a function giving one. */
  readonly token?: TokenSource;
  /** The server's `basePath`. @default "/topics" */
  readonly basePath?: string;
  /** More request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Cancels the request. */
  readonly signal?: AbortSignal;
  /** The `fetch` to use (a proxy agent, a test double). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * The server's answer to a publish.
 *
 * @example
 * ```ts
 * import type { Published } from "./publish.ts";
 * const answer: Published<{ n: number }> = { id: "mwybh72n-2hrhgk-0", topic: "alpha", data: { n: 1 } };
 * ```
 */
export interface Published<T> {
  /** The event's id: the same on every instance, and a `Last-Event-ID` to resume after it. */
  readonly id: string;
  /** The normalised (lower-cased) topic. */
  readonly topic: string;
  /** The data as the server will deliver it. */
  readonly data: T;
}

/**
 * Publishes `data` to `topic` (`POST {baseUrl}{basePath}/{topic}/events`) and resolves once the
 * server accepted it (PostgreSQL committed its NOTIFY).
 *
 * @param baseUrl The server, e.g. `http://127.0.0.1:8080`.
 * @param topic The topic.
 * @param data Any JSON value but `null`.
 * @param options Token, base path, headers, signal.
 * @returns `{ id, topic, data }`.
 * @throws {ProblemError} when the server refuses the event (`status` and the problem+json body:
 * 400 bad topic or data, 401/403 token, 413 too large, 503 unavailable with `retryAfter`).
 * @throws {ConnectionError} when the server cannot be reached (`reason`: connection refused,
 * host not found, …).
 *
 * @example
 * ```ts
 * import { publish } from "./publish.ts";
 * const { id } = await publish("http://127.0.0.1:8080", "orders", { n: 1 }, { token: "publish-token" });
 * ```
 */
export async function publish<T>(
  baseUrl: string | URL,
  topic: string,
  data: T,
  options: PublishOptions = {},
): Promise<Published<T>> {
  const url = eventsUrl(baseUrl, [topic], options.basePath);
  const token = await tokenOf(options.token);
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ data }),
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ConnectionError(url.origin, networkReason(error), { cause: error });
  }
  if (!response.ok) throw await problemOf(url.href, response);
  return await response.json() as Published<T>;
}
