import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "../helpers/test.ts";
import { MAX_RAW_HEADERS, readRawHead } from "../../src/serve/node/raw_head.ts";
import { streamHead } from "../../src/serve/node/raw_stream.ts";

const read = (text: string, maxSize?: number) => readRawHead(Buffer.from(text, "latin1"), maxSize);
const STREAM = "GET /topics/a/events?lastEventId=e1 HTTP/1.1\r\nHost: x\r\n";

test("readRawHead() reads a GET head: target, version, trimmed headers, where the head ends", () => {
  const text = `${STREAM}Accept: text/event-stream\r\nLast-Event-ID:  e2 \t\r\nX-Empty:\r\n\r\n`;
  const result = read(`${text}GET /next HTTP/1.1\r\n`);
  assert.equal(result.kind, "get");
  if (result.kind !== "get") return;
  assert.equal(result.head.target, "/topics/a/events?lastEventId=e1");
  assert.equal(result.head.minor, 1);
  assert.equal(result.head.length, text.length, "pipelined bytes are not part of the head");
  assert.equal(result.head.headers.get("last-event-id"), "e2");
  assert.equal(result.head.headers.get("accept"), "text/event-stream");
  assert.equal(result.head.headers.get("x-empty"), "");
  assert.equal(result.head.headers.get("authorization"), null);
});

test("readRawHead() reads HTTP/1.0 without Host, and an empty Host on HTTP/1.1", () => {
  const old = read("GET /topics/a/events HTTP/1.0\r\n\r\n");
  assert.ok(old.kind === "get" && old.head.minor === 0 && old.head.headers.get("host") === null);
  const empty = read("GET /healthz HTTP/1.1\r\nHost:\r\n\r\n");
  assert.ok(empty.kind === "get" && empty.head.headers.get("host") === "");
});

test("readRawHead() waits for the rest of a clean prefix, byte by byte", () => {
  const text = `${STREAM}\r\n`;
  for (let i = 0; i < text.length; i++) {
    assert.equal(read(text.slice(0, i)).kind, "incomplete", JSON.stringify(text.slice(0, i)));
  }
  assert.equal(read(text).kind, "get");
});

test("readRawHead() leaves to node:http whatever is not a plain GET head", () => {
  const others: [string, string][] = [
    ["POST", "POST /topics/a/events HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a method prefix", "GETX /a HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["HEAD", "HEAD /topics/a/events HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["lower-case get", "get /topics/a/events HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a leading empty line", "\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["two spaces", "GET  /a HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["HTTP/2.0", "GET /a HTTP/2.0\r\nHost: x\r\n\r\n"],
    ["HTTP/1.2", "GET /a HTTP/1.2\r\nHost: x\r\n\r\n"],
    ["absolute-form", "GET http://x/topics/a/events HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["asterisk-form", "GET * HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["a target without /", "GET topics/a/events HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["bare LF lines", "GET /a HTTP/1.1\nHost: x\n\n"],
    ["one bare LF", "GET /a HTTP/1.1\r\nHost: x\nX: 1\r\n\r\n"],
    ["a bare CR", "GET /a HTTP/1.1\r\nHost: x\rX: 1\r\n\r\n"],
    ["obs-fold", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n"],
    ["a space before the colon", "GET /a HTTP/1.1\r\nHost : x\r\n\r\n"],
    ["no colon", "GET /a HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n"],
    ["a control character", "GET /a HTTP/1.1\r\nHost: x\x01\r\n\r\n"],
    ["a DEL", "GET /a HTTP/1.1\r\nHost: x\x7f\r\n\r\n"],
    ["obs-text (UTF-8 Host)", "GET /a HTTP/1.1\r\nHost: b\xc3\xbccher.example\r\n\r\n"],
    ["a NUL in the target", "GET /a\x00 HTTP/1.1\r\nHost: x\r\n\r\n"],
    ["Content-Length", "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"],
    ["two Content-Lengths", "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"],
    ["Transfer-Encoding", "GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
    ["Upgrade", "GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"],
    ["Connection: upgrade", "GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, upgrade\r\n\r\n"],
    ["Expect", "GET /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n"],
    ["a duplicate Host", "GET /a HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n"],
    ["a duplicate Authorization", "GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n"],
    ["HTTP/1.1 without Host", "GET /a HTTP/1.1\r\nAccept: */*\r\n\r\n"],
  ];
  for (const [what, text] of others) assert.equal(read(text).kind, "other", what);
});

test("readRawHead() leaves long heads and many headers to node:http (which answers 431 or reads them)", () => {
  const big = `${STREAM}X-Big: ${"a".repeat(20_000)}\r\n\r\n`;
  assert.equal(read(big).kind, "other");
  assert.equal(read(big.slice(0, 17_000)).kind, "other", "an unfinished head past the limit");
  assert.equal(read(`${STREAM}X-A: ${"a".repeat(100)}\r\n\r\n`, 100).kind, "other", "the limit given");
  const many = (n: number) =>
    `GET /a HTTP/1.1\r\nHost: x\r\n${Array.from({ length: n - 1 }, (_, i) => `X-${i}: 1\r\n`).join("")}\r\n`;
  assert.equal(read(many(MAX_RAW_HEADERS)).kind, "get");
  assert.equal(read(many(MAX_RAW_HEADERS + 1)).kind, "other");
});

test("streamHead() writes the reply's headers with the framing and Connection: close", () => {
  const date = new Date(0).toUTCString();
  const headers = { "Content-Type": "text/event-stream; charset=utf-8", "Vary": "Accept-Encoding" };
  assert.equal(
    streamHead(headers, true, date)?.toString("latin1"),
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nVary: Accept-Encoding\r\n" +
      `Transfer-Encoding: chunked\r\nDate: ${date}\r\nConnection: close\r\n\r\n`,
  );
  assert.ok(!streamHead(headers, false, date)?.toString("latin1").includes("Transfer-Encoding"));
});

test("streamHead() refuses a header value that would split the head, as node:http does", () => {
  const date = new Date(0).toUTCString();
  assert.equal(streamHead({ "X-A": "a\r\nSet-Cookie: x=1" }, true, date), undefined);
  assert.equal(streamHead({ "X-A": "a\nb" }, true, date), undefined);
  assert.equal(streamHead({ "X-A\r\n": "a" }, true, date), undefined);
});
