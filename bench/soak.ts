/**
 * Soak: mixed publish / subscribe / churn load on two instances sharing one PostgreSQL, for a
 * bounded time, then a report of RSS slope, losses for fast subscribers and error counts.
 *
 *     deno run -A bench/soak.ts [--duration 10m] [--runtime deno|bun|node] [--rate 100]
 *
 * Load, all at once for the whole run:
 * - fast subscribers: `--fast-topics` topics × `--subs` subscribers on each instance, reading
 *   everything; every acknowledged publish must reach every one of them (losses must be 0);
 * - publishers: `--rate` events/s over the fast topics, alternating instances;
 * - churn: every 100 ms a short-lived subscriber (0.2–3 s, a third of them resuming with
 *   `Last-Event-ID`) on a topic that gets one event first; topic names keep changing, so topics
 *   are created and freed (`topicIdleTimeout` 5 s) all the time;
 * - slow subscribers: every 20 s a raw connection that never reads, flooded until it is dropped.
 *
 * RSS of each server is sampled every 5 s; the slope is a least-squares fit over the samples
 * after the first fifth of the run (warm-up), and again over the second half. PostgreSQL: `DATABASE_URL`, else an embedded one.
 * Exit code 1 when a fast subscriber lost, duplicated or reordered an event.
 *
 * @module
 */

import { connect } from "node:net";
import { parseDuration } from "../src/config/duration.ts";
import { startEmbeddedPostgres } from "../src/cli/embedded_postgres.ts";
import { type Runtime, type ServerProcess, startProcess } from "../scripts/processes.ts";
import { flag, rssMb, sleep } from "./support.ts";

const durationMs = parseDuration(flag("duration", "10m")) ?? Deno.exit(2);
const runtime = flag("runtime", "deno") as Runtime;
const rate = Number(flag("rate", "100"));
const fastTopics = Number(flag("fast-topics", "20"));
const subsPerTopic = Number(flag("subs", "5"));
const log = (text: string) => console.error(`soak: ${text}`);

let databaseUrl = Deno.env.get("DATABASE_URL");
let stopDatabase: (() => Promise<void>) | undefined;
if (!databaseUrl) {
  const pg = await startEmbeddedPostgres();
  [databaseUrl, stopDatabase] = [pg.url, pg.stop];
}

const env = { DATABASE_URL: databaseUrl, SSEPG_TOPIC_IDLE_TIMEOUT: "5s", SSEPG_CLIENT_BUFFER: "64" };
const servers: ServerProcess[] = [await startProcess(runtime, { env }), await startProcess(runtime, { env })];
const errors = new Map<string, number>();
const count = (kind: string) => errors.set(kind, (errors.get(kind) ?? 0) + 1);
const running = { on: true };
const run = `soak${Date.now().toString(36)}`;

/** One fast subscriber: which sequence numbers of its topic it got, in order. */
class FastSubscriber {
  readonly got: number[] = [];
  duplicates = 0;
  outOfOrder = 0;
  reconnects = 0;
  #lastId: string | undefined;
  #connected = Promise.withResolvers<void>();
  readonly connected = this.#connected.promise;

  constructor(readonly url: string, readonly topic: string) {
    void this.#loop();
  }

  async #loop(): Promise<void> {
    const seen = new Set<number>();
    while (running.on) {
      try {
        const headers: Record<string, string> = this.#lastId ? { "Last-Event-ID": this.#lastId } : {};
        const response = await fetch(`${this.url}/topics/${this.topic}/events`, { headers });
        if (response.status !== 200) throw new Error(`status ${response.status}`);
        this.#connected.resolve();
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of response.body!) {
          buffer += decoder.decode(chunk, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (id) this.#lastId = id;
            if (/^event: gap$/m.test(block)) count("fast subscriber gap");
            if (!data || !/^event: message$/m.test(block)) continue;
            const seq = JSON.parse(data).seq as number;
            if (seen.has(seq)) this.duplicates++;
            else if (this.got.length > 0 && seq < this.got[this.got.length - 1]) this.outOfOrder++;
            seen.add(seq);
            this.got.push(seq);
          }
        }
        if (running.on) count("fast subscriber stream ended");
      } catch (error) {
        if (running.on) count(`fast subscriber: ${(error as Error).message}`);
      }
      if (running.on) {
        this.reconnects++;
        await sleep(200);
      }
    }
  }
}

const fast: FastSubscriber[] = [];
for (let t = 0; t < fastTopics; t++) {
  for (const server of servers) {
    for (let s = 0; s < subsPerTopic; s++) fast.push(new FastSubscriber(server.url, `${run}-fast-${t}`));
  }
}
await Promise.all(fast.map((f) => f.connected));
log(`${fast.length} fast subscribers on ${fastTopics} topics, ${runtime}, ${durationMs / 1000} s at ${rate} events/s`);

async function post(url: string, topic: string, data: unknown): Promise<number> {
  try {
    const response = await fetch(`${url}/topics/${topic}/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return (error as Error).name === "TimeoutError" ? -2 : -1;
  }
}

/** Acknowledged sequence numbers per fast topic. */
const acked: number[][] = Array.from({ length: fastTopics }, () => []);
let published = 0;
const publishStatus = new Map<number, number>();
async function publishLoop(): Promise<void> {
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; running.on; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (!running.on) break;
    const t = i % fastTopics;
    const seq = Math.floor(i / fastTopics) + 1;
    published++;
    const p = post(servers[i % 2].url, `${run}-fast-${t}`, { seq, pad: "x".repeat(200) }).then((status) => {
      publishStatus.set(status, (publishStatus.get(status) ?? 0) + 1);
      if (status === 200) acked[t].push(seq);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  await Promise.all(inFlight);
}

let churned = 0;
let churnFailures = 0;
async function churnOne(n: number): Promise<void> {
  const server = servers[n % 2];
  const topic = `${run}-churn-${Math.floor(n / 3)}`;
  const status = await post(server.url, topic, { n });
  if (status !== 200) churnFailures++;
  const controller = new AbortController();
  try {
    const headers: Record<string, string> = n % 3 === 0 ? { "Last-Event-ID": `${run}-unknown` } : {};
    const response = await fetch(`${server.url}/topics/${topic}/events`, { headers, signal: controller.signal });
    if (response.status !== 200) churnFailures++;
    const reader = response.body!.getReader();
    const hold = sleep(200 + Math.random() * 2800).then(() => "done" as const);
    for (;;) {
      const next = await Promise.race([reader.read(), hold]);
      if (next === "done" || next.done) break;
    }
    controller.abort();
    churned++;
  } catch (error) {
    if ((error as Error).name !== "AbortError") churnFailures++;
  }
}

async function churnLoop(): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let n = 0; running.on; n++) {
    const p = churnOne(n);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    await sleep(100);
  }
  await Promise.all(inFlight);
}

let slowOpened = 0;
async function slowOne(n: number): Promise<void> {
  const server = servers[n % 2];
  const { port } = new URL(server.url);
  const topic = `${run}-slow-${n}`;
  const socket = connect({ host: "127.0.0.1", port: Number(port) });
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(`GET /topics/${topic}/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
  socket.pause(); // never reads again
  slowOpened++;
  await sleep(300);
  // Enough to fill the kernel's socket buffers on both sides (loopback autotunes them to
  // several MB) and then `clientBuffer` frames.
  const big = "y".repeat(7000);
  for (let i = 0; i < 1600 && running.on; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => post(server.url, topic, { i: i + j, big })));
  }
  await sleep(5_000);
  socket.destroy();
}

async function slowLoop(): Promise<void> {
  const inFlight: Promise<void>[] = [];
  for (let n = 0; running.on; n++) {
    inFlight.push(slowOne(n));
    await sleep(20_000);
  }
  await Promise.all(inFlight);
}

const samples: { t: number; rss: number[] }[] = [];
const started = Date.now();
const sampler = setInterval(() => {
  samples.push({ t: (Date.now() - started) / 60_000, rss: servers.map((s) => rssMb(s.pid)) });
  const last = samples[samples.length - 1];
  if (samples.length % 12 === 0) {
    log(`${last.t.toFixed(1)} min: RSS ${last.rss.map((r) => r.toFixed(0)).join(" / ")} MB, ${published} published`);
  }
}, 5_000);

const loops = [publishLoop(), churnLoop(), slowLoop()];
await sleep(durationMs);
running.on = false;
await Promise.all(loops);
clearInterval(sampler);
await sleep(3_000); // let the last acknowledged events arrive

/** Least-squares slope in MB/min over the samples from `from` (a fraction of the run) on. */
function slope(i: number, from = 0.2): number {
  const points = samples.filter((s) => s.t >= (durationMs / 60_000) * from);
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.rss[i], 0) / n;
  const sxy = points.reduce((a, p) => a + (p.t - mx) * (p.rss[i] - my), 0);
  const sxx = points.reduce((a, p) => a + (p.t - mx) ** 2, 0);
  return sxy / sxx;
}

let lost = 0;
let duplicates = 0;
let outOfOrder = 0;
let deliveries = 0;
for (const f of fast) {
  const t = Number(f.topic.slice(f.topic.lastIndexOf("-") + 1));
  const got = new Set(f.got);
  for (const seq of acked[t]) if (!got.has(seq)) lost++;
  duplicates += f.duplicates;
  outOfOrder += f.outOfOrder;
  deliveries += f.got.length;
}
const totals = await Promise.all(
  servers.map(async (s) => (await (await fetch(`${s.url}/healthz?limit=0`)).json()).totals),
);
const exitCodes = await Promise.all(servers.map((s) => s.stop()));
await stopDatabase?.();

const report = {
  runtime,
  duration_s: durationMs / 1000,
  published,
  publish_status: Object.fromEntries(publishStatus),
  fast_subscribers: fast.length,
  fast_deliveries: deliveries,
  fast_lost: lost,
  fast_duplicates: duplicates,
  fast_out_of_order: outOfOrder,
  fast_reconnects: fast.reduce((a, f) => a + f.reconnects, 0),
  churn_subscriptions: churned,
  churn_failures: churnFailures,
  slow_connections: slowOpened,
  dropped_clients: totals.reduce((a, t) => a + t.dropped_clients, 0),
  errors: Object.fromEntries(errors),
  rss_mb_start: samples[0]?.rss.map((r) => +r.toFixed(1)),
  rss_mb_end: samples[samples.length - 1]?.rss.map((r) => +r.toFixed(1)),
  rss_slope_mb_per_min: servers.map((_, i) => +slope(i).toFixed(3)),
  // A heap that grows to its working size and stays there shows here as a flat second half.
  rss_slope_second_half_mb_per_min: servers.map((_, i) => +slope(i, 0.5).toFixed(3)),
  server_exit_codes: exitCodes,
};
console.log(JSON.stringify(report, null, 2));
Deno.exit(lost === 0 && duplicates === 0 && outOfOrder === 0 ? 0 : 1);
