/**
 * Byte-level helpers for the load generator's parsers: searching and copying without decoding
 * to strings on the hot path.
 *
 * @module
 */

/** ASCII bytes of `text`. */
export const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/**
 * Where `needle` starts in `hay` at or after `from`, or -1.
 *
 * @example
 * ```ts
 * import { ascii, indexOfBytes } from "./bytes.ts";
 * indexOfBytes(ascii("a\r\n\r\nb"), ascii("\r\n\r\n")); // 1
 * ```
 */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let k = 1;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

/** `a` followed by `b`, in a new array. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
