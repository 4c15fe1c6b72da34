/**
 * In-process subscriptions for library users: a callback per event instead of a socket.
 *
 * @module
 */

import type { Dispatcher } from "../dispatcher/dispatcher.ts";
import type { SsepgEvent } from "../dispatcher/event.ts";
import type { Subscriber, SubscriberSink } from "../dispatcher/subscriber.ts";
import { parseTopicList } from "../topic.ts";

/**
 * Options of an in-process subscription.
 *
 * @example
 * ```ts
 * import type { SubscribeOptions } from "./subscribe.ts";
 * const options: SubscribeOptions = { lastEventId: "e1", onGap: (id) => console.log("missed events after", id) };
 * ```
 */
export interface SubscribeOptions {
  /**
   * Resume after this event id when the ring still holds it. An id newer than anything held
   * (typically one `publish` just returned, still on its way back through LISTEN) is awaited
   * for up to `resumeWait`: nothing is delivered until it arrives, and then what follows it.
   */
  readonly lastEventId?: string;
  /**
   * Called when events may have been missed (unknown `lastEventId`, a resume that cannot be
   * complete, bus reconnect), with the id of the last event the subscriber has, before the
   * events that follow the gap.
   */
  readonly onGap?: (lastEventId: string | undefined) => void;
}

/**
 * Calls `callback` for every event of `topics` until the returned function is called.
 *
 * @param dispatcher The instance's dispatcher.
 * @param topics One topic, a comma list, or an array (at most 32).
 * @param callback Called with each event, in order.
 * @param options Resume point and gap callback.
 * @returns The unsubscribe function.
 * @throws {TypeError} for an invalid topic.
 * @throws {TopicLimitError} when new topic states are needed at `maxTopics` and none is idle.
 *
 * @example
 * ```ts
 * import { Dispatcher } from "../dispatcher/dispatcher.ts";
 * import { subscribeCallback } from "./subscribe.ts";
 * const dispatcher = new Dispatcher({ ringCapacity: 16, clientBuffer: 8, keepAlive: 15_000, topicIdleTimeout: 60_000 });
 * const off = subscribeCallback(dispatcher, "alpha", (event) => console.log(event.data));
 * off();
 * dispatcher.close();
 * ```
 */
export function subscribeCallback(
  dispatcher: Dispatcher,
  topics: string | readonly string[],
  callback: (event: SsepgEvent) => void,
  options: SubscribeOptions = {},
): () => void {
  const parsed = parseTopicList(typeof topics === "string" ? topics : topics.join(","));
  if ("error" in parsed) throw new TypeError(parsed.error);
  const deliver = () => {
    const before = subscriber.lastId;
    const events = subscriber.take();
    // The gap comes before the events after it, and names the last event the caller had.
    if (subscriber.skipped) options.onGap?.(before);
    for (const event of events) callback(event);
    subscriber.demand = !subscriber.closed;
  };
  const sink: SubscriberSink = {
    ready: deliver,
    drop() {},
    gap: () => options.onGap?.(subscriber.lastId),
    idle() {},
    shutdown: () => dispatcher.unsubscribe(subscriber),
    abort: () => dispatcher.unsubscribe(subscriber),
  };
  const subscription = dispatcher.subscribe(parsed.topics, sink, { lastEventId: options.lastEventId });
  const subscriber: Subscriber = subscription.subscriber;
  subscriber.demand = true;
  if (subscription.gap) options.onGap?.(options.lastEventId);
  if (subscriber.hasPending) queueMicrotask(deliver);
  return () => dispatcher.unsubscribe(subscriber);
}
