/**
 * A latency histogram with bounded relative error: 10 µs buckets below 1 ms, then buckets 0.5 %
 * wide (log scale) up to 10 minutes. Small enough to pass between threads and merge.
 *
 * @module
 */

const LINEAR = 100; // 0–1 ms in 10 µs steps
const GROWTH = Math.log(1.005);
const SIZE = LINEAR + Math.ceil(Math.log(600_000) / GROWTH) + 1;

/** Counts of latencies in milliseconds. */
export class Histogram {
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  max = 0;

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(SIZE);
  }

  /** Records one value in milliseconds (negative values count as 0). */
  record(ms: number): void {
    if (!(ms > 0)) ms = 0;
    const i = ms < 1 ? Math.floor(ms * 100) : Math.min(SIZE - 1, LINEAR + Math.floor(Math.log(ms) / GROWTH));
    this.counts[i]++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Adds another histogram's counts. */
  merge(other: { counts: Float64Array; count: number; sum: number; max: number }): void {
    for (let i = 0; i < SIZE; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  /** The value below which the fraction `p` of the values lie (a bucket's middle), or undefined when empty. */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const want = Math.max(1, Math.ceil(this.count * p));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= want) return i < LINEAR ? (i + 0.5) / 100 : Math.exp((i - LINEAR + 0.5) * GROWTH);
    }
    return this.max;
  }

  /** p50, p90, p99, p99.9, max and mean, rounded to the microsecond. */
  summary(): Record<string, number> | null {
    if (this.count === 0) return null;
    const r = (v: number | undefined) => Math.round((v ?? 0) * 1000) / 1000;
    return {
      p50: r(this.percentile(0.5)),
      p90: r(this.percentile(0.9)),
      p99: r(this.percentile(0.99)),
      p999: r(this.percentile(0.999)),
      max: r(this.max),
      mean: r(this.sum / this.count),
      n: this.count,
    };
  }
}
