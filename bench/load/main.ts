/**
 * The load generator's command line: runs one scenario against a running server and prints
 * one JSON line (also appended to `--out`); exits 1, saying why, when any event was lost,
 * duplicated or reordered (or publishes or subscribers failed).
 *
 *     deno run -A bench/load/main.ts --scenario A --base http://127.0.0.1:8080 --server-pid 1234
 *     deno run -A bench/load/main.ts --scenario E --base http://127.0.0.1:8080 --base2 http://127.0.0.1:8081
 *
 * Options: `--scenario A|B|C|D|E`, `--base URL`, `--base2 URL` (E), `--path /topics/{topic}/events`,
 * `--pub-body T` (`{ts}`, `{seq}`, `{topic}`, `{pad}`; default: the bare fields, as Nchan and
 * the naive peer take them; ssepg wants them under `"data"`), `--header 'K: V'` (repeatable),
 * `--server-pid P[,P]` (RSS and CPU of those process trees), `--aux-pid P` (CPU only, e.g.
 * PostgreSQL), `--label L`, `--out FILE`, `--workers N` (subscriber threads, default 2),
 * `--max-s S` (default 90), `--hold-s S` (D: how long to hold the idle streams, default the
 * scenario's), `--meta JSON` (fields added to the result line, e.g. the system's worker setting).
 *
 * @module
 */

import { problems, run } from "./run.ts";
import { SCENARIOS } from "./scenarios.ts";

const args = Deno.args;
const option = (name: string, fallback = "") => {
  const i = args.lastIndexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const all = (name: string) => args.flatMap((a, i) => (a === `--${name}` && i + 1 < args.length ? [args[i + 1]] : []));
const pids = (list: string) => list.split(",").map(Number).filter((p) => p > 0);

const id = option("scenario").toUpperCase();
const holdS = option("hold-s");
const scenario = SCENARIOS[id] && holdS && SCENARIOS[id].holdS !== undefined
  ? { ...SCENARIOS[id], holdS: Number(holdS) }
  : SCENARIOS[id];
const base = option("base");
if (!scenario || !base) {
  console.error(`usage: main.ts --scenario ${Object.keys(SCENARIOS).join("|")} --base http://host:port [options]`);
  Deno.exit(2);
}
const label = option("label", id);
const result = await run({
  scenario,
  base,
  base2: option("base2") || undefined,
  path: option("path", "/topics/{topic}/events"),
  pubBody: option("pub-body", '{"t":{ts},"seq":{seq},"topic":"{topic}","pad":"{pad}"}'),
  headers: all("header"),
  serverPids: pids(option("server-pid")),
  auxPids: pids(option("aux-pid")),
  label,
  workers: Number(option("workers", "2")),
  maxS: Number(option("max-s", "90")),
  drainIdleMs: 3000,
  drainTimeoutMs: 20_000,
  log: (text) => console.error(`[load ${label}] ${text}`),
});
const line = JSON.stringify({ ...result, ...JSON.parse(option("meta", "{}")) });
console.log(line);
const out = option("out");
if (out) Deno.writeTextFileSync(out, `${line}\n`, { append: true });
const wrong = problems(result);
if (wrong.length) {
  console.error(`[load ${label}] FAILED: ${wrong.join(", ")}`);
  Deno.exit(1);
}
Deno.exit(0);
