/**
 * `subscribe()`: an SSE stream over `fetch` that reconnects with `Last-Event-ID`.
 *
 * @module
 */

import { createParser, type EventSourceMessage } from "eventsource-parser";
import { errorDelay } from "./backoff.ts";
import { ConnectionError, networkReason, ProblemError, problemOf } from "./errors.ts";
import { absoluteUrl, eventsUrl, tokenOf, type TokenSource } from "./request.ts";

/**
 * The server and the topics of a stream, for {@link subscribe}.
 *
 * @example
 * ```ts
 * import type { StreamTarget } from "./subscribe.ts";
 * const target: StreamTarget = { baseUrl: "https://sse.example.com", topics: ["orders", "alerts"] };
 * ```
 */
export interface StreamTarget {
  /** The server, e.g. `http://127.0.0.1:8080` (a path in it is kept; a path alone in a browser). */
  readonly baseUrl: string | URL;
  /** One topic, or up to 32 (one stream; each event then names its topic). */
  readonly topics: string | readonly string[];
  /** The server's `basePath`. @default "/topics" */
  readonly basePath?: string;
}

/**
 * One event of a stream.
 *
 * @example
 * ```ts
 * import type { StreamEvent } from "./subscribe.ts";
 * const render = (e: StreamEvent<{ total: number }>) => console.log(e.topic, e.id, e.data.total);
 * ```
 */
export interface StreamEvent<T> {
  /** The event id (the `Last-Event-ID` to resume after it); undefined from a Go publisher. */
  readonly id: string | undefined;
  /** The topic it was published to (lower-cased). */
  readonly topic: string;
  /** The SSE event name: `message` on a one-topic stream, the topic on a multi-topic one. */
  readonly event: string;
  /** The data, parsed by `parse` (JSON by default). */
  readonly data: T;
}

/**
 * The server's `event: gap`: events after `lastEventId` may be missing, so resync.
 *
 * @example
 * ```ts
 * import type { GapNotice } from "./subscribe.ts";
 * const onGap = (gap: GapNotice) => console.log(`missed events after ${gap.lastEventId}: reload`);
 * ```
 */
export interface GapNotice {
  /** The last id the server knew this client had (`null` when it had none). */
  readonly lastEventId: string | null;
}

/**
 * What {@link SubscribeOptions.onOpen} is told.
 *
 * @example
 * ```ts
 * import type { OpenInfo } from "./subscribe.ts";
 * const onOpen = (info: OpenInfo) => console.log(info.reconnects ? `resumed after ${info.lastEventId}` : "open");
 * ```
 */
export interface OpenInfo {
  /** The stream URL. */
  readonly url: string;
  /** The `Last-Event-ID` sent, if any. */
  readonly lastEventId: string | undefined;
  /** How many times this subscription connected before (0 for the first). */
  readonly reconnects: number;
}

/**
 * What {@link SubscribeOptions.onReconnect} is told before the client waits to reconnect.
 *
 * @example
 * ```ts
 * import type { ReconnectInfo } from "./subscribe.ts";
 * const onReconnect = (r: ReconnectInfo) => console.warn(`${r.reason}; reconnecting in ${r.delay} ms`);
 * ```
 */
export interface ReconnectInfo {
  /** Milliseconds until the next attempt. */
  readonly delay: number;
  /** Why: `the stream ended`, `server shutting down`, `token expired`, or the error's message. */
  readonly reason: string;
  /** Failed attempts in a row (0 after a stream that was open). */
  readonly failures: number;
}

/**
 * Handlers and options of {@link subscribe}. Every option has a default; every handler is optional.
 *
 * @example
 * ```ts
 * import type { SubscribeOptions } from "./subscribe.ts";
 * const options: SubscribeOptions<{ msg: string }> = {
 *   credentials: "include",
 *   onEvent: (e) => console.log(e.data.msg),
 *   onError: (error, { fatal }) => fatal && console.error(error.message),
 * };
 * ```
 */
export interface SubscribeOptions<T> {
  /** Every event of every topic. */
  readonly onEvent?: (event: StreamEvent<T>) => void;
  /** Handlers per topic (`{ orders: (e) => …, alerts: (e) => … }`), called after `onEvent`. */
  readonly handlers?: Readonly<Record<string, (event: StreamEvent<T>) => void>>;
  /** The server could not replay everything after the `Last-Event-ID`: refetch state. */
  readonly onGap?: (gap: GapNotice) => void;
  /** A stream opened (first connection or reconnection). */
  readonly onOpen?: (info: OpenInfo) => void;
  /**
   * An error: `fatal` ones end the subscription (a refused stream: 400, 404, 401/403 without a
   * new token), others are followed by a reconnection (network failures, 5xx, data that does
   * not parse, a handler that threw).
   */
  readonly onError?: (error: Error, info: { readonly fatal: boolean }) => void;
  /** The client is about to wait `delay` ms and reconnect. */
  readonly onReconnect?: (info: ReconnectInfo) => void;
  /** A listen token or JWT, or a function giving a fresh one before every (re)connection. */
  readonly token?: TokenSource;
  /** `"include"` sends cookies cross-origin (JWT in a cookie, `SSEPG_JWT_COOKIE`). @default "same-origin" */
  readonly credentials?: RequestCredentials;
  /** More request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Resume after this event id. */
  readonly lastEventId?: string;
  /** Stops the subscription, as `close()` does. */
  readonly signal?: AbortSignal;
  /** Milliseconds before reconnecting until the server sends its `retry:` hint. @default 3000 */
  readonly retry?: number;
  /** Cap of the exponential backoff after errors, in milliseconds. @default 30000 */
  readonly maxRetry?: number;
  /** Turns an event's data text into `T`. @default JSON.parse */
  readonly parse?: (data: string) => T;
  /** The `fetch` to use (a proxy agent, a test double). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * A running subscription.
 *
 * @example
 * ```ts
 * import { subscribe, type Subscription } from "./subscribe.ts";
 * const subscription: Subscription = subscribe("http://127.0.0.1:8080/topics/alpha/events");
 * setTimeout(() => subscription.close(), 60_000);
 * await subscription.done; // resolves after close(); rejects if the server refuses the stream
 * ```
 */
export interface Subscription {
  /**
   * Settles when the subscription stops: resolves after `close()` or the signal, rejects with
   * the fatal error (a {@link ProblemError}) otherwise. Unobserved, it never reports an unhandled
   * rejection: `onError` hears the error too.
   */
  readonly done: Promise<void>;
  /** The id of the last event received: where a reconnection resumes. */
  readonly lastEventId: string | undefined;
  /** Stops the subscription and closes its stream. */
  close(): void;
}

/** Statuses worth retrying: the server is busy or failing, not refusing this stream. */
const TRANSIENT = new Set([408, 425, 429]);

/** How one connection ended. */
type Outcome =
  | { kind: "end"; reason: string; delay?: number }
  | { kind: "error"; error: Error; retryAfter?: number | undefined }
  | { kind: "fatal"; error: Error }
  | { kind: "aborted" };

/**
 * The topics named by a stream URL's path (`…/a,b/events`), lower-cased as the server does.
 *
 * @param url A stream URL.
 * @returns The topics, or an empty list when the path does not end in `/{topics}/events`.
 */
function topicsInUrl(url: URL): string[] {
  const match = /\/([^/]+)\/events\/?$/.exec(url.pathname);
  if (!match) return [];
  return [...new Set(decodeURIComponent(match[1]).split(",").map((t) => t.toLowerCase()))];
}

/** Calls a user handler; what it throws goes to `onError` (or is rethrown out of band). */
function guard<A>(
  handler: ((arg: A) => void) | undefined,
  arg: A,
  onError: SubscribeOptions<unknown>["onError"],
): void {
  if (!handler) return;
  try {
    handler(arg);
  } catch (error) {
    if (onError) onError(error instanceof Error ? error : new Error(String(error)), { fatal: false });
    else {queueMicrotask(() => {
        throw error;
      });}
  }
}

/**
 * Subscribes to one or more topics over `fetch` (so headers and cookies work, unlike
 * `EventSource`), and keeps the subscription alive:
 *
 * - the stream ends (server shutdown, a dropped slow client): reconnect after the server's
 *   `retry:` delay with `Last-Event-ID`, so nothing is lost while the server still holds the
 *   events; `: token expired`: reconnect at once, with a fresh token from `token()`;
 * - network errors, 5xx, 408, 429: reconnect with exponential backoff and jitter (from the
 *   `retry:` delay up to `maxRetry`, at least the server's `Retry-After`);
 * - 401/403: ask `token()` again; reconnect if it gives a new token, stop otherwise;
 * - 400, 404 and other refusals: stop, with a {@link ProblemError} carrying the problem.
 *
 * @param target A stream URL (`http://host/topics/a,b/events`) or `{ baseUrl, topics }`.
 * @param options Handlers, token, resume point, signal.
 * @returns The subscription: `close()`, `lastEventId`, `done`.
 * @throws {TypeError} when the target is not a URL or names no topic.
 *
 * @example
 * ```ts
 * import { subscribe } from "./subscribe.ts";
 * interface Order {
 *   id: number;
 * }
 * const subscription = subscribe<Order>({ baseUrl: "http://127.0.0.1:8080", topics: ["orders", "refunds"] }, {
 *   token: async () => (await fetch("/session/ssepg-token")).text(),
 *   handlers: {
 *     orders: (e) => console.log("order", e.data.id),
 *     refunds: (e) => console.log("refund", e.data.id),
 *   },
 *   onGap: () => console.log("missed events: reload the orders"),
 * });
 * subscription.close();
 * ```
 */
export function subscribe<T = unknown>(
  target: string | URL | StreamTarget,
  options: SubscribeOptions<T> = {},
): Subscription {
  let url: URL;
  let topics: string[];
  if (typeof target === "string" || target instanceof URL) {
    url = absoluteUrl(target);
    topics = topicsInUrl(url);
  } else {
    const list = typeof target.topics === "string" ? target.topics.split(",") : [...target.topics];
    url = eventsUrl(target.baseUrl, list, target.basePath);
    topics = [...new Set(list.map((t) => t.toLowerCase()))];
  }
  const handlers = new Map(Object.entries(options.handlers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const parse = options.parse ?? ((text: string) => JSON.parse(text) as T);
  const doFetch = options.fetch ?? fetch;
  const stop = new AbortController();
  const signal = stop.signal;
  const forward = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener("abort", forward, { once: true });

  let lastEventId = options.lastEventId || undefined;
  let retry = options.retry ?? 3_000;
  const maxRetry = options.maxRetry ?? 30_000;
  let opened = 0;
  const report = (error: Error, fatal: boolean) => {
    try {
      options.onError?.(error, { fatal });
    } catch (thrown) {
      queueMicrotask(() => {
        throw thrown;
      });
    }
  };

  function dispatch(message: EventSourceMessage): void {
    if (message.id !== undefined) lastEventId = message.id || undefined;
    const name = message.event ?? "message";
    if (name === "gap") {
      let gap: GapNotice = { lastEventId: null };
      try {
        gap = { lastEventId: JSON.parse(message.data).lastEventId ?? null };
      } catch { /* a gap without a body is still a gap */ }
      guard(options.onGap, gap, options.onError);
      return;
    }
    const topic = name === "message" && topics.length === 1 ? topics[0] : name;
    let data: T;
    try {
      data = parse(message.data);
    } catch (error) {
      report(new SyntaxError(`Cannot parse the data of event ${message.id ?? "(no id)"} of ${topic}: ${error}`), false);
      return;
    }
    const event: StreamEvent<T> = { id: message.id, topic, event: name, data };
    guard(options.onEvent, event, options.onError);
    guard(handlers.get(topic), event, options.onError);
  }

  /** One connection: its request, its stream until it ends, and how it ended. */
  async function connect(token: string | undefined): Promise<Outcome> {
    const headers: Record<string, string> = { accept: "text/event-stream", ...options.headers };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
    let response: Response;
    try {
      response = await doFetch(url, { headers, credentials: options.credentials, signal });
    } catch (error) {
      if (signal.aborted) return { kind: "aborted" };
      return { kind: "error", error: new ConnectionError(url.origin, networkReason(error), { cause: error }) };
    }
    if (response.status !== 200 || !response.body) {
      const error = await problemOf(url.href, response);
      const retryable = response.status >= 500 || TRANSIENT.has(response.status);
      return retryable ? { kind: "error", error, retryAfter: error.retryAfter } : { kind: "fatal", error };
    }
    const type = response.headers.get("content-type") ?? "";
    if (!/^text\/event-stream\b/i.test(type)) {
      await response.body.cancel().catch(() => {});
      return {
        kind: "fatal",
        error: new ProblemError(url.href, 200, undefined, { text: `is not an event stream: Content-Type ${type}` }),
      };
    }
    guard(options.onOpen, { url: url.href, lastEventId, reconnects: opened++ }, options.onError);

    let ending: string | undefined;
    const parser = createParser({
      onEvent: dispatch,
      onRetry: (ms) => retry = ms,
      onComment: (comment) => {
        if (comment === "token expired" || comment === "server shutting down") ending = comment;
      },
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const cancel = () => void reader.cancel().catch(() => {});
    signal.addEventListener("abort", cancel, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || signal.aborted) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (error) {
      if (signal.aborted) return { kind: "aborted" };
      const reason = networkReason(error);
      return { kind: "end", reason: `the connection was lost (${reason})` };
    } finally {
      signal.removeEventListener("abort", cancel);
    }
    if (signal.aborted) return { kind: "aborted" };
    if (ending === "token expired") return { kind: "end", reason: ending, delay: 0 };
    return { kind: "end", reason: ending ?? "the stream ended" };
  }

  async function run(): Promise<void> {
    let failures = 0;
    let nextToken: { value: string | undefined } | undefined;
    try {
      while (!signal.aborted) {
        let token: string | undefined;
        let outcome: Outcome;
        try {
          token = nextToken ? nextToken.value : await tokenOf(options.token);
          nextToken = undefined;
          outcome = await connect(token);
        } catch (error) {
          outcome = signal.aborted ? { kind: "aborted" } : {
            kind: "error",
            error: new Error(`Cannot get a token: ${(error as Error)?.message ?? error}`, { cause: error }),
          };
        }
        if (outcome.kind === "aborted") return;
        if (
          outcome.kind === "fatal" && outcome.error instanceof ProblemError &&
          (outcome.error.status === 401 || outcome.error.status === 403) && typeof options.token === "function"
        ) {
          // Refused: retry only if the callback now gives another token (the old one expired).
          let fresh: string | undefined = token;
          try {
            fresh = await tokenOf(options.token);
          } catch { /* no new token: the refusal stands */ }
          if (signal.aborted) return;
          if (fresh !== token) {
            nextToken = { value: fresh };
            outcome = { kind: "error", error: outcome.error };
          }
        }
        if (outcome.kind === "fatal") {
          report(outcome.error, true);
          throw outcome.error;
        }
        let delay: number;
        let reason: string;
        if (outcome.kind === "end") {
          failures = 0;
          delay = outcome.delay ?? retry;
          reason = outcome.reason;
        } else {
          failures++;
          delay = errorDelay(failures, { base: retry, max: maxRetry, floor: outcome.retryAfter });
          reason = outcome.error.message;
          report(outcome.error, false);
        }
        guard(options.onReconnect, { delay, reason, failures }, options.onError);
        await sleep(delay, signal);
      }
    } finally {
      options.signal?.removeEventListener("abort", forward);
    }
  }

  const done = run();
  done.catch(() => {}); // observed through onError; awaiting `done` still sees the rejection
  return {
    done,
    get lastEventId() {
      return lastEventId;
    },
    close: () => stop.abort(),
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
