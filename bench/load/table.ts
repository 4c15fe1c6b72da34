/**
 * Plain-text and Markdown tables for the benchmark's summary, and the way figures are shown.
 *
 * @module
 */

/**
 * A figure as the tables show it: `12k` from 10 000 up, whole numbers from 100, one decimal
 * below, two below 1 (hop stages are often fractions of a millisecond), `–` when absent.
 *
 * @example
 * ```ts
 * import { figure } from "./table.ts";
 * figure(12_345); // "12k"
 * figure(0.256); // "0.26"
 * ```
 */
export function figure(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "–";
  if (v >= 10_000) return `${(v / 1000).toFixed(0)}k`;
  if (v >= 100) return v.toFixed(0);
  return v >= 1 || v === 0 ? v.toFixed(1) : v.toFixed(2);
}

/**
 * Lays out a table: columns padded (the first `left` to the left, the others to the right), or
 * as Markdown.
 *
 * @param head The header cells.
 * @param body The rows.
 * @param options `markdown` (default false), `left`: how many leading columns are text (default 1).
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { formatTable } from "./table.ts";
 * formatTable(["system", "recv/s"], [["bun ×1", "12k"]]).join("\n");
 * // "system  recv/s\nbun ×1     12k"
 * ```
 */
export function formatTable(
  head: readonly string[],
  body: readonly (readonly string[])[],
  options: { markdown?: boolean; left?: number } = {},
): string[] {
  if (options.markdown) {
    return [
      `| ${head.join(" | ")} |`,
      `|${head.map(() => "---").join("|")}|`,
      ...body.map((r) => `| ${r.join(" | ")} |`),
    ];
  }
  const left = options.left ?? 1;
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  return [head, ...body].map((r) =>
    r.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd()
  );
}
