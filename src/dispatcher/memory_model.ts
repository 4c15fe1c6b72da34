/**
 * What one retained event costs in memory, so `memory_usage_bytes` and `maxRingBytes` track
 * the real heap. Measured per JavaScript engine with `bench/ring_memory.mjs` (full GC, heap +
 * external growth per event): V8 (Deno, Node) holds the data string and one encoded frame
 * plus about 400 bytes of objects; JavaScriptCore (Bun) about twice the content plus 250. An
 * empty topic state (`bench/topic_memory.ts`, heap growth per topic at 100 000 topics, names
 * not counted) is about 565 bytes on V8 and 685 on JavaScriptCore.
 *
 * @module
 */

import { utf8Length } from "../utf8.ts";

/**
 * Cost of one retained event: `perEvent + perByte × (string bytes + frame bytes)`.
 *
 * @example
 * ```ts
 * import { eventCost, type MemoryModel } from "./memory_model.ts";
 * const lean: MemoryModel = { perEvent: 100, perByte: 1 };
 * eventCost("1", undefined, lean); // 100 + 1 + 27
 * ```
 */
export interface MemoryModel {
  /** Fixed bytes per event: the event object, the ring slot, the frame's buffer object. */
  readonly perEvent: number;
  /** Bytes held per byte of content (the data string and the frame). */
  readonly perByte: number;
  /**
   * Fixed bytes of one topic state without events (its objects, its first ring slots, its map
   * entries), counted against `maxRingBytes` like events. @default 0
   */
  readonly perTopic?: number;
}

/**
 * V8: Deno and Node.
 *
 * @example
 * ```ts
 * import { eventCost, V8_MEMORY } from "./memory_model.ts";
 * eventCost("1", undefined, V8_MEMORY); // 400 + 1 + 27
 * ```
 */
export const V8_MEMORY: MemoryModel = { perEvent: 400, perByte: 1, perTopic: 565 };

/**
 * JavaScriptCore: Bun.
 *
 * @example
 * ```ts
 * import { eventCost, JSC_MEMORY } from "./memory_model.ts";
 * eventCost("1", undefined, JSC_MEMORY); // 250 + 2 × (1 + 27)
 * ```
 */
export const JSC_MEMORY: MemoryModel = { perEvent: 250, perByte: 2, perTopic: 685 };

/**
 * The model for a runtime name as health reports it (`deno 2.9.6`, `bun 1.4.5`, `node 20.1.0`).
 *
 * @param runtime Runtime name and version.
 * @returns The engine's model; V8's for names it does not know.
 *
 * @example
 * ```ts
 * import { memoryModelFor } from "./memory_model.ts";
 * memoryModelFor("bun 1.4.5").perByte; // 2
 * ```
 */
export function memoryModelFor(runtime: string): MemoryModel {
  return runtime.startsWith("bun") ? JSC_MEMORY : V8_MEMORY;
}

// Characters above U+00FF force a string into two bytes per character in both engines.
const WIDE = /[\u0100-\uffff]/;

/**
 * Estimated bytes an event retains: its data string (one byte per character when every
 * character fits in Latin-1, two otherwise), its SSE frame (the UTF-8 data plus the `id:` and
 * `event:` lines) and the fixed overhead.
 *
 * @param data The event's compact JSON.
 * @param id Its id, if any.
 * @param model The engine's cost model.
 * @returns Bytes.
 *
 * @example
 * ```ts
 * import { eventCost, V8_MEMORY } from "./memory_model.ts";
 * eventCost('{"n":1}', "e1", V8_MEMORY); // 400 + 7 + 38
 * ```
 */
export function eventCost(data: string, id: string | undefined, model: MemoryModel): number {
  const stringBytes = WIDE.test(data) ? 2 * data.length : data.length;
  const frameBytes = utf8Length(data) + (id === undefined ? 0 : id.length + 5) + 26;
  return model.perEvent + model.perByte * (stringBytes + frameBytes);
}
