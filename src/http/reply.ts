/**
 * What a handler answers: a plain reply (status, headers, text) or an event stream that the
 * adapter attaches its writer to. Adapters turn it into their runtime's response; nothing in
 * between builds a Web `Response` unless the adapter needs one.
 *
 * @module
 */

import type { EventStream } from "../sse/event_stream.ts";

/**
 * A reply with a complete body (or none).
 *
 * @example
 * ```ts
 * import type { PlainReply } from "./reply.ts";
 * const ok: PlainReply = { status: 200, headers: { "Content-Type": "application/json" }, body: "{}" };
 * ```
 */
export interface PlainReply {
  /** HTTP status. */
  readonly status: number;
  /** Response headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body text; null for none (204, HEAD). */
  readonly body: string | null;
}

/**
 * A reply whose body is a subscriber's event stream.
 *
 * @example
 * ```ts
 * import type { StreamReply } from "./reply.ts";
 * const isStream = (reply: { stream?: unknown }): reply is StreamReply => reply.stream !== undefined;
 * ```
 */
export interface StreamReply {
  /** Always 200. */
  readonly status: 200;
  /** The event-stream headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The stream, not started until a writer is attached. */
  readonly stream: EventStream;
}

/**
 * A handler's answer.
 *
 * @example
 * ```ts
 * import type { Reply } from "./reply.ts";
 * const noContent: Reply = { status: 204, headers: { Allow: "GET, POST, OPTIONS" }, body: null };
 * ```
 */
export type Reply = PlainReply | StreamReply;

/**
 * Whether `reply` carries an event stream.
 *
 * @param reply A handler's answer.
 * @returns True for a {@link StreamReply}.
 *
 * @example
 * ```ts
 * import { isStreamReply } from "./reply.ts";
 * isStreamReply({ status: 204, headers: {}, body: null }); // false
 * ```
 */
export function isStreamReply(reply: Reply): reply is StreamReply {
  return (reply as StreamReply).stream !== undefined;
}

/**
 * `reply` with `extra` headers added; `Vary` values are merged rather than replaced.
 *
 * @param reply The reply.
 * @param extra Headers to add (CORS).
 * @returns A reply with both sets of headers (`reply` itself when `extra` is empty).
 *
 * @example
 * ```ts
 * import { withHeaders } from "./reply.ts";
 * const reply = withHeaders({ status: 200, headers: { Vary: "Accept-Encoding" }, body: "" }, { Vary: "Origin" });
 * reply.headers.Vary; // "Accept-Encoding, Origin"
 * ```
 */
export function withHeaders<R extends Reply>(reply: R, extra: Readonly<Record<string, string>>): R {
  let headers: Record<string, string> | undefined;
  for (const name in extra) {
    headers ??= { ...reply.headers };
    const current = headers[name];
    headers[name] = name === "Vary" && current ? `${current}, ${extra[name]}` : extra[name];
  }
  return headers ? { ...reply, headers } : reply;
}
