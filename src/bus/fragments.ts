/**
 * Events larger than one NOTIFY: the envelope is cut into fragments that travel on a channel of
 * their own in one transaction, and put back together by every listener.
 *
 * PostgreSQL appends one transaction's notifications to its queue together, under a lock held
 * until commit, so a listener receives them one after the other with nothing in between, in
 * commit order with every other event. A fragment set therefore needs no buffering beyond the
 * one event being rebuilt: anything but its next fragment means the set will never complete.
 *
 * Fragments go on {@link FRAGMENT_CHANNEL}, never on a `topic_broadcast_{k}` channel, so Go
 * instances (which listen only there) never see one.
 *
 * A fragment's payload is a header line and a piece of the envelope text:
 * `<event id> <index> <count> <topic>\n<piece>`, index from 0. Pieces end on character
 * boundaries, so each payload is valid text on its own.
 *
 * @module
 */

/** The channel every fragment travels on. */
export const FRAGMENT_CHANNEL = "ssepg_fragments";

/** Bytes kept free in each fragment for its header (id ≤ 256, topic ≤ 128, two counters). */
export const FRAGMENT_HEADER_ROOM = 420;

/** The smallest `maxNotifyBytes` that leaves a useful piece after the header. */
export const MIN_FRAGMENT_PAYLOAD = FRAGMENT_HEADER_ROOM + 64;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Cuts an envelope into fragment payloads of at most `maxPayloadBytes` UTF-8 bytes each.
 *
 * @param envelopeText The encoded envelope (`encodeEnvelope`), too large for one NOTIFY.
 * @param id The event id (identifies the set; never contains spaces or line breaks).
 * @param topic The event's topic.
 * @param maxPayloadBytes The largest NOTIFY payload (`maxNotifyBytes`), at least
 *   {@link MIN_FRAGMENT_PAYLOAD}.
 * @returns The payloads, in order, to be sent in one transaction on {@link FRAGMENT_CHANNEL}.
 *
 * @example
 * ```ts
 * import { splitEnvelope } from "./fragments.ts";
 * const text = `{"topic":"a","data":"${"x".repeat(20_000)}","id":"e1"}`;
 * splitEnvelope(text, "e1", "a", 7900).length; // 3
 * ```
 */
export function splitEnvelope(envelopeText: string, id: string, topic: string, maxPayloadBytes: number): string[] {
  const room = Math.max(64, maxPayloadBytes - FRAGMENT_HEADER_ROOM);
  const pieces: string[] = [];
  if (isOneByteText(envelopeText)) {
    for (let at = 0; at < envelopeText.length; at += room) pieces.push(envelopeText.slice(at, at + room));
  } else {
    const bytes = utf8.encode(envelopeText);
    for (let at = 0; at < bytes.length;) {
      let end = Math.min(bytes.length, at + room);
      // Back off to the first byte of a character (continuation bytes are 10xxxxxx).
      while (end < bytes.length && (bytes[end] & 0xc0) === 0x80) end--;
      pieces.push(utf8Decoder.decode(bytes.subarray(at, end)));
      at = end;
    }
  }
  const count = pieces.length;
  return pieces.map((piece, index) => `${id} ${index} ${count} ${topic}\n${piece}`);
}

/** Whether every character of `text` is one UTF-8 byte (ASCII), checked without copying it. */
function isOneByteText(text: string): boolean {
  // A regular expression test runs in native code: far faster than a loop for a 1 MiB text.
  return !/[\u0080-\uffff]/.test(text);
}

/**
 * A fragmented event, rebuilt.
 *
 * @example
 * ```ts
 * import type { AssembledEvent } from "./fragments.ts";
 * const event: AssembledEvent = { id: "e1", topic: "a", text: '{"topic":"a","data":1,"id":"e1"}' };
 * ```
 */
export interface AssembledEvent {
  /** The event id the fragments named. */
  readonly id: string;
  /** The topic the fragments named. */
  readonly topic: string;
  /** The envelope text. */
  readonly text: string;
}

/**
 * Called when a fragment set is dropped: `topic` (when a header named one) lost an event, and
 * `reason` says why, for the log.
 *
 * @example
 * ```ts
 * import type { DiscardHandler } from "./fragments.ts";
 * const onDiscard: DiscardHandler = (topic, reason) => console.warn(topic, reason);
 * ```
 */
export type DiscardHandler = (topic: string | undefined, reason: string) => void;

/**
 * Rebuilds fragmented events as their fragments arrive. It holds at most one set at a time, and
 * at most `maxEventBytes` UTF-8 bytes of it: since one transaction's notifications arrive
 * together, a fragment of another set, an ordinary event, or a ping in between means the open
 * set will never complete, and it is dropped. A dropped set is reported once: the fragments of it
 * that still arrive are ignored quietly.
 *
 * @example
 * ```ts
 * import { FragmentAssembler, splitEnvelope } from "./fragments.ts";
 * const text = `{"topic":"a","data":"${"x".repeat(20_000)}","id":"e1"}`;
 * const assembler = new FragmentAssembler(1_048_576, (topic, reason) => console.warn(topic, reason));
 * let event;
 * for (const payload of splitEnvelope(text, "e1", "a", 7900)) event = assembler.accept(payload);
 * event?.text === text; // true
 * ```
 */
export class FragmentAssembler {
  readonly #maxBytes: number;
  readonly #onDiscard: DiscardHandler;
  #id: string | undefined;
  #topic = "";
  #count = 0;
  #pieces: string[] = [];
  #bytes = 0;
  /** The id of the set dropped last: its later fragments are ignored without a word. */
  #dropped: string | undefined;
  /** Sets completed. */
  completed = 0;
  /** Sets dropped before completing (broken, too large, or interrupted). */
  discarded = 0;

  /**
   * Creates an assembler.
   *
   * @param maxEventBytes The largest envelope this instance takes (`maxEventBytes`, UTF-8 bytes);
   *   a set that grows past it is dropped.
   * @param onDiscard Told once of every set dropped.
   */
  constructor(maxEventBytes: number, onDiscard: DiscardHandler) {
    this.#maxBytes = maxEventBytes;
    this.#onDiscard = onDiscard;
  }

  /** UTF-8 bytes held for the set being rebuilt (what reassembly costs in memory right now). */
  get heldBytes(): number {
    return this.#bytes;
  }

  /** Whether a set is being rebuilt. */
  get open(): boolean {
    return this.#id !== undefined;
  }

  /**
   * Takes one payload from {@link FRAGMENT_CHANNEL}. A first fragment while another set is open
   * drops the open one.
   *
   * @param payload The NOTIFY payload.
   * @returns The event when this fragment completed it; undefined while more are expected or
   *   when the fragment was dropped (the {@link DiscardHandler} was told, once per set).
   */
  accept(payload: string): AssembledEvent | undefined {
    const newline = payload.indexOf("\n");
    const header = newline < 0 ? [] : payload.slice(0, newline).split(" ");
    const [id, indexText, countText, topic] = header;
    const index = Number(indexText);
    const count = Number(countText);
    const piece = payload.slice(newline + 1);
    if (
      header.length !== 4 || !id || !topic || !/^\d{1,9}$/.test(indexText) || !/^\d{1,9}$/.test(countText) ||
      index >= count || count < 2 || piece.length === 0
    ) {
      this.interrupt();
      if (id !== undefined && id === this.#dropped) return undefined;
      this.#dropped = id;
      return this.#discard(topic, "a fragment with a malformed header");
    }
    if (index === 0) {
      this.interrupt();
      this.#dropped = undefined;
      this.#id = id;
      this.#topic = topic;
      this.#count = count;
    } else if (id !== this.#id || index !== this.#pieces.length || count !== this.#count || topic !== this.#topic) {
      // A later fragment with no set open, or out of its place: its set cannot be rebuilt.
      this.interrupt();
      if (id === this.#dropped) return undefined;
      this.#dropped = id;
      return this.#discard(topic, `fragment ${index} of ${count} of event ${id} arrived without the ones before it`);
    }
    this.#pieces.push(piece);
    this.#bytes += byteLength(piece);
    if (this.#bytes > this.#maxBytes) {
      this.#reset();
      this.#dropped = id;
      return this.#discard(topic, `event ${id} is larger than maxEventBytes (${this.#maxBytes} bytes)`);
    }
    if (this.#pieces.length < count) return undefined;
    const text = this.#pieces.join("");
    this.#reset();
    this.completed++;
    return { id, topic, text };
  }

  /**
   * Drops the open set, if any, telling the {@link DiscardHandler}: something other than its
   * next fragment arrived, or the listener lost its connection.
   *
   * @param tell False when the caller reports the loss itself (a lost connection gives every
   *   subscriber a gap anyway): the set is counted as discarded, the handler is not called.
   */
  interrupt(tell = true): void {
    if (this.#id === undefined) return;
    const id = this.#id;
    const topic = this.#topic;
    const missing = this.#count - this.#pieces.length;
    this.#reset();
    this.#dropped = id;
    if (tell) this.#discard(topic, `event ${id} was interrupted with ${missing} of its fragments missing`);
    else this.discarded++;
  }

  #reset(): void {
    this.#id = undefined;
    this.#topic = "";
    this.#count = 0;
    this.#pieces = [];
    this.#bytes = 0;
  }

  #discard(topic: string | undefined, reason: string): undefined {
    this.discarded++;
    this.#onDiscard(topic, reason);
    return undefined;
  }
}

/** UTF-8 length, fast for the ASCII pieces most events are made of. */
function byteLength(text: string): number {
  return isOneByteText(text) ? text.length : utf8.encode(text).length;
}
