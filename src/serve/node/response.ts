/**
 * A {@link Reply} written to a `node:http` response: plain replies in one `end()` with a
 * `Content-Length`, event streams through a writer on the socket.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import { isStreamReply, type Reply, type StreamReply } from "../../http/reply.ts";
import type { StreamWriter } from "../../sse/event_stream.ts";

/**
 * Writes a stream's ready-made HTTP chunks straight to the socket: one object per stream
 * instead of a writer object with three closures (this and `ResponseWriter` are what an idle
 * stream holds besides Node's own request, response and socket).
 */
class SocketWriter implements StreamWriter {
  readonly #socket: Socket;
  readonly #res: ServerResponse;
  readonly #framer: HttpChunkFramer;

  constructor(socket: Socket, res: ServerResponse, framer: HttpChunkFramer) {
    this.#socket = socket;
    this.#res = res;
    this.#framer = framer;
  }

  write(chunk: Uint8Array): boolean {
    return this.#socket.write(this.#framer.frame(chunk));
  }

  end(): void {
    this.#res.end();
  }

  destroy(): void {
    this.#res.destroy();
  }
}

/** Writes a stream through the response (HTTP/1.0: no chunked framing). */
class ResponseWriter implements StreamWriter {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  write(chunk: Uint8Array): boolean {
    return this.#res.write(chunk);
  }

  end(): void {
    this.#res.end();
  }

  destroy(): void {
    this.#res.destroy();
  }
}

/**
 * Frames chunks as HTTP/1.1 chunks, remembering the last one: streams of one topic are
 * written the same chunk in turn, so one framing serves them all. One per listener.
 *
 * @example
 * ```ts
 * import { HttpChunkFramer } from "./response.ts";
 * const framer = new HttpChunkFramer();
 * framer.frame(new TextEncoder().encode("hi")).toString(); // "2\r\nhi\r\n"
 * ```
 */
export class HttpChunkFramer {
  #chunk: Uint8Array | undefined;
  #framed: Buffer | undefined;

  /**
   * `chunk` as one HTTP/1.1 chunk: size in hex, CRLF, the bytes, CRLF.
   *
   * @param chunk The bytes.
   * @returns The framed bytes (the same object as last time for the same chunk).
   */
  frame(chunk: Uint8Array): Buffer {
    if (this.#chunk === chunk) return this.#framed!;
    const size = chunk.byteLength.toString(16);
    const out = Buffer.allocUnsafe(size.length + chunk.byteLength + 4);
    out.write(size, 0, "latin1");
    out[size.length] = 13;
    out[size.length + 1] = 10;
    out.set(chunk, size.length + 2);
    out[out.length - 2] = 13;
    out[out.length - 1] = 10;
    this.#chunk = chunk;
    this.#framed = out;
    return out;
  }
}

/**
 * Writes `reply` to `res`.
 *
 * @param reply The pipeline's answer.
 * @param req The request (its HTTP version decides the stream framing).
 * @param res The response.
 * @param framer The listener's chunk framer.
 *
 * @example
 * ```ts
 * // sendReply(await handle(nodeHead(req)), req, res, framer);
 * ```
 */
export function sendReply(reply: Reply, req: IncomingMessage, res: ServerResponse, framer: HttpChunkFramer): void {
  if (isStreamReply(reply)) return sendStream(reply, req, res, framer);
  if (res.destroyed) return;
  const body = reply.body ?? "";
  res.writeHead(reply.status, { ...reply.headers, "Content-Length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * Streams with `drain` as the only signal: no Web stream, reader or promise per chunk. On
 * HTTP/1.1 the response is declared chunked, and while it holds the socket (Node gives a
 * pipelined response the socket only when the ones before it are done) frames go to the
 * socket as ready-made HTTP chunks, one buffer per write, instead of ServerResponse's cork,
 * size line, data and CRLF for each.
 */
function sendStream(reply: StreamReply, req: IncomingMessage, res: ServerResponse, framer: HttpChunkFramer): void {
  const { stream } = reply;
  if (res.destroyed) return;
  const chunked = req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
  res.writeHead(reply.status, chunked ? { ...reply.headers, "Transfer-Encoding": "chunked" } : reply.headers);
  res.flushHeaders();
  const socket = chunked ? res.socket : null;
  const writer = socket ? new SocketWriter(socket, res, framer) : new ResponseWriter(res);
  const drains = socket ?? res;
  const resume = () => stream.resume();
  drains.on("drain", resume);
  // `on`, not `once`: a response closes once, and once() adds a wrapper and its state per stream.
  res.on("close", () => {
    drains.off("drain", resume);
    stream.cancel();
  });
  stream.attach(writer);
}
