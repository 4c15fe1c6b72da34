/**
 * The systems a benchmark run measures — ssepg per runtime and worker setting, Nchan per worker
 * setting, the naive peer — their labels, and which peer each ssepg row is compared with, so
 * that ratios compare like with like: one process against one Nchan worker, one process per
 * core against Nchan's one worker per core (and for the cross-instance scenario the Nchan pair
 * linked through Redis with the same worker setting).
 *
 * @module
 */

/** How many processes serve a port: one, or one per core. */
export type WorkerSetting = "1" | "auto";

/** Every worker setting, in the order the benchmark runs them. */
export const WORKER_SETTINGS: readonly WorkerSetting[] = ["1", "auto"];

/** One measured system. */
export interface System {
  /** The label of its runs in the results (`ssepg-bun-w1`, `nchan-auto`, …). */
  key: string;
  /** The label printed in tables (`bun ×1`, `nchan-auto`, …). */
  display: string;
  kind: "ssepg" | "nchan" | "naive";
  /** The runtime, for ssepg. */
  runtime?: string;
  workers: WorkerSetting;
}

/**
 * ssepg on `runtime` with `workers`.
 *
 * @example
 * ```ts
 * import { ssepgSystem } from "./systems.ts";
 * ssepgSystem("bun", "auto").display; // "bun ×auto"
 * ```
 */
export function ssepgSystem(runtime: string, workers: WorkerSetting): System {
  return { key: `ssepg-${runtime}-w${workers}`, display: `${runtime} ×${workers}`, kind: "ssepg", runtime, workers };
}

/**
 * Nchan with `workers` for `scenario`: the memory store, or for the cross-instance scenario E
 * two instances linked through Redis. One worker keeps today's labels (`nchan-1w`, `nchan-redis`).
 *
 * @example
 * ```ts
 * import { nchanSystem } from "./systems.ts";
 * nchanSystem("1", "B").key; // "nchan-1w"
 * nchanSystem("auto", "E").key; // "nchan-redis-auto"
 * ```
 */
export function nchanSystem(workers: WorkerSetting, scenario: string): System {
  const key = scenario === "E"
    ? (workers === "1" ? "nchan-redis" : "nchan-redis-auto")
    : `nchan-${workers === "1" ? "1w" : "auto"}`;
  return { key, display: key, kind: "nchan", workers };
}

/**
 * The naive Hono + postgres.js peer: one process.
 *
 * @example
 * ```ts
 * import { naiveSystem } from "./systems.ts";
 * naiveSystem().workers; // "1"
 * ```
 */
export function naiveSystem(): System {
  return { key: "naive", display: "naive", kind: "naive", workers: "1" };
}

/**
 * The peer an ssepg row's ratios are against: Nchan with the same worker setting; failing that,
 * for one process, the naive peer (also one process). Peers have no ratio.
 *
 * @param system The row.
 * @param measured The systems measured in the same scenario.
 * @returns The peer, or undefined.
 *
 * @example
 * ```ts
 * import { matchingPeer, nchanSystem, ssepgSystem } from "./systems.ts";
 * const peers = [nchanSystem("1", "B"), nchanSystem("auto", "B")];
 * matchingPeer(ssepgSystem("bun", "auto"), peers)?.key; // "nchan-auto"
 * ```
 */
export function matchingPeer(system: System, measured: readonly System[]): System | undefined {
  if (system.kind !== "ssepg") return undefined;
  return measured.find((s) => s.kind === "nchan" && s.workers === system.workers) ??
    (system.workers === "1" ? measured.find((s) => s.kind === "naive") : undefined);
}

/**
 * How much better `ours` is than `theirs`: throughput divided, latency and memory inverted, so
 * above 1 is always better.
 *
 * @param ours Our figure.
 * @param theirs The peer's figure.
 * @param better Which way is better.
 * @returns The factor, or undefined when either is missing or a divisor is 0.
 *
 * @example
 * ```ts
 * import { ratioOf } from "./systems.ts";
 * ratioOf(5, 10, "lower"); // 2
 * ```
 */
export function ratioOf(
  ours: number | undefined,
  theirs: number | undefined,
  better: "higher" | "lower",
): number | undefined {
  if (ours === undefined || theirs === undefined) return undefined;
  const r = better === "higher" ? ours / theirs : theirs / ours;
  return Number.isFinite(r) && r > 0 ? r : undefined;
}

/**
 * {@link ratioOf} as the tables show it.
 *
 * @param ours Our figure.
 * @param theirs The peer's figure.
 * @param better Which way is better.
 * @returns `1.23×`, or `–` when either is missing or a divisor is 0.
 *
 * @example
 * ```ts
 * import { ratio } from "./systems.ts";
 * ratio(200, 100, "higher"); // "2.00×"
 * ratio(5, 10, "lower"); // "2.00×"
 * ```
 */
export function ratio(ours: number | undefined, theirs: number | undefined, better: "higher" | "lower"): string {
  const r = ratioOf(ours, theirs, better);
  return r === undefined ? "–" : `${r.toFixed(2)}×`;
}
