/**
 * The chunk of one flush, shared between subscribers that take the same events.
 *
 * Subscribers at the same place in a topic take the same events in one flush (all 1000 of a
 * 1000-subscriber topic when they fall behind together), so the chunk built for the previous
 * subscriber is reused when the parts are the same objects: one buffer, shared and never
 * modified, instead of a copy of every event per subscriber. One cache belongs to one ssepg
 * instance; flushes run one at a time, so remembering the last chunk is enough.
 *
 * @module
 */

import type { FrameStyle, StoredEvent } from "../dispatcher/event.ts";
import { concatBytes } from "../bytes.ts";

/**
 * Builds the chunk of several frames, reusing the last one when the parts are the same.
 *
 * @example
 * ```ts
 * import { ChunkCache } from "./chunk_cache.ts";
 * import { encodeComment } from "./frame.ts";
 * const cache = new ChunkCache();
 * const parts = [encodeComment("a"), encodeComment("b")];
 * cache.chunk(parts, "message") === cache.chunk([...parts], "message"); // true: same bytes object
 * ```
 */
export class ChunkCache {
  #parts: readonly (Uint8Array | StoredEvent)[] = [];
  #style: FrameStyle | undefined;
  #bytes: Uint8Array | undefined;

  /**
   * The frames of `parts` as one chunk.
   *
   * @param parts Control frames and events, in order.
   * @param style How events name themselves (`message` or their topic).
   * @returns The chunk; the same object as last time when the parts were the same.
   */
  chunk(parts: readonly (Uint8Array | StoredEvent)[], style: FrameStyle): Uint8Array {
    const last = this.#parts;
    if (this.#bytes && this.#style === style && last.length === parts.length) {
      let same = true;
      for (let i = 0; i < parts.length && same; i++) same = parts[i] === last[i];
      if (same) return this.#bytes;
    }
    const bytes = concatBytes(parts.map((p) => p instanceof Uint8Array ? p : p.frame(style)));
    this.#parts = parts;
    this.#style = style;
    this.#bytes = bytes;
    return bytes;
  }
}
