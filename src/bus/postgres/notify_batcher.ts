/**
 * Groups publishes that arrive together into one statement, so throughput is not one commit
 * per event, while each caller still learns the outcome of its own event, within a bounded
 * time and a bounded queue.
 *
 * @module
 */

import { BusUnavailableError, EventRejectedError, type PublishMarks, PublishOutcomeUnknownError } from "../bus.ts";
import { Histogram } from "../../histogram.ts";

/**
 * One statement on its way, as an executor that can tell whether it left reports it.
 *
 * @example
 * ```ts
 * import type { NotifyStatement } from "./notify_batcher.ts";
 * const statement: NotifyStatement = { done: Promise.resolve(), sent: () => true, withdraw() {} };
 * ```
 */
export interface NotifyStatement {
  /** Resolves when the statement committed; rejects when it did not (or its outcome is unknown). */
  readonly done: Promise<void>;
  /** Whether the statement may have reached the database; `false` means it certainly did not. */
  sent(): boolean;
  /** Makes sure a statement not sent yet never is; `done` then rejects. */
  withdraw(): void;
}

/**
 * Runs one statement carrying `payloads[i]` on `channels[i]`: a promise that rejects if it did
 * not commit (taken as sent at once), or a {@link NotifyStatement}.
 *
 * @example
 * ```ts
 * import type { NotifyExecutor } from "./notify_batcher.ts";
 * const execute: NotifyExecutor = async (channels, payloads) => console.log(channels.length, payloads.length);
 * ```
 */
export type NotifyExecutor = (channels: string[], payloads: string[]) => Promise<void> | NotifyStatement;

interface Pending {
  /** One channel, or one per payload for an event sent as fragments. */
  readonly channel: string | readonly string[];
  /** One payload, or the fragments of one event, which must share one statement, in order. */
  readonly payload: string | readonly string[];
  /** `performance.now()` after which the caller is answered without waiting any longer. */
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  /** The caller has its answer; a late outcome of the statement is ignored. */
  settled: boolean;
  /** Sent in a statement of its own (after a statement it shared was refused for its data). */
  alone?: boolean;
  /** Hop-timing marks to fill when the statement leaves and when it is answered. */
  readonly marks: PublishMarks | undefined;
}

interface Batch {
  readonly items: Pending[];
  /** `performance.now()` when the statement was handed to the executor. */
  readonly sentAt: number;
  readonly statement: NotifyStatement;
  /** Some of its publishes carry hop-timing marks. */
  readonly timed: boolean;
}

/**
 * Batcher settings.
 *
 * @example
 * ```ts
 * import type { NotifyBatcherOptions } from "./notify_batcher.ts";
 * const options: NotifyBatcherOptions = { maxInFlight: 2, timeout: 5_000, maxPending: 10_000 };
 * ```
 */
export interface NotifyBatcherOptions {
  /** Statements in flight at once (one per NOTIFY connection). @default 2 */
  readonly maxInFlight?: number;
  /** Most NOTIFYs in one statement (each fragment of a large event counts). @default 1000 */
  readonly maxBatch?: number;
  /** Most payload characters in one statement. @default 4_000_000 */
  readonly maxBatchChars?: number;
  /**
   * Milliseconds a publish waits for its outcome (`publishTimeout`). When they pass, a publish
   * still queued is taken out of the queue, and one whose statement has not left yet (the
   * executor says it was not sent) is withdrawn with its whole statement: both are rejected with
   * {@link BusUnavailableError} (nothing was sent). One whose statement was sent but not
   * answered is rejected with {@link PublishOutcomeUnknownError}. @default Infinity (no limit)
   */
  readonly timeout?: number;
  /**
   * Most publishes waiting at once, queued or in statements not yet answered
   * (`maxPendingPublishes`); beyond it a publish is rejected at once with
   * {@link BusUnavailableError}. @default Infinity
   */
  readonly maxPending?: number;
}

/**
 * Sends a publish at once when a connection is free; while all are busy, publishes queue and
 * leave together in the next statement. A statement commits or fails as a whole (NOTIFY is
 * transactional), so every caller in it gets the same outcome, unless its `timeout` passed
 * first.
 *
 * @example
 * ```ts
 * import { NotifyBatcher } from "./notify_batcher.ts";
 * const batcher = new NotifyBatcher(async (channels, payloads) => {
 *   console.log(`one statement, ${payloads.length} events`);
 * }, { timeout: 5_000, maxPending: 10_000 });
 * await Promise.all([batcher.publish("c", "1"), batcher.publish("c", "2")]);
 * ```
 */
export class NotifyBatcher {
  readonly #execute: NotifyExecutor;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  readonly #maxBatchChars: number;
  readonly #timeout: number;
  readonly #maxPending: number;
  #queue: Pending[] = [];
  /** Statements sent and not answered yet, oldest first (a Set keeps insertion order). */
  readonly #inFlight = new Set<Batch>();
  /** Events in {@link NotifyBatcher.#inFlight}, answered to their callers or not. */
  #inFlightEvents = 0;
  /** Publishes whose callers have no answer yet; the deadline timer runs only while some do. */
  #open = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The clock reading shared by the current burst of publishes; -1 when none is. */
  #clock = -1;
  /** Statements sent. */
  batches = 0;
  /** Events carried. */
  events = 0;
  /** Events per statement. */
  readonly batchSizes: Histogram = new Histogram([1, 2, 5, 10, 25, 50, 100, 250, 500, 1000]);

  /**
   * Creates the batcher.
   *
   * @param execute Runs one statement.
   * @param options Limits.
   */
  constructor(execute: NotifyExecutor, options: NotifyBatcherOptions = {}) {
    this.#execute = execute;
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxBatchChars = options.maxBatchChars ?? 4_000_000;
    this.#timeout = options.timeout ?? Infinity;
    this.#maxPending = options.maxPending ?? Infinity;
  }

  /** Publishes waiting for a free connection. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Publishes queued or in statements not answered yet (what `maxPending` bounds). */
  get pending(): number {
    return this.#queue.length + this.#inFlightEvents;
  }

  /**
   * `performance.now()` when the oldest statement still unanswered was sent, if any: the bus's
   * liveness check treats one that is far too old as a stalled connection.
   */
  get oldestInFlightAt(): number | undefined {
    for (const batch of this.#inFlight) return batch.sentAt;
    return undefined;
  }

  /**
   * Queues one NOTIFY, or several that must commit together and stay consecutive (the fragments
   * of one event): they always share one statement, in the order given.
   *
   * @param channel The channel, or one per payload.
   * @param payload The payload, or the payloads in order.
   * @param marks Hop-timing marks: `notify` is set when the statement leaves, `commit` when it
   *   committed.
   * @returns Resolves when the statement carrying it committed; rejects with
   *   {@link BusUnavailableError} when it was refused, not sent in time or the queue is full,
   *   with {@link PublishOutcomeUnknownError} when it was sent and not answered in time, or with
   *   the executor's error when the statement failed.
   */
  publish(
    channel: string | readonly string[],
    payload: string | readonly string[],
    marks?: PublishMarks,
  ): Promise<void> {
    if (this.pending >= this.#maxPending) {
      return Promise.reject(
        new BusUnavailableError(
          `${this.pending} publishes are already waiting for the database (maxPendingPublishes is ${this.#maxPending})`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({
        channel,
        payload,
        deadline: this.#now() + this.#timeout,
        resolve,
        reject,
        settled: false,
        marks,
      });
      // Deadlines only grow (one timeout for all), so a running timer already fires early enough.
      if (this.#open++ === 0) this.#arm();
      this.#pump();
    });
  }

  /**
   * Rejects every queued publish (none of them was sent) with `error`: the bus calls it when it
   * knows the database cannot take them, so callers are answered now rather than at their
   * deadline. Statements already sent keep their own outcome.
   *
   * @param error What the callers get, normally a {@link BusUnavailableError}.
   */
  failQueued(error: unknown): void {
    const queued = this.#queue;
    this.#queue = [];
    for (const p of queued) this.#settle(p, error);
  }

  #pump(): void {
    while (this.#inFlight.size < this.#maxInFlight && this.#queue.length > 0) {
      const items = this.#take();
      const sentAt = performance.now();
      const channels: string[] = [];
      const payloads: string[] = [];
      let timed = false;
      for (const p of items) {
        if (p.marks !== undefined) {
          p.marks.notify = sentAt;
          timed = true;
        }
        if (typeof p.payload === "string") {
          channels.push(p.channel as string);
          payloads.push(p.payload);
        } else {
          // A loop, not push(...): an event may have hundreds of thousands of fragments, more
          // arguments than a call can take.
          const parts = p.channel as readonly string[];
          for (let i = 0; i < parts.length; i++) {
            channels.push(parts[i]);
            payloads.push(p.payload[i]);
          }
        }
      }
      let result: ReturnType<NotifyExecutor>;
      try {
        result = this.#execute(channels, payloads);
      } catch (error) {
        // The statement could not even be built: nothing left, so "nothing was published".
        const refused = new BusUnavailableError(`The NOTIFY statement could not be sent: ${String(error)}`, 1, {
          cause: error,
        });
        for (const p of items) this.#settle(p, refused);
        continue;
      }
      const statement: NotifyStatement = "done" in result ? result : { done: result, sent: () => true, withdraw() {} };
      const batch: Batch = { items, sentAt, statement, timed };
      this.#inFlight.add(batch);
      this.#inFlightEvents += batch.items.length;
      this.batches++;
      this.events += batch.items.length;
      this.batchSizes.observe(batch.items.length);
      statement.done.then(
        () => {
          if (batch.timed) {
            const at = performance.now();
            for (const p of batch.items) if (p.marks !== undefined) p.marks.commit = at;
          }
          for (const p of batch.items) this.#settle(p);
        },
        (error) => {
          if (error instanceof EventRejectedError && batch.items.length > 1) {
            // One event the database cannot take (a character its encoding lacks) fails the
            // whole statement, which committed nothing: send each again on its own, so only that
            // one is refused. They go first, in their order, before anything queued after them.
            const again = batch.items.filter((p) => !p.settled);
            for (const p of again) p.alone = true;
            this.#queue.unshift(...again);
            return;
          }
          for (const p of batch.items) this.#settle(p, error);
        },
      ).finally(() => {
        this.#inFlight.delete(batch);
        this.#inFlightEvents -= batch.items.length;
        this.#pump();
      });
    }
  }

  /** The publishes of the next statement: at least one, then as many as the limits allow. */
  #take(): Pending[] {
    let count = 0;
    let rows = 0;
    let chars = 0;
    if (this.#queue[0]?.alone) return this.#queue.splice(0, 1);
    while (count < this.#queue.length && !this.#queue[count].alone) {
      const { payload } = this.#queue[count];
      if (typeof payload === "string") {
        rows++;
        chars += payload.length;
      } else {
        rows += payload.length;
        for (const part of payload) chars += part.length;
      }
      if (count > 0 && (rows > this.#maxBatch || chars > this.#maxBatchChars)) break;
      count++;
    }
    return this.#queue.splice(0, count);
  }

  /**
   * `performance.now()`, read once per burst of publishes: a clock read (about 0.1 µs on Deno)
   * costs as much as the rest of a queued publish, and publishes that arrive in one synchronous
   * run may share a deadline.
   */
  #now(): number {
    if (this.#clock < 0) {
      this.#clock = performance.now();
      queueMicrotask(() => this.#clock = -1);
    }
    return this.#clock;
  }

  /** Answers one caller once: with `error` if given, else success. */
  #settle(p: Pending, error?: unknown): void {
    if (p.settled) return;
    p.settled = true;
    if (error === undefined) p.resolve();
    else p.reject(error);
    if (--this.#open === 0 && this.#timer !== undefined) {
      // Nobody waits: no timer left behind to keep the process (or a test) alive.
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Arms the deadline timer for the earliest deadline of a caller without an answer. */
  #arm(): void {
    if (this.#timeout === Infinity || this.#open === 0) return;
    let next = Infinity;
    // Statements in flight left the queue before anything in it, so their callers are due first.
    for (const batch of this.#inFlight) {
      const first = batch.items.find((p) => !p.settled);
      if (first) {
        next = first.deadline;
        break;
      }
    }
    if (next === Infinity && this.#queue.length > 0) next = this.#queue[0].deadline;
    if (next === Infinity) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, next - performance.now()));
  }

  /** Answers every caller whose deadline passed, then re-arms for the next one. */
  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const batch of this.#inFlight) {
      if (!batch.items.some((p) => !p.settled && p.deadline <= now)) continue;
      if (!batch.statement.sent()) {
        // Still waiting for a connection: take it back, so "nothing was published" stays true,
        // and answer everyone in it now (it will not be sent for the later ones either).
        batch.statement.withdraw();
        const error = new BusUnavailableError(
          `The NOTIFY was not sent within ${this.#timeout} ms: no database connection was ready`,
        );
        for (const p of batch.items) this.#settle(p, error);
        continue;
      }
      for (const p of batch.items) {
        if (p.deadline > now) break;
        this.#settle(
          p,
          new PublishOutcomeUnknownError(
            `The statement carrying the NOTIFY was sent but not answered within ${this.#timeout} ms`,
          ),
        );
      }
    }
    let due = 0;
    while (due < this.#queue.length && this.#queue[due].deadline <= now) due++;
    if (due > 0) {
      // Out of the queue first: what is removed here is never sent.
      for (const p of this.#queue.splice(0, due)) {
        this.#settle(
          p,
          new BusUnavailableError(`The NOTIFY was not sent within ${this.#timeout} ms: every connection is busy`),
        );
      }
    }
    this.#arm();
  }
}
