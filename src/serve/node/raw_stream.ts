/**
 * An event stream written straight to a `node:net` socket, without `node:http`'s parser,
 * request and response objects: what an idle stream holds is the socket, a small writer and the
 * stream. The socket's listeners are shared functions that find the stream through a symbol
 * on the socket, so nothing is allocated per stream for them.
 *
 * @module
 */

import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import type { StreamReply } from "../../http/reply.ts";
import type { EventStream, StreamWriter } from "../../sse/event_stream.ts";
import type { HttpChunkFramer } from "./response.ts";

/** The stream a raw socket carries, for the shared listeners. */
const STREAM: unique symbol = Symbol("ssepg.rawStream");

type StreamSocket = Socket & { [STREAM]?: EventStream };

/** HTTP/1.1: each write one ready-made chunk; the end writes the last chunk. */
class ChunkedWriter implements StreamWriter {
  readonly #socket: Socket;
  readonly #framer: HttpChunkFramer;

  constructor(socket: Socket, framer: HttpChunkFramer) {
    this.#socket = socket;
    this.#framer = framer;
  }

  write(chunk: Uint8Array): boolean {
    return this.#socket.write(this.#framer.frame(chunk));
  }

  end(): void {
    this.#socket.write(LAST_CHUNK);
    // What node:http does after the last response of a connection: close once written.
    this.#socket.destroySoon();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** HTTP/1.0: the body is delimited by the connection closing. */
class CloseDelimitedWriter implements StreamWriter {
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  write(chunk: Uint8Array): boolean {
    return this.#socket.write(chunk);
  }

  end(): void {
    this.#socket.destroySoon();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

const LAST_CHUNK = Buffer.from("0\r\n\r\n", "latin1");

/** What `node:http` refuses in a header value (its `checkInvalidHeaderChar`). */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The response head of a stream: the reply's headers, the framing, `Date`, and
 * `Connection: close` (the connection ends with the stream; bytes pipelined behind the
 * request are not answered).
 *
 * @param headers The reply's headers.
 * @param chunked HTTP/1.1 chunked framing, else close-delimited (HTTP/1.0).
 * @param date The `Date` value.
 * @returns The bytes, or undefined when a header cannot be written (as `node:http` would throw).
 *
 * @example
 * ```ts
 * import { streamHead } from "./raw_stream.ts";
 * streamHead({ "Content-Type": "text/event-stream" }, true, new Date(0).toUTCString())?.toString();
 * // "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nConnection: close\r\n\r\n"
 * ```
 */
export function streamHead(
  headers: Readonly<Record<string, string>>,
  chunked: boolean,
  date: string,
): Buffer | undefined {
  let head = "HTTP/1.1 200 OK\r\n";
  for (const name in headers) {
    const value = headers[name];
    if (INVALID_VALUE.test(value) || INVALID_VALUE.test(name)) return undefined;
    head += `${name}: ${value}\r\n`;
  }
  head += `${chunked ? "Transfer-Encoding: chunked\r\n" : ""}Date: ${date}\r\nConnection: close\r\n\r\n`;
  return Buffer.from(head, "latin1");
}

let dateSecond = -1;
let dateText = "";

/** The `Date` header value, formatted once a second (as node:http caches it). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

const INTERNAL_ERROR = Buffer.from(
  "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
  "latin1",
);

/**
 * Serves `reply` on `socket`, which has sent one `GET` head and nothing this connection still
 * answers: the head goes out with the stream's first frames in one write, the stream ends with
 * the connection, and the client leaving (FIN, reset, error) cancels it.
 *
 * @param socket The connection, paused, with no listeners of the caller's left.
 * @param reply The pipeline's stream reply.
 * @param chunked HTTP/1.1 (chunked) or HTTP/1.0 (close-delimited).
 * @param framer The listener's chunk framer.
 *
 * @example
 * ```ts
 * // inside the raw front, once the pipeline answered with a stream:
 * // serveRawStream(socket, reply, head.minor === 1, framer);
 * ```
 */
export function serveRawStream(socket: Socket, reply: StreamReply, chunked: boolean, framer: HttpChunkFramer): void {
  const { stream } = reply;
  const head = streamHead(reply.headers, chunked, httpDate());
  if (head === undefined) {
    socket.end(INTERNAL_ERROR);
    socket.destroySoon();
    return;
  }
  const s = socket as StreamSocket;
  s[STREAM] = stream;
  socket.on("error", onError).on("close", onClose).on("end", onEnd).on("drain", onDrain);
  socket.cork();
  socket.write(head);
  stream.attach(chunked ? new ChunkedWriter(socket, framer) : new CloseDelimitedWriter(socket));
  socket.uncork();
  // Read on, to see the client leave at once rather than at the next write. With no `data`
  // listener, what it sends (pipelined requests included) is read and dropped: not answered.
  socket.resume();
}

// The listeners, shared by every raw stream: `this` is the socket.

function onClose(this: StreamSocket): void {
  this.off("drain", onDrain);
  this[STREAM]?.cancel();
  this[STREAM] = undefined;
}

function onDrain(this: StreamSocket): void {
  this[STREAM]?.resume();
}

/** The client closed its side: it reads no more of the stream. */
function onEnd(this: StreamSocket): void {
  this.destroy();
}

/** A reset or write error: `close` follows and cancels the stream. */
function onError(): void {}
