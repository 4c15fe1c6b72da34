/**
 * The SSE response body of one subscriber, as a pull-driven `ReadableStream`.
 *
 * The stream enqueues only when the runtime asks for data (`pull`), so nothing piles up inside
 * it: frames wait in the topic ring until the socket can take them, and everything waiting at
 * that moment leaves in one chunk. A subscriber whose runtime stops asking falls behind in the
 * ring and is dropped by the dispatcher.
 *
 * @module
 */

import type { Dispatcher } from "../dispatcher/dispatcher.ts";
import type { FrameStyle, StoredEvent } from "../dispatcher/event.ts";
import type { Subscriber, SubscriberSink } from "../dispatcher/subscriber.ts";
import { concatBytes, encodeComment, encodeEvent, encodeRetry, KEEP_ALIVE, SHUTTING_DOWN } from "./frame.ts";
import { compressConstant, type CompressedFrame, compressFrame, type Deflate, GzipStream } from "./gzip.ts";

/**
 * How long a dropped subscriber's runtime may take to ask for more data (the socket drained)
 * before the stream is errored: a client that never reads again is cut off rather than held.
 */
export const DROP_GRACE_MS = 5_000;

/** What one stream needs to know. */
export interface EventStreamOptions {
  /** Valid, distinct topic ids. */
  readonly topics: readonly string[];
  /** The `retry:` hint in ms. */
  readonly retry: number;
  /** Resume after this id. */
  readonly lastEventId?: string | undefined;
  /** Called once when the stream ends, however it ends. */
  readonly onEnd?: () => void;
  /** gzip the stream with this compressor (shared pieces; see gzip.ts). */
  readonly gzip?: Deflate | undefined;
  /** Cut-off time after a drop, in ms. @default DROP_GRACE_MS */
  readonly dropGrace?: number;
}

/**
 * Where an adapter that owns the socket writes a stream's bytes itself, instead of reading the
 * `ReadableStream` (no reader, promise or queue per chunk; see {@link takeDirectStream}).
 */
export interface DirectWriter {
  /** Writes a chunk; false once the socket's buffer is full (then call `resume()` on drain). */
  write(chunk: Uint8Array): boolean;
  /** Ends the response cleanly. */
  end(): void;
  /** Cuts the connection. */
  destroy(): void;
}

/** An event stream driven through a {@link DirectWriter}. */
export interface DirectStream {
  /** Starts writing: the preamble at once, then events as they come and the socket drains. */
  attach(writer: DirectWriter): void;
  /** The socket drained: write what is waiting. */
  resume(): void;
  /** The client went away: unsubscribe. */
  cancel(): void;
}

const directStreams = new WeakMap<ReadableStream<Uint8Array>, EventStreamSink>();

/**
 * Takes over an event stream's body for direct writing, if `body` is one that nothing has read
 * yet. Any other body (or a second call) gets undefined and is read as a stream.
 *
 * @param body A response body.
 * @returns The stream to drive, or undefined.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { openEventStream, takeDirectStream } from "./event_stream.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const direct = takeDirectStream(openEventStream(dispatcher, { topics: ["alpha"], retry: 5000 }));
 * direct?.attach({ write: (chunk) => true, end() {}, destroy() {} }); // writes retry + listening
 * direct?.cancel();
 * dispatcher.close();
 * ```
 */
export function takeDirectStream(body: ReadableStream<Uint8Array> | null | undefined): DirectStream | undefined {
  const sink = body ? directStreams.get(body) : undefined;
  if (!sink || body!.locked) return undefined;
  directStreams.delete(body!);
  return sink;
}

/**
 * The `event: gap` frame: events after `lastEventId` may be missing, resync.
 *
 * @param lastEventId The last id the client is known to have, if any.
 * @returns The frame bytes.
 *
 * @example
 * ```ts
 * import { gapFrame } from "./event_stream.ts";
 * gapFrame("e1"); // event: gap / data: {"lastEventId":"e1"}
 * ```
 */
export function gapFrame(lastEventId: string | undefined): Uint8Array {
  return encodeEvent({ event: "gap", data: JSON.stringify({ lastEventId: lastEventId ?? null }) });
}

/**
 * Subscribes to `topics` and returns the SSE body for it.
 *
 * @param dispatcher The instance's dispatcher.
 * @param options Topics, retry hint and resume point.
 * @returns The body stream; cancelling it unsubscribes.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { openEventStream } from "./event_stream.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const body = openEventStream(dispatcher, { topics: ["alpha"], retry: 5000 });
 * await body.cancel();
 * dispatcher.close();
 * ```
 */
export function openEventStream(dispatcher: Dispatcher, options: EventStreamOptions): ReadableStream<Uint8Array> {
  const sink = new EventStreamSink(dispatcher, options);
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (controller) => sink.start(controller),
      pull: () => sink.pull(),
      cancel: () => sink.end(),
    },
    { highWaterMark: 0 },
  );
  directStreams.set(stream, sink);
  return stream;
}

/** The last uncompressed chunk built, with the parts and style it was built from. */
let lastChunk: { parts: (Uint8Array | StoredEvent)[]; style: FrameStyle; bytes: Uint8Array } | undefined;

/**
 * The frames of `parts` as one chunk. Subscribers at the same place in a topic take the same
 * events in one flush (all 1000 of scenario A when they fall behind together), so the chunk
 * built for the previous subscriber is reused when the parts are the same objects: one buffer,
 * shared and never modified, instead of a copy of every event per subscriber.
 */
function sharedChunk(parts: (Uint8Array | StoredEvent)[], style: FrameStyle): Uint8Array {
  if (parts.length === 1) {
    const only = parts[0];
    return only instanceof Uint8Array ? only : only.frame(style);
  }
  const last = lastChunk;
  if (last && last.style === style && last.parts.length === parts.length) {
    let same = true;
    for (let i = 0; i < parts.length && same; i++) same = parts[i] === last.parts[i];
    if (same) return last.bytes;
  }
  const bytes = concatBytes(parts.map((p) => p instanceof Uint8Array ? p : p.frame(style)));
  lastChunk = { parts, style, bytes };
  return bytes;
}

class EventStreamSink implements SubscriberSink, DirectStream {
  readonly #dispatcher: Dispatcher;
  readonly #options: EventStreamOptions;
  readonly #style: FrameStyle;
  #subscriber!: Subscriber;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Set when an adapter writes to the socket itself; the controller is then unused. */
  #writer: DirectWriter | undefined;
  /** Per-stream frames (preamble, gap, keep-alive) that go before the next events. */
  #control: Uint8Array[] = [];
  /** The runtime asked for data and got none yet. */
  #waiting = false;
  #draining = false;
  #ended = false;
  /** Dropped by the dispatcher: end at the next pull, or cut off after DROP_GRACE_MS. */
  #cutTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #deflate: Deflate | undefined;
  readonly #gzip: GzipStream | undefined;

  constructor(dispatcher: Dispatcher, options: EventStreamOptions) {
    this.#dispatcher = dispatcher;
    this.#options = options;
    this.#style = options.topics.length > 1 ? "topic" : "message";
    this.#deflate = options.gzip;
    this.#gzip = options.gzip ? new GzipStream() : undefined;
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
    const { subscriber, gap } = this.#dispatcher.subscribe(this.#options.topics, this, {
      lastEventId: this.#options.lastEventId,
    });
    this.#subscriber = subscriber;
    this.#control.push(
      encodeRetry(this.#options.retry),
      encodeComment(`listening ${this.#options.topics.join(",")}`),
    );
    if (gap) this.#pushGap(this.#options.lastEventId);
  }

  #pushGap(lastEventId: string | undefined): void {
    this.#dispatcher.gaps++;
    this.#control.push(gapFrame(lastEventId));
  }

  pull(): void {
    if (this.#cutTimer !== undefined) return this.#finish();
    this.#waiting = true;
    this.#deliver();
  }

  attach(writer: DirectWriter): void {
    this.#writer = writer;
    this.pull();
  }

  resume(): void {
    if (this.#writer && !this.#waiting) this.pull();
  }

  cancel(): void {
    this.end();
  }

  #deliver(): void {
    if (!this.#waiting || this.#ended) return;
    const sub = this.#subscriber;
    const parts: (Uint8Array | StoredEvent)[] = this.#control;
    this.#control = [];
    if (!sub.closed) {
      const events = sub.take();
      if (sub.skipped) {
        this.#dispatcher.gaps++;
        parts.push(gapFrame(sub.lastId));
      }
      for (const event of events) parts.push(event);
    }
    const finishing = this.#draining && !sub.hasPending;
    if (finishing) parts.push(SHUTTING_DOWN);
    if (parts.length === 0) {
      sub.demand = true;
      return;
    }
    this.#waiting = false;
    sub.demand = false;
    sub.lastWriteAt = Date.now();
    const chunk = this.#encode(parts);
    if (!this.#writer) this.#controller.enqueue(chunk);
    else if (this.#writer.write(chunk) && !finishing) {
      // The socket takes more at once: the next event is written as soon as it arrives.
      this.#waiting = true;
      sub.demand = !sub.closed;
    }
    if (finishing) this.#finish();
  }

  /** One chunk for the socket: frames as they are, or their shared compressed pieces. */
  #encode(parts: (Uint8Array | StoredEvent)[]): Uint8Array {
    const style = this.#style;
    if (!this.#gzip) return sharedChunk(parts, style);
    const deflate = this.#deflate!;
    return this.#gzip.write(parts.map((p): CompressedFrame => {
      if (!(p instanceof Uint8Array)) return p.encodedFrame(style, (frame) => compressFrame(frame, deflate));
      return p === KEEP_ALIVE || p === SHUTTING_DOWN ? compressConstant(p, deflate) : compressFrame(p, deflate);
    }));
  }

  ready(): void {
    this.#deliver();
  }

  idle(): void {
    if (!this.#control.includes(KEEP_ALIVE)) this.#control.push(KEEP_ALIVE);
    this.#deliver();
  }

  gap(): void {
    this.#pushGap(this.#subscriber.lastId);
    this.#deliver();
  }

  drop(): void {
    // The runtime is still writing what it took last: a client that reads again gets it, then a
    // clean end, and reconnects with the last id it saw. One that never reads again would keep
    // the connection forever, so after DROP_GRACE_MS the stream is errored, which makes the
    // runtime close it (the Node adapter at once; Deno and Bun once their write completes).
    if (this.#waiting) return this.#finish();
    this.#cutTimer = setTimeout(() => this.abort(), this.#options.dropGrace ?? DROP_GRACE_MS);
  }

  shutdown(): void {
    this.#draining = true;
    this.#deliver();
  }

  abort(): void {
    if (this.#ended) return;
    try {
      if (this.#writer) this.#writer.destroy();
      else this.#controller.error(new Error("ssepg: stream cut off"));
    } catch {
      // Already closed by the runtime.
    }
    this.end();
  }

  #finish(): void {
    if (this.#ended) return;
    try {
      // A graceful end closes the gzip stream properly: final block and trailer.
      const trailer = this.#gzip?.end();
      if (this.#writer) {
        if (trailer) this.#writer.write(trailer);
        this.#writer.end();
      } else {
        if (trailer) this.#controller.enqueue(trailer);
        this.#controller.close();
      }
    } catch {
      // Already closed or errored by the runtime.
    }
    this.end();
  }

  /** Unsubscribes; runs once whether the client left, the server dropped it or it drained. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#cutTimer);
    this.#dispatcher.unsubscribe(this.#subscriber);
    this.#options.onEnd?.();
  }
}
