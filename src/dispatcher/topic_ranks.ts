/**
 * The ranking keys of every topic held (subscribers, events received, name) in flat arrays, so
 * that choosing the busiest few of 100 000 topics for the health report reads contiguous
 * numbers instead of visiting 100 000 scattered objects and their subscriber sets: about a
 * millisecond instead of five to nine.
 *
 * @module
 */

const INITIAL_SLOTS = 64;

/**
 * What a ranked topic carries: its name and the slot the ranks gave it.
 *
 * @example
 * ```ts
 * import type { Ranked } from "./topic_ranks.ts";
 * const topic: Ranked = { name: "alpha", slot: -1 };
 * ```
 */
export interface Ranked {
  /** Topic id, the last tie-break. */
  readonly name: string;
  /** Index in the ranks while held, -1 otherwise; owned by {@link TopicRanks}. */
  slot: number;
}

/**
 * One slot per topic held, with its subscriber count and events received kept in typed arrays.
 * The dispatcher updates them as subscribers come and go and events arrive (O(1) each).
 *
 * @typeParam T The topic type.
 *
 * @example
 * ```ts
 * import { TopicRanks } from "./topic_ranks.ts";
 * const ranks = new TopicRanks<{ name: string; slot: number }>();
 * const quiet = { name: "quiet", slot: -1 };
 * const busy = { name: "busy", slot: -1 };
 * ranks.add(quiet);
 * ranks.add(busy);
 * ranks.countEvent(busy);
 * ranks.busiest(1).map((t) => t.name); // ["busy"]
 * ```
 */
export class TopicRanks<T extends Ranked> {
  #subscribers = new Uint32Array(INITIAL_SLOTS);
  /** Events received; -1 marks a free slot, so a scan skips it with the read it makes anyway. */
  #events = new Float64Array(INITIAL_SLOTS).fill(-1);
  #names: string[] = [];
  #topics: (T | undefined)[] = [];
  #free: number[] = [];
  /** Slots ever used: the scan stops here. */
  #high = 0;

  /**
   * Gives a topic a slot, with no subscribers and no events.
   *
   * @param topic A topic not held yet.
   */
  add(topic: T): void {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#high++;
      if (slot === this.#events.length) this.#grow();
    }
    topic.slot = slot;
    this.#subscribers[slot] = 0;
    this.#events[slot] = 0;
    this.#names[slot] = topic.name;
    this.#topics[slot] = topic;
  }

  #grow(): void {
    const subscribers = new Uint32Array(this.#events.length * 2);
    subscribers.set(this.#subscribers);
    const events = new Float64Array(this.#events.length * 2).fill(-1);
    events.set(this.#events);
    this.#subscribers = subscribers;
    this.#events = events;
  }

  /**
   * Frees a topic's slot for the next topic.
   *
   * @param topic A topic held.
   */
  remove(topic: T): void {
    const slot = topic.slot;
    if (slot < 0) return;
    this.#events[slot] = -1;
    this.#names[slot] = "";
    this.#topics[slot] = undefined;
    this.#free.push(slot);
    topic.slot = -1;
  }

  /**
   * Records a topic's subscriber count.
   *
   * @param topic A topic held.
   * @param count Its subscribers.
   */
  setSubscribers(topic: T, count: number): void {
    this.#subscribers[topic.slot] = count;
  }

  /**
   * Records one more event received by a topic.
   *
   * @param topic A topic held.
   */
  countEvent(topic: T): void {
    this.#events[topic.slot]++;
  }

  /**
   * The busiest `limit` topics, in no particular order: most subscribers, then most events
   * received, then by name. One pass keeps the best so far in a heap whose root is the least
   * busy of them; a topic is turned away after reading two numbers (and its name on a tie).
   *
   * @param limit At most this many; 0 or less (or NaN) gives none.
   * @returns A new array.
   */
  busiest(limit: number): T[] {
    const keep = Math.min(Math.floor(limit), this.#high);
    if (!(keep > 0)) return [];
    const subscribers = this.#subscribers;
    const events = this.#events;
    const names = this.#names;
    // true when slot a is less busy than slot b
    const worse = (a: number, b: number): boolean =>
      subscribers[a] !== subscribers[b]
        ? subscribers[a] < subscribers[b]
        : events[a] !== events[b]
        ? events[a] < events[b]
        : names[a] > names[b];
    const heap: number[] = [];
    const siftDown = (i: number): void => {
      const n = heap.length;
      const item = heap[i];
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && worse(heap[right], heap[left]) ? right : left;
        if (!worse(heap[child], item)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = item;
    };
    let rootSubscribers = 0;
    let rootEvents = 0;
    let rootName = "";
    for (let slot = 0; slot < this.#high; slot++) {
      const received = events[slot];
      if (received < 0) continue;
      if (heap.length < keep) {
        heap.push(slot);
        // Heapify once, when the heap first fills.
        if (heap.length < keep) continue;
        for (let i = (keep >> 1) - 1; i >= 0; i--) siftDown(i);
      } else {
        const count = subscribers[slot];
        if (count < rootSubscribers) continue;
        if (count === rootSubscribers) {
          if (received < rootEvents || (received === rootEvents && names[slot] >= rootName)) continue;
        }
        heap[0] = slot;
        siftDown(0);
      }
      const root = heap[0];
      rootSubscribers = subscribers[root];
      rootEvents = events[root];
      rootName = names[root];
    }
    return heap.map((slot) => this.#topics[slot] as T);
  }
}
