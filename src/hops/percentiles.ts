/**
 * A fixed-memory latency histogram that answers percentiles: log-spaced buckets from 1 µs to
 * 60 s, each 4 % wide, so a reported percentile is within 2 % of the true one.
 *
 * @module
 */

/** Smallest value with a bucket of its own, ms (1 µs); smaller values share the first. */
const MIN_MS = 0.001;
/** Largest value with a bucket of its own, ms (60 s); larger values share the last. */
const MAX_MS = 60_000;
/** Each bucket's upper bound over its lower bound: its midpoint is within 2 % of anything in it. */
const RATIO = 1.04;
const LOG_RATIO = Math.log(RATIO);
const BUCKETS = Math.ceil(Math.log(MAX_MS / MIN_MS) / LOG_RATIO) + 1;

/**
 * Percentiles of one summary: milliseconds, 0 when nothing was observed.
 *
 * @example
 * ```ts
 * import type { PercentileSummary } from "./percentiles.ts";
 * const none: PercentileSummary = { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
 * ```
 */
export interface PercentileSummary {
  /** Observations. */
  count: number;
  /** Median, ms. */
  p50: number;
  /** 90th percentile, ms. */
  p90: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Largest observation, ms (exact). */
  max: number;
}

/**
 * Counts millisecond observations into log-spaced buckets (about 460 counters, 3.7 KB) and
 * reports percentiles within 2 %. Observing is a logarithm and an increment.
 *
 * @example
 * ```ts
 * import { PercentileHistogram } from "./percentiles.ts";
 * const h = new PercentileHistogram();
 * for (let ms = 1; ms <= 100; ms++) h.observe(ms);
 * h.percentile(0.5); // about 50 (within 2 %)
 * h.summary().max; // 100
 * ```
 */
export class PercentileHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Infinity;
  #max = 0;

  /** Observations so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Records one value.
   *
   * @param ms The value in milliseconds; negative values count as 0.
   */
  observe(ms: number): void {
    const value = ms > 0 ? ms : 0;
    this.#counts[bucketOf(value)]++;
    this.#count++;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /**
   * The value below which a fraction `q` of the observations fall.
   *
   * @param q 0 to 1.
   * @returns Milliseconds, within 2 % (exact at the extremes); 0 when empty.
   */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) {
        // Beyond 60 s the bucket has no width to speak of: the largest value is the best answer.
        if (i === BUCKETS - 1) return this.#max;
        // The bucket's geometric midpoint, kept within what was actually observed.
        return Math.min(this.#max, Math.max(this.#min, midpointOf(i)));
      }
    }
    return this.#max;
  }

  /**
   * Count, p50, p90, p99 and max.
   *
   * @returns The summary (all 0 when empty).
   */
  summary(): PercentileSummary {
    return {
      count: this.#count,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      max: this.#max,
    };
  }
}

function bucketOf(ms: number): number {
  if (ms <= MIN_MS) return 0;
  const i = Math.floor(Math.log(ms / MIN_MS) / LOG_RATIO) + 1;
  return i < BUCKETS ? i : BUCKETS - 1;
}

function midpointOf(bucket: number): number {
  if (bucket === 0) return MIN_MS;
  return MIN_MS * RATIO ** (bucket - 0.5);
}
