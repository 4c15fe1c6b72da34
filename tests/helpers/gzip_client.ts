/**
 * A raw-socket SSE client that asks for gzip and inflates as bytes arrive, so tests see exactly
 * when each event becomes decodable (fetch would decompress on its own terms).
 *
 * @module
 */

import { createGunzip } from "node:zlib";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A gzip event stream read over a raw connection. */
export class GzipSseClient {
  readonly #conn: Deno.Conn;
  readonly #gunzip = createGunzip();
  /** Response headers, lower-cased names. */
  headers: Record<string, string> = {};
  /** Status code. */
  status = 0;
  /** Decompressed text so far. */
  text = "";
  /** Compressed body bytes so far. */
  compressedBytes = 0;
  /** The server ended the body (terminating chunk received). */
  bodyEnded = false;
  /** The gzip stream ended cleanly (trailer checked by the inflater). */
  gzipEnded = false;
  /** An inflate error (bad data or trailer). */
  error: Error | undefined;
  #raw: Uint8Array = new Uint8Array(0);
  #headersDone = false;
  #pumping: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#gunzip.on("data", (chunk: Uint8Array) => this.text += decoder.decode(chunk, { stream: true }));
    this.#gunzip.on("end", () => this.gzipEnded = true);
    this.#gunzip.on("error", (e: Error) => this.error = e);
    this.#pumping = this.#pump();
  }

  /** Connects and sends the request. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<GzipSseClient> {
    const u = new URL(url);
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    const lines = [
      `GET ${u.pathname}${u.search} HTTP/1.1`,
      `Host: ${u.host}`,
      "Accept-Encoding: gzip",
      "Accept: text/event-stream",
    ];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    await conn.write(encoder.encode(`${lines.join("\r\n")}\r\n\r\n`));
    return new GzipSseClient(conn);
  }

  async #pump(): Promise<void> {
    const buffer = new Uint8Array(65_536);
    for (;;) {
      let n: number | null;
      try {
        n = await this.#conn.read(buffer);
      } catch {
        n = null;
      }
      if (n === null) break;
      this.#raw = concat(this.#raw, buffer.subarray(0, n));
      this.#parse();
      if (this.bodyEnded) break;
    }
    this.#gunzip.end();
  }

  #parse(): void {
    if (!this.#headersDone) {
      const end = indexOf(this.#raw, "\r\n\r\n");
      if (end < 0) return;
      const head = decoder.decode(this.#raw.subarray(0, end)).split("\r\n");
      this.status = Number(head[0].split(" ")[1]);
      for (const line of head.slice(1)) {
        const colon = line.indexOf(":");
        this.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      this.#raw = this.#raw.slice(end + 4);
      this.#headersDone = true;
    }
    // Transfer-Encoding: chunked, which every runtime uses for a streamed body.
    for (;;) {
      const lineEnd = indexOf(this.#raw, "\r\n");
      if (lineEnd < 0) return;
      const size = parseInt(decoder.decode(this.#raw.subarray(0, lineEnd)), 16);
      if (size === 0) {
        this.bodyEnded = true;
        return;
      }
      if (this.#raw.byteLength < lineEnd + 2 + size + 2) return;
      const data = this.#raw.slice(lineEnd + 2, lineEnd + 2 + size);
      this.compressedBytes += data.byteLength;
      this.#gunzip.write(data);
      this.#raw = this.#raw.slice(lineEnd + 2 + size + 2);
    }
  }

  /** Waits until the decompressed text contains `needle`. */
  async waitForText(needle: string, timeout = 5_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!this.text.includes(needle)) {
      if (this.error) throw this.error;
      if (Date.now() > deadline) {
        throw new Error(
          `${JSON.stringify(needle)} not decodable within ${timeout} ms; got ${JSON.stringify(this.text.slice(-300))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits for the end of the body and of the gzip stream. */
  async waitForEnd(timeout = 5_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!(this.bodyEnded && this.gzipEnded)) {
      if (this.error) throw this.error;
      if (Date.now() > deadline) throw new Error(`gzip stream did not end (body ended: ${this.bodyEnded})`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch { /* closed already */ }
    await this.#pumping;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function indexOf(bytes: Uint8Array, text: string): number {
  const needle = encoder.encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
