/**
 * Per-event cost of the publish/receive path (`deno task bench:micro`): an instance receiving
 * its own events decoded again, or matched to the envelopes it sent; the publish body parsed and
 * measured; hop timing's own cost.
 *
 * @module
 */

import { decodeEnvelope, encodeEnvelope } from "../../src/bus/envelope.ts";
import { OwnPayloads } from "../../src/bus/postgres/own_payloads.ts";
import { parsePublishBody } from "../../src/http/body.ts";
import { HopTracer } from "../../src/hops/hop_tracer.ts";
import { utf8Length } from "../../src/utf8.ts";

// The repository benchmark's event: {"t", "seq", "topic", "pad"}, about 256 bytes.
const data = JSON.stringify({ t: 1764219000000.123, seq: 123456, topic: "bench", pad: "x".repeat(200) });
const body = new TextEncoder().encode(`{"data":${data}}`);
let n = 0;
const envelopeOf = () => ({ topic: "bench", data, id: `mwybh72n-2hrhgk-${(n++).toString(36)}` });

// 1000 events per iteration, as they come back: other string objects with the same text.
const batch = Array.from({ length: 1000 }, envelopeOf);
const sent = batch.map(encodeEnvelope);
const received = sent.map((p) => JSON.parse(JSON.stringify(p)) as string);

Deno.bench("receive 1000 own events: decode each payload again", { group: "receive", baseline: true }, () => {
  for (const payload of received) decodeEnvelope(payload);
});

const own = new OwnPayloads(10_000);
Deno.bench("receive 1000 own events: keep each at publish, match it on receipt", { group: "receive" }, () => {
  for (let i = 0; i < batch.length; i++) own.keep(batch[i], sent[i]);
  for (const payload of received) own.take(payload) ?? decodeEnvelope(payload);
});

Deno.bench(
  "publish body: parse, encode the envelope, count its UTF-8 bytes",
  { group: "publish", baseline: true },
  () => {
    const compact = parsePublishBody(body);
    utf8Length(encodeEnvelope({ topic: "bench", data: compact, id: "mwybh72n-2hrhgk-0" }));
  },
);

Deno.bench("publish body: parse and encode the envelope (length bound, no count)", { group: "publish" }, () => {
  const compact = parsePublishBody(body);
  const payload = encodeEnvelope({ topic: "bench", data: compact, id: "mwybh72n-2hrhgk-0" });
  if (payload.length * 3 > 1_048_576) utf8Length(payload);
});

const hops = new HopTracer();
Deno.bench("hop timing of one own event, 10 subscribers", { group: "hops" }, () => {
  const id = (n++).toString(36);
  const marks = hops.published(id, performance.now());
  marks.notify = performance.now();
  marks.commit = performance.now();
  hops.answered(id, marks, true);
  const event = {};
  hops.received(id, event, 10, performance.now());
  const at = performance.now();
  for (let i = 0; i < 10; i++) hops.wrote(event, at);
});
