/**
 * The SSE body of one subscriber: an {@link EventStream} that an adapter attaches its own
 * writer to (`node:http` writes to the socket), or reads as a pull-driven `ReadableStream`
 * (`Deno.serve`, `Bun.serve`, any `fetch` platform).
 *
 * Either way nothing piles up inside it: frames wait in the topic ring until the writer can
 * take them, and everything waiting at that moment leaves in one chunk. A subscriber whose
 * writer stops taking falls behind in the ring and is dropped by the dispatcher.
 *
 * @module
 */

import type { Dispatcher } from "../dispatcher/dispatcher.ts";
import type { FrameStyle, StoredEvent } from "../dispatcher/event.ts";
import type { Subscriber } from "../dispatcher/subscriber.ts";
import { TopicLimitError } from "../dispatcher/topic_limit_error.ts";
import type { HopTracer } from "../hops/hop_tracer.ts";
import type { ChunkCache } from "./chunk_cache.ts";
import { concatBytes } from "../bytes.ts";
import { encodeComment, encodeEvent, encodeRetry, KEEP_ALIVE, SHUTTING_DOWN } from "./frame.ts";
import { compressConstant, type CompressedFrame, compressFrame, type Deflate, GzipStream } from "./gzip.ts";

/**
 * How long a dropped subscriber's writer may take to drain before the stream is cut off: a
 * client that never reads again is disconnected rather than held.
 */
export const DROP_GRACE_MS = 5_000;

/** The longest delay `setTimeout` honours: longer ones fire at once (Deno, Bun and Node alike). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What one stream needs to know.
 *
 * @example
 * ```ts
 * import type { EventStreamOptions } from "./event_stream.ts";
 * const options: EventStreamOptions = { topics: ["alpha"], retry: 5000, lastEventId: "e1" };
 * ```
 */
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
  /** Shares the chunk of one flush between subscribers that take the same events. */
  readonly chunks?: ChunkCache | undefined;
  /** Cut-off time after a drop, in ms. @default DROP_GRACE_MS */
  readonly dropGrace?: number;
  /** Hop timing (`traceHops`): told of every event written. @default none */
  readonly hops?: HopTracer | undefined;
}

/**
 * Where an adapter writes a stream's bytes.
 *
 * @example
 * ```ts
 * import type { StreamWriter } from "./event_stream.ts";
 * const chunks: Uint8Array[] = [];
 * const writer: StreamWriter = { write: (chunk) => chunks.push(chunk) < 100, end() {}, destroy() {} };
 * ```
 */
export interface StreamWriter {
  /** Writes a chunk; false once the writer is full (then call `resume()` when it drains). */
  write(chunk: Uint8Array): boolean;
  /** Ends the response cleanly. */
  end(): void;
  /** Cuts the connection. */
  destroy(): void;
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
 * Subscribes to `topics` and returns the SSE body as a Web stream (cancelling it unsubscribes).
 *
 * @param dispatcher The instance's dispatcher.
 * @param options Topics, retry hint and resume point.
 * @returns The body stream.
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
  return new EventStream(dispatcher, options).readable();
}

/**
 * One subscriber's event stream. Nothing is subscribed until a writer is attached (or the
 * readable is read), so a reply that is never sent holds nothing.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { EventStream } from "./event_stream.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const stream = new EventStream(dispatcher, { topics: ["alpha"], retry: 5000 });
 * stream.attach({ write: () => true, end() {}, destroy() {} }); // writes retry + listening
 * stream.cancel();
 * dispatcher.close();
 * ```
 */
export class EventStream {
  readonly #dispatcher: Dispatcher;
  readonly #options: EventStreamOptions;
  readonly #style: FrameStyle;
  #subscriber: Subscriber | undefined;
  #writer: StreamWriter | undefined;
  /** Per-stream frames (preamble, gap, keep-alive) that go before the next events. */
  #control: Uint8Array[] = [];
  /** The writer can take a chunk now. */
  #waiting = false;
  #draining = false;
  #ended = false;
  /** Dropped by the dispatcher: end at the next drain, or cut off after the grace time. */
  #cutTimer: ReturnType<typeof setTimeout> | undefined;
  /** When and with which comment the stream ends (its token expires); see endAt(). */
  #deadline: { at: number; comment: Uint8Array } | undefined;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline passed: the final comment goes out at the next chance, nothing else. */
  #expired = false;
  readonly #gzip: GzipStream | undefined;

  /**
   * Prepares the stream; {@link EventStream.attach} starts it.
   *
   * @param dispatcher The instance's dispatcher.
   * @param options Topics, retry hint, resume point, compression.
   */
  constructor(dispatcher: Dispatcher, options: EventStreamOptions) {
    this.#dispatcher = dispatcher;
    this.#options = options;
    this.#style = options.topics.length > 1 ? "topic" : "message";
    this.#gzip = options.gzip ? new GzipStream() : undefined;
  }

  /**
   * Subscribes and starts writing: the preamble at once, then events as they come and the
   * writer drains. Call once.
   *
   * @param writer Where the bytes go.
   */
  attach(writer: StreamWriter): void {
    if (this.#writer) throw new Error("Cannot attach a second writer to an event stream");
    this.#writer = writer;
    let subscription;
    try {
      // A stream that waits for its resume id (see Dispatcher.subscribe) needs nothing here:
      // take() gives nothing until the wait ends, keep-alives still go out, and at the deadline
      // gap() writes the notice (naming the resume id) and then what arrived meanwhile.
      subscription = this.#dispatcher.subscribe(this.#options.topics, this, {
        lastEventId: this.#options.lastEventId,
      });
    } catch (error) {
      if (!(error instanceof TopicLimitError)) throw error;
      // The HTTP layer checked canSubscribe() before answering 200, but other subscriptions
      // took the last topics since: the headers are sent, so end at once with a comment.
      this.#writer.write(this.#encode([encodeRetry(this.#options.retry), encodeComment("too many topics, retry")]));
      return this.#finish();
    }
    const { subscriber, gap } = subscription;
    this.#subscriber = subscriber;
    this.#control.push(encodeRetry(this.#options.retry), encodeComment(`listening ${this.#options.topics.join(",")}`));
    if (gap) this.#pushGap(this.#options.lastEventId);
    this.#armDeadline();
    if (!this.#ended) this.resume();
  }

  /**
   * Ends the stream at `at` (epoch ms): what the writer already took stays delivered, then
   * `: <comment>` and a clean end, so that the client reconnects (with a fresh token) and
   * resumes after the last id it saw. Events not yet written are not sent: they wait in the
   * ring for that resume. The timer goes when the stream ends earlier. Call before or after
   * {@link EventStream.attach}; a later call replaces the deadline.
   *
   * @param at Epoch ms at which the stream ends.
   * @param comment The final comment, without `: ` (one line).
   *
   * @example
   * ```ts
   * import { Dispatcher } from "../dispatcher/dispatcher.ts";
   * import { EventStream } from "./event_stream.ts";
   * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
   * const stream = new EventStream(dispatcher, { topics: ["alpha"], retry: 5000 });
   * stream.endAt(Date.now() + 60_000, "token expired");
   * stream.attach({ write: () => true, end() {}, destroy() {} });
   * stream.cancel(); // clears the timer
   * dispatcher.close();
   * ```
   */
  endAt(at: number, comment: string): void {
    this.#deadline = { at, comment: encodeComment(comment) };
    if (this.#writer) this.#armDeadline();
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    const deadline = this.#deadline;
    if (!deadline || this.#ended) return;
    const left = deadline.at - Date.now();
    if (left <= 0) return this.#expire();
    // Timers fire at once beyond 2^31-1 ms (24.8 days) on every runtime: wait in steps.
    this.#deadlineTimer = setTimeout(() => this.#armDeadline(), Math.min(left, MAX_TIMER_MS));
  }

  #expire(): void {
    if (this.#ended) return;
    this.#expired = true;
    // A writer that cannot take the comment now gets it when it drains (resume()); one that
    // never drains again is cut off after the drop grace time, as a dropped subscriber is.
    if (this.#waiting) this.#writeFinal();
    else if (this.#cutTimer === undefined) {
      this.#cutTimer = setTimeout(() => this.abort(), this.#options.dropGrace ?? DROP_GRACE_MS);
    }
  }

  #writeFinal(): void {
    if (this.#ended) return;
    try {
      // The preamble too, when the deadline came before the first write.
      this.#writer!.write(this.#encode([...this.#control, this.#deadline!.comment]));
    } catch {
      // Closed by the runtime meanwhile: #finish() ends the rest.
    }
    this.#control = [];
    this.#finish();
  }

  /**
   * Whether the dispatcher would accept this stream's topics now (`maxTopics`): asked before the
   * reply's headers go out, since the stream subscribes only when a writer is attached. A no is
   * counted as a refusal: the caller answers 503 instead of attaching.
   *
   * @returns False when every topic slot is taken by topics with subscribers.
   */
  canSubscribe(): boolean {
    const ok = this.#dispatcher.canSubscribe(this.#options.topics);
    if (!ok) this.#dispatcher.countRefusal();
    return ok;
  }

  /** The writer drained: write what is waiting. */
  resume(): void {
    if (this.#expired) return this.#writeFinal();
    if (this.#cutTimer !== undefined) return this.#finish();
    this.#waiting = true;
    this.#deliver();
  }

  /** The client went away: unsubscribe. */
  cancel(): void {
    this.#end();
  }

  /**
   * The stream as a pull-driven Web stream, for adapters that hand a `Response` to their
   * runtime. The runtime's `pull` is the drain signal; cancelling unsubscribes.
   *
   * @returns The body stream.
   */
  readable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start: (controller) =>
        this.attach({
          // One chunk per pull: the runtime asks again when it has written it.
          write: (chunk) => {
            controller.enqueue(chunk);
            return false;
          },
          end: () => controller.close(),
          // Erroring the stream would not close the connection any sooner (these runtimes close
          // it once their blocked write completes either way), and Deno.serve logs a stack trace
          // for every errored body: a clean end, after which the client resumes.
          destroy: () => controller.close(),
        }),
      pull: () => {
        if (!this.#waiting) this.resume();
      },
      cancel: () => this.cancel(),
    }, { highWaterMark: 0 });
  }

  #pushGap(lastEventId: string | undefined): void {
    this.#dispatcher.countGap();
    this.#control.push(gapFrame(lastEventId));
  }

  #deliver(): void {
    const sub = this.#subscriber;
    if (!this.#waiting || this.#ended || this.#expired || !sub) return;
    const parts: (Uint8Array | StoredEvent)[] = this.#control;
    this.#control = [];
    let events: StoredEvent[] | undefined;
    if (!sub.closed) {
      events = sub.take();
      if (sub.skipped) {
        this.#dispatcher.countGap();
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
    const more = this.#writer!.write(this.#encode(parts));
    const hops = this.#options.hops;
    if (hops !== undefined && events !== undefined && events.length > 0) {
      const at = performance.now();
      for (const event of events) hops.wrote(event, at);
    }
    if (more && !finishing) {
      // The writer takes more at once: the next event is written as soon as it arrives.
      this.#waiting = true;
      sub.demand = !sub.closed;
    }
    if (finishing) this.#finish();
  }

  /** One chunk for the writer: frames as they are, or their shared compressed pieces. */
  #encode(parts: (Uint8Array | StoredEvent)[]): Uint8Array {
    const style = this.#style;
    if (!this.#gzip) {
      if (parts.length === 1) {
        const only = parts[0];
        return only instanceof Uint8Array ? only : only.frame(style);
      }
      return this.#options.chunks ? this.#options.chunks.chunk(parts, style) : joinFrames(parts, style);
    }
    const deflate = this.#options.gzip!;
    return this.#gzip.write(parts.map((p): CompressedFrame => {
      if (!(p instanceof Uint8Array)) return p.encodedFrame(style, (frame) => compressFrame(frame, deflate));
      return p === KEEP_ALIVE || p === SHUTTING_DOWN ? compressConstant(p, deflate) : compressFrame(p, deflate);
    }));
  }

  /** The dispatcher has events for this subscriber. */
  ready(): void {
    this.#deliver();
  }

  /** Nothing was written for `keepAlive`. */
  idle(): void {
    if (!this.#control.includes(KEEP_ALIVE)) this.#control.push(KEEP_ALIVE);
    this.#deliver();
  }

  /** The bus lost events (LISTEN reconnect). */
  gap(): void {
    this.#pushGap(this.#subscriber?.lastId);
    this.#deliver();
  }

  /** The subscriber fell `clientBuffer` frames behind. */
  drop(): void {
    // The writer still holds what it took last: a client that reads again gets it, then a
    // clean end, and reconnects with the last id it saw. One that never reads again would keep
    // the connection forever, so after the grace time the stream is cut off, which makes the
    // runtime close it (the Node adapter at once; Deno and Bun once their write completes).
    if (this.#waiting) return this.#finish();
    this.#cutTimer = setTimeout(() => this.abort(), this.#options.dropGrace ?? DROP_GRACE_MS);
  }

  /** Graceful shutdown: write what is queued, then the shutdown comment, then end. */
  shutdown(): void {
    this.#draining = true;
    this.#deliver();
  }

  /** Cuts the connection at once. */
  abort(): void {
    if (this.#ended) return;
    try {
      this.#writer?.destroy();
    } catch {
      // Already closed by the runtime.
    }
    this.#end();
  }

  #finish(): void {
    if (this.#ended) return;
    try {
      // A graceful end closes the gzip stream properly: final block and trailer.
      const trailer = this.#gzip?.end();
      if (trailer) this.#writer?.write(trailer);
      this.#writer?.end();
    } catch {
      // Already closed or errored by the runtime.
    }
    this.#end();
  }

  /** Unsubscribes; runs once whether the client left, the server dropped it or it drained. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#cutTimer);
    clearTimeout(this.#deadlineTimer);
    if (this.#subscriber) this.#dispatcher.unsubscribe(this.#subscriber);
    this.#options.onEnd?.();
  }
}

function joinFrames(parts: (Uint8Array | StoredEvent)[], style: FrameStyle): Uint8Array {
  return concatBytes(parts.map((p) => p instanceof Uint8Array ? p : p.frame(style)));
}
