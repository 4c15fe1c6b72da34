/**
 * Event ids: assigned once, at publish, unique across every instance.
 *
 * @module
 */

/**
 * Makes an id generator for one instance. Ids look like `lq3k8x1f-7h2kq9-2a`: milliseconds since
 * the epoch, a random instance tag and a counter, all base 36. The tag keeps instances apart and
 * the counter keeps ids unique within a millisecond; ids of one instance sort by time.
 *
 * @returns A function returning a new id per call.
 *
 * @example
 * ```ts
 * import { createIdGenerator } from "./id.ts";
 * const nextId = createIdGenerator();
 * nextId() !== nextId(); // true
 * ```
 */
export function createIdGenerator(): () => string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  let tag = "";
  for (const b of bytes) tag += (b % 36).toString(36);
  let counter = 0;
  return () => `${Date.now().toString(36)}-${tag}-${(counter++).toString(36)}`;
}
