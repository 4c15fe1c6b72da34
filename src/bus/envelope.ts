/**
 * The wire format instances share over PostgreSQL (the Go implementation included): channel
 * naming and the NOTIFY envelope.
 *
 * @module
 */

import { compactMember } from "../json.ts";
import { isValidTopic } from "../topic.ts";

/** Channel name prefix shared with the Go implementation. */
export const CHANNEL_PREFIX = "topic_broadcast_";

/**
 * 32-bit FNV-1a over the UTF-8 bytes of `text`, as Go's `hash/fnv` `New32a`.
 *
 * @param text Any string; hashed as UTF-8.
 * @returns The unsigned 32-bit hash.
 *
 * @example
 * ```ts
 * import { fnv1a32 } from "./envelope.ts";
 * fnv1a32(""); // 0x811c9dc5
 * fnv1a32("a"); // 0xe40c292c
 * ```
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const utf8 = new TextEncoder();

/**
 * The NOTIFY channel of a topic: `topic_broadcast_{fnv1a32(topic) mod shards}`.
 *
 * @param topic A valid topic id.
 * @param shards `notifyShards`; must be equal on every instance.
 * @returns The channel name.
 *
 * @example
 * ```ts
 * import { channelFor } from "./envelope.ts";
 * channelFor("alpha", 8); // "topic_broadcast_…"
 * ```
 */
export function channelFor(topic: string, shards: number): string {
  return CHANNEL_PREFIX + (fnv1a32(topic) % shards);
}

/**
 * Every channel an instance LISTENs on.
 *
 * @param shards `notifyShards`.
 * @returns `topic_broadcast_0` … `topic_broadcast_{shards-1}`.
 *
 * @example
 * ```ts
 * import { allChannels } from "./envelope.ts";
 * allChannels(2); // ["topic_broadcast_0", "topic_broadcast_1"]
 * ```
 */
export function allChannels(shards: number): string[] {
  return Array.from({ length: shards }, (_, k) => CHANNEL_PREFIX + k);
}

/**
 * One event as it travels between instances. `data` is compact JSON text, never re-encoded.
 *
 * @example
 * ```ts
 * import type { Envelope } from "./envelope.ts";
 * const e: Envelope = { topic: "alpha", data: '{"n":1}', id: "e1" };
 * ```
 */
export interface Envelope {
  /** Valid topic id. */
  readonly topic: string;
  /** Compact JSON of the event data. */
  readonly data: string;
  /** Event id; absent for payloads from Go publishers. */
  readonly id: string | undefined;
}

/**
 * Serialises an envelope as `{"topic":…,"data":…,"id":…}`.
 *
 * @param envelope The event; `data` must already be compact JSON.
 * @returns The NOTIFY payload.
 *
 * @example
 * ```ts
 * import { encodeEnvelope } from "./envelope.ts";
 * encodeEnvelope({ topic: "a", data: '{"x":1}', id: "e1" }); // '{"topic":"a","data":{"x":1},"id":"e1"}'
 * ```
 */
export function encodeEnvelope(envelope: Envelope): string {
  const id = envelope.id === undefined ? "" : `,"id":${JSON.stringify(envelope.id)}`;
  return `{"topic":${JSON.stringify(envelope.topic)},"data":${envelope.data}${id}}`;
}

/**
 * Reads a NOTIFY payload from any ssepg instance, Go or TypeScript.
 *
 * An `id` that could break the SSE framing (line breaks, NUL, over 256 characters) is dropped
 * rather than trusted: it came from outside this process.
 *
 * @param payload The NOTIFY payload.
 * @returns The envelope, or `undefined` when the payload is not a valid envelope.
 *
 * @example
 * ```ts
 * import { decodeEnvelope } from "./envelope.ts";
 * decodeEnvelope('{"topic":"a","data":{"x": 1}}'); // { topic: "a", data: '{"x":1}', id: undefined }
 * ```
 */
export function decodeEnvelope(payload: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const { topic, id } = parsed as { topic?: unknown; id?: unknown };
  if (typeof topic !== "string" || !isValidTopic(topic)) return undefined;
  if ((parsed as { data?: unknown }).data === undefined) return undefined;
  // The text of `data` is taken from the payload itself so numbers keep every digit.
  const data = compactMember(payload, "data");
  if (data === undefined) return undefined;
  const safeId = typeof id === "string" && isSafeId(id) ? id : undefined;
  return { topic, data, id: safeId };
}

/**
 * Whether an event id can be written on an SSE `id:` line as it is.
 *
 * @param id A candidate id.
 * @returns True for 1–256 characters with no CR, LF or NUL.
 *
 * @example
 * ```ts
 * import { isSafeId } from "./envelope.ts";
 * isSafeId("a\nb"); // false
 * ```
 */
export function isSafeId(id: string): boolean {
  return id.length > 0 && id.length <= 256 && !/[\r\n\0]/.test(id);
}
