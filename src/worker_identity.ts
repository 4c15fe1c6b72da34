/**
 * Which of `ssepg serve --workers N`'s processes an instance is, for health and metrics.
 *
 * @module
 */

/**
 * One worker process of `ssepg serve --workers N`.
 *
 * @example
 * ```ts
 * import type { WorkerIdentity } from "./worker_identity.ts";
 * const worker: WorkerIdentity = { index: 2, count: 4, pid: 4242 };
 * ```
 */
export interface WorkerIdentity {
  /** 1 to `count`. */
  readonly index: number;
  /** How many workers serve the port. */
  readonly count: number;
  /** The worker's process id. */
  readonly pid: number;
}
