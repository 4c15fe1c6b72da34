/**
 * Large events (over one NOTIFY, sent as fragments): throughput through one instance and the
 * time a 1 MiB event takes from a POST on one instance to a subscriber of another, each beside
 * a baseline of events that fit one NOTIFY, measured in the same run on fresh servers.
 *
 *     deno task bench:large [--runtimes deno,bun,node] [--seconds 5] [--rounds 20]
 *
 * - throughput: `--seconds` of POSTs (4 at a time) of 256 KiB events to instance A, read by one
 *   subscriber on A; MB/s of event data delivered. Baseline: the same with 4 KiB events.
 * - cross-instance: `--rounds` sequential 1 MiB events POSTed to A, timed until a subscriber on
 *   B has the whole event; p50 and max. Baseline: 1 KiB events the same way.
 *
 * PostgreSQL: `DATABASE_URL`, else an embedded one. Every event is checked for its length.
 *
 * @module
 */

import { startEmbeddedPostgres } from "../src/cli/embedded_postgres.ts";
import { type Runtime, runtimesUnderTest, type ServerProcess, startProcess } from "../scripts/processes.ts";
import { flag } from "./support.ts";

const runtimes = flag("runtimes", runtimesUnderTest().join(",")).split(",") as Runtime[];
const seconds = Number(flag("seconds", "5"));
const rounds = Number(flag("rounds", "20"));
const KIB = 1024;

let databaseUrl = Deno.env.get("DATABASE_URL");
let stopDatabase: (() => Promise<void>) | undefined;
if (!databaseUrl) {
  const pg = await startEmbeddedPostgres();
  [databaseUrl, stopDatabase] = [pg.url, pg.stop];
}

/** A subscriber that counts whole events and their data bytes, resolving waiters by count. */
class Counter {
  events = 0;
  dataBytes = 0;
  ended = false;
  #waiters: { count: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  #abort = new AbortController();
  private constructor(body: ReadableStream<Uint8Array>) {
    void this.#read(body);
  }

  static async open(base: string, topic: string): Promise<Counter> {
    const counter = new AbortController();
    const response = await fetch(`${base}/topics/${topic}/events`, { signal: counter.signal });
    if (!response.body) throw new Error("no stream");
    const c = new Counter(response.body);
    c.#abort = counter;
    return c;
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    let scanned = 0;
    try {
      for await (const chunk of body) {
        pending += decoder.decode(chunk, { stream: true });
        // A block's blank line may straddle two chunks: look one character back.
        let start = 0;
        for (
          let end = pending.indexOf("\n\n", Math.max(0, scanned - 1));
          end >= 0;
          end = pending.indexOf("\n\n", start)
        ) {
          const data = pending.indexOf("\ndata: ", start);
          if (data >= 0 && data < end) {
            this.events++;
            this.dataBytes += end - data - 7;
          }
          start = end + 2;
        }
        pending = pending.slice(start);
        scanned = pending.length;
        this.#wake();
      }
    } catch {
      // Aborted at the end of the run.
    }
    this.ended = true;
    for (const w of this.#waiters) w.reject(new Error(`the stream ended after ${this.events} events`));
    this.#waiters = [];
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.events < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `count` events have arrived in all. */
  until(count: number): Promise<void> {
    if (this.events >= count) return Promise.resolve();
    if (this.ended) return Promise.reject(new Error(`the stream ended after ${this.events} events`));
    return new Promise((resolve, reject) => this.#waiters.push({ count, resolve, reject }));
  }

  /** Ends the subscription; the read loop ends when the runtime notices the abort. */
  close(): void {
    this.#abort.abort();
  }
}

async function post(base: string, topic: string, body: string): Promise<void> {
  const response = await fetch(`${base}/topics/${topic}/events`, { method: "POST", body });
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`POST answered ${response.status}`);
}

/** MB/s of event data through instance A, events of `size` bytes, 4 POSTs in flight. */
async function throughput(a: ServerProcess, size: number): Promise<number> {
  const topic = `through-${size}-${crypto.randomUUID().slice(0, 8)}`;
  const reader = await Counter.open(a.url, topic);
  await new Promise((r) => setTimeout(r, 200));
  const body = JSON.stringify({ data: "x".repeat(size) });
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let sent = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (performance.now() < deadline) {
      // At most 16 events ahead of the reader: this measures delivery, not how fast a
      // subscriber that falls clientBuffer frames behind is dropped.
      await reader.until(sent - 16);
      sent++;
      await post(a.url, topic, body);
    }
  }));
  await reader.until(sent);
  const elapsed = (performance.now() - started) / 1000;
  const mbps = reader.dataBytes / elapsed / 1e6;
  reader.close();
  return mbps;
}

/** Milliseconds from a POST on A to the whole event on B, for `rounds` sequential events. */
async function crossInstance(a: ServerProcess, b: ServerProcess, size: number): Promise<number[]> {
  const topic = `cross-${size}-${crypto.randomUUID().slice(0, 8)}`;
  const reader = await Counter.open(b.url, topic);
  await new Promise((r) => setTimeout(r, 200));
  const body = JSON.stringify({ data: "y".repeat(size) });
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await Promise.all([post(a.url, topic, body), reader.until(i + 1)]);
    times.push(performance.now() - started);
  }
  reader.close();
  return times.sort((x, y) => x - y);
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const fixed = (n: number, digits = 1) => n.toFixed(digits);

console.log("| runtime | 256 KiB MB/s | 4 KiB MB/s | ratio | 1 MiB A→B p50 ms | max ms | 1 KiB A→B p50 ms | ratio |");
console.log("|---|---|---|---|---|---|---|---|");
for (const runtime of runtimes) {
  const env = { DATABASE_URL: databaseUrl };
  const [a, b] = await Promise.all([startProcess(runtime, { env }), startProcess(runtime, { env })]);
  try {
    // One warm-up round of each, so the first figures do not carry JIT and connection setup.
    await crossInstance(a, b, KIB);
    const large = await throughput(a, 256 * KIB);
    const small = await throughput(a, 4 * KIB);
    const big = await crossInstance(a, b, 1_000_000);
    const tiny = await crossInstance(a, b, KIB);
    console.log(
      `| ${runtime} | ${fixed(large)} | ${fixed(small)} | ${fixed(large / small, 2)} | ${fixed(quantile(big, 0.5))} | ${
        fixed(big.at(-1)!)
      } | ${fixed(quantile(tiny, 0.5))} | ${fixed(quantile(big, 0.5) / quantile(tiny, 0.5))} |`,
    );
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}
await stopDatabase?.();
