/**
 * An incremental SSE parser (WHATWG HTML §9.2.6) for ssepg's own clients.
 *
 * @module
 */

/** One dispatched event. */
export interface ParsedEvent {
  /** The `id:` of this event, if it had one. */
  readonly id: string | undefined;
  /** The event type; `message` when none was given. */
  readonly event: string;
  /** The data lines joined with `\n`. */
  readonly data: string;
}

/** What the parser reports besides events. */
export interface ParserCallbacks {
  /** A complete event. */
  onEvent(event: ParsedEvent): void;
  /** A `retry:` hint, in ms. */
  onRetry?(ms: number): void;
}

/**
 * Feeds text chunks in, calls back per event. Handles `\r\n`, `\r` and `\n` line ends, fields
 * split across chunks, comments and multi-line data.
 *
 * @example
 * ```ts
 * import { SseParser } from "./parse.ts";
 * const parser = new SseParser({ onEvent: (e) => console.log(e.data) });
 * parser.push("data: hel");
 * parser.push("lo\n\n"); // logs "hello"
 * ```
 */
export class SseParser {
  readonly #callbacks: ParserCallbacks;
  #buffer = "";
  #data: string[] = [];
  #event = "";
  #id: string | undefined;
  #hasId = false;

  constructor(callbacks: ParserCallbacks) {
    this.#callbacks = callbacks;
  }

  /**
   * Parses the next chunk of the stream's text.
   *
   * @param chunk Decoded text.
   */
  push(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (!match) return;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (match[0] === "\r" && match.index === this.#buffer.length - 1) return;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === "") {
      if (this.#data.length > 0) {
        this.#callbacks.onEvent({
          id: this.#hasId ? this.#id : undefined,
          event: this.#event || "message",
          data: this.#data.join("\n"),
        });
      }
      this.#data = [];
      this.#event = "";
      this.#hasId = false;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) [this.#id, this.#hasId] = [value, true];
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#callbacks.onRetry?.(Number(value));
        break;
    }
  }
}
