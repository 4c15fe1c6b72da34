/**
 * gzip for SSE with compressed bytes shared between subscribers.
 *
 * Each frame is compressed once, on its own, into raw deflate blocks that end with a full flush
 * (byte-aligned, no back-references across frames, not final). Any sequence of such pieces after
 * a gzip header is a valid deflate stream, and every piece is decodable as soon as it arrives. So
 * an event's compressed frame is made once and written to every gzip subscriber, with no
 * compressor per connection. A connection keeps only its running CRC-32 and length, for the
 * trailer that ends the stream gracefully.
 *
 * @module
 */

/** A raw-deflate compressor that ends its output with a full flush (not a final block). */
export type Deflate = (data: Uint8Array) => Uint8Array;

/**
 * Loads the platform's deflate (`node:zlib`, which Deno, Bun and Node all provide). Returns
 * undefined where it is missing; streams are then sent uncompressed.
 *
 * @returns The compressor, or undefined.
 *
 * @example
 * ```ts
 * import { loadDeflate } from "./gzip.ts";
 * const deflate = await loadDeflate();
 * ```
 */
export async function loadDeflate(): Promise<Deflate | undefined> {
  try {
    const zlib = await import("node:zlib");
    const options = { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 6 };
    return (data) => new Uint8Array(zlib.deflateRawSync(data, options));
  } catch {
    return undefined;
  }
}

/**
 * Whether an `Accept-Encoding` header accepts gzip: `gzip` or `x-gzip` with q > 0, or `*` with
 * q > 0 when gzip is not named. `gzip;q=0` refuses it.
 *
 * @param header The header value, or null.
 * @returns True when the response may be gzip-encoded.
 *
 * @example
 * ```ts
 * import { acceptsGzip } from "./gzip.ts";
 * acceptsGzip("br;q=1.0, gzip;q=0.8"); // true
 * acceptsGzip("gzip;q=0"); // false
 * ```
 */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";").map((s) => s.trim());
    let q = 1;
    for (const param of params) {
      const match = /^q=([0-9.]+)$/.exec(param);
      if (match) q = Number(match[1]);
    }
    if (!Number.isFinite(q)) q = 0;
    if (name === "gzip" || name === "x-gzip") gzip = Math.max(gzip ?? 0, q);
    else if (name === "*") any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (gzip's, reflected polynomial 0xEDB88320).
 *
 * @param bytes The data.
 * @returns The unsigned CRC.
 *
 * @example
 * ```ts
 * import { crc32 } from "./gzip.ts";
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** a·b modulo the CRC polynomial (zlib's multmodp), on reflected 32-bit values. */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ 0xedb88320 : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) mod p for k = 0..31 (zlib's x2n_table). */
const X2N = (() => {
  const table = new Uint32Array(32);
  let p = 1 << 30; // x^1
  table[0] = p;
  for (let n = 1; n < 32; n++) table[n] = p = multModP(p, p);
  return table;
})();

/** x^(8·length) mod p: what shifts a CRC past `length` bytes (zlib's x2nmodp(length, 3)). */
function shiftFor(length: number): number {
  let p = 0x80000000; // x^0
  let k = 3;
  let n = length;
  while (n) {
    if (n & 1) p = multModP(X2N[k & 31], p);
    n = Math.floor(n / 2);
    k++;
  }
  return p >>> 0;
}

/**
 * CRC of `a ‖ b` from the CRCs of `a` and `b` (zlib's crc32_combine).
 *
 * @param crcA CRC of the first part.
 * @param crcB CRC of the second part.
 * @param lengthB Byte length of the second part.
 * @returns The CRC of both.
 *
 * @example
 * ```ts
 * import { crc32, crc32Combine } from "./gzip.ts";
 * const [a, b] = [new Uint8Array([1, 2]), new Uint8Array([3])];
 * crc32Combine(crc32(a), crc32(b), 1) === crc32(new Uint8Array([1, 2, 3])); // true
 * ```
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(shiftFor(lengthB), crcA) ^ crcB) >>> 0;
}

/**
 * One frame, compressed once and shareable: its deflate piece and what a connection needs to
 * extend its CRC past it without reading the frame again.
 */
export interface CompressedFrame {
  /** Raw deflate blocks ending with a full flush. */
  readonly bytes: Uint8Array;
  /** CRC-32 of the uncompressed frame. */
  readonly crc: number;
  /** Uncompressed length. */
  readonly length: number;
  /** x^(8·length) mod p, to shift a running CRC past this frame. */
  readonly shift: number;
}

/**
 * Compresses one frame into a shareable piece.
 *
 * @param frame The uncompressed frame bytes.
 * @param deflate The compressor from {@link loadDeflate}.
 * @returns The piece.
 *
 * @example
 * ```ts
 * import { compressFrame, loadDeflate } from "./gzip.ts";
 * const deflate = (await loadDeflate())!;
 * compressFrame(new TextEncoder().encode(": keep-alive\n\n"), deflate).length; // 14
 * ```
 */
export function compressFrame(frame: Uint8Array, deflate: Deflate): CompressedFrame {
  return { bytes: deflate(frame), crc: crc32(frame), length: frame.byteLength, shift: shiftFor(frame.byteLength) };
}

const sharedPieces = new WeakMap<Uint8Array, CompressedFrame>();

/**
 * {@link compressFrame} for frames that never change (keep-alive, shutdown): compressed once per
 * process, keyed by the frame's bytes.
 *
 * @param frame A constant frame.
 * @param deflate The compressor.
 * @returns The shared piece.
 *
 * @example
 * ```ts
 * import { compressConstant, loadDeflate } from "./gzip.ts";
 * import { KEEP_ALIVE } from "./frame.ts";
 * const deflate = (await loadDeflate())!;
 * compressConstant(KEEP_ALIVE, deflate) === compressConstant(KEEP_ALIVE, deflate); // true
 * ```
 */
export function compressConstant(frame: Uint8Array, deflate: Deflate): CompressedFrame {
  let piece = sharedPieces.get(frame);
  if (!piece) sharedPieces.set(frame, piece = compressFrame(frame, deflate));
  return piece;
}

/** The 10-byte gzip member header: deflate, no name, mtime 0, unknown OS. */
export const GZIP_HEADER: Uint8Array = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** An empty final block (fixed Huffman, end-of-block only): ends the deflate stream. */
const FINAL_BLOCK = new Uint8Array([0x03, 0x00]);

/**
 * The running state of one gzip stream: what has been written, for the trailer.
 *
 * @example
 * ```ts
 * import { GzipStream, compressFrame, loadDeflate } from "./gzip.ts";
 * const deflate = (await loadDeflate())!;
 * const gz = new GzipStream();
 * const first = gz.write([compressFrame(new TextEncoder().encode("data: 1\n\n"), deflate)]);
 * const last = gz.end();
 * ```
 */
export class GzipStream {
  #crc = 0;
  #size = 0;
  #started = false;

  /**
   * The bytes to send for `pieces`, in order (with the gzip header before the first ones).
   *
   * @param pieces Compressed frames.
   * @returns One chunk.
   */
  write(pieces: readonly CompressedFrame[]): Uint8Array {
    if (this.#started && pieces.length === 1) {
      // The common case, one event: hand out the shared bytes themselves.
      const piece = pieces[0];
      this.#crc = (multModP(piece.shift, this.#crc) ^ piece.crc) >>> 0;
      this.#size = (this.#size + piece.length) >>> 0;
      return piece.bytes;
    }
    let total = this.#started ? 0 : GZIP_HEADER.byteLength;
    for (const piece of pieces) total += piece.bytes.byteLength;
    const out = new Uint8Array(total);
    let at = 0;
    if (!this.#started) {
      out.set(GZIP_HEADER);
      at = GZIP_HEADER.byteLength;
      this.#started = true;
    }
    for (const piece of pieces) {
      out.set(piece.bytes, at);
      at += piece.bytes.byteLength;
      this.#crc = (multModP(piece.shift, this.#crc) ^ piece.crc) >>> 0;
      this.#size = (this.#size + piece.length) >>> 0;
    }
    return out;
  }

  /**
   * The end of the stream: a final block and the trailer (CRC-32 and length mod 2^32).
   *
   * @returns The closing bytes (with the header first if nothing was written yet).
   */
  end(): Uint8Array {
    const head = this.#started ? new Uint8Array(0) : GZIP_HEADER;
    this.#started = true;
    const out = new Uint8Array(head.byteLength + FINAL_BLOCK.byteLength + 8);
    out.set(head);
    out.set(FINAL_BLOCK, head.byteLength);
    const view = new DataView(out.buffer);
    view.setUint32(head.byteLength + 2, this.#crc, true);
    view.setUint32(head.byteLength + 6, this.#size, true);
    return out;
  }
}
