/**
 * Byte-array helpers shared by the layers that assemble bodies and frames from chunks.
 *
 * @module
 */

/**
 * Concatenates byte chunks into one, returning a lone chunk as it is.
 *
 * @param chunks The chunks in order.
 * @returns One `Uint8Array`; the input itself when there is exactly one chunk (no copy).
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * concatBytes([new Uint8Array([1]), new Uint8Array([2])]); // Uint8Array [1, 2]
 * ```
 */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
