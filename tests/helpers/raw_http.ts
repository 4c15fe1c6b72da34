/**
 * A raw-socket HTTP/1.x client for tests that must send what `fetch` would not: any `Host`
 * header (or none), any request target (absolute-form included), any method.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What to send. */
export interface RawRequest {
  /** The method, sent as is. */
  readonly method: string;
  /** The request target, sent as is (`/healthz`, `http://other.example/healthz`, …). */
  readonly target: string;
  /** `HTTP/1.1` unless told. */
  readonly version?: string;
  /** The Host header's value, sent as UTF-8 bytes; `null` sends no Host header. */
  readonly host: string | null;
  /** Further header lines. */
  readonly headers?: Record<string, string>;
  /** The body; a Content-Length is added for it. */
  readonly body?: string;
}

/** What came back. */
export interface RawResponse {
  /** The status code; 0 when no status line arrived. */
  readonly status: number;
  /** Header values by lower-case name (repeated headers joined by `, `). */
  readonly headers: Record<string, string>;
  /** The body, de-chunked; for an event stream, what arrived of its beginning. */
  readonly body: string;
  /** True when the answer is `text/event-stream` (only its beginning was read). */
  readonly stream: boolean;
  /** How the read ended: a complete message, the server closing, or the timeout. */
  readonly end: "complete" | "closed" | "timeout";
  /** Everything received, for messages. */
  readonly raw: string;
}

/**
 * The request's bytes: request line, Host (unless `null`), the other headers, then the body.
 *
 * @example
 * ```ts
 * import { encodeRequest } from "./raw_http.ts";
 * encodeRequest({ method: "GET", target: "/healthz", host: "x/metrics#" });
 * ```
 */
export function encodeRequest(request: RawRequest): Uint8Array {
  const lines = [`${request.method} ${request.target} ${request.version ?? "HTTP/1.1"}`];
  if (request.host !== null) lines.push(`Host: ${request.host}`);
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
  const body = encoder.encode(request.body ?? "");
  if (request.body !== undefined) lines.push(`Content-Length: ${body.byteLength}`);
  const head = encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);
  const out = new Uint8Array(head.byteLength + body.byteLength);
  out.set(head);
  out.set(body, head.byteLength);
  return out;
}

/**
 * Sends one request on a new connection and reads its answer: up to the end of the body
 * (Content-Length, chunked, or the connection closing), or, for an event stream, until its
 * `: listening` comment or `streamWait` ms. Never throws for what the server does; a server
 * that does not answer within `timeout` ms gives `end: "timeout"`.
 *
 * @param base `http://host:port` of the server.
 * @param request What to send.
 * @param options `timeout` for the whole exchange (5 s), `streamWait` for a stream's start (2 s).
 * @returns The answer as far as it came.
 *
 * @example
 * ```ts
 * import { rawRequest } from "./raw_http.ts";
 * // const answer = await rawRequest("http://127.0.0.1:8080", { method: "GET", target: "/healthz", host: "a" });
 * ```
 */
export async function rawRequest(
  base: string,
  request: RawRequest,
  options: { timeout?: number; streamWait?: number } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const deadline = Date.now() + (options.timeout ?? 5_000);
  let received: Uint8Array = new Uint8Array(0);
  let end: RawResponse["end"] = "closed";
  let parsed: Omit<RawResponse, "end" | "raw"> | undefined;
  let streamDeadline = Infinity;
  try {
    await conn.write(encodeRequest(request));
    const buffer = new Uint8Array(65_536);
    // A read that outlives a timeout is kept for the next turn, so no bytes are lost.
    let pending: Promise<number | null> | undefined;
    for (;;) {
      parsed = parse(received, request.method === "HEAD");
      if (parsed?.stream) {
        streamDeadline = Math.min(streamDeadline, Date.now() + (options.streamWait ?? 2_000));
        if (/: listening [^\n]*\n\n/.test(parsed.body) || Date.now() >= streamDeadline) {
          end = "complete";
          break;
        }
      } else if (parsed && complete(received, parsed, request.method === "HEAD")) {
        end = "complete";
        break;
      }
      const left = Math.min(deadline, streamDeadline) - Date.now();
      if (left <= 0) {
        end = parsed?.stream ? "complete" : "timeout";
        break;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const next = await Promise.race([
        pending ??= conn.read(buffer).catch(() => null),
        new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left)),
      ]);
      clearTimeout(timer);
      if (next === "timeout") continue; // the loop decides between a stream's start and a hang
      pending = undefined;
      if (next === null) {
        end = "closed";
        parsed = parse(received, request.method === "HEAD");
        break;
      }
      received = concat(received, buffer.subarray(0, next));
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
  return {
    ...(parsed ?? { status: 0, headers: {}, body: "", stream: false }),
    end,
    raw: decoder.decode(received),
  };
}

/** The final (non-1xx) response head and what arrived of its body, or undefined. */
function parse(bytes: Uint8Array, isHead: boolean): Omit<RawResponse, "end" | "raw"> | undefined {
  let start = 0;
  for (;;) {
    const end = indexOf(bytes, "\r\n\r\n", start);
    if (end < 0) return undefined;
    const lines = decoder.decode(bytes.subarray(start, end)).split("\r\n");
    const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(lines[0])?.[1] ?? 0);
    if (status >= 100 && status < 200) {
      start = end + 4;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const rest = bytes.subarray(end + 4);
    const stream = (headers["content-type"] ?? "").startsWith("text/event-stream") && !isHead;
    const chunked = /chunked/i.test(headers["transfer-encoding"] ?? "");
    const body = chunked ? dechunk(rest).body : rest;
    return { status, headers, body: decoder.decode(body), stream };
  }
}

/** True once the whole body of `parsed` has arrived. */
function complete(bytes: Uint8Array, parsed: Omit<RawResponse, "end" | "raw">, isHead: boolean): boolean {
  if (isHead || parsed.status === 204 || parsed.status === 304) return true;
  if (/chunked/i.test(parsed.headers["transfer-encoding"] ?? "")) {
    const start = lastHeadEnd(bytes);
    return dechunk(bytes.subarray(start)).done;
  }
  const length = parsed.headers["content-length"];
  if (length !== undefined && /^\d+$/.test(length)) {
    return bytes.byteLength - lastHeadEnd(bytes) >= Number(length);
  }
  return false; // delimited by the connection closing
}

/** Where the final response's body starts. */
function lastHeadEnd(bytes: Uint8Array): number {
  let start = 0;
  for (;;) {
    const end = indexOf(bytes, "\r\n\r\n", start);
    const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(decoder.decode(bytes.subarray(start, end)))?.[1] ?? 0);
    if (status >= 100 && status < 200) start = end + 4;
    else return end + 4;
  }
}

/** Decodes as much chunked framing as arrived. */
function dechunk(bytes: Uint8Array): { body: Uint8Array; done: boolean } {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const eol = indexOf(bytes, "\r\n", at);
    if (eol < 0) break;
    const size = parseInt(decoder.decode(bytes.subarray(at, eol)).split(";")[0].trim(), 16);
    if (!Number.isFinite(size)) break;
    if (size === 0) return { body: concatAll(parts), done: indexOf(bytes, "\r\n\r\n", eol) >= 0 };
    if (bytes.byteLength < eol + 2 + size) {
      parts.push(bytes.subarray(eol + 2));
      break;
    }
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return { body: concatAll(parts), done: false };
}

function indexOf(bytes: Uint8Array, text: string, from = 0): number {
  const needle = encoder.encode(text);
  outer: for (let i = from; i <= bytes.byteLength - needle.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  return parts.reduce((a, b) => concat(a, b), new Uint8Array(0));
}
