/**
 * The hop breakdown as the benchmark prints it: one row per stage, one column per ssepg
 * system, each cell `p50/p99` in ms. For the cross-instance scenario the stages up to LISTEN
 * come from the publishing instance and the write stages from the receiving one (each instance
 * times with its own clock, so no stage spans the two).
 *
 * @module
 */

import { HOP_STAGES, type HopsReport, type HopStage, type StageSummary } from "./hops.ts";
import { figure, formatTable } from "./table.ts";

/** Stages timed on the instance that took the POST. */
const PUBLISH_STAGES: readonly HopStage[] = ["arrival_to_notify", "notify_to_commit", "commit_to_listen"];
/** Stages timed on the instance that writes to subscribers. */
const WRITE_STAGES: readonly HopStage[] = ["listen_to_first_write", "first_to_last_write"];

/** One system's hop figures for one scenario. */
export interface HopColumn {
  /** The column head (`bun ×1`). */
  head: string;
  /** The instance that took the publishes (the only one, unless cross-instance); undefined: not reported. */
  publish?: HopsReport;
  /** The instance the subscribers were on, cross-instance only. */
  receive?: HopsReport;
  /** Workers read of workers run, e.g. `2/2`, when the system ran workers. */
  workers?: string;
}

/**
 * The stages to show for one system: all from the one instance, or cross-instance the
 * publishing stages from `publish` and the write stages from `receive` (end to end is then
 * not timed: the two instances have separate clocks).
 *
 * @param column The system's reports.
 * @returns The stage summaries, or undefined when nothing was reported.
 *
 * @example
 * ```ts
 * import { stagesOf } from "./hop_table.ts";
 * stagesOf({ head: "bun ×1" }); // undefined
 * ```
 */
export function stagesOf(column: HopColumn): Partial<Record<HopStage, StageSummary>> | undefined {
  if (!column.receive) return column.publish?.stages_ms;
  if (!column.publish) return undefined;
  const stages: Partial<Record<HopStage, StageSummary>> = {};
  for (const s of PUBLISH_STAGES) stages[s] = column.publish.stages_ms[s];
  for (const s of WRITE_STAGES) stages[s] = column.receive.stages_ms[s];
  return stages;
}

/**
 * A stage's cell: `p50/p99`, or `–` when the stage saw no event.
 *
 * @example
 * ```ts
 * import { hopCell } from "./hop_table.ts";
 * hopCell({ count: 10, p50: 0.21, p90: 0.5, p99: 1.234, max: 3 }); // "0.21/1.2"
 * ```
 */
export function hopCell(s: StageSummary | undefined): string {
  return s && s.count > 0 ? `${figure(s.p50)}/${figure(s.p99)}` : "–";
}

/**
 * The hop table of one scenario.
 *
 * @param columns One per ssepg system.
 * @param options `markdown` (default false), `crossInstance`: label the stages with the instance they come from.
 * @returns The lines; one line `hops: not reported` when no system reported hops.
 *
 * @example
 * ```ts
 * import { hopTable } from "./hop_table.ts";
 * hopTable([{ head: "bun ×1" }]); // ["hops: not reported"]
 * ```
 */
export function hopTable(
  columns: readonly HopColumn[],
  options: { markdown?: boolean; crossInstance?: boolean } = {},
): string[] {
  const stages = columns.map(stagesOf);
  if (stages.every((s) => s === undefined)) return ["hops: not reported"];
  // End to end would span two processes' clocks: cross-instance it is not timed.
  const where = (stage: HopStage) =>
    !options.crossInstance
      ? ""
      : PUBLISH_STAGES.includes(stage)
      ? " (pub)"
      : WRITE_STAGES.includes(stage)
      ? " (recv)"
      : " (n/a)";
  const body = HOP_STAGES.map((stage) => [
    `${stage}${where(stage)}`,
    ...stages.map((s) => (s ? hopCell(s[stage]) : "not reported")),
  ]);
  body.push([
    "traced events",
    ...columns.map((c) =>
      stagesOf(c)
        ? [c.publish?.traced_events, c.receive?.traced_events].filter((n) => n !== undefined).join(" + ")
        : "–"
    ),
  ]);
  if (columns.some((c) => c.workers)) body.push(["workers read", ...columns.map((c) => c.workers ?? "–")]);
  return formatTable(["hop stage, p50/p99 ms", ...columns.map((c) => c.head)], body, { markdown: options.markdown });
}
