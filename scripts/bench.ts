/**
 * The benchmark suite: scenarios A–E of the independent SSE load tool (`sse-load.mjs` and
 * `run-peers.sh`, from `SSE_BENCH_DIR`, default `../shared/bench`) against ssepg on each
 * runtime, and against Nchan and the naive Hono + postgres.js peer in the same run when they
 * are installed; then one table of figures and ratios.
 *
 *     npm run bench                       # or: deno task bench
 *     deno task bench --runtimes bun --scenarios A,C --peers nchan
 *     deno task bench --md                # the table as Markdown
 *
 * Options: `--runtimes deno,bun,node` (default: all installed), `--scenarios A,B,C,D,E`,
 * `--peers nchan,naive` (default: those installed; `none` for ssepg alone), `--out DIR`
 * (raw JSON lines; default `$BENCH_RESULTS` or /tmp/ssepg-bench), `--md`.
 *
 * Every scenario starts fresh server processes. ssepg and the naive peer share one private
 * PostgreSQL 15 (the tool's `peers/naive/pg-start.sh`: 127.0.0.1:5439, fsync off), so both
 * pay the same database; without it, `DATABASE_URL` is used. Nchan runs with one worker
 * (`NCHAN_WORKERS=1`); its E uses two instances linked through Redis.
 *
 * @module
 */

import { root, type Runtime, RUNTIMES, serverCommand, type ServerProcess, startProcess, which } from "./processes.ts";
import { flag } from "../bench/support.ts";

const markdown = Deno.args.includes("--md");
const toolDir = Deno.env.get("SSE_BENCH_DIR") ?? `${root}../shared/bench`;
const runPeers = `${toolDir}/run-peers.sh`;
const outDir = flag("out", Deno.env.get("BENCH_RESULTS") ?? "/tmp/ssepg-bench");
const scenarios = flag("scenarios", "A,B,C,D,E").split(",");
// Node runs the npm build: make it fresh.
const tsc = which("tsc");
if (tsc && which("node")) {
  const build = await new Deno.Command(tsc, { args: ["-p", "tsconfig.build.json"], cwd: root }).output();
  if (!build.success) fail(`npm run build failed: ${new TextDecoder().decode(build.stdout)}`);
}
const installed = RUNTIMES.filter((r) => Array.isArray(serverCommand(r)));
const runtimes = flag("runtimes", installed.join(",")).split(",").filter(Boolean) as Runtime[];
const exists = (path: string) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};
const nchanModule = ["/usr/lib/nginx/modules/ngx_nchan_module.so", "/usr/share/nginx/modules/ngx_nchan_module.so"];
const peersInstalled = [
  ...(which("nginx") && which("redis-server") && nchanModule.some(exists) ? ["nchan"] : []),
  // The naive peer needs PostgreSQL 15's server binaries for its private cluster, and node.
  ...(exists("/usr/lib/postgresql/15/bin/pg_ctl") && which("node") ? ["naive"] : []),
];
const peers = flag("peers", peersInstalled.join(",")).split(",").filter((p) => p && p !== "none");
const PUB_BODY = '{"data":{"t":{ts},"seq":{seq},"topic":"{topic}","pad":"{pad}"}}';
const log = (text: string) => console.error(`bench: ${text}`);

function fail(message: string): never {
  console.error(`bench: ${message}`);
  Deno.exit(1);
}

try {
  Deno.statSync(runPeers);
} catch {
  fail(`the load tool is not at ${toolDir}: set SSE_BENCH_DIR to the folder holding run-peers.sh and sse-load.mjs`);
}
for (const r of runtimes) {
  const command = serverCommand(r);
  if (!Array.isArray(command)) fail(`cannot run ssepg on ${r}: ${command.missing}`);
}
Deno.mkdirSync(outDir, { recursive: true });

/** Runs the tool; its own per-call tables (stdout) are dropped, its progress (stderr) shown. */
async function sh(command: string[], env: Record<string, string> = {}): Promise<void> {
  const { code } = await new Deno.Command(command[0], {
    args: command.slice(1),
    env,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (code !== 0) log(`${command.join(" ")} exited with ${code}`);
}

/** The database ssepg uses: the tool's private PostgreSQL (shared with the naive peer) if it starts. */
async function database(): Promise<string> {
  const start = await new Deno.Command("bash", {
    args: [`${toolDir}/peers/naive/pg-start.sh`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (start.success) return `postgres://postgres@127.0.0.1:${Deno.env.get("BENCH_PG_PORT") ?? 5439}/postgres`;
  const url = Deno.env.get("DATABASE_URL");
  if (!url) fail(`no database: ${new TextDecoder().decode(start.stderr)} and DATABASE_URL is not set`);
  log(`the tool's PostgreSQL did not start; using DATABASE_URL`);
  return url;
}

const databaseUrl = await database();
/** PostgreSQL's postmaster, for the tool's `aux` CPU figure (the naive peer's runs get it too). */
const postgresPid = (() => {
  try {
    return Deno.readTextFileSync(`${Deno.env.get("BENCH_PG_DIR") ?? "/tmp/bench-pg"}/postmaster.pid`).split("\n")[0];
  } catch {
    return undefined;
  }
})();
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const out = `${outDir}/bench-${stamp}.jsonl`;

/** Runs one scenario against two fresh ssepg processes (E subscribes on the second). */
async function runSsepg(runtime: Runtime, scenario: string): Promise<void> {
  const env = { DATABASE_URL: databaseUrl };
  const servers: ServerProcess[] = [await startProcess(runtime, { env })];
  if (scenario === "E") servers.push(await startProcess(runtime, { env }));
  const [a, b] = servers;
  try {
    await sh([
      "bash",
      runPeers,
      "--peer",
      "none",
      "--base",
      a.url,
      ...(b ? ["--base2", b.url, "--server-pid2", String(b.pid)] : []),
      "--server-pid",
      String(a.pid),
      "--pub-body",
      PUB_BODY,
      "--scenarios",
      scenario,
      "--out",
      out,
      "--extra",
      `--label ssepg-${runtime}:${scenario}${postgresPid ? ` --aux-pid ${postgresPid}` : ""}`,
    ]);
  } finally {
    for (const s of servers) await s.stop();
  }
}

log(`runtimes ${runtimes.join(",")}, peers ${peers.join(",") || "none"}, scenarios ${scenarios.join(",")}`);
log(`database ${databaseUrl}; raw results in ${out}`);
for (const scenario of scenarios) {
  for (const runtime of runtimes) await runSsepg(runtime, scenario);
  const env = { NCHAN_WORKERS: "1", BENCH_RESULTS: outDir };
  if (peers.includes("nchan")) {
    const peer = scenario === "E" ? "nchan-redis" : "nchan-1w";
    await sh(["bash", runPeers, "--peer", peer, "--scenarios", scenario, "--out", out], env);
  }
  if (peers.includes("naive")) {
    await sh(["bash", runPeers, "--peer", "naive", "--scenarios", scenario, "--out", out], env);
  }
}

// The table: one row per system, the figures each goal is about, then ratios.
interface Row {
  label: string;
  mode: string;
  lost?: number;
  publish_errors?: number;
  delivered_per_s?: number;
  publish_per_s?: number;
  latency_ms?: { p99?: number };
  server?: { rss_per_conn_kb?: number };
}
const rows: Row[] = Deno.readTextFileSync(out).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const result = (system: string, scenario: string) =>
  rows.findLast((r) => r.label === `${system}:${scenario}` || r.label?.endsWith(`${system}:${scenario}`));
const systems = [
  ...runtimes.map((r) => `ssepg-${r}`),
  ...(peers.includes("nchan") ? ["nchan"] : []),
  ...(peers.includes("naive") ? ["naive"] : []),
];
const labelOf = (system: string, scenario: string) =>
  system === "nchan" ? (scenario === "E" ? "nchan-redis" : "nchan-1w") : system;

interface Column {
  head: string;
  scenario: string;
  value: (r: Row) => number | undefined;
  better: "higher" | "lower";
}
const allColumns: Column[] = [
  { head: "A recv/s", scenario: "A", value: (r) => r.delivered_per_s, better: "higher" },
  { head: "A p99 ms", scenario: "A", value: (r) => r.latency_ms?.p99, better: "lower" },
  { head: "B recv/s", scenario: "B", value: (r) => r.delivered_per_s, better: "higher" },
  { head: "B pub/s", scenario: "B", value: (r) => r.publish_per_s, better: "higher" },
  { head: "C recv/s", scenario: "C", value: (r) => r.delivered_per_s, better: "higher" },
  { head: "C p99 ms", scenario: "C", value: (r) => r.latency_ms?.p99, better: "lower" },
  { head: "D KB/conn", scenario: "D", value: (r) => r.server?.rss_per_conn_kb, better: "lower" },
  { head: "E p99 ms", scenario: "E", value: (r) => r.latency_ms?.p99, better: "lower" },
];
const columns = allColumns.filter((c) => scenarios.includes(c.scenario));

const figure = (system: string, column: Column) => {
  const r = result(labelOf(system, column.scenario), column.scenario);
  return r ? column.value(r) : undefined;
};
const lost = (system: string) =>
  scenarios.map((s) => result(labelOf(system, s), s)).reduce((n, r) => n + (r?.lost ?? 0), 0);
const fmt = (v: number | undefined) =>
  v === undefined ? "–" : v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v >= 100 ? v.toFixed(0) : v.toFixed(1);
const ratio = (a: number | undefined, b: number | undefined, better: "higher" | "lower") =>
  a === undefined || b === undefined || b === 0 ? "–" : `${(better === "higher" ? a / b : b / a).toFixed(2)}×`;

const head = ["system", ...columns.map((c) => c.head), "lost"];
const body: string[][] = systems.map((s) => [s, ...columns.map((c) => fmt(figure(s, c))), String(lost(s))]);
for (const s of systems.filter((x) => x.startsWith("ssepg"))) {
  for (const peer of systems.filter((x) => !x.startsWith("ssepg"))) {
    body.push([
      `${s} vs ${peer}`,
      ...columns.map((c) => ratio(figure(s, c), figure(peer, c), c.better)),
      "",
    ]);
  }
}
const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
const lines = markdown
  ? [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.join(" | ")} |`)]
  : [head, ...body].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
console.log(lines.join("\n"));
console.log(
  "\nratios: > 1× means ssepg is better (throughput divided, latency and memory inverted); lost = events a " +
    "connected subscriber never got, all scenarios.\n" +
    `full figures: node ${toolDir}/table.mjs ${out}`,
);
