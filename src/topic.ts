/**
 * The topic id rule: lower-cased, then `^[a-z0-9_-]{1,128}$`.
 *
 * @module
 */

const TOPIC = /^[a-z0-9_-]{1,128}$/;

/** Most topics one stream may subscribe to (`/a,b,c/events`). */
export const MAX_TOPICS_PER_STREAM = 32;

/**
 * Whether `topic` is a valid, already lower-cased topic id.
 *
 * @param topic A candidate topic id.
 * @returns True when it matches `^[a-z0-9_-]{1,128}$`.
 *
 * @example
 * ```ts
 * import { isValidTopic } from "./topic.ts";
 * isValidTopic("orders-eu"); // true
 * isValidTopic("Orders"); // false (normalise first)
 * ```
 */
export function isValidTopic(topic: string): boolean {
  return TOPIC.test(topic);
}

/**
 * Lower-cases and validates a topic id.
 *
 * @param raw The topic as it appears in a path or a call.
 * @returns The normalised topic, or `undefined` when it is not valid.
 *
 * @example
 * ```ts
 * import { normalizeTopic } from "./topic.ts";
 * normalizeTopic("Alpha"); // "alpha"
 * normalizeTopic("a b"); // undefined
 * ```
 */
export function normalizeTopic(raw: string): string | undefined {
  const topic = raw.toLowerCase();
  return TOPIC.test(topic) ? topic : undefined;
}

/**
 * Parses the topic segment of a stream path: one topic or a comma list of at most 32.
 *
 * @param segment The path segment, e.g. `a,b,c`.
 * @returns The distinct normalised topics in order, or an error text saying what is wrong.
 *
 * @example
 * ```ts
 * import { parseTopicList } from "./topic.ts";
 * parseTopicList("a,B,a"); // { topics: ["a", "b"] }
 * ```
 */
export function parseTopicList(segment: string): { topics: string[] } | { error: string } {
  const parts = segment.split(",");
  if (parts.length > MAX_TOPICS_PER_STREAM) {
    return { error: `A stream may name at most ${MAX_TOPICS_PER_STREAM} topics: found ${parts.length}` };
  }
  const topics: string[] = [];
  for (const part of parts) {
    const topic = normalizeTopic(part);
    if (topic === undefined) return { error: invalidTopicDetail(part) };
    if (!topics.includes(topic)) topics.push(topic);
  }
  return { topics };
}

/**
 * The problem detail for an invalid topic.
 *
 * @param raw The topic as received.
 * @returns A sentence naming the rule and the value.
 *
 * @example
 * ```ts
 * import { invalidTopicDetail } from "./topic.ts";
 * invalidTopicDetail("a b");
 * ```
 */
export function invalidTopicDetail(raw: string): string {
  const shown = raw.length > 140 ? `${raw.slice(0, 140)}…` : raw;
  return `Topic ids must match ^[a-z0-9_-]{1,128}$ after lower-casing: current value is ${JSON.stringify(shown)}`;
}
