/**
 * The error of a subscription refused because the instance holds `maxTopics` topics and none
 * of them is idle. The HTTP layer answers it with 503 and `Retry-After`.
 *
 * @module
 */

/**
 * Thrown by `Dispatcher.subscribe` when a topic state would have to be created at the
 * `maxTopics` cap and no topic without subscribers can be evicted to make room.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "./dispatcher.ts";
 * import { TopicLimitError } from "./topic_limit_error.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 8, clientBuffer: 4, keepAlive: 15_000, topicIdleTimeout: 60_000, maxTopics: 1 });
 * const sink = { ready() {}, drop() {}, gap() {}, idle() {}, shutdown() {}, abort() {} };
 * dispatcher.subscribe(["alpha"], sink);
 * try {
 *   dispatcher.subscribe(["beta"], sink);
 * } catch (error) {
 *   error instanceof TopicLimitError; // true
 * }
 * dispatcher.abortAll();
 * dispatcher.close();
 * ```
 */
export class TopicLimitError extends Error {
  /** The cap that was reached. */
  readonly maxTopics: number;

  /**
   * @param maxTopics The cap that was reached.
   * @param wanted How many new topic states the subscription needed.
   */
  constructor(maxTopics: number, wanted: number) {
    super(
      `Cannot subscribe as ${wanted} new topic${wanted === 1 ? "" : "s"} would exceed maxTopics (${maxTopics}) ` +
        "and every topic held has subscribers",
    );
    this.name = "TopicLimitError";
    this.maxTopics = maxTopics;
  }
}
