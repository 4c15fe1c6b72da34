/**
 * Health and metrics at 100 000 topics: what a topic costs, and how long `GET /healthz`,
 * `GET /healthz?limit=1` and `GET /metrics` hold the event loop. Prints figures, asserts nothing.
 *
 *     deno run -A --v8-flags=--expose-gc bench/topics_health.ts [--topics 100000] [--per-stream 32]
 *
 * The topics are made the way subscribers make them: GETs through `createSsepg()`'s `fetch`
 * (in-process bus), each naming `--per-stream` new topics. Figures are taken twice: with every
 * stream open (every topic has a subscriber), then with the streams closed (every topic idle,
 * held until `topicIdleTimeout`). Each time is the median of 20 requests. At the end one more
 * stream asks for a new topic, with the cap reached: it evicts an idle topic.
 *
 * @module
 */

import { createSsepg } from "../src/service/create.ts";
import { silentLogger } from "../src/log.ts";
import { flag } from "./support.ts";

const topicCount = Number(flag("topics", "100000"));
const perStream = Number(flag("per-stream", "32"));
const gc = (globalThis as { gc?: () => void }).gc;

function memory(): { rss: number; heap: number } {
  for (let i = 0; i < 3; i++) gc?.();
  const m = Deno.memoryUsage();
  return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 };
}

async function median(path: string, svc: { fetch(r: Request): Promise<Response> }): Promise<[number, number]> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    const response = await svc.fetch(new Request(`http://x${path}`));
    const text = await response.text();
    times.push(performance.now() - started);
    bytes = text.length;
  }
  times.sort((a, b) => a - b);
  return [(times[9] + times[10]) / 2, bytes];
}

async function report(label: string, svc: Awaited<ReturnType<typeof createSsepg>>): Promise<void> {
  const totals = svc.health(0).totals;
  const { rss, heap } = memory();
  console.log(`${label}: ${totals.topics} topics (${totals.idle_topics} idle), ${totals.subscribers} subscribers`);
  console.log(`  RSS ${rss.toFixed(1)} MB, heap ${heap.toFixed(1)} MB`);
  for (const path of ["/healthz", "/healthz?limit=1", "/metrics"]) {
    const [ms, bytes] = await median(path, svc);
    console.log(`  GET ${path.padEnd(17)} median ${ms.toFixed(2)} ms (${bytes} bytes)`);
  }
  const started = performance.now();
  for (let i = 0; i < 20; i++) svc.health(0);
  console.log(`  svc.health(0) (totals only)  ${((performance.now() - started) / 20).toFixed(3)} ms each`);
}

const svc = await createSsepg({ logger: silentLogger, topicIdleTimeout: "1h", maxTopics: topicCount });
const before = memory();
console.log(`deno ${Deno.version.deno}: ${topicCount} topics, ${perStream} per stream`);
console.log(`before: RSS ${before.rss.toFixed(1)} MB, heap ${before.heap.toFixed(1)} MB`);

const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
const started = performance.now();
for (let first = 0; first < topicCount; first += perStream) {
  const names = Array.from({ length: Math.min(perStream, topicCount - first) }, (_, i) => `t${first + i}`);
  const response = await svc.fetch(new Request(`http://x/topics/${names.join(",")}/events`));
  if (response.status !== 200) throw new Error(`GET ${first}: ${response.status} ${await response.text()}`);
  const reader = response.body!.getReader();
  await reader.read(); // the preamble: subscribed
  readers.push(reader);
}
console.log(`${readers.length} streams opened in ${((performance.now() - started) / 1000).toFixed(1)} s`);
await report("streams open", svc);

const refused = await svc.fetch(new Request("http://x/topics/one-more/events"));
console.log(`a stream needing a new topic at the cap, all topics subscribed: ${refused.status}`);
await refused.body?.cancel();

for (const reader of readers) await reader.cancel();
await report("streams closed", svc);
const after = memory();
const held = svc.health(0).totals.topics;
console.log(
  `heap per idle topic state (streams closed, over the empty instance): ${
    ((after.heap - before.heap) * 2 ** 20 / held).toFixed(0)
  } bytes; counted by the memory model: ${svc.health(0).totals.topic_state_bytes / held} bytes`,
);

const evicting = await svc.fetch(new Request("http://x/topics/one-more/events"));
console.log(
  `a stream needing a new topic at the cap, all topics idle: ${evicting.status}, evicted topics ${
    /ssepg_evicted_topics_total (\d+)/.exec(svc.metrics())![1]
  }`,
);
await evicting.body?.cancel();
await svc.close();
