/**
 * One received event as every subscriber of this instance shares it.
 *
 * @module
 */

import { encodeEvent } from "../sse/frame.ts";
import { eventCost, type MemoryModel, V8_MEMORY } from "./memory_model.ts";

/**
 * How a stream names its events: `message` for one topic, the topic for several.
 *
 * @example
 * ```ts
 * import type { FrameStyle } from "./event.ts";
 * const styleFor = (topics: string[]): FrameStyle => topics.length > 1 ? "topic" : "message";
 * ```
 */
export type FrameStyle = "message" | "topic";

/**
 * What library subscribers receive.
 *
 * @example
 * ```ts
 * import type { SsepgEvent } from "./event.ts";
 * const onEvent = (event: SsepgEvent) => console.log(event.id, event.topic, JSON.parse(event.data));
 * ```
 */
export interface SsepgEvent {
  /** Event id, the same on every instance; undefined for Go publishers' events. */
  readonly id: string | undefined;
  /** Topic id. */
  readonly topic: string;
  /** Compact JSON of the published data. */
  readonly data: string;
}

/**
 * An event held in a topic's ring. Its SSE frames are encoded at most once per style, on first
 * use, and the same bytes are written to every subscriber.
 *
 * @example
 * ```ts
 * import { StoredEvent } from "./event.ts";
 * const event = new StoredEvent("alpha", '{"n":1}', "e1", 0);
 * event.frame("message") === event.frame("message"); // true: encoded once
 * ```
 */
export class StoredEvent implements SsepgEvent {
  readonly topic: string;
  readonly data: string;
  readonly id: string | undefined;
  /** Arrival order on this instance, across topics. */
  readonly seq: number;
  /** `Date.now()` when it arrived. */
  readonly receivedAt: number;
  #message: Uint8Array | undefined;
  #named: Uint8Array | undefined;
  #encoded: [unknown, unknown] | undefined;
  /**
   * Approximate bytes this event retains (see memory_model.ts). Fixed at arrival so that topic
   * totals can be kept incrementally.
   */
  readonly retainedBytes: number;

  constructor(
    topic: string,
    data: string,
    id: string | undefined,
    seq: number,
    receivedAt: number = Date.now(),
    model: MemoryModel = V8_MEMORY,
  ) {
    this.topic = topic;
    this.data = data;
    this.id = id;
    this.seq = seq;
    this.receivedAt = receivedAt;
    this.retainedBytes = eventCost(data, id, model);
  }

  /**
   * The event's SSE frame.
   *
   * @param style `message` for single-topic streams, `topic` for multi-topic streams.
   * @returns Shared bytes: never modify them.
   */
  frame(style: FrameStyle): Uint8Array {
    if (style === "message") {
      return this.#message ??= encodeEvent({ id: this.id, event: "message", data: this.data });
    }
    return this.#named ??= encodeEvent({ id: this.id, event: this.topic, data: this.data });
  }

  /**
   * The frame transformed once per style by `encode` (e.g. compressed) and shared likewise.
   * The first `encode` given for a style is the one whose result is kept.
   *
   * @param style As for {@link StoredEvent.frame}.
   * @param encode Turns the frame's bytes into the shared form.
   * @returns The cached result.
   */
  encodedFrame<T>(style: FrameStyle, encode: (frame: Uint8Array) => T): T {
    const slot = style === "message" ? 0 : 1;
    this.#encoded ??= [undefined, undefined];
    return (this.#encoded[slot] ??= encode(this.frame(style))) as T;
  }
}
