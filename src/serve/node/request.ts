/**
 * A `node:http` request as the pipeline's {@link RequestHead}: method, the path and query of
 * `req.url` (the request target as sent), headers read only when asked, and a body reader that
 * enforces the size and time limits on Node's own stream. No Web `Request` is built.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";
import { Buffer } from "node:buffer";
import { bodyTimedOut, bodyTooLarge } from "../../http/body.ts";
import { type RequestHead, splitTarget } from "../../http/request_head.ts";

/**
 * The head of a Node request.
 *
 * @param req The Node request.
 * @returns The head.
 *
 * @example
 * ```ts
 * // inside an http.createServer callback:
 * // const head = nodeHead(req);
 * ```
 */
export function nodeHead(req: IncomingMessage): RequestHead {
  const { path, query } = splitTarget(req.url ?? "/");
  const headers = req.headers;
  return {
    method: req.method ?? "GET",
    path,
    query,
    headers: {
      get(name) {
        // Node keeps the first of a repeated Host or Authorization and drops the rest; the
        // pipeline must see them all, to refuse two Hosts (RFC 9112 3.2) and two credentials as
        // Bun and Deno.serve do, rather than trust whichever came first.
        if (name === "host" || name === "authorization") return everyValue(req.rawHeaders, name);
        const value = headers[name];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    },
    body: (limit, timeout) => readNodeBody(req, limit, timeout),
  };
}

/** Every value of header `name` (lower case) in `raw`, joined with ", " as Fetch does; `null` if none. */
function everyValue(raw: readonly string[], name: string): string | null {
  let out: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === name.length && raw[i].toLowerCase() === name) {
      out = out === null ? raw[i + 1] : `${out}, ${raw[i + 1]}`;
    }
  }
  return out;
}

/**
 * Reads a Node request body within `limit` bytes and `timeout` ms. What is refused is drained
 * and dropped (the answer carries `Connection: close`), so the client can read the answer.
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
