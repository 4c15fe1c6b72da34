/**
 * Where a resume with `Last-Event-ID` starts, and whether it is exact.
 *
 * A resume from event X finds X in one of the stream's rings and starts every other topic at
 * its first held event that arrived after X (by arrival `seq` on this instance). That is only
 * the whole story when nothing of the stream's topics that arrived after X was dropped (pushed
 * out of a full ring, evicted for memory, freed with an idle topic) and the bus lost nothing
 * since X (a LISTEN outage): otherwise the client must be told with `event: gap`.
 *
 * An id that is not held at all may simply not have arrived yet: ids start with their publish
 * time, so an id newer than anything held is worth waiting for (`resumeWait`) rather than
 * answered with a spurious gap followed by the very event the client already has.
 *
 * @module
 */

import type { StoredEvent } from "./event.ts";
import type { TopicState } from "./topic_state.ts";

/**
 * The held event a resume starts after.
 *
 * @example
 * ```ts
 * import { findResumePoint, type ResumePoint } from "./resume.ts";
 * import { TopicState } from "./topic_state.ts";
 * const point: ResumePoint | undefined = findResumePoint([new TopicState("a", 8, 0)], "e1");
 * point; // undefined: nothing held
 * ```
 */
export interface ResumePoint {
  /** Index of the topic that holds it, in the stream's topics. */
  readonly index: number;
  /** Its sequence number in that topic's ring. */
  readonly ringSeq: number;
  /** Its arrival `seq` on this instance, across topics. */
  readonly arrival: number;
}

/**
 * Finds the event `id` in the stream's rings.
 *
 * @param topics The stream's topics.
 * @param id The client's `Last-Event-ID`.
 * @returns Where it is held, or undefined.
 *
 * @example
 * ```ts
 * import { StoredEvent } from "./event.ts";
 * import { findResumePoint } from "./resume.ts";
 * import { TopicState } from "./topic_state.ts";
 * const topic = new TopicState("a", 8, 0);
 * topic.append(new StoredEvent("a", "1", "e1", 7));
 * findResumePoint([topic], "e1"); // { index: 0, ringSeq: 0, arrival: 7 }
 * ```
 */
export function findResumePoint<S>(topics: readonly TopicState<S>[], id: string): ResumePoint | undefined {
  for (let index = 0; index < topics.length; index++) {
    const ringSeq = topics[index].seqOf(id);
    if (ringSeq >= 0) {
      return { index, ringSeq, arrival: (topics[index].ring.at(ringSeq) as StoredEvent).seq };
    }
  }
  return undefined;
}

/**
 * The cursors of a resume after `point`: right after it in its own topic, and at the first
 * event that arrived after it in the others.
 *
 * @param topics The stream's topics.
 * @param point Where the resume event is held.
 * @returns One cursor per topic.
 *
 * @example
 * ```ts
 * import { StoredEvent } from "./event.ts";
 * import { findResumePoint, resumeCursors } from "./resume.ts";
 * import { TopicState } from "./topic_state.ts";
 * const [a, b] = [new TopicState("a", 8, 0), new TopicState("b", 8, 0)];
 * b.append(new StoredEvent("b", "1", "b1", 0));
 * a.append(new StoredEvent("a", "1", "a1", 1));
 * b.append(new StoredEvent("b", "2", "b2", 2));
 * resumeCursors([a, b], findResumePoint([a, b], "a1")!); // [1, 1]: b2 follows
 * ```
 */
export function resumeCursors<S>(topics: readonly TopicState<S>[], point: ResumePoint): number[] {
  return topics.map((topic, i) =>
    i === point.index ? point.ringSeq + 1 : topic.ring.firstWhere((event) => event.seq > point.arrival)
  );
}

/**
 * Whether a resume after the event that arrived as `arrival` replays everything that followed
 * it: no topic of the stream dropped an event that arrived later, and the bus has not lost
 * events since (its last gap came before).
 *
 * @param topics The stream's topics.
 * @param arrival The resume event's arrival `seq`.
 * @param busGapSeq The first arrival `seq` after the bus's last gap (0 when it never had one).
 * @returns True when the replay is complete.
 *
 * @example
 * ```ts
 * import { isExactResume } from "./resume.ts";
 * import { TopicState } from "./topic_state.ts";
 * const b = new TopicState("b", 8, 0);
 * b.droppedThrough = 12; // b lost an event that arrived as seq 12
 * isExactResume([b], 10, 0); // false
 * isExactResume([b], 13, 0); // true
 * isExactResume([b], 13, 20); // false: the bus lost events after it
 * ```
 */
export function isExactResume<S>(topics: readonly TopicState<S>[], arrival: number, busGapSeq: number): boolean {
  if (arrival < busGapSeq) return false;
  for (const topic of topics) {
    if (topic.droppedThrough > arrival) return false;
  }
  return true;
}

/**
 * Whether an id that no ring holds may still arrive: it carries a publish time no older than
 * the newest event held in the stream's topics (or nothing is held). Such a resume waits
 * (`resumeWait`) instead of answering with a gap at once.
 *
 * @param topics The stream's topics.
 * @param id The client's `Last-Event-ID`, not held.
 * @returns True when worth waiting for.
 *
 * @example
 * ```ts
 * import { mayStillArrive } from "./resume.ts";
 * import { TopicState } from "./topic_state.ts";
 * mayStillArrive([new TopicState("a", 8, 0)], `${Date.now().toString(36)}-abcdef-0`); // true
 * mayStillArrive([new TopicState("a", 8, 0)], "not-an-ssepg-id"); // false
 * ```
 */
export function mayStillArrive<S>(topics: readonly TopicState<S>[], id: string): boolean {
  const time = publishTime(id);
  if (time === undefined) return false;
  for (const topic of topics) {
    const newest = topic.ring.at(topic.ring.head - 1);
    if (newest && time < eventTime(newest)) return false;
  }
  return true;
}

/** When an event was published: from its id, else (another publisher's event) when it arrived. */
function eventTime(event: StoredEvent): number {
  return (event.id === undefined ? undefined : publishTime(event.id)) ?? event.receivedAt;
}

/**
 * The publish time carried in an ssepg event id (`<ms base 36>-<tag>-<n>`), or undefined for ids
 * of another shape or an implausible time (another publisher, a skewed clock).
 *
 * @param id An event id.
 * @returns Milliseconds since the epoch, or undefined.
 *
 * @example
 * ```ts
 * import { publishTime } from "./resume.ts";
 * const now = Date.now();
 * publishTime(`${now.toString(36)}-abcdef-0`) === now; // true
 * publishTime("e1"); // undefined
 * ```
 */
export function publishTime(id: string): number | undefined {
  const dash = id.indexOf("-");
  if (dash < 6 || dash > 10) return undefined;
  const ms = parseInt(id.slice(0, dash), 36);
  return Number.isFinite(ms) && Math.abs(Date.now() - ms) < 86_400_000 ? ms : undefined;
}
