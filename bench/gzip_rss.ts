/**
 * Memory of gzip subscribers against plain ones, per runtime: starts ssepg (in-process bus)
 * under Deno, Bun and Node, connects N idle subscribers (plain, then gzip) over raw sockets,
 * sends a few events, and prints the server's RSS growth per connection and the gzip/plain ratio.
 *
 *     deno run -A bench/gzip_rss.ts [--connections 2000] [--runtimes deno,bun,node]
 *
 * Needs `npm install` (Bun) and `npm run build` (Node).
 *
 * @module
 */

import { type Runtime, runtimesUnderTest, serverCommand, startProcess } from "../scripts/processes.ts";
import { flag, openReadingStream, settledRssMb } from "./support.ts";

const connections = Number(flag("connections", "2000"));
const runtimes = flag("runtimes", runtimesUnderTest().join(",")).split(",") as Runtime[];
const topics = 20;

/** RSS in KB after the heap settles. */
const settle = async (pid: number) => (await settledRssMb(pid, 5, 300)) * 1024;

async function health(url: string) {
  return await (await fetch(`${url}/healthz?limit=0`)).json();
}

async function measure(runtime: Runtime, gzip: boolean): Promise<{ base: number; loaded: number; perConn: number }> {
  const server = await startProcess(runtime, { env: { SSEPG_KEEP_ALIVE: "15s" } });
  try {
    // Warm up the code paths once so their one-time cost is not counted per connection.
    await openSubscribers(server.url, 20, gzip).then(async (socks) => {
      await publishAll(server.url);
      for (const s of socks) s.close();
    });
    await new Promise((r) => setTimeout(r, 500));
    const base = await settle(server.pid);
    const socks = await openSubscribers(server.url, connections, gzip);
    const deadline = Date.now() + 30_000;
    while ((await health(server.url)).totals.subscribers < connections) {
      if (Date.now() > deadline) throw new Error("subscribers did not all connect");
      await new Promise((r) => setTimeout(r, 100));
    }
    await publishAll(server.url);
    await new Promise((r) => setTimeout(r, 1000));
    const loaded = await settle(server.pid);
    for (const s of socks) s.close();
    return { base, loaded, perConn: (loaded - base) / connections };
  } finally {
    await server.stop("SIGKILL");
  }
}

async function openSubscribers(url: string, n: number, gzip: boolean): Promise<Deno.Conn[]> {
  const socks: Deno.Conn[] = [];
  for (let i = 0; i < n; i++) {
    socks.push(
      await openReadingStream(url, `/topics/rss-${i % topics}/events`, gzip ? "Accept-Encoding: gzip\r\n" : ""),
    );
  }
  return socks;
}

async function publishAll(url: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    await Promise.all(Array.from({ length: topics }, (_, t) =>
      fetch(`${url}/topics/rss-${t}/events`, {
        method: "POST",
        body: JSON.stringify({ data: { round, text: "the quick brown fox jumps over the lazy dog ".repeat(4) } }),
      }).then((r) => r.body?.cancel())));
  }
}

console.log(`gzip vs plain subscriber memory: ${connections} idle connections over ${topics} topics, 5 events each`);
console.log("runtime  plain KB/conn  gzip KB/conn  gzip/plain");
for (const runtime of runtimes) {
  if (!Array.isArray(serverCommand(runtime))) {
    console.log(`${runtime.padEnd(8)} not available`);
    continue;
  }
  const plain = await measure(runtime, false);
  const gzip = await measure(runtime, true);
  console.log(
    `${runtime.padEnd(8)} ${plain.perConn.toFixed(1).padStart(13)} ${gzip.perConn.toFixed(1).padStart(13)} ${
      (gzip.perConn / plain.perConn).toFixed(2).padStart(11)
    }`,
  );
}
