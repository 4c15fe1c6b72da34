/**
 * SSE wire framing (WHATWG HTML §9.2): events, comments and the retry hint.
 *
 * @module
 */

const LINE_BREAK = /\r\n|\r|\n/;
const encoder = new TextEncoder();

/** The fields of one SSE event. */
export interface FrameFields {
  /** `id:` line; omitted when undefined. */
  readonly id?: string | undefined;
  /** `event:` line; omitted when undefined. */
  readonly event?: string | undefined;
  /** Data; one `data:` line per line of text. */
  readonly data: string;
}

/**
 * Encodes one event as SSE text, splitting `data` on any line break into `data:` lines.
 *
 * @param fields The event's id, name and data.
 * @returns The frame, ending with a blank line.
 * @throws {SyntaxError} when `id` or `event` contains a line break (it would inject fields) or
 * `id` contains NUL (clients ignore such ids).
 *
 * @example
 * ```ts
 * import { encodeEventText } from "./frame.ts";
 * encodeEventText({ id: "1", event: "message", data: "a\nb" });
 * // "id: 1\nevent: message\ndata: a\ndata: b\n\n"
 * ```
 */
export function encodeEventText(fields: FrameFields): string {
  let text = "";
  if (fields.id !== undefined) {
    if (LINE_BREAK.test(fields.id) || fields.id.includes("\0")) {
      throw new SyntaxError(
        `Cannot use an SSE id with a line break or NUL: current value is ${JSON.stringify(fields.id)}`,
      );
    }
    text += `id: ${fields.id}\n`;
  }
  if (fields.event !== undefined) {
    if (LINE_BREAK.test(fields.event)) {
      throw new SyntaxError(
        `Cannot use an SSE event name with a line break: current value is ${JSON.stringify(fields.event)}`,
      );
    }
    text += `event: ${fields.event}\n`;
  }
  for (const line of fields.data.split(LINE_BREAK)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/**
 * Encodes one event as UTF-8 SSE bytes.
 *
 * @param fields The event's id, name and data.
 * @returns The frame bytes.
 *
 * @example
 * ```ts
 * import { encodeEvent } from "./frame.ts";
 * encodeEvent({ event: "gap", data: '{"lastEventId":"x"}' });
 * ```
 */
export function encodeEvent(fields: FrameFields): Uint8Array {
  return encoder.encode(encodeEventText(fields));
}

/**
 * Encodes an SSE comment; every line of `text` becomes its own `:` line.
 *
 * @param text The comment, e.g. `keep-alive`.
 * @returns The comment bytes, ending with a blank line.
 *
 * @example
 * ```ts
 * import { encodeComment } from "./frame.ts";
 * encodeComment("keep-alive"); // ": keep-alive\n\n"
 * ```
 */
export function encodeComment(text: string): Uint8Array {
  return encoder.encode(text.split(LINE_BREAK).map((line) => `: ${line}\n`).join("") + "\n");
}

/**
 * Encodes the `retry:` hint.
 *
 * @param ms Reconnection delay in milliseconds.
 * @returns `retry: <ms>\n\n` as bytes.
 *
 * @example
 * ```ts
 * import { encodeRetry } from "./frame.ts";
 * encodeRetry(5000); // "retry: 5000\n\n"
 * ```
 */
export function encodeRetry(ms: number): Uint8Array {
  return encoder.encode(`retry: ${Math.max(0, Math.round(ms))}\n\n`);
}

/** `: keep-alive`, encoded once for every stream. */
export const KEEP_ALIVE: Uint8Array = encodeComment("keep-alive");

/** `: server shutting down`, encoded once for every stream. */
export const SHUTTING_DOWN: Uint8Array = encodeComment("server shutting down");

/**
 * Event names a multi-topic stream cannot use for a topic: `gap` is the server's own notice,
 * and `error` and `open` are events that `EventSource` fires itself, so a topic of that name
 * would let a publisher forge them.
 */
export const RESERVED_EVENT_NAMES: readonly string[] = Object.freeze(["gap", "error", "open"]);
