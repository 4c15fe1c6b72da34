/**
 * Reads the publisher's marks from an event's data without parsing the JSON: the sequence
 * number, the publish timestamp and the topic, found by their `"name":` keys in one forward
 * pass that stops once all three are found (they come before the padding). Works on any
 * envelope that keeps those fields somewhere in the data (ssepg, Nchan and the naive peer
 * differ in what surrounds them).
 *
 * @module
 */

import { ascii } from "./bytes.ts";

/** Whether `key` is at `data[i…]`. */
function keyAt(data: Uint8Array, i: number, key: Uint8Array): boolean {
  if (i + key.length > data.length) return false;
  for (let k = 1; k < key.length; k++) if (data[i + k] !== key[k]) return false;
  return true;
}

/** Finds the fields named at construction in event data: `read(data)`, then `seq`, `timestamp`, `topicIs()`. */
export class FieldReader {
  readonly #seqKey: Uint8Array;
  readonly #tsKey: Uint8Array;
  readonly #topicKey: Uint8Array;
  /** The sequence number of the last data read: a non-negative integer, or -1 when absent or malformed. */
  seq = -1;
  /** The publish timestamp of the last data read (ms since the epoch, fractional), or NaN. */
  timestamp = NaN;
  #data: Uint8Array | undefined;
  #topicAt = -1;

  constructor(seqField = "seq", tsField = "t", topicField = "topic") {
    this.#seqKey = ascii(`"${seqField}":`);
    this.#tsKey = ascii(`"${tsField}":`);
    this.#topicKey = ascii(`"${topicField}":`);
  }

  /** Reads the fields of `data` (valid until the next call). */
  read(data: Uint8Array): void {
    this.#data = data;
    this.seq = -1;
    this.timestamp = NaN;
    this.#topicAt = -1;
    let seqFound = false;
    let tsFound = false;
    const n = data.length;
    for (let i = 0; i < n; i++) {
      if (data[i] !== 34) continue;
      if (!seqFound && keyAt(data, i, this.#seqKey)) {
        seqFound = true;
        i = this.#integer(data, i + this.#seqKey.length) - 1;
      } else if (!tsFound && keyAt(data, i, this.#tsKey)) {
        tsFound = true;
        i = this.#number(data, i + this.#tsKey.length) - 1;
      } else if (this.#topicAt < 0 && keyAt(data, i, this.#topicKey)) {
        let j = i + this.#topicKey.length;
        while (data[j] === 32) j++;
        this.#topicAt = j;
        // skip the string value: its quotes are not keys
        j++;
        while (j < n && data[j] !== 34) j += data[j] === 92 ? 2 : 1;
        i = j;
      } else continue;
      if (seqFound && tsFound && this.#topicAt >= 0) return;
    }
  }

  #integer(data: Uint8Array, i: number): number {
    while (data[i] === 32) i++;
    const start = i;
    let v = 0;
    while (data[i] >= 48 && data[i] <= 57) v = v * 10 + data[i++] - 48;
    if (i > start) this.seq = v;
    return i;
  }

  #number(data: Uint8Array, i: number): number {
    while (data[i] === 32) i++;
    const start = i;
    let whole = 0;
    let fraction = 0;
    let scale = 1;
    while (data[i] >= 48 && data[i] <= 57) whole = whole * 10 + data[i++] - 48;
    if (data[i] === 46) {
      i++;
      while (data[i] >= 48 && data[i] <= 57) {
        fraction = fraction * 10 + data[i++] - 48;
        scale *= 10;
      }
    }
    if (i > start) this.timestamp = whole + fraction / scale;
    return i;
  }

  /** Whether the last data's topic field is `quotedTopic` (the bytes of `"name"`); true when it has none. */
  topicIs(quotedTopic: Uint8Array): boolean {
    const data = this.#data;
    if (this.#topicAt < 0 || !data) return true;
    for (let k = 0; k < quotedTopic.length; k++) if (data[this.#topicAt + k] !== quotedTopic[k]) return false;
    return true;
  }
}
