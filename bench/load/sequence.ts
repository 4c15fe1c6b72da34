/**
 * What one subscriber received of one topic, judged by the publisher's sequence numbers
 * (1..n per topic): duplicates as they arrive, then losses and reordering once the run ends.
 *
 * Reordering is the server's fault only when the earlier event's publish had been answered
 * before the later one was even sent. Publishes in flight together may legally be delivered in
 * either order, so those pairs are counted apart (`reorderedConcurrent`).
 *
 * @module
 */

/** How the publisher's side of a topic ended. */
export interface TopicOutcome {
  /** Publishes attempted: seqs 1..attempted were sent. */
  attempted: number;
  /** Seqs whose publish was not acknowledged (error, timeout, non-2xx). */
  failed: readonly number[];
  /** `answeredBefore[m]`: the highest x such that publishes 1..x were all answered when m was sent. */
  answeredBefore: Int32Array;
}

/** A subscriber's verdict on one topic. */
export interface SequenceVerdict {
  /** Acknowledged publishes never received. */
  lost: number;
  /** Attempted publishes never received, failed ones included. */
  missing: number;
  /** Received although the publish was not acknowledged. */
  deliveredUnacked: number;
  /** Server-attributable reorders. */
  reordered: number;
  /** All reorders, those of concurrent publishes included. */
  reorderedConcurrent: number;
}

/** The arrivals of one subscriber on one topic. */
export class SequenceTracker {
  readonly #seen: Uint8Array;
  readonly #order: Int32Array;
  unique = 0;
  duplicates = 0;
  /** Seqs outside 1..max. */
  invalid = 0;

  /** @param max The highest seq the publisher may send to this topic. */
  constructor(readonly max: number) {
    this.#seen = new Uint8Array(max + 1);
    this.#order = new Int32Array(max);
  }

  /** Records an arrival; `"new"`, `"duplicate"` or `"invalid"`. */
  record(seq: number): "new" | "duplicate" | "invalid" {
    if (!(seq >= 1 && seq <= this.max)) {
      this.invalid++;
      return "invalid";
    }
    if (this.#seen[seq]) {
      this.duplicates++;
      return "duplicate";
    }
    this.#seen[seq] = 1;
    this.#order[this.unique++] = seq;
    return "new";
  }

  /** Judges the arrivals against what the publisher did. */
  verdict(outcome: TopicOutcome): SequenceVerdict {
    const failed = new Set(outcome.failed);
    let lost = 0;
    let missing = 0;
    let deliveredUnacked = 0;
    for (let seq = 1; seq <= Math.min(outcome.attempted, this.max); seq++) {
      if (this.#seen[seq]) {
        if (failed.has(seq)) deliveredUnacked++;
      } else {
        missing++;
        if (!failed.has(seq)) lost++;
      }
    }
    let reordered = 0;
    let reorderedConcurrent = 0;
    let highest = 0;
    for (let k = 0; k < this.unique; k++) {
      const seq = this.#order[k];
      if (seq > highest) highest = seq;
      else {
        reorderedConcurrent++;
        if (seq <= outcome.answeredBefore[highest]) reordered++;
      }
    }
    return { lost, missing, deliveredUnacked, reordered, reorderedConcurrent };
  }
}
