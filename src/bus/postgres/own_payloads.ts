/**
 * The envelopes this instance sent, kept until their notifications come back: a payload that is
 * exactly the text sent is answered with the envelope already in hand, so an instance does not
 * parse its own events again (the JSON parse and the scan of `data` are most of what receiving
 * costs).
 *
 * @module
 */

import type { Envelope } from "../envelope.ts";

/**
 * Envelopes by id, bounded: beyond `capacity` a new one is simply not kept (it is decoded when
 * it comes back, as any other).
 *
 * @example
 * ```ts
 * import { OwnPayloads } from "./own_payloads.ts";
 * const own = new OwnPayloads(100);
 * const envelope = { topic: "a", data: "1", id: "e1" };
 * own.keep(envelope, '{"topic":"a","data":1,"id":"e1"}');
 * own.take('{"topic":"a","data":1,"id":"e1"}') === envelope; // true
 * own.take('{"topic":"a","data":1,"id":"e1"}'); // undefined: taken already
 * ```
 */
export class OwnPayloads {
  readonly #capacity: number;
  readonly #sent = new Map<string, { readonly payload: string; readonly envelope: Envelope }>();

  /**
   * Creates the store.
   *
   * @param capacity Most envelopes kept at once.
   */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Envelopes kept now. */
  get size(): number {
    return this.#sent.size;
  }

  /**
   * Keeps an envelope about to be sent.
   *
   * @param envelope The event.
   * @param payload Its NOTIFY payload, as sent.
   * @returns Whether it was kept (it has an id and there was room).
   */
  keep(envelope: Envelope, payload: string): boolean {
    if (envelope.id === undefined || this.#sent.size >= this.#capacity) return false;
    this.#sent.set(envelope.id, { payload, envelope });
    return true;
  }

  /**
   * The envelope sent as exactly `payload`, which is then forgotten.
   *
   * @param payload A NOTIFY payload received.
   * @returns The envelope, or `undefined` when the payload is not one kept (someone else's, or
   *   altered on the way): decode it then.
   */
  take(payload: string): Envelope | undefined {
    if (this.#sent.size === 0) return undefined;
    // Envelopes end with `,"id":"<id>"}` (encodeEnvelope), and ids need no escaping: the id is
    // found from the end without a parse. Whatever this finds, the whole text must match.
    const end = payload.length - 2;
    if (payload.charCodeAt(end + 1) !== 0x7d /* } */ || payload.charCodeAt(end) !== 0x22 /* " */) return undefined;
    const start = payload.lastIndexOf(',"id":"', end - 1);
    if (start < 0) return undefined;
    const id = payload.slice(start + 7, end);
    const sent = this.#sent.get(id);
    if (sent === undefined || sent.payload !== payload) return undefined;
    this.#sent.delete(id);
    return sent.envelope;
  }

  /**
   * Forgets one envelope (its publish failed, or its outcome is unknown).
   *
   * @param id Its id.
   */
  forget(id: string): void {
    this.#sent.delete(id);
  }

  /** Forgets every envelope (the listener was away: they are not coming back). */
  clear(): void {
    this.#sent.clear();
  }
}
