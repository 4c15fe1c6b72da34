/**
 * `ssepg/client`: subscribe to ssepg topics and publish to them, from browsers, Deno, Bun and
 * Node 20+, with nothing but `fetch` (no server code, no Node built-ins).
 *
 * `subscribe` reads the SSE stream over `fetch`, so it can send `Authorization` (a token, or a
 * function giving a fresh JWT before every reconnection) and cookies (`credentials: "include"`),
 * which `EventSource` cannot. It reconnects with `Last-Event-ID` after the server's `retry:`
 * delay when a stream ends, backs off exponentially with jitter on errors, reports the server's
 * `event: gap` to `onGap`, dispatches a multi-topic stream to a handler per topic, and stops
 * on an `AbortSignal` or `close()`.
 *
 * ```ts
 * import { publish, subscribe } from "./mod.ts";
 * const stop = new AbortController();
 * subscribe<{ msg: string }>({ baseUrl: "http://127.0.0.1:8080", topics: ["alpha", "beta"] }, {
 *   token: () => "listen-token",
 *   onEvent: (e) => console.log(e.topic, e.id, e.data.msg),
 *   onGap: () => console.log("some events were missed: resync"),
 *   signal: stop.signal,
 * });
 * await publish("http://127.0.0.1:8080", "alpha", { msg: "hi" }, { token: "publish-token" });
 * stop.abort();
 * ```
 *
 * @module
 */

export { subscribe } from "./subscribe.ts";
export type {
  GapNotice,
  OpenInfo,
  ReconnectInfo,
  StreamEvent,
  StreamTarget,
  SubscribeOptions,
  Subscription,
} from "./subscribe.ts";
export { publish } from "./publish.ts";
export type { Published, PublishOptions } from "./publish.ts";
export type { TokenSource } from "./request.ts";
export { ConnectionError, ProblemError } from "./errors.ts";
export type { Problem } from "./errors.ts";
