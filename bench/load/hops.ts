/**
 * ssepg's hop timing as the benchmark reads it: the `hops` field of `GET /healthz` (present when
 * the server runs with `SSEPG_TRACE_HOPS=true`), gathered from every worker of an instance, and
 * merged into one report per instance.
 *
 * Each worker of `--workers N` times only what passes through it and answers health for itself
 * (the port hands each connection to one of them), so the health check is asked again on fresh
 * connections until every worker answered.
 *
 * @module
 */

// The stage names are the server's own: a stage added there shows up here.
import { HOP_STAGES, type HopStage } from "../../src/hops/hop_tracer.ts";

export { HOP_STAGES, type HopStage };

/** A stage's count and percentiles, ms. */
export interface StageSummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The `hops` field of ssepg's health report. */
export interface HopsReport {
  traced_events: number;
  stages_ms: Partial<Record<HopStage, StageSummary>>;
}

/** One instance's hop figures: each worker's report, and their merge. */
export interface InstanceHops {
  /** Workers the instance runs (1 without `--workers`). */
  workers: number;
  /** Workers whose health report was read. */
  workers_seen: number;
  /** Each answering worker's report, by worker index (1 without workers). */
  reports: Record<string, HopsReport>;
  /** The workers' reports merged ({@link mergeHops}). */
  merged: HopsReport;
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * The `hops` field of a health report, checked.
 *
 * @param health The parsed body of `GET /healthz`.
 * @returns The report, or undefined when the field is absent (tracing off or not built) or malformed.
 *
 * @example
 * ```ts
 * import { parseHops } from "./hops.ts";
 * parseHops({ status: "ok" }); // undefined
 * parseHops({ hops: { traced_events: 0, stages_ms: {} } })?.traced_events; // 0
 * ```
 */
export function parseHops(health: unknown): HopsReport | undefined {
  const hops = (health as { hops?: unknown } | null)?.hops as
    | { traced_events?: unknown; stages_ms?: Record<string, unknown> }
    | undefined;
  if (!hops || !isNumber(hops.traced_events) || typeof hops.stages_ms !== "object" || !hops.stages_ms) return undefined;
  const stages: Partial<Record<HopStage, StageSummary>> = {};
  for (const stage of HOP_STAGES) {
    const s = hops.stages_ms[stage] as Partial<StageSummary> | undefined;
    if (s && isNumber(s.count) && isNumber(s.p50) && isNumber(s.p99)) {
      stages[stage] = { count: s.count, p50: s.p50, p90: s.p90 ?? s.p99, p99: s.p99, max: s.max ?? s.p99 };
    }
  }
  return { traced_events: hops.traced_events, stages_ms: stages };
}

/**
 * Several workers' reports as one. Percentiles cannot be merged exactly from summaries: p50 and
 * p90 are the count-weighted mean of the workers' (a typical worker), p99 and max the highest
 * (an upper bound: the slowest worker). One report is returned as it is.
 *
 * @param reports The workers' reports.
 * @returns The merged report.
 *
 * @example
 * ```ts
 * import { mergeHops } from "./hops.ts";
 * const a = { traced_events: 1, stages_ms: { notify_to_commit: { count: 1, p50: 1, p90: 1, p99: 1, max: 1 } } };
 * const b = { traced_events: 3, stages_ms: { notify_to_commit: { count: 3, p50: 3, p90: 3, p99: 4, max: 5 } } };
 * mergeHops([a, b]).stages_ms.notify_to_commit; // { count: 4, p50: 2.5, p90: 2.5, p99: 4, max: 5 }
 * ```
 */
export function mergeHops(reports: readonly HopsReport[]): HopsReport {
  if (reports.length === 1) return reports[0];
  const stages: Partial<Record<HopStage, StageSummary>> = {};
  for (const stage of HOP_STAGES) {
    const parts = reports.map((r) => r.stages_ms[stage]).filter((s): s is StageSummary => s !== undefined);
    if (!parts.length) continue;
    const count = parts.reduce((n, s) => n + s.count, 0);
    const weighted = (f: (s: StageSummary) => number) =>
      count ? parts.reduce((n, s) => n + f(s) * s.count, 0) / count : 0;
    stages[stage] = {
      count,
      p50: weighted((s) => s.p50),
      p90: weighted((s) => s.p90),
      p99: Math.max(...parts.map((s) => s.count ? s.p99 : 0)),
      max: Math.max(...parts.map((s) => s.count ? s.max : 0)),
    };
  }
  return { traced_events: reports.reduce((n, r) => n + r.traced_events, 0), stages_ms: stages };
}

/**
 * Reads the hop figures of every worker of the instance at `base`: `GET /healthz` on a fresh
 * connection each time (so the port may hand it to another worker), until each worker index
 * the reports name has answered or `attempts` ran out.
 *
 * @param base The instance, `http://host:port`.
 * @param options `attempts` (default 64) and `timeoutMs` per request (default 5000).
 * @returns The figures, or undefined when the instance reports no hops.
 *
 * @example
 * ```ts
 * import { fetchHops } from "./hops.ts";
 * // const hops = await fetchHops("http://127.0.0.1:8080");
 * // hops?.merged.stages_ms.notify_to_commit?.p99;
 * ```
 */
export async function fetchHops(
  base: string,
  options: { attempts?: number; timeoutMs?: number } = {},
): Promise<InstanceHops | undefined> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const reports: Record<string, HopsReport> = {};
  let workers = 1;
  try {
    for (let i = 0; i < (options.attempts ?? 64); i++) {
      const response = await fetch(`${base.replace(/\/$/, "")}/healthz`, {
        client,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      const health = await response.json().catch(() => undefined) as
        | { worker?: { index?: number; count?: number } | null }
        | undefined;
      const hops = parseHops(health);
      if (!hops) return undefined;
      const worker = health?.worker;
      workers = worker?.count ?? 1;
      reports[String(worker?.index ?? 1)] ??= hops;
      if (Object.keys(reports).length >= workers) break;
    }
  } finally {
    client.close();
  }
  return {
    workers,
    workers_seen: Object.keys(reports).length,
    reports,
    merged: mergeHops(Object.values(reports)),
  };
}
