/**
 * A fixed-capacity ring addressed by absolute sequence numbers, dropping the oldest entry.
 *
 * @module
 */

const INITIAL_SLOTS = 4;

/**
 * Holds the last `capacity` items pushed. Item `seq` (0-based count of pushes) stays readable
 * while `tail <= seq < head`, so readers keep a plain number as their cursor.
 *
 * @example
 * ```ts
 * import { Ring } from "./ring.ts";
 * const ring = new Ring<string>(2);
 * ring.push("a"); ring.push("b"); ring.push("c"); // "a" is dropped
 * ring.at(0); // undefined
 * ring.at(2); // "c"
 * ```
 */
export class Ring<T> {
  /** Storage grows by doubling up to the capacity, so a quiet topic costs a few slots, not 1024. */
  #items: (T | undefined)[];
  #mask: number;
  readonly #capacity: number;
  #head = 0;
  #tail = 0;

  /** @param capacity A power of two. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`Cannot create a ring as capacity must be a power of two: current value is ${capacity}`);
    }
    this.#capacity = capacity;
    const initial = Math.min(capacity, INITIAL_SLOTS);
    this.#items = new Array(initial);
    this.#mask = initial - 1;
  }

  /** Sequence number the next push gets. */
  get head(): number {
    return this.#head;
  }

  /** Oldest sequence number still held. */
  get tail(): number {
    return this.#tail;
  }

  /** Number of items held. */
  get size(): number {
    return this.#head - this.#tail;
  }

  /** Maximum number of items held. */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Appends an item, dropping the oldest when full.
   *
   * @returns The dropped item, if any.
   */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.size === this.capacity) dropped = this.shift();
    else if (this.size === this.#items.length) this.#grow();
    this.#items[this.#head & this.#mask] = item;
    this.#head++;
    return dropped;
  }

  #grow(): void {
    const items: (T | undefined)[] = new Array(this.#items.length * 2);
    const mask = items.length - 1;
    for (let seq = this.#tail; seq < this.#head; seq++) items[seq & mask] = this.#items[seq & this.#mask];
    this.#items = items;
    this.#mask = mask;
  }

  /**
   * Removes and returns the oldest item.
   *
   * @returns The oldest item, or undefined when empty.
   */
  shift(): T | undefined {
    if (this.#tail === this.#head) return undefined;
    const slot = this.#tail & this.#mask;
    const item = this.#items[slot];
    this.#items[slot] = undefined;
    this.#tail++;
    return item;
  }

  /**
   * @param seq An absolute sequence number.
   * @returns The item, or undefined when it was dropped or not pushed yet.
   */
  at(seq: number): T | undefined {
    return seq >= this.#tail && seq < this.#head ? this.#items[seq & this.#mask] : undefined;
  }

  /**
   * Finds the newest item that matches, scanning from the head.
   *
   * @returns Its sequence number, or -1.
   */
  findLast(match: (item: T) => boolean): number {
    for (let seq = this.#head - 1; seq >= this.#tail; seq--) {
      if (match(this.#items[seq & this.#mask] as T)) return seq;
    }
    return -1;
  }

  /**
   * The first sequence number whose item satisfies `after` (items are ordered by it).
   *
   * @returns A sequence number in `[tail, head]`.
   */
  firstWhere(after: (item: T) => boolean): number {
    let lo = this.#tail;
    let hi = this.#head;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(this.#items[mid & this.#mask] as T)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
