/**
 * Hop timing (`traceHops`): where an event's time goes between the POST that carried it and the
 * socket writes that deliver it, as per-stage latency percentiles for the health report.
 *
 * Every mark is `performance.now()` of this process:
 * - arrival: the request head reached the publish handler;
 * - notify: the batcher handed the statement carrying the event to the driver;
 * - commit: that statement's answer came back;
 * - listen: the notification carrying the event came back through this instance's LISTEN;
 * - first write / last write: the first and the last of this instance's subscriber streams
 *   handed a chunk holding the event's frame to their runtime's writer (`res.write` on
 *   `node:http`, the chunk a pull takes on `Deno.serve` and `Bun.serve`). "Last" counts the
 *   streams subscribed to its topic when the event arrived that write it within
 *   {@link WRITE_WINDOW_MS}: a stream that is slower (its socket is full) or never writes it
 *   (dropped, closed) does not hold the figure back; the event is then recorded with the last
 *   write seen within the window.
 *
 * The first three stages exist only on the instance that published the event. A notification
 * can overtake its own commit answer (they come back on two connections): commit to listen is
 * then 0.
 *
 * @module
 */

import type { PublishMarks } from "../bus/bus.ts";
import { PercentileHistogram, type PercentileSummary } from "./percentiles.ts";

/**
 * The stages reported, in the order an event goes through them.
 *
 * @example
 * ```ts
 * import { HOP_STAGES } from "./hop_tracer.ts";
 * HOP_STAGES.length; // 6
 * ```
 */
export const HOP_STAGES = [
  "arrival_to_notify",
  "notify_to_commit",
  "commit_to_listen",
  "listen_to_first_write",
  "first_to_last_write",
  "arrival_to_last_write",
] as const;

/**
 * One stage name.
 *
 * @example
 * ```ts
 * import type { HopStage } from "./hop_tracer.ts";
 * const stage: HopStage = "notify_to_commit";
 * ```
 */
export type HopStage = (typeof HOP_STAGES)[number];

/**
 * The `hops` field of the health report.
 *
 * @example
 * ```ts
 * import { HopTracer, type HopsReport } from "./hop_tracer.ts";
 * const report: HopsReport = new HopTracer().report();
 * report.stages_ms.notify_to_commit.count; // 0
 * ```
 */
export interface HopsReport {
  /** Events whose hops were recorded: this instance's own, and every event with subscribers here. */
  traced_events: number;
  /** Per stage: count and percentiles in ms; every stage is present, all 0 when count is 0. */
  stages_ms: Record<HopStage, PercentileSummary>;
}

/**
 * How long after an event arrived its subscribers' writes still count, ms. Writes are normally
 * within a millisecond or two of each other; a stream that needs longer is behind, not timed.
 */
export const WRITE_WINDOW_MS = 1_000;

/** Events timed at once, of each kind (own publishes in flight, fan-outs in progress). */
export const MAX_TRACKED = 10_000;

/** An own publish: the marks the bus fills, and when the POST arrived and it came back. */
class OwnEvent implements PublishMarks {
  notify = -1;
  commit = -1;
  listen = -1;
  /** commit_to_listen was recorded (by whichever of the commit and the receipt came second). */
  linked = false;
  readonly arrival: number;

  constructor(arrival: number) {
    this.arrival = arrival;
  }
}

/** One received event being written to this instance's subscribers. */
interface Fanout {
  readonly listen: number;
  first: number;
  last: number;
  /** Streams that had the topic when the event arrived and have not written it yet. */
  left: number;
  readonly own: OwnEvent | undefined;
}

/**
 * Records the marks of events and keeps one {@link PercentileHistogram} per stage. Memory is
 * bounded: at most {@link MAX_TRACKED} events of each kind are followed at once (the oldest is
 * given up for a new one), and the histograms have fixed buckets.
 *
 * @example
 * ```ts
 * import { HopTracer } from "./hop_tracer.ts";
 * const hops = new HopTracer();
 * const marks = hops.published("e1", 0)!;
 * marks.notify = 1; // the bus fills these
 * marks.commit = 3;
 * hops.answered("e1", marks, true);
 * const event = {};
 * hops.received("e1", event, 1, 4);
 * hops.wrote(event, 5);
 * hops.report().stages_ms.arrival_to_last_write.max; // 5
 * ```
 */
export class HopTracer {
  readonly #stages = Object.fromEntries(HOP_STAGES.map((s) => [s, new PercentileHistogram()])) as Record<
    HopStage,
    PercentileHistogram
  >;
  /** Own publishes not received back yet, by id, oldest first. */
  readonly #own = new Map<string, OwnEvent>();
  /** Received events being written, by stored event, oldest first. */
  readonly #fanouts = new Map<object, Fanout>();
  readonly #now: () => number;
  #traced = 0;

  /**
   * Creates an empty tracer.
   *
   * @param now The clock the marks come from. @default performance.now
   */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /**
   * An own publish is about to be sent.
   *
   * @param id Its event id.
   * @param arrival When its POST arrived.
   * @returns The marks for the bus to fill.
   */
  published(id: string, arrival: number): PublishMarks {
    if (this.#own.size >= MAX_TRACKED) this.#own.delete(this.#own.keys().next().value!);
    const own = new OwnEvent(arrival);
    this.#own.set(id, own);
    return own;
  }

  /**
   * An own publish was answered: committed (the bus filled `notify` and `commit`), or refused.
   *
   * @param id Its event id.
   * @param marks What {@link HopTracer.published} returned.
   * @param committed Whether it was committed.
   */
  answered(id: string, marks: PublishMarks, committed: boolean): void {
    const own = marks as OwnEvent;
    if (!committed) {
      this.#own.delete(id);
      return;
    }
    if (own.notify >= 0) this.#stages.arrival_to_notify.observe(own.notify - own.arrival);
    if (own.notify >= 0 && own.commit >= 0) this.#stages.notify_to_commit.observe(own.commit - own.notify);
    this.#link(own);
  }

  /**
   * An event came through the bus.
   *
   * @param id Its id, if any.
   * @param event The stored event, as {@link HopTracer.wrote} will name it.
   * @param subscribers Streams subscribed to its topic now.
   * @param at When its notification arrived.
   */
  received(id: string | undefined, event: object, subscribers: number, at: number): void {
    let own: OwnEvent | undefined;
    if (id !== undefined && this.#own.size > 0) {
      own = this.#own.get(id);
      if (own !== undefined) {
        this.#own.delete(id);
        own.listen = at;
        this.#link(own);
      }
    }
    this.#expire(at);
    if (subscribers === 0) {
      if (own !== undefined) this.#traced++;
      return;
    }
    if (this.#fanouts.size >= MAX_TRACKED) {
      const [oldest, fanout] = this.#fanouts.entries().next().value!;
      this.#finish(oldest, fanout);
    }
    this.#fanouts.set(event, { listen: at, first: -1, last: -1, left: subscribers, own });
  }

  /**
   * A subscriber stream handed a chunk holding `event`'s frame to its writer.
   *
   * @param event The stored event.
   * @param at When the write returned.
   */
  wrote(event: object, at: number): void {
    const fanout = this.#fanouts.get(event);
    if (fanout === undefined) return;
    if (fanout.first < 0) fanout.first = at;
    fanout.last = at;
    if (--fanout.left <= 0) this.#finish(event, fanout);
  }

  /**
   * The report for health; events whose write window ended are recorded first.
   *
   * @returns Traced events and every stage's summary.
   */
  report(): HopsReport {
    this.#expire(this.#now());
    const stages = {} as Record<HopStage, PercentileSummary>;
    for (const stage of HOP_STAGES) stages[stage] = this.#stages[stage].summary();
    return { traced_events: this.#traced, stages_ms: stages };
  }

  /** Records commit_to_listen once both marks are known. */
  #link(own: OwnEvent): void {
    if (own.linked || own.commit < 0 || own.listen < 0) return;
    own.linked = true;
    this.#stages.commit_to_listen.observe(own.listen - own.commit);
  }

  /** Records the events whose write window ended before `now`, oldest first. */
  #expire(now: number): void {
    for (const [event, fanout] of this.#fanouts) {
      if (fanout.listen + WRITE_WINDOW_MS > now) return;
      this.#finish(event, fanout);
    }
  }

  #finish(event: object, fanout: Fanout): void {
    this.#fanouts.delete(event);
    this.#traced++;
    if (fanout.first < 0) return;
    this.#stages.listen_to_first_write.observe(fanout.first - fanout.listen);
    this.#stages.first_to_last_write.observe(fanout.last - fanout.first);
    if (fanout.own !== undefined) this.#stages.arrival_to_last_write.observe(fanout.last - fanout.own.arrival);
  }
}
