/**
 * A keep-alive HTTP/1.1 client connection for the publisher: one request at a time, the
 * response read by Content-Length, chunked encoding or until close. Reconnects when the server
 * closes; a request that times out drops its socket, so a late answer never meets the next one.
 * Servers close idle keep-alive connections (ssepg after 5 s), racing a request sent just then:
 * a connection idle for 2 s is replaced before use, and a reused one that closes before any
 * byte of the answer is retried once on a fresh socket.
 *
 * @module
 */

import { concat } from "./bytes.ts";
import { ChunkedDecoder, parseHead } from "./http.ts";

/** The error of a request that got no HTTP answer; `message` is the reason (`timeout`, `ECONNREFUSED`, …). */
export class RequestError extends Error {}

/** One keep-alive connection to `hostname:port`. */
export class HttpConnection {
  #conn: Deno.TcpConn | undefined;
  readonly #buffer = new Uint8Array(16_384);
  #lastUsed = 0;

  constructor(readonly hostname: string, readonly port: number) {}

  /**
   * Sends one complete request and reads the answer.
   *
   * @returns The status code.
   * @throws RequestError when no answer came.
   */
  async request(bytes: Uint8Array, timeoutMs: number): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.close();
        reject(new RequestError("timeout"));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.#exchange(bytes), timeout]);
    } catch (e) {
      this.close();
      if (e instanceof RequestError) throw e;
      const code = (e as { code?: string }).code;
      throw new RequestError(code ?? (e instanceof Error ? e.name : String(e)));
    } finally {
      clearTimeout(timer);
    }
  }

  async #exchange(bytes: Uint8Array): Promise<number> {
    if (this.#conn && performance.now() - this.#lastUsed > 2000) this.close();
    const reused = this.#conn !== undefined;
    try {
      return await this.#once(bytes);
    } catch (e) {
      const raced = (e instanceof RequestError && e.message === "closed") ||
        e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe;
      if (!reused || !raced) throw e;
      this.close();
      return await this.#once(bytes);
    } finally {
      this.#lastUsed = performance.now();
    }
  }

  async #once(bytes: Uint8Array): Promise<number> {
    if (!this.#conn) {
      this.#conn = await Deno.connect({ hostname: this.hostname, port: this.port });
      this.#conn.setNoDelay(true);
    }
    const conn = this.#conn;
    let written = 0;
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
    let received: Uint8Array = new Uint8Array(0);
    for (;;) {
      const n = await conn.read(this.#buffer);
      if (n === null) throw new RequestError(received.length ? "closed_mid_response" : "closed");
      received = concat(received, this.#buffer.subarray(0, n));
      const head = parseHead(received);
      if (!head) continue;
      if (head.status >= 100 && head.status < 200) {
        received = received.slice(head.size);
        continue;
      }
      const complete = await this.#body(conn, head, received.subarray(head.size));
      const close = /close/i.test(head.headers.get("connection") ?? "") || !complete;
      if (close) this.close();
      return head.status;
    }
  }

  /** Reads the rest of the body; false when it ran until the server closed. */
  async #body(
    conn: Deno.TcpConn,
    head: { status: number; headers: Map<string, string> },
    start: Uint8Array,
  ): Promise<boolean> {
    if (head.status === 204 || head.status === 304) return true;
    if (/chunked/i.test(head.headers.get("transfer-encoding") ?? "")) {
      const decoder = new ChunkedDecoder(() => {});
      let bytes = start;
      for (;;) {
        if (decoder.push(bytes) < 0) throw new RequestError("bad_chunked_body");
        if (decoder.done) return true;
        const n = await conn.read(this.#buffer);
        if (n === null) throw new RequestError("closed_mid_response");
        bytes = this.#buffer.subarray(0, n);
      }
    }
    const length = head.headers.get("content-length");
    if (length !== undefined) {
      let left = Number(length) - start.length;
      while (left > 0) {
        const n = await conn.read(this.#buffer);
        if (n === null) throw new RequestError("closed_mid_response");
        left -= n;
      }
      return true;
    }
    while (await conn.read(this.#buffer) !== null) { /* body until close */ }
    return false;
  }

  /** Closes the socket; the next request opens a new one. */
  close(): void {
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    this.#conn = undefined;
  }
}
