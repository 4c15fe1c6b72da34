/**
 * Frame encoding and envelope decoding, per event (`deno task bench:micro`).
 *
 * @module
 */

import { decodeEnvelope, encodeEnvelope } from "../../src/bus/envelope.ts";
import { StoredEvent } from "../../src/dispatcher/event.ts";
import { encodeEvent } from "../../src/sse/frame.ts";

const data = JSON.stringify({ t: 1764219000000.123, seq: 123456, topic: "bench", pad: "x".repeat(200) });
const payload = encodeEnvelope({ topic: "bench", data, id: "mwybh72n-2hrhgk-0" });

Deno.bench("encode one SSE frame (256-byte data)", { group: "frame", baseline: true }, () => {
  encodeEvent({ id: "mwybh72n-2hrhgk-0", event: "message", data });
});

Deno.bench("decode one NOTIFY envelope, data kept verbatim", { group: "frame" }, () => {
  decodeEnvelope(payload);
});

Deno.bench("JSON.parse + JSON.stringify of the same envelope (what ssepg avoids)", { group: "frame" }, () => {
  JSON.stringify(JSON.parse(payload).data);
});

Deno.bench("frame shared by 1000 subscribers: encoded once, read 1000 times", { group: "shared" }, () => {
  const event = new StoredEvent("bench", data, "mwybh72n-2hrhgk-0", 0);
  for (let i = 0; i < 1000; i++) event.frame("message");
});

Deno.bench("frame encoded per subscriber, 1000 times (the naive way)", { group: "shared", baseline: true }, () => {
  for (let i = 0; i < 1000; i++) encodeEvent({ id: "mwybh72n-2hrhgk-0", event: "message", data });
});
