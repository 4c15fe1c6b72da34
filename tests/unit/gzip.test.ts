import assert from "node:assert/strict";
import { createGunzip, gunzipSync } from "node:zlib";
import { test } from "../helpers/test.ts";
import { acceptsGzip, compressFrame, crc32, crc32Combine, GzipStream, loadDeflate } from "../../src/sse/gzip.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

test("acceptsGzip() reads q-values: gzip;q=0 means no, * counts when gzip is not named", () => {
  assert.equal(acceptsGzip("gzip"), true);
  assert.equal(acceptsGzip("gzip, deflate, br"), true);
  assert.equal(acceptsGzip("br;q=1.0, gzip;q=0.8"), true);
  assert.equal(acceptsGzip("GZIP;Q=0.5"), true);
  assert.equal(acceptsGzip("x-gzip"), true);
  assert.equal(acceptsGzip("gzip;q=0"), false);
  assert.equal(acceptsGzip("gzip;q=0.000"), false);
  assert.equal(acceptsGzip("*"), true);
  assert.equal(acceptsGzip("*;q=0"), false);
  assert.equal(acceptsGzip("gzip;q=0, *"), false, "named gzip wins over *");
  assert.equal(acceptsGzip("br, deflate"), false);
  assert.equal(acceptsGzip("identity"), false);
  assert.equal(acceptsGzip(""), false);
  assert.equal(acceptsGzip(null), false);
});

test("crc32() and crc32Combine() match the standard CRC-32", () => {
  assert.equal(crc32(enc.encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const parts = ["id: 1\nevent: message\ndata: {}\n\n", "", ": keep-alive\n\n", "x".repeat(70_000)];
  let crc = 0;
  for (const p of parts) crc = crc32Combine(crc, crc32(enc.encode(p)), enc.encode(p).byteLength);
  assert.equal(crc, crc32(enc.encode(parts.join(""))));
});

test("shared pieces after a per-connection header form a valid gzip stream with a valid trailer", async () => {
  const deflate = (await loadDeflate())!;
  assert.ok(deflate, "node:zlib is available on Deno, Bun and Node");
  const frames = ["retry: 5000\n\n", ": listening a\n\n", 'id: 1\nevent: message\ndata: {"n":1}\n\n', "é😀\n\n"];
  const pieces = frames.map((f) => compressFrame(enc.encode(f), deflate));
  const gz = new GzipStream();
  const chunks = [gz.write(pieces.slice(0, 2)), gz.write(pieces.slice(2)), gz.end()];
  const whole = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.byteLength;
  }
  assert.equal(dec.decode(gunzipSync(whole)), frames.join(""), "gunzip checks CRC and length");
  // The same piece serves a second connection that joined later.
  const late = new GzipStream();
  assert.equal(dec.decode(gunzipSync(new Uint8Array([...late.write([pieces[2]]), ...late.end()]))), frames[2]);
});

test("each piece is decodable as soon as it is received", async () => {
  const deflate = (await loadDeflate())!;
  const gz = new GzipStream();
  const gunzip = createGunzip();
  const received: string[] = [];
  gunzip.on("data", (b: Uint8Array) => received.push(dec.decode(b)));
  for (const frame of ["data: one\n\n", "data: two\n\n"]) {
    gunzip.write(gz.write([compressFrame(enc.encode(frame), deflate)]));
    const deadline = Date.now() + 2000;
    while (!received.join("").endsWith(frame)) {
      if (Date.now() > deadline) assert.fail(`"${frame}" was not decodable on its own`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  gunzip.end(gz.end());
  await new Promise((resolve, reject) => gunzip.on("end", resolve).on("error", reject));
  assert.equal(received.join(""), "data: one\n\ndata: two\n\n");
});

test("an empty gzip stream still ends validly", () => {
  assert.equal(gunzipSync(new GzipStream().end()).byteLength, 0);
});
