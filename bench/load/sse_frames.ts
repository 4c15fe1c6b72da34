/**
 * An incremental Server-Sent Events parser over bytes: lines end in LF, CRLF or CR, several
 * `data:` lines join with LF, a blank line dispatches, comments and the `id`, `event` and
 * `retry` fields are skipped. Frames may be split anywhere, across reads or chunks. Nothing is
 * decoded to a string: a frame's data reaches `onData` as bytes, usually a view into the input.
 *
 * @module
 */

import { concat } from "./bytes.ts";

const LF = 10;
const CR = 13;
const NOTHING = new Uint8Array(0);

/** Parses an SSE stream; `onData(data)` for every event (the view is valid during the call only). */
export class SseFrameParser {
  /** The unfinished line carried over from the previous push. */
  #carry: Uint8Array | null = null;
  /** The data of the event being read, or null when it has no data line yet. */
  #data: Uint8Array | null = null;
  #dataIsView = false;
  /** The previous push ended in CR: an LF at the start of the next one belongs to it. */
  #skipLf = false;
  /** Events dispatched so far. */
  events = 0;

  constructor(private readonly onData: (data: Uint8Array) => void) {}

  /** Feeds bytes; `bytes` may be reused by the caller once this returns. */
  push(bytes: Uint8Array): void {
    let pos = 0;
    if (this.#skipLf && bytes.length > 0) {
      if (bytes[0] === LF) pos = 1;
      this.#skipLf = false;
    }
    const hasCr = bytes.indexOf(CR, pos) >= 0;
    while (pos < bytes.length) {
      let end: number;
      let next: number;
      if (!hasCr) {
        end = bytes.indexOf(LF, pos);
        if (end < 0) break;
        next = end + 1;
      } else {
        end = pos;
        while (end < bytes.length && bytes[end] !== LF && bytes[end] !== CR) end++;
        if (end === bytes.length) break;
        next = end + 1;
        if (bytes[end] === CR) {
          if (next < bytes.length) {
            if (bytes[next] === LF) next++;
          } else this.#skipLf = true;
        }
      }
      if (this.#carry) {
        const line = concat(this.#carry, bytes.subarray(pos, end));
        this.#carry = null;
        this.#line(line, 0, line.length, false);
      } else this.#line(bytes, pos, end, true);
      pos = next;
    }
    if (pos < bytes.length) {
      const rest = bytes.slice(pos);
      this.#carry = this.#carry ? concat(this.#carry, rest) : rest;
    }
    if (this.#data && this.#dataIsView) {
      this.#data = this.#data.slice();
      this.#dataIsView = false;
    }
  }

  /** One line: `buf[start, end)`; `isView` when `buf` is the caller's (to be copied if kept). */
  #line(buf: Uint8Array, start: number, end: number, isView: boolean): void {
    if (end === start) {
      if (this.#data) {
        const data = this.#data;
        this.#data = null;
        this.events++;
        this.onData(data);
      }
      return;
    }
    // "data" then the end of the line or a colon; one space after the colon is not part of the value.
    if (buf[start] !== 100 || buf[start + 1] !== 97 || buf[start + 2] !== 116 || buf[start + 3] !== 97) return;
    let value: Uint8Array;
    if (end - start === 4) value = NOTHING;
    else if (buf[start + 4] !== 58) return;
    else value = buf.subarray(start + 4 < end - 1 && buf[start + 5] === 32 ? start + 6 : start + 5, end);
    if (this.#data === null) {
      this.#data = value;
      this.#dataIsView = isView;
    } else {
      const joined = new Uint8Array(this.#data.length + 1 + value.length);
      joined.set(this.#data);
      joined[this.#data.length] = LF;
      joined.set(value, this.#data.length + 1);
      this.#data = joined;
      this.#dataIsView = false;
    }
  }
}
