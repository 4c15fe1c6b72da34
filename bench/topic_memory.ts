/**
 * What an empty topic state costs on the heap, for the memory model's `perTopic`: makes 100 000
 * topics the way a subscriber does (subscribe, then unsubscribe: an idle state with an empty
 * ring, in every index the dispatcher keeps) and prints the heap growth per topic after a full
 * garbage collection.
 *
 *     deno run -A --v8-flags=--expose-gc bench/topic_memory.ts
 *     bun bench/topic_memory.ts
 *
 * @module
 */

import process from "node:process";
import { Dispatcher } from "../src/dispatcher/dispatcher.ts";

const bun = (globalThis as { Bun?: { gc(force: boolean): void; version: string } }).Bun;
const gc = bun ? () => bun.gc(true) : (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc (deno)");
const runtime = bun
  ? `bun ${bun.version}`
  : `deno ${(globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno}`;
const count = 100_000;

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const sink = { ready() {}, drop() {}, gap() {}, idle() {}, shutdown() {}, abort() {} };
const dispatcher = new Dispatcher({
  ringCapacity: 1024,
  clientBuffer: 64,
  keepAlive: 60_000,
  topicIdleTimeout: 3_600_000,
  maxTopics: count,
});
// Names made before the baseline: a real topic name arrives with its request either way.
const names = Array.from({ length: count }, (_, i) => `topic-${i}`);
const before = heap();
for (const name of names) dispatcher.unsubscribe(dispatcher.subscribe([name], sink).subscriber);
const after = heap();
console.log(
  `${runtime}: ${dispatcher.topicCount} empty topic states, ${((after - before) / count).toFixed(0)} bytes each`,
);
dispatcher.close();
