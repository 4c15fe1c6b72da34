/**
 * A deliberately narrow HTTP/1.x request-head reader for the raw-socket stream path
 * ({@link ./raw_front.ts}): it recognises the plain `GET` an SSE client sends and nothing else.
 * Whatever it does not recognise — another method, a body, an upgrade, `Expect`, an obs-fold, a
 * bare LF, a duplicate header, a byte outside printable ASCII, a target that is not a path — is
 * left to `node:http`, whose parser answers it exactly as it does without this reader. So this
 * reader never answers 400 itself: being stricter than `node:http` only sends a request down the
 * ordinary path.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { HeaderLookup } from "../../http/request_head.ts";

/**
 * A `GET` head this reader accepted.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { readRawHead } from "./raw_head.ts";
 * const read = readRawHead(Buffer.from("GET /topics/a/events HTTP/1.1\r\nHost: x\r\n\r\n"));
 * if (read.kind === "get") read.head.target; // "/topics/a/events"
 * ```
 */
export interface RawHead {
  /** The request target as sent: a path, with its query. */
  readonly target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  /** Header lookup by lower-case name. */
  readonly headers: HeaderLookup;
  /** Where the head ends in the bytes read (pipelined bytes follow). */
  readonly length: number;
}

/**
 * What the bytes read so far are: a complete `GET` head, a clean prefix of one (read on), or
 * anything else (hand the connection to `node:http`).
 *
 * @example
 * ```ts
 * import type { RawRead } from "./raw_head.ts";
 * const wait: RawRead = { kind: "incomplete" };
 * ```
 */
export type RawRead =
  | { readonly kind: "get"; readonly head: RawHead }
  | { readonly kind: "incomplete" }
  | { readonly kind: "other" };

/** Headers a raw-path `GET` may not carry: a body, an upgrade or an expectation is node:http's. */
const REFUSED = new Set(["content-length", "transfer-encoding", "upgrade", "expect"]);

/** More header lines than a browser or proxy sends; past this, node:http decides. */
export const MAX_RAW_HEADERS = 64;

const INCOMPLETE: RawRead = Object.freeze({ kind: "incomplete" });
const OTHER: RawRead = Object.freeze({ kind: "other" });
const GET = [71, 69, 84, 32]; // "GET "
/** The request line: `GET`, one space, an origin-form target of visible ASCII, one space, the version. */
const REQUEST_LINE = /^GET (\/[!-~]*) HTTP\/1\.([01])$/;
/** A header line: a token, a colon, the value between optional spaces or tabs. */
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;

/**
 * Reads a request head from the start of a connection.
 *
 * @param bytes Everything the connection has sent so far.
 * @param maxSize The largest head accepted (node:http's `maxHeaderSize`); past it, `other`.
 * @returns `get` with the head, `incomplete` while the bytes are a clean prefix of a `GET`
 *   head, else `other`.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { readRawHead } from "./raw_head.ts";
 * readRawHead(Buffer.from("GET /x HTTP/1.1\r\nHo")).kind; // "incomplete"
 * readRawHead(Buffer.from("POST /x HTTP/1.1\r\n")).kind; // "other"
 * readRawHead(Buffer.from("GET /x HTTP/1.1\nHost: x\n\n")).kind; // "other": bare LF
 * ```
 */
export function readRawHead(bytes: Buffer, maxSize = 16_384): RawRead {
  for (let i = 0; i < GET.length && i < bytes.length; i++) if (bytes[i] !== GET[i]) return OTHER;
  const end = bytes.indexOf("\r\n\r\n", 0, "latin1");
  const scanned = end === -1 ? bytes.length : end + 4;
  if (scanned > maxSize) return OTHER;
  // Only CRLF-delimited lines of printable ASCII (and tabs): anything else, bare LF and
  // obs-text included, is node:http's to accept or refuse.
  for (let i = 0; i < scanned; i++) {
    const byte = bytes[i];
    if (byte >= 32 && byte < 127) continue;
    if (byte === 9) continue;
    if (byte === 13 && (i + 1 === scanned || bytes[i + 1] === 10)) continue;
    if (byte === 10 && bytes[i - 1] === 13) continue;
    return OTHER;
  }
  if (end === -1) return INCOMPLETE;
  const lines = bytes.toString("latin1", 0, end).split("\r\n");
  const request = REQUEST_LINE.exec(lines[0]);
  if (!request || lines.length - 1 > MAX_RAW_HEADERS) return OTHER;
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const header = HEADER_LINE.exec(lines[i]);
    if (!header) return OTHER; // obs-fold, space before the colon, an empty name
    const name = header[1].toLowerCase();
    // A duplicate is joined, dropped or refused by rules of its own (Host, Cookie, …): node:http's.
    if (REFUSED.has(name) || headers.has(name)) return OTHER;
    headers.set(name, header[2]);
  }
  if (/(^|[\s,])upgrade($|[\s,])/i.test(headers.get("connection") ?? "")) return OTHER;
  const minor = request[2] === "1" ? 1 : 0;
  // HTTP/1.1 requires Host; node:http answers its absence with 400.
  if (minor === 1 && !headers.has("host")) return OTHER;
  return {
    kind: "get",
    head: { target: request[1], minor, headers: new MapLookup(headers), length: end + 4 },
  };
}

/** Header lookup over the parsed map. */
class MapLookup implements HeaderLookup {
  readonly #headers: Map<string, string>;

  constructor(headers: Map<string, string>) {
    this.#headers = headers;
  }

  get(name: string): string | null {
    return this.#headers.get(name) ?? null;
  }
}
