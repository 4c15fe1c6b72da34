/**
 * One raw-socket SSE subscriber: a TCP connection, `GET path HTTP/1.1` with
 * `Accept: text/event-stream`, the response head, a chunked or read-until-close body, and the
 * SSE frame parser; every event's data goes to `onEvent`. No fetch, no streams: one read buffer
 * per socket, reused for every read.
 *
 * @module
 */

import { concat } from "./bytes.ts";
import { ChunkedDecoder, parseHead } from "./http.ts";
import { SseFrameParser } from "./sse_frames.ts";

/** Where a subscriber connects. */
export interface Target {
  hostname: string;
  port: number;
  /** Path and query. */
  path: string;
}

/** Splits an `http://` URL into a target. */
export function target(url: string): Target {
  const u = new URL(url);
  if (u.protocol !== "http:") throw new Error(`only http:// URLs are supported: ${url}`);
  return { hostname: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 80), path: u.pathname + u.search };
}

/** Why a subscriber failed to open, for the `connect_failure_reasons` tally. */
export class OpenError extends Error {}

/** A subscriber; `open()` once, then events flow to `onEvent` until the server or `close()` ends the stream. */
export class Subscriber {
  #conn: Deno.TcpConn | undefined;
  #closing = false;
  /** The stream is open (2xx head received, not ended). */
  open = false;
  /** The server ended the stream while it was open. */
  disconnected = false;

  constructor(
    private readonly where: Target,
    private readonly extraHeaders: string,
    private readonly bufferBytes: number,
    private readonly onEvent: (data: Uint8Array) => void,
    private readonly onEnd: (sub: Subscriber) => void = () => {},
  ) {}

  /** Connects and reads the response head; rejects with an `OpenError` naming the reason. */
  async connect(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.close();
        reject(new OpenError("connect_timeout"));
      }, timeoutMs);
    });
    try {
      await Promise.race([this.#open(), timeout]);
    } catch (e) {
      this.close();
      throw e instanceof OpenError ? e : new OpenError(e instanceof Error ? (e.name || e.message) : String(e));
    } finally {
      clearTimeout(timer);
    }
  }

  async #open(): Promise<void> {
    const { hostname, port, path } = this.where;
    const conn = this.#conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    const request = `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/event-stream\r\n` +
      `Cache-Control: no-cache\r\nUser-Agent: ssepg-bench-load\r\n${this.extraHeaders}\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(this.bufferBytes);
    let head: Uint8Array = new Uint8Array(0);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) throw new OpenError("closed_before_headers");
      head = concat(head, buffer.subarray(0, n));
      const parsed = parseHead(head);
      if (!parsed) {
        if (head.length > 65_536) throw new OpenError("header_too_large");
        continue;
      }
      if (parsed.status < 200 || parsed.status > 299) throw new OpenError(`http_${parsed.status || "garbage"}`);
      const sse = new SseFrameParser(this.onEvent);
      const chunked = /chunked/i.test(parsed.headers.get("transfer-encoding") ?? "");
      const decoder = chunked ? new ChunkedDecoder((part) => sse.push(part)) : undefined;
      // `feed` answers whether the body is over (the last chunk, or a malformed one).
      const feed = decoder
        ? (bytes: Uint8Array) => decoder.push(bytes) < 0 || decoder.done
        : (bytes: Uint8Array) => (sse.push(bytes), false);
      this.open = true;
      const rest = head.subarray(parsed.size);
      if (rest.length && feed(rest)) throw new OpenError("body_ended_at_once");
      void this.#pump(conn, buffer, feed);
      return;
    }
  }

  async #pump(conn: Deno.TcpConn, buffer: Uint8Array, feed: (bytes: Uint8Array) => boolean): Promise<void> {
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null || feed(buffer.subarray(0, n))) break;
      }
    } catch {
      // reset or closed by close()
    }
    if (this.open) {
      this.open = false;
      if (!this.#closing) this.disconnected = true;
      this.onEnd(this);
    }
    this.close();
  }

  /** Closes the connection. */
  close(): void {
    this.#closing = true;
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    this.#conn = undefined;
  }
}
