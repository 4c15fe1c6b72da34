/**
 * The bus: how instances hand events to each other. PostgreSQL `LISTEN`/`NOTIFY` across
 * instances, or an in-process loop for a single instance.
 *
 * @module
 */

import type { Envelope } from "./envelope.ts";
import type { Histogram } from "../histogram.ts";

/**
 * What the bus reports to the instance that started it.
 *
 * @example
 * ```ts
 * import type { BusHandlers } from "./bus.ts";
 * const handlers: BusHandlers = { event: (e) => console.log(e.topic), gap: () => console.log("gap") };
 * ```
 */
export interface BusHandlers {
  /**
   * An event arrived (from any instance, this one included); `receivedAt` is the
   * `performance.now()` of its notification's arrival, given only when `timed` is true.
   */
  event(envelope: Envelope, receivedAt?: number): void;
  /**
   * Events may have been lost: of every topic (the listener was away and is back), or of
   * `topic` only (a large event of that topic could not be rebuilt from its fragments).
   */
  gap(topic?: string): void;
  /** Time each notification's arrival for `event` (hop timing); off, no clock is read. */
  readonly timed?: boolean;
}

/**
 * Hop-timing marks of one publish, which the bus fills as the event goes (`performance.now()`;
 * -1 until known). A bus without these hops (in memory) leaves them at -1.
 *
 * @example
 * ```ts
 * import type { PublishMarks } from "./bus.ts";
 * const marks: PublishMarks = { notify: -1, commit: -1 };
 * ```
 */
export interface PublishMarks {
  /** The statement carrying the event was handed to the driver. */
  notify: number;
  /** That statement's answer came back (committed). */
  commit: number;
}

/**
 * Figures the health endpoint reports about the bus.
 *
 * @example
 * ```ts
 * import { MemoryBus } from "./memory.ts";
 * const status = new MemoryBus().status();
 * status.connected; // true
 * ```
 */
export interface BusStatus {
  /** `postgres` or `memory`. */
  readonly kind: "postgres" | "memory";
  /** The LISTEN connection is up (always true in memory). */
  readonly connected: boolean;
  /** LISTEN reconnection attempts since start; never reset. */
  readonly reconnectAttempts: number;
  /** `Date.now()` of the last notification received, if any. */
  readonly lastNotificationAt: number | undefined;
  /** NOTIFY queue usage 0..1 from the last poll, if known. */
  readonly queueUsage: number | undefined;
  /** Statements sent to carry publishes. */
  readonly notifyBatches: number;
  /** Publishes carried by those statements. */
  readonly notifyEvents: number;
  /** Events per statement, when the bus batches. */
  readonly notifyBatchSizes?: Histogram;
  /** Problems found at startup that an operator must fix (e.g. a shard count mismatch). */
  readonly warnings?: readonly string[];
  /** Events larger than one NOTIFY, when the bus fragments them. */
  readonly fragments?: FragmentStatus;
}

/**
 * How events larger than one NOTIFY fared: sent as fragments, rebuilt, or dropped.
 *
 * @example
 * ```ts
 * import type { FragmentStatus } from "./bus.ts";
 * const none: FragmentStatus = { eventsSent: 0, sent: 0, eventsReceived: 0, discarded: 0, heldBytes: 0 };
 * ```
 */
export interface FragmentStatus {
  /** Events this instance published as fragments. */
  readonly eventsSent: number;
  /** Fragments those events took. */
  readonly sent: number;
  /** Fragmented events rebuilt and delivered (from any instance, or from SQL). */
  readonly eventsReceived: number;
  /** Fragment sets dropped before completing: interrupted, malformed or over `maxEventBytes`. */
  readonly discarded: number;
  /** Bytes held now for an event being rebuilt; counted against `maxRingBytes`. */
  readonly heldBytes: number;
}

/**
 * One bus implementation.
 *
 * @example
 * ```ts
 * import type { Bus } from "./bus.ts";
 * import { MemoryBus } from "./memory.ts";
 * const bus: Bus = new MemoryBus();
 * await bus.start({ event: (e) => console.log(e.topic), gap() {} });
 * await bus.publish({ topic: "a", data: "1", id: "e1" }, '{"topic":"a","data":1,"id":"e1"}');
 * await bus.close();
 * ```
 */
export interface Bus {
  /** Connects and starts delivering events to `handlers`; resolves once listening. */
  start(handlers: BusHandlers): Promise<void>;
  /**
   * Sends one event to every instance. Resolves once it is committed (PostgreSQL) or fanned out
   * (memory); rejects with {@link BusUnavailableError} when it was not, and then nothing of it
   * is delivered anywhere, or with {@link PublishOutcomeUnknownError} when the statement carrying
   * it went out but its outcome never came back (it may or may not be delivered). `marks`, when
   * given, are filled as the event goes (hop timing).
   */
  publish(envelope: Envelope, payload: string, marks?: PublishMarks): Promise<void>;
  /** Current figures. */
  status(): BusStatus;
  /**
   * Bytes the bus holds for events not yet complete (a large event being rebuilt), which the
   * dispatcher counts against `maxRingBytes`; absent when it never holds any.
   */
  readonly heldBytes?: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * The bus could not carry a publish: the database is unreachable or refused it.
 *
 * @example
 * ```ts
 * import { BusUnavailableError } from "./bus.ts";
 * throw new BusUnavailableError("PostgreSQL is unreachable", 5);
 * ```
 */
export class BusUnavailableError extends Error {
  /** Seconds a client should wait before retrying. */
  readonly retryAfter: number;

  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param retryAfter Seconds a client should wait before retrying.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, retryAfter = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = "BusUnavailableError";
    this.retryAfter = retryAfter;
  }
}

/**
 * A publish whose outcome is unknown: the statement carrying it was sent to the database, but
 * neither a commit nor a failure came back in time (the connection stalled or broke). The event
 * may still be delivered, so a retry may deliver it twice; unlike {@link BusUnavailableError},
 * this is not "nothing was published".
 *
 * @example
 * ```ts
 * import { PublishOutcomeUnknownError } from "./bus.ts";
 * throw new PublishOutcomeUnknownError("No answer to the NOTIFY within 5000 ms");
 * ```
 */
export class PublishOutcomeUnknownError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was not answered.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PublishOutcomeUnknownError";
  }
}

/**
 * The database refused this event for what it holds, not because it is unavailable: a
 * character its encoding cannot represent (SQLSTATE class 22, e.g. `22P05` in a `LATIN1`
 * database). Nothing of it was published, and retrying the same event will not help.
 *
 * @example
 * ```ts
 * import { EventRejectedError } from "./bus.ts";
 * throw new EventRejectedError('character with byte sequence 0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"');
 * ```
 */
export class EventRejectedError extends Error {
  /**
   * Creates the error.
   *
   * @param message What the database said.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EventRejectedError";
  }
}
