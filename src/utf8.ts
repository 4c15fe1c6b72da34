/**
 * UTF-8 sizes of JavaScript strings, for limits counted in bytes (NOTIFY payloads, ring memory)
 * where encoding the text only to measure it would cost an allocation per event.
 *
 * @module
 */

/**
 * UTF-8 length of a string without allocating its bytes.
 *
 * @param text Any string; lone surrogates count as U+FFFD (3 bytes), as encoders write them.
 * @returns The number of UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./utf8.ts";
 * utf8Length("é€😀"); // 9
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
