/**
 * The HTTP/1.1 response side the load generator needs: the status line and headers, and an
 * incremental `Transfer-Encoding: chunked` decoder that takes bytes as they come off the socket.
 *
 * @module
 */

import { ascii, indexOfBytes } from "./bytes.ts";

const HEAD_END = ascii("\r\n\r\n");
const latin1 = new TextDecoder("latin1");

/** A parsed response head. */
export interface ResponseHead {
  status: number;
  /** Lower-cased names. */
  headers: Map<string, string>;
  /** Bytes the head took, the blank line included. */
  size: number;
}

/**
 * Parses a response head from the start of `bytes`.
 *
 * @returns The head, or undefined while its blank line has not arrived.
 *
 * @example
 * ```ts
 * import { ascii } from "./bytes.ts";
 * import { parseHead } from "./http.ts";
 * parseHead(ascii("HTTP/1.1 204 No Content\r\n\r\n"))?.status; // 204
 * ```
 */
export function parseHead(bytes: Uint8Array): ResponseHead | undefined {
  const end = indexOfBytes(bytes, HEAD_END);
  if (end < 0) return undefined;
  const [statusLine, ...lines] = latin1.decode(bytes.subarray(0, end)).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers, size: end + HEAD_END.length };
}

const enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  Done,
}

/** Decodes a chunked body incrementally; the data parts go to `sink` as views (copy to keep). */
export class ChunkedDecoder {
  #state = State.Size;
  #size = 0;
  #trailerLine = 0;

  constructor(private readonly sink: (part: Uint8Array) => void) {}

  /** True once the last chunk and its trailer section were read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /**
   * Feeds bytes.
   *
   * @returns Bytes after the end of the body (0 while it goes on), or -1 on a malformed body.
   */
  push(bytes: Uint8Array): number {
    let i = 0;
    while (i < bytes.length) {
      const byte = bytes[i];
      switch (this.#state) {
        case State.Size: {
          const digit = byte >= 48 && byte <= 57
            ? byte - 48
            : (byte | 32) >= 97 && (byte | 32) <= 102
            ? (byte | 32) - 87
            : -1;
          if (digit >= 0) this.#size = this.#size * 16 + digit;
          else if (byte === 59 || byte === 32 || byte === 9) this.#state = State.Extension;
          else if (byte === 13) this.#state = State.SizeLf;
          else return -1;
          i++;
          break;
        }
        case State.Extension:
          if (byte === 13) this.#state = State.SizeLf;
          i++;
          break;
        case State.SizeLf:
          if (byte !== 10) return -1;
          this.#state = this.#size === 0 ? State.Trailer : State.Data;
          this.#trailerLine = 0;
          i++;
          break;
        case State.Data: {
          const take = Math.min(this.#size, bytes.length - i);
          this.sink(bytes.subarray(i, i + take));
          i += take;
          this.#size -= take;
          if (this.#size === 0) this.#state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (byte !== 13) return -1;
          this.#state = State.DataLf;
          i++;
          break;
        case State.DataLf:
          if (byte !== 10) return -1;
          this.#state = State.Size;
          i++;
          break;
        case State.Trailer:
          // Trailer lines until an empty one; `#trailerLine` counts the current line's bytes.
          i++;
          if (byte === 10) {
            if (this.#trailerLine <= 1) {
              this.#state = State.Done;
              return bytes.length - i;
            }
            this.#trailerLine = 0;
          } else this.#trailerLine++;
          break;
        case State.Done:
          return bytes.length - i;
      }
    }
    return 0;
  }
}
