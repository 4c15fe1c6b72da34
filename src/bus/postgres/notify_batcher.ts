/**
 * Groups publishes that arrive together into one statement, so throughput is not one commit
 * per event, while each caller still learns the outcome of its own event.
 *
 * @module
 */

import { Histogram } from "../../histogram.ts";

/** Runs one statement carrying `payloads[i]` on `channels[i]`; rejects if it did not commit. */
export type NotifyExecutor = (channels: string[], payloads: string[]) => Promise<void>;

interface Pending {
  readonly channel: string;
  readonly payload: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Batcher settings. */
export interface NotifyBatcherOptions {
  /** Statements in flight at once (one per NOTIFY connection). @default 2 */
  readonly maxInFlight?: number;
  /** Most events in one statement. @default 1000 */
  readonly maxBatch?: number;
  /** Most payload characters in one statement. @default 4_000_000 */
  readonly maxBatchChars?: number;
}

/**
 * Sends a publish at once when a connection is free; while all are busy, publishes queue and
 * leave together in the next statement. A statement commits or fails as a whole (NOTIFY is
 * transactional), so every caller in it gets the same outcome.
 *
 * @example
 * ```ts
 * import { NotifyBatcher } from "./notify_batcher.ts";
 * const batcher = new NotifyBatcher(async (channels, payloads) => {
 *   console.log(`one statement, ${payloads.length} events`);
 * });
 * await Promise.all([batcher.publish("c", "1"), batcher.publish("c", "2")]);
 * ```
 */
export class NotifyBatcher {
  readonly #execute: NotifyExecutor;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  readonly #maxBatchChars: number;
  #queue: Pending[] = [];
  #inFlight = 0;
  /** Statements sent. */
  batches = 0;
  /** Events carried. */
  events = 0;
  /** Events per statement. */
  readonly batchSizes: Histogram = new Histogram([1, 2, 5, 10, 25, 50, 100, 250, 500, 1000]);

  constructor(execute: NotifyExecutor, options: NotifyBatcherOptions = {}) {
    this.#execute = execute;
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxBatchChars = options.maxBatchChars ?? 4_000_000;
  }

  /** Publishes waiting for a free connection. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues one NOTIFY.
   *
   * @param channel The channel.
   * @param payload The payload.
   * @returns Resolves when the statement carrying it committed.
   */
  publish(channel: string, payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ channel, payload, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      this.#inFlight++;
      this.batches++;
      this.events += batch.length;
      this.batchSizes.observe(batch.length);
      this.#execute(batch.map((p) => p.channel), batch.map((p) => p.payload)).then(
        () => {
          for (const p of batch) p.resolve();
        },
        (error) => {
          for (const p of batch) p.reject(error);
        },
      ).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  #take(): Pending[] {
    let count = 0;
    let chars = 0;
    while (count < this.#queue.length && count < this.#maxBatch) {
      chars += this.#queue[count].payload.length;
      if (count > 0 && chars > this.#maxBatchChars) break;
      count++;
    }
    return this.#queue.splice(0, count);
  }
}
