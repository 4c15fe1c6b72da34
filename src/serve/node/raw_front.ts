/**
 * The raw-socket front of the `node:http` listener: it reads the first request head of each
 * connection itself and, when the pipeline answers a plain `GET` with an event stream, writes
 * that stream straight to the socket ({@link serveRawStream}). An idle stream then holds no
 * HTTP parser, `IncomingMessage` or `ServerResponse`: the benchmark's scenario D (10 000 idle
 * streams) measured 6.1 instead of 12.5 KB of RSS per stream on Node 20 and 9.6 instead of
 * 14.9 KB on Deno 2.9 (live JS heap on Node: 1.9 instead of 5.8 KB).
 *
 * Everything else goes to `node:http` as if it had accepted the connection itself: the bytes
 * read are put back (`socket.unshift`) and its connection listener takes the socket. A `GET`
 * whose answer is not a stream (health, metrics, a 401 or 404) is answered there too, with the
 * reply already made, so the pipeline runs once per request and `node:http` keeps its
 * keep-alive, pipelining and error handling. This works on Node 20 and on Deno 2's `node:http`,
 * which runs Node's server code.
 *
 * @module
 */

import type { Server } from "node:http";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import type { Handler } from "../../http/handler.ts";
import { isStreamReply, type Reply } from "../../http/reply.ts";
import { splitTarget } from "../../http/request_head.ts";
import { type RawHead, readRawHead } from "./raw_head.ts";
import { serveRawStream } from "./raw_stream.ts";
import type { HttpChunkFramer } from "./response.ts";

/**
 * Replies the raw front made for a socket's first request, for the `node:http` request
 * listener to send instead of asking the pipeline again.
 *
 * @example
 * ```ts
 * import type { ReadyReplies } from "./raw_front.ts";
 * const ready: ReadyReplies = new WeakMap();
 * ```
 */
export type ReadyReplies = WeakMap<Socket, Reply>;

/**
 * The raw front of one listener.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { RawFront } from "./raw_front.ts";
 * import { HttpChunkFramer } from "./response.ts";
 * const server = createServer();
 * const front = new RawFront(server, () => Promise.resolve({ status: 204, headers: {}, body: null }), {
 *   framer: new HttpChunkFramer(), ready: new WeakMap(), headersTimeout: 10_000, maxHeaderSize: 16_384,
 * });
 * front.close(); // cuts connections whose head has not arrived
 * ```
 */
export class RawFront {
  readonly #server: Server;
  readonly #handle: Handler;
  readonly #options: RawFrontOptions;
  /** node:http's own connection listener, which the front calls for what it does not serve. */
  readonly #httpConnection: (socket: Socket) => void;
  /** Connections whose first head is still being read. */
  readonly #reading = new Set<Socket>();

  /**
   * Puts the front before `server`'s connection listener.
   *
   * @param server The `node:http` server, not yet listening.
   * @param handle The pipeline.
   * @param options Framer, ready replies, limits.
   */
  constructor(server: Server, handle: Handler, options: RawFrontOptions) {
    this.#server = server;
    this.#handle = handle;
    this.#options = options;
    const listeners = server.listeners("connection");
    if (listeners.length !== 1) {
      throw new Error(
        `Cannot put a raw front before node:http: expected 1 connection listener, found ${listeners.length}`,
      );
    }
    this.#httpConnection = listeners[0] as (socket: Socket) => void;
    server.removeListener("connection", this.#httpConnection);
    server.on("connection", (socket: Socket) => this.#accept(socket));
  }

  /** Cuts the connections whose first head has not arrived (the listener is closing). */
  close(): void {
    for (const socket of this.#reading) socket.destroy();
    this.#reading.clear();
  }

  #accept(socket: Socket): void {
    let bytes: Buffer | undefined;
    const stop = () => {
      clearTimeout(timer);
      this.#reading.delete(socket);
      socket.off("data", onData).off("error", onGone).off("end", onGone);
    };
    const onData = (chunk: Buffer) => {
      bytes = bytes === undefined ? chunk : Buffer.concat([bytes, chunk]);
      const read = readRawHead(bytes, this.#options.maxHeaderSize);
      if (read.kind === "incomplete") return;
      stop();
      socket.pause();
      if (read.kind === "other") return this.#toHttp(socket, bytes);
      void this.#answer(socket, read.head, bytes);
    };
    const onGone = () => {
      stop();
      socket.destroy();
    };
    const timer = setTimeout(() => {
      // As node:http does when a head is late: 408, then close.
      stop();
      if (socket.writable) socket.write(REQUEST_TIMEOUT);
      socket.destroy();
    }, this.#options.headersTimeout);
    this.#reading.add(socket);
    socket.on("data", onData).on("error", onGone).on("end", onGone);
  }

  async #answer(socket: Socket, raw: RawHead, bytes: Buffer): Promise<void> {
    // No `error` listener is left while the pipeline answers; a reset then must not throw.
    socket.on("error", ignore);
    let reply: Reply;
    try {
      const { path, query } = splitTarget(raw.target);
      reply = await this.#handle({ method: "GET", path, query, headers: raw.headers, body: noBody });
    } catch {
      // The pipeline answers every failure itself; let node:http ask it once more.
      return this.#toHttp(socket, bytes);
    }
    if (!isStreamReply(reply)) {
      this.#options.ready.set(socket, reply);
      return this.#toHttp(socket, bytes);
    }
    // Gone while the pipeline answered: the stream was never attached, so nothing subscribed.
    if (socket.destroyed) return;
    socket.off("error", ignore);
    serveRawStream(socket, reply, raw.minor === 1, this.#options.framer);
  }

  /** Hands the connection to node:http with the bytes read put back. */
  #toHttp(socket: Socket, bytes: Buffer): void {
    if (socket.destroyed) return;
    socket.off("error", ignore);
    // node:http lets its parser read the socket's handle directly ("consume") unless the handle
    // was consumed before. On Deno that parser then sees bytes that arrive now before the bytes
    // put back below: a POST body split over packets was parsed as requests of its own (a 400,
    // or a smuggled request). Marking the handle makes node:http read through the stream, in
    // order. Node is left on its fast path: there, the put-back bytes flow on the next tick,
    // before any new read can reach the parser.
    if (IS_DENO) markConsumed(socket);
    socket.unshift(bytes);
    this.#httpConnection.call(this.#server, socket);
    socket.resume();
  }
}

const IS_DENO = "Deno" in globalThis;

function markConsumed(socket: Socket): void {
  const handle = (socket as unknown as { _handle?: { _consumed?: boolean } | null })._handle;
  if (handle) handle._consumed = true;
}

/**
 * Options of {@link RawFront}.
 *
 * @example
 * ```ts
 * import type { RawFrontOptions } from "./raw_front.ts";
 * import { HttpChunkFramer } from "./response.ts";
 * const options: RawFrontOptions = { framer: new HttpChunkFramer(), ready: new WeakMap(), headersTimeout: 10_000, maxHeaderSize: 16_384 };
 * ```
 */
export interface RawFrontOptions {
  /** The listener's chunk framer, shared with its `node:http` streams. */
  readonly framer: HttpChunkFramer;
  /** Where replies made here wait for the `node:http` request listener. */
  readonly ready: ReadyReplies;
  /** How long a connection may take to send its first head, in ms. */
  readonly headersTimeout: number;
  /** The largest first head read here; a longer one goes to node:http (which answers 431). */
  readonly maxHeaderSize: number;
}

const REQUEST_TIMEOUT = Buffer.from("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n", "latin1");

const noBody = () => Promise.resolve(new Uint8Array(0));

function ignore(): void {}
