/**
 * The benchmark's summary tables: per scenario one row per measured system with its figures
 * and the ratios against its matching peer ({@link matchingPeer}), and the headline table of
 * every scenario's key figures.
 *
 * @module
 */

import { matchingPeer, nchanSystem, ratio, ratioOf, type System } from "./systems.ts";
import { figure, formatTable } from "./table.ts";

/** The fields of a result line (`bench/load/run.ts`) the tables use. */
export interface ResultRow {
  label: string;
  mode?: string;
  lost?: number;
  delivered_per_s?: number;
  publish_per_s?: number;
  latency_ms?: { p50?: number; p99?: number };
  server?: { pids?: number; rss_per_conn_kb?: number; rss_end_of_hold_kb?: number; cpu_pct_of_one_core?: number };
}

/** One figure of a result. */
export interface Metric {
  head: string;
  value: (r: ResultRow) => number | undefined;
  better: "higher" | "lower";
}

/** Every figure the tables show, by column head. */
export const METRICS: Readonly<Record<string, Metric>> = {
  "recv/s": { head: "recv/s", value: (r) => r.delivered_per_s, better: "higher" },
  "pub/s": { head: "pub/s", value: (r) => r.publish_per_s, better: "higher" },
  "p50 ms": { head: "p50 ms", value: (r) => r.latency_ms?.p50, better: "lower" },
  "p99 ms": { head: "p99 ms", value: (r) => r.latency_ms?.p99, better: "lower" },
  "srv cpu %": { head: "srv cpu %", value: (r) => r.server?.cpu_pct_of_one_core, better: "lower" },
  "KB/conn": { head: "KB/conn", value: (r) => r.server?.rss_per_conn_kb, better: "lower" },
  "RSS MB": {
    head: "RSS MB",
    value: (r) => r.server?.rss_end_of_hold_kb === undefined ? undefined : r.server.rss_end_of_hold_kb / 1024,
    better: "lower",
  },
};

/** The figures each scenario is about: the headline table's columns, and the ratio columns. */
export const KEY_METRICS: Readonly<Record<string, readonly string[]>> = {
  A: ["recv/s", "p99 ms"],
  B: ["recv/s", "pub/s"],
  C: ["recv/s", "p99 ms"],
  D: ["KB/conn"],
  E: ["p99 ms"],
};

/** The figures shown for a scenario: those of a load run, or D's (idle streams, then one event per topic). */
const shownMetrics = (scenario: string) =>
  (scenario === "D" ? ["KB/conn", "RSS MB", "p99 ms"] : ["recv/s", "pub/s", "p50 ms", "p99 ms", "srv cpu %"])
    .map((m) => METRICS[m]);

/** One system's line of a scenario, as the JSON summary keeps it. */
export interface SummaryRow {
  system: string;
  display: string;
  kind: System["kind"];
  runtime?: string;
  workers: System["workers"];
  figures: Record<string, number | null>;
  server_processes: number | null;
  lost: number | null;
  /** The system the ratios are against. */
  vs: string | null;
  /** Key figure → how much better than `vs` (above 1 is better), null when a figure is missing. */
  ratios: Record<string, number | null> | null;
}

/**
 * One scenario's table: a row per system (`procs` = processes sampled in its tree), then the
 * peer it is compared with and the ratios of the scenario's key figures.
 *
 * @param scenario The scenario id.
 * @param systems The systems measured, in run order.
 * @param resultOf A system's result in this scenario, by key.
 * @param options `markdown` (default false).
 * @returns The lines, and the rows for the JSON summary. Without any pairing (no peer ran) the
 * ratio columns are left out.
 *
 * @example
 * ```ts
 * import { scenarioTable } from "./summary.ts";
 * import { ssepgSystem } from "./systems.ts";
 * scenarioTable("B", [ssepgSystem("bun", "1")], () => ({ label: "x", delivered_per_s: 9000 })).lines[1];
 * // "bun ×1      –  9000     –       –       –          –     0"
 * ```
 */
export function scenarioTable(
  scenario: string,
  systems: readonly System[],
  resultOf: (key: string) => ResultRow | undefined,
  options: { markdown?: boolean } = {},
): { lines: string[]; rows: SummaryRow[] } {
  const metrics = shownMetrics(scenario);
  const keys = (KEY_METRICS[scenario] ?? []).map((m) => METRICS[m]);
  const body: string[][] = [];
  const rows: SummaryRow[] = [];
  for (const system of systems) {
    const r = resultOf(system.key);
    const peer = matchingPeer(system, systems);
    const p = peer && resultOf(peer.key);
    const ratios = peer
      ? Object.fromEntries(keys.map((m) => [m.head, ratioOf(r && m.value(r), p && m.value(p), m.better) ?? null]))
      : null;
    body.push([
      system.display,
      r?.server?.pids === undefined ? "–" : String(r.server.pids),
      ...metrics.map((m) => figure(r && m.value(r))),
      r ? String(r.lost ?? 0) : "–",
      peer?.display ?? "",
      ...keys.map((m) => ratios ? ratio(r && m.value(r), p && m.value(p), m.better) : ""),
    ]);
    rows.push({
      system: system.key,
      display: system.display,
      kind: system.kind,
      runtime: system.runtime,
      workers: system.workers,
      figures: Object.fromEntries(metrics.map((m) => [m.head, (r && m.value(r)) ?? null])),
      server_processes: r?.server?.pids ?? null,
      lost: r ? r.lost ?? 0 : null,
      vs: peer?.key ?? null,
      ratios,
    });
  }
  // Without any peer (`--peers none`) the ratio columns would stay empty: leave them out.
  const head = ["system", "procs", ...metrics.map((m) => m.head), "lost", "vs", ...keys.map((m) => `${m.head} ×`)];
  const width = rows.some((r) => r.vs) ? head.length : head.length - 1 - keys.length;
  return {
    lines: formatTable(head.slice(0, width), body.map((r) => r.slice(0, width)), options),
    rows,
  };
}

/**
 * The headline table: one line per system (Nchan's worker settings each one line, its E figures
 * those of the Redis pair), the key figures of every scenario, then each ssepg line against its
 * matching peer.
 *
 * @param measured The systems each scenario measured.
 * @param resultOf A system's result in a scenario, by key.
 * @param options `markdown` (default false).
 * @returns The lines, and the figures by system key and column head for the JSON summary.
 *
 * @example
 * ```ts
 * import { headlineTable } from "./summary.ts";
 * import { ssepgSystem } from "./systems.ts";
 * const measured = new Map([["D", [ssepgSystem("node", "auto")]]]);
 * headlineTable(measured, () => ({ label: "x", server: { rss_per_conn_kb: 9.5 } })).lines[1];
 * // "node ×auto        9.5     0"
 * ```
 */
export function headlineTable(
  measured: ReadonlyMap<string, readonly System[]>,
  resultOf: (key: string, scenario: string) => ResultRow | undefined,
  options: { markdown?: boolean } = {},
): { lines: string[]; figures: Record<string, Record<string, number | null>> } {
  const scenarios = [...measured.keys()];
  const lineup: System[] = [];
  for (const systems of measured.values()) {
    for (const s of systems) {
      const family = s.kind === "nchan" ? nchanSystem(s.workers, "A") : s;
      if (!lineup.some((x) => x.key === family.key)) lineup.push(family);
    }
  }
  const keyOf = (s: System, scenario: string) => s.kind === "nchan" ? nchanSystem(s.workers, scenario).key : s.key;
  const columns = scenarios.flatMap((scenario) =>
    (KEY_METRICS[scenario] ?? []).map((m) => ({ scenario, head: `${scenario} ${m}`, metric: METRICS[m] }))
  );
  const value = (s: System, c: (typeof columns)[number]) => {
    const r = resultOf(keyOf(s, c.scenario), c.scenario);
    return r && c.metric.value(r);
  };
  const lost = (s: System) => scenarios.reduce((n, sc) => n + (resultOf(keyOf(s, sc), sc)?.lost ?? 0), 0);
  const body = lineup.map((s) => [s.display, ...columns.map((c) => figure(value(s, c))), String(lost(s))]);
  for (const s of lineup) {
    const peer = matchingPeer(s, lineup);
    if (!peer) continue;
    body.push([
      `${s.display} vs ${peer.display}`,
      ...columns.map((c) => ratio(value(s, c), value(peer, c), c.metric.better)),
      "",
    ]);
  }
  return {
    lines: formatTable(["system", ...columns.map((c) => c.head), "lost"], body, options),
    figures: Object.fromEntries(
      lineup.map((s) => [s.key, Object.fromEntries(columns.map((c) => [c.head, value(s, c) ?? null]))]),
    ),
  };
}
