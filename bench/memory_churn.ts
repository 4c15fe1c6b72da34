/**
 * Bounded memory, per runtime: churns 10 000 topics and opens and closes 10 000 idle
 * connections, twice, and prints the server's RSS at each step against its baseline. The
 * second round shows whether what the first left behind is reused (a runtime keeping its
 * grown heap) or grows again (a leak). `bench/ring_memory.mjs` checks `memory_usage_bytes`.
 *
 *     deno run -A bench/memory_churn.ts [--topics 10000] [--connections 10000] [--runtimes deno,bun,node]
 *
 * The server runs with the in-process bus and `topicIdleTimeout` 2 s so churned topics are freed
 * during the run. Needs `npm install` (Bun) and `npm run build` (Node).
 *
 * @module
 */

import { type Runtime, runtimesUnderTest, serverCommand, startProcess } from "../scripts/processes.ts";
import { flag, openReadingStream, settledRssMb, sleep } from "./support.ts";

const topicCount = Number(flag("topics", "10000"));
const connectionCount = Number(flag("connections", "10000"));
const runtimes = flag("runtimes", runtimesUnderTest().join(",")).split(",") as Runtime[];

const settled = (pid: number) => settledRssMb(pid, 5, 400);

async function totals(url: string) {
  return (await (await fetch(`${url}/healthz?limit=0`)).json()).totals;
}

async function inBatches(count: number, size: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i += size) {
    await Promise.all(Array.from({ length: Math.min(size, count - i) }, (_, j) => fn(i + j)));
  }
}

async function post(url: string, topic: string, data: unknown): Promise<void> {
  const r = await fetch(`${url}/topics/${topic}/events`, { method: "POST", body: JSON.stringify({ data }) });
  await r.body?.cancel();
}

async function measure(runtime: Runtime): Promise<string[]> {
  const server = await startProcess(runtime, { env: { SSEPG_TOPIC_IDLE_TIMEOUT: "2s" } });
  const row = (label: string, mb: number, base: number, extra = "") =>
    `${runtime.padEnd(6)} ${label.padEnd(44)} ${mb.toFixed(1).padStart(8)} MB  (+${(mb - base).toFixed(1)} MB)${extra}`;
  const lines: string[] = [];
  try {
    await inBatches(200, 50, (i) => post(server.url, `warm-${i}`, { i })); // warm the code paths
    await sleep(3_000);
    const base = await settled(server.pid);
    lines.push(row("baseline", base, base));

    // Two rounds: what the first leaves behind is the runtime keeping its grown heap; a leak
    // would grow again in the second.
    for (const round of [1, 2]) {
      const tag = (label: string) => `round ${round}: ${label}`;
      await inBatches(topicCount, 64, (i) => post(server.url, `churn-${round}-${i}`, { i, pad: "x".repeat(150) }));
      const churned = await totals(server.url);
      lines.push(
        row(tag(`${topicCount} topics, 1 event each`), await settled(server.pid), base, `  topics=${churned.topics}`),
      );
      await sleep(5_000); // past topicIdleTimeout and a sweep
      const freed = await totals(server.url);
      lines.push(row(tag("idle topics freed"), await settled(server.pid), base, `  topics=${freed.topics}`));

      const conns: Deno.Conn[] = [];
      const before = await settled(server.pid);
      for (let i = 0; i < connectionCount; i++) {
        conns.push(await openReadingStream(server.url, `/topics/idle-${i % 100}/events`));
      }
      while ((await totals(server.url)).subscribers < connectionCount) await sleep(100);
      const open = await settled(server.pid);
      lines.push(
        row(
          tag(`${connectionCount} idle connections`),
          open,
          base,
          `  ${((open - before) * 1024 / connectionCount).toFixed(1)} KB/conn`,
        ),
      );
      for (const c of conns) c.close();
      while ((await totals(server.url)).subscribers > 0) await sleep(100);
      await sleep(5_000);
      lines.push(row(tag("connections closed"), await settled(server.pid), base));
    }
  } finally {
    await server.stop("SIGKILL");
  }
  return lines;
}

console.log(
  `memory: ${topicCount} topics churned, ${connectionCount} idle connections, two rounds, server RSS (lowest of 5 readings)`,
);
for (const runtime of runtimes) {
  if (!Array.isArray(serverCommand(runtime))) {
    console.log(`${runtime}: not available`);
    continue;
  }
  for (const line of await measure(runtime)) console.log(line);
}
