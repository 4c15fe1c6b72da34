/**
 * A fixed-bucket histogram for Prometheus.
 *
 * @module
 */

/**
 * Counts observations into cumulative buckets, as a Prometheus histogram.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram([0.01, 0.1, 1]);
 * h.observe(0.05);
 * h.count; // 1
 * ```
 */
export class Histogram {
  /** Upper bounds, ascending. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: number[];
  /** Sum of all observations. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  /**
   * Creates an empty histogram.
   *
   * @param bounds Upper bounds, ascending.
   */
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  /**
   * Records one value.
   *
   * @param value The observation.
   */
  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /**
   * The histogram in Prometheus text format.
   *
   * @param name Metric name without suffixes.
   * @returns `name_bucket{le=…}`, `name_sum` and `name_count` lines.
   */
  render(name: string): string {
    let cumulative = 0;
    const lines: string[] = [];
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i];
      lines.push(`${name}_bucket{le="${this.bounds[i]}"} ${cumulative}`);
    }
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines.join("\n");
  }
}
