/**
 * How close the reported `memory_usage_bytes` is to what the rings really cost, per runtime:
 * a fresh server with one reading subscriber per topic (so every event's frame is encoded, as
 * in production) gets `--topics` × `--events` events of about 1 kB, and the growth of the
 * reported figure is compared with the growth of the server's RSS.
 *
 *     deno run -A bench/memory_accuracy.ts [--topics 100] [--events 1000] [--runtimes deno,bun,node] [--text ascii|latin1|utf16]
 *
 * PostgreSQL from `DATABASE_URL` when set (the production path: events arrive as NOTIFY
 * payloads), else the in-process bus. Needs `npm install` (Bun) and `npm run build` (Node).
 *
 * @module
 */

import { type Runtime, runtimesUnderTest, startProcess } from "../scripts/processes.ts";
import { flag, settledRssMb, sleep } from "./support.ts";

const topicCount = Number(flag("topics", "100"));
const eventCount = Number(flag("events", "1000"));
const runtimes = flag("runtimes", runtimesUnderTest().join(",")).split(",") as Runtime[];
const text = flag("text", "ascii");
const padChar = text === "utf16" ? "€" : text === "latin1" ? "é" : "x";
const settled = (pid: number) => settledRssMb(pid, 6, 500);

async function reported(url: string): Promise<number> {
  return (await (await fetch(`${url}/healthz?limit=0`)).json()).totals.memory_usage_bytes / 2 ** 20;
}

async function publishAll(url: string, count: number, topic: (i: number) => string, data: (i: number) => unknown) {
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < count) {
      const i = next++;
      const r = await fetch(`${url}/topics/${topic(i)}/events`, {
        method: "POST",
        body: JSON.stringify({ data: data(i) }),
      });
      await r.body?.cancel();
      if (r.status !== 200) throw new Error(`publish answered ${r.status}`);
    }
  }));
}

async function measure(runtime: Runtime): Promise<string> {
  const env: Record<string, string> = { SSEPG_TOPIC_IDLE_TIMEOUT: "10m" };
  const db = Deno.env.get("DATABASE_URL");
  if (db) env.DATABASE_URL = db;
  const server = await startProcess(runtime, { env });
  const readers: AbortController[] = [];
  try {
    const run = Date.now().toString(36);
    const topic = (i: number) => `acc-${run}-${i % topicCount}`;
    for (let t = 0; t < topicCount; t++) {
      const controller = new AbortController();
      readers.push(controller);
      const response = await fetch(`${server.url}/topics/${topic(t)}/events`, { signal: controller.signal });
      void (async () => {
        try {
          for await (const _ of response.body!) { /* read and discard */ }
        } catch { /* aborted at the end */ }
      })();
    }
    // Warm the code paths on other topics, then take the baseline.
    await publishAll(server.url, 2000, (i) => `warm-${run}-${i % 50}`, (i) => ({ i, pad: padChar.repeat(1000) }));
    await sleep(2000);
    const [rss0, mem0] = [await settled(server.pid), await reported(server.url)];
    await publishAll(server.url, topicCount * eventCount, topic, (i) => ({ i, pad: padChar.repeat(1000) }));
    await sleep(2000);
    const [rss1, mem1] = [await settled(server.pid), await reported(server.url)];
    const ratio = (mem1 - mem0) / (rss1 - rss0);
    return `${runtime.padEnd(5)} ${text.padEnd(6)} ${topicCount}×${eventCount}: RSS +${(rss1 - rss0).toFixed(1)} MB, ` +
      `memory_usage_bytes +${(mem1 - mem0).toFixed(1)} MB, reported/RSS ${ratio.toFixed(2)}`;
  } finally {
    for (const r of readers) r.abort();
    await server.stop();
  }
}

const lines: string[] = [];
for (const runtime of runtimes) {
  const line = await measure(runtime);
  console.error(line);
  lines.push(line);
}
console.log(lines.join("\n"));
