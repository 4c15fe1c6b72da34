/**
 * What retained ring events really cost, against the `memory_usage_bytes` the dispatcher
 * reports, measured in-process after a full garbage collection, on any runtime:
 *
 *     npm run build
 *     node --expose-gc bench/ring_memory.mjs
 *     deno run -A --v8-flags=--expose-gc bench/ring_memory.mjs
 *     bun bench/ring_memory.mjs
 *
 * Events are built as the PostgreSQL bus builds them (decoded from NOTIFY payload text), and
 * each one's SSE frame is encoded, as a subscriber does. Plain JavaScript on the npm build so
 * that all three runtimes run the same code. Figures: growth of the process RSS and of the
 * heap + external memory over a collected baseline, per text kind.
 *
 * @module
 */

import { Dispatcher } from "../dist/src/dispatcher/dispatcher.js";
import { decodeEnvelope, encodeEnvelope } from "../dist/src/bus/envelope.js";
import { memoryModelFor } from "../dist/src/dispatcher/memory_model.js";

const gc = globalThis.Bun ? () => globalThis.Bun.gc(true) : globalThis.gc;
if (!gc) throw new Error("run with --expose-gc (node) or --v8-flags=--expose-gc (deno)");
const runtime = globalThis.Bun
  ? `bun ${globalThis.Bun.version}`
  : globalThis.Deno
  ? `deno ${globalThis.Deno.version.deno}`
  : `node ${process.versions.node}`;
const topics = Number(process.env.TOPICS ?? 100);
const events = Number(process.env.EVENTS ?? 1000);

function usage() {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + (m.external ?? 0) };
}

const mb = (n) => (n / 2 ** 20).toFixed(1);
const lines = [];
for (const [kind, char] of [["ascii", "x"], ["latin1", "é"], ["utf16", "€"], ["small", ""]]) {
  const dispatcher = new Dispatcher({
    ringCapacity: 1024,
    clientBuffer: 64,
    keepAlive: 60_000,
    topicIdleTimeout: 600_000,
    memoryModel: memoryModelFor(runtime),
  });
  const before = usage();
  const size = kind === "small" ? 0 : 1000;
  for (let i = 0; i < topics * events; i++) {
    const topic = `topic-${i % topics}`;
    // As postgres.js hands it over: a fresh string per NOTIFY.
    const payload = encodeEnvelope({
      topic,
      data: JSON.stringify({ i, pad: char.repeat(size) }),
      id: `0000018c${i.toString(16).padStart(8, "0")}-${i}`,
    });
    const event = dispatcher.receive(decodeEnvelope(payload));
    event.frame("message");
  }
  const after = usage();
  const reported = dispatcher.totals().memory_usage_bytes;
  lines.push(
    `${runtime.padEnd(12)} ${kind.padEnd(6)} ${topics}×${events}: reported ${mb(reported)} MB, ` +
      `heap+external +${mb(after.heap - before.heap)} MB (${(reported / (after.heap - before.heap)).toFixed(2)}), ` +
      `RSS +${mb(after.rss - before.rss)} MB (${(reported / (after.rss - before.rss)).toFixed(2)})`,
  );
  dispatcher.close();
}
console.log(lines.join("\n"));
