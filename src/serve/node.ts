/**
 * The `node:http` listener: Node's request/response objects bridged to a `fetch` handler.
 * Import it as `ssepg/node` to serve ssepg from your own `http.createServer`.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Buffer } from "node:buffer";
import { versions } from "node:process";
import { bodyTimedOut, bodyTooLarge } from "../http/body.ts";
import { type DirectStream, takeDirectStream } from "../sse/event_stream.ts";
import { type PublishRoute, publishRouteFor } from "../http/publish.ts";
import type { RequestHead } from "../http/request_head.ts";
import type { FetchHandler, Listener, ListenOptions } from "./listener.ts";

export type { FetchHandler, Listener, ListenOptions } from "./listener.ts";

/**
 * Converts a Node request into a Web `Request` whose signal aborts when the client leaves.
 *
 * @param req The Node request.
 * @param res Its response (its `close` event marks the client leaving).
 * @param options `signal: false` leaves the request without an abort signal (cheaper).
 * @returns The Web request.
 *
 * @example
 * ```ts
 * // inside an http.createServer callback:
 * // const request = toRequest(req, res);
 * ```
 */
export function toRequest(req: IncomingMessage, res: ServerResponse, options: { signal?: boolean } = {}): Request {
  let signal: AbortSignal | undefined;
  if (options.signal !== false) {
    const controller = new AbortController();
    signal = controller.signal;
    // Only a client that leaves before the response is complete aborts (an abort costs a
    // DOMException and an event per request).
    res.once("close", () => {
      if (!res.writableFinished) controller.abort();
    });
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) { for (const v of value) headers.append(name, v); }
    else headers.set(name, value);
  }
  const host = req.headers.host ?? "localhost";
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(`http://${host}${req.url ?? "/"}`, {
    method,
    headers,
    signal,
    body: hasBody ? requestBody(req) : undefined,
    // @ts-ignore: `duplex` is required by Node's fetch for streamed bodies but not in the DOM types
    duplex: hasBody ? "half" : undefined,
  });
}

/**
 * The request body as a Web stream that honours backpressure and cancellation.
 *
 * Node 20's `Readable.toWeb(req)` keeps enqueueing after the stream was cancelled (a handler that
 * refuses an oversized body with 413) and throws an uncaught ERR_INVALID_STATE that ends the
 * process; this adapter stops at cancel and discards the rest.
 */
function requestBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Uint8Array) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once("end", () => {
        if (done) return;
        done = true;
        controller.close();
      });
      req.once("error", (error) => {
        if (done) return;
        done = true;
        controller.error(error);
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.resume(); // drain and drop what the client still sends
    },
  }, { highWaterMark: 4 });
}

/**
 * Writes a Web `Response` to a Node response, chunk by chunk, waiting for `drain` so a slow
 * client applies backpressure instead of growing Node's buffer.
 *
 * @param response The Web response.
 * @param res The Node response.
 *
 * @example
 * ```ts
 * // await writeResponse(await handler(request), res);
 * ```
 */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  const direct = takeDirectStream(response.body);
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  if (direct) return writeDirect(direct, res);
  const reader = response.body.getReader();
  const closed = new Promise<void>((resolve) => res.once("close", resolve));
  // An errored body (a stream cut off while its client does not read) closes the socket even
  // while a write is waiting for `drain`.
  reader.closed.catch(() => res.destroy());
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), closed.then(() => undefined)]);
      if (!next || next.done) break;
      if (!res.write(next.value)) {
        await Promise.race([new Promise((resolve) => res.once("drain", resolve)), closed]);
      }
      if (res.destroyed) break;
    }
  } catch {
    res.destroy();
    return;
  } finally {
    reader.cancel().catch(() => {});
  }
  res.end();
}

/**
 * The direct path for event streams: frames go to `res.write` as they come, with `drain` as
 * the only signal, and no Web stream, reader or promise per chunk in between.
 */
function writeDirect(direct: DirectStream, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const socket = res.socket;
    // When this response owns the socket, frames go to it as ready-made HTTP chunks, one buffer
    // per write, instead of ServerResponse's cork, size string, data and CRLF for each one.
    const raw = socket !== null && (res as { chunkedEncoding?: boolean }).chunkedEncoding === true &&
      (socket as { _httpMessage?: unknown })._httpMessage === res;
    const emitter = raw ? socket : res;
    const resume = () => direct.resume();
    emitter.on("drain", resume);
    res.once("close", () => {
      emitter.off("drain", resume);
      direct.cancel();
      resolve();
    });
    direct.attach({
      write: raw ? (chunk) => socket.write(httpChunk(chunk)) : (chunk) => res.write(chunk),
      end: () => res.end(),
      destroy: () => res.destroy(),
    });
  });
}

/** The last chunk framed and its framing: streams of one topic are written the same chunk in turn. */
let lastFramed: { chunk: Uint8Array; framed: Buffer } | undefined;

/** `chunk` framed as one HTTP/1.1 chunk: size in hex, CRLF, the bytes, CRLF. */
function httpChunk(chunk: Uint8Array): Buffer {
  if (lastFramed?.chunk === chunk) return lastFramed.framed;
  const size = chunk.byteLength.toString(16);
  const out = Buffer.allocUnsafe(size.length + chunk.byteLength + 4);
  out.write(size, 0, "latin1");
  out[size.length] = 13;
  out[size.length + 1] = 10;
  out.set(chunk, size.length + 2);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  lastFramed = { chunk, framed: out };
  return out;
}

/**
 * Adapts a `fetch` handler to a `node:http` request listener, for `http.createServer`.
 *
 * @param handler The fetch handler, e.g. `svc.fetch`.
 * @param options `signal: false` when the handler never reads `request.signal` (ssepg's do
 *   not): saves a listener, a WeakRef and a finalizer per request.
 * @returns A `(req, res)` listener that streams responses with backpressure.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createSsepg } from "../../mod.ts";
 * import { nodeHandler } from "./node.ts";
 * const svc = await createSsepg();
 * const server = createServer(nodeHandler(svc.fetch));
 * server.requestTimeout = 0; // SSE streams outlive Node's 300 s default
 * ```
 */
export function nodeHandler(
  handler: FetchHandler,
  options: { signal?: boolean } = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const publish = publishRouteFor(handler);
  return async (req, res) => {
    const topic = publish?.match(req.method ?? "", req.url ?? "");
    if (topic !== undefined) return publishDirect(publish!, topic, req, res).catch(() => void res.destroy());
    try {
      await writeResponse(await handler(toRequest(req, res, options)), res);
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  };
}

/**
 * Answers a publish from Node's own request and response objects: no Web `Request`, body
 * stream or `Response` in between.
 */
async function publishDirect(
  route: PublishRoute,
  topic: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const answer = await route.handle(nodeHead(req), topic, (limit, timeout) => readNodeBody(req, limit, timeout));
  if (res.destroyed) return;
  res.writeHead(answer.status, { ...answer.headers, "Content-Length": String(Buffer.byteLength(answer.body)) });
  res.end(answer.body);
}

/** The method, URL and headers of a Node request, read only when asked for. */
function nodeHead(req: IncomingMessage): RequestHead {
  const value = (name: string) => {
    const v = req.headers[name];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  };
  return {
    method: req.method ?? "GET",
    get url() {
      return `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
    },
    headers: { get: value, has: (name) => req.headers[name] !== undefined },
  };
}

/**
 * Reads a Node request body within `limit` bytes and `timeout` ms. What is refused is
 * drained and dropped (the answer carries `Connection: close`), so the client can read it.
 */
function readNodeBody(req: IncomingMessage, limit: number, timeout: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const header = req.headers["content-length"];
    if (header !== undefined && /^\d+$/.test(header) && Number(header) > limit) {
      req.resume();
      return reject(bodyTooLarge(limit, Number(header)));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error?: unknown) => {
      clearTimeout(timer);
      // The error listener stays: an error after this settles nothing.
      req.off("data", onData).off("end", onEnd).off("close", onClose);
      if (error === undefined) return;
      req.resume();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) return stop(bodyTooLarge(limit, `more than ${limit}`));
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    // The client left before the body was complete; nobody reads the answer.
    const onClose = () => stop(new Error("The client closed the connection before the body was complete"));
    const timer = setTimeout(() => stop(bodyTimedOut(timeout)), timeout);
    req.on("data", onData).once("end", onEnd).on("error", stop).once("close", onClose);
  });
}

/**
 * Serves `handler` with `node:http`.
 *
 * Node ends a request after `requestTimeout` (300 s by default), which would cut every SSE
 * stream after five minutes; it is turned off here.
 *
 * @param handler The fetch handler.
 * @param options Port and hostname.
 * @returns The listener.
 *
 * @example
 * ```ts
 * import { listenNode } from "./node.ts";
 * const listener = await listenNode(() => new Response("ok"), { port: 0, hostname: "127.0.0.1" });
 * await listener.close();
 * ```
 */
export function listenNode(handler: FetchHandler, options: ListenOptions): Promise<Listener> {
  // ssepg's handlers never look at request.signal; following one costs a listener, a WeakRef and
  // a finalizer per request inside Node's Request.
  const server = createServer(nodeHandler(handler, { signal: false }));
  server.requestTimeout = 0;
  server.timeout = 0;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      resolve({
        port,
        hostname: options.hostname,
        close: () =>
          new Promise<void>((done) => {
            // Keep-alive connections become idle as their streams end during the drain; close
            // them as they do instead of waiting out keepAliveTimeout.
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            server.close(() => {
              clearInterval(sweep);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/**
 * The runtime name for health reports.
 *
 * @returns `node <version>`.
 *
 * @example
 * ```ts
 * import { nodeRuntime } from "./node.ts";
 * nodeRuntime(); // "node 20.20.2"
 * ```
 */
export function nodeRuntime(): string {
  return `node ${versions.node}`;
}
