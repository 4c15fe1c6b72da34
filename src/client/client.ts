/**
 * A small ssepg client on `fetch`: publish one event, or follow a stream and reconnect with
 * `Last-Event-ID`. The CLI's `publish` and `subscribe` commands use it.
 *
 * @module
 */

import { type ParsedEvent, SseParser } from "./parse.ts";

/** Where the server is and how to authenticate. */
export interface ClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The server's `basePath`. @default "/topics" */
  readonly basePath?: string;
  /** Bearer token. */
  readonly token?: string;
}

/**
 * An HTTP error answered by the server (the problem's `detail` as message).
 *
 * @example
 * ```ts
 * import { ClientError } from "./client.ts";
 * new ClientError(401, "A bearer token is required to publish").status; // 401
 * ```
 */
export class ClientError extends Error {
  /** HTTP status. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ClientError";
    this.status = status;
  }
}

function endpoint(options: ClientOptions, topics: string): string {
  return `${options.url.replace(/\/+$/, "")}${options.basePath ?? "/topics"}/${topics}/events`;
}

function headers(options: ClientOptions, extra: Record<string, string> = {}): Record<string, string> {
  return options.token ? { authorization: `Bearer ${options.token}`, ...extra } : extra;
}

async function errorOf(response: Response): Promise<ClientError> {
  const text = await response.text();
  try {
    const problem = JSON.parse(text);
    return new ClientError(response.status, `${response.status} ${problem.title}: ${problem.detail}`);
  } catch {
    return new ClientError(response.status, `${response.status} ${text.slice(0, 200)}`);
  }
}

/**
 * Publishes `data` to `topic`.
 *
 * @param options Server and token.
 * @param topic The topic.
 * @param data Any JSON value but null.
 * @returns The server's answer: `{ id, topic, data }`.
 * @throws {ClientError} when the server refuses the event.
 *
 * @example
 * ```ts
 * import { publishEvent } from "./client.ts";
 * await publishEvent({ url: "http://127.0.0.1:8080" }, "alpha", { msg: "hi" });
 * ```
 */
export async function publishEvent(
  options: ClientOptions,
  topic: string,
  data: unknown,
): Promise<{ id: string; topic: string; data: unknown }> {
  const response = await fetch(endpoint(options, encodeURIComponent(topic)), {
    method: "POST",
    headers: headers(options, { "content-type": "application/json" }),
    body: JSON.stringify({ data }),
  });
  if (!response.ok) throw await errorOf(response);
  return await response.json();
}

/** Options of {@link followStream}. */
export interface FollowOptions extends ClientOptions {
  /** Resume after this id. */
  readonly lastEventId?: string;
  /** Stops following. */
  readonly signal?: AbortSignal;
  /** Reports reconnections. */
  readonly onReconnect?: (delayMs: number, reason: string) => void;
}

/**
 * Follows the stream of `topics`, calling `onEvent` per event, and reconnects after the
 * server's `retry:` delay with `Last-Event-ID` whenever the stream ends or the network fails.
 * Resolves when `signal` aborts.
 *
 * @param options Server, token, resume point and abort signal.
 * @param topics One or more topics.
 * @param onEvent Called for every event (`gap` events included).
 * @throws {ClientError} for a 4xx answer (bad topic, wrong token): retrying cannot help.
 *
 * @example
 * ```ts
 * import { followStream } from "./client.ts";
 * const stop = new AbortController();
 * await followStream({ url: "http://127.0.0.1:8080", signal: stop.signal }, ["alpha"], (e) => console.log(e.data));
 * ```
 */
export async function followStream(
  options: FollowOptions,
  topics: readonly string[],
  onEvent: (event: ParsedEvent) => void,
): Promise<void> {
  let lastEventId = options.lastEventId;
  let retry = 5_000;
  const url = endpoint(options, topics.map(encodeURIComponent).join(","));
  while (!options.signal?.aborted) {
    let reason = "the stream ended";
    try {
      const response = await fetch(url, {
        headers: headers(options, lastEventId ? { "last-event-id": lastEventId } : {}),
        signal: options.signal,
      });
      if (response.status >= 400 && response.status < 500) throw await errorOf(response);
      if (!response.ok || !response.body) {
        reason = `the server answered ${response.status}`;
        await response.body?.cancel();
      } else {
        const parser = new SseParser({
          onEvent(event) {
            if (event.id !== undefined) lastEventId = event.id;
            onEvent(event);
          },
          onRetry: (ms) => retry = ms,
        });
        const decoder = new TextDecoder();
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.push(decoder.decode(value, { stream: true }));
        }
      }
    } catch (error) {
      if (error instanceof ClientError) throw error;
      if (options.signal?.aborted) return;
      reason = (error as Error).message;
    }
    if (options.signal?.aborted) return;
    options.onReconnect?.(retry, reason);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, retry);
      options.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}
