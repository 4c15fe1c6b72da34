/**
 * A bounded cache of verified tokens, keyed by the token text, each entry kept until its
 * token expires: a subscriber that reconnects, or a publisher that posts again, is not
 * verified again. Only successes are stored; a refused token is checked afresh every time.
 *
 * @example
 * ```ts
 * import { TokenCache } from "./token_cache.ts";
 * const cache = new TokenCache<string>(2);
 * cache.set("t1", "claims", Date.now() + 60_000);
 * cache.get("t1", Date.now()); // "claims"
 * ```
 *
 * @module
 */

/**
 * The number of tokens {@link TokenCache} holds by default: a few thousand, a few megabytes.
 *
 * @example
 * ```ts
 * import { DEFAULT_TOKEN_CACHE_SIZE } from "./token_cache.ts";
 * DEFAULT_TOKEN_CACHE_SIZE; // 4096
 * ```
 */
export const DEFAULT_TOKEN_CACHE_SIZE = 4096;

interface Entry<V> {
  readonly value: V;
  /** Epoch ms at which the entry stops being valid; Infinity for a token without `exp`. */
  readonly until: number;
}

/**
 * Least-recently-used cache with a per-entry deadline. A `Map` keeps insertion order, so the
 * first key is the least recently used one once every hit re-inserts its key.
 *
 * @example
 * ```ts
 * import { TokenCache } from "./token_cache.ts";
 * const cache = new TokenCache<number>(1);
 * cache.set("a", 1, Infinity);
 * cache.set("b", 2, Infinity); // evicts "a"
 * cache.get("a", Date.now()); // undefined
 * ```
 */
export class TokenCache<V> {
  readonly #max: number;
  readonly #entries = new Map<string, Entry<V>>();

  /**
   * Creates an empty cache.
   *
   * @param max The most entries held. @default DEFAULT_TOKEN_CACHE_SIZE
   */
  constructor(max: number = DEFAULT_TOKEN_CACHE_SIZE) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Cannot size a token cache at ${max}: expected 1 or more`);
    }
    this.#max = max;
  }

  /** The number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The value stored for `token` while it is valid at `now`; an expired entry is removed.
   *
   * @param token The token text.
   * @param now The current time in epoch ms.
   * @returns The value, or undefined.
   */
  get(token: string, now: number): V | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    this.#entries.delete(token);
    if (entry.until <= now) return undefined;
    this.#entries.set(token, entry);
    return entry.value;
  }

  /**
   * Stores `value` for `token` until `until`, evicting the least recently used entry when full.
   *
   * @param token The token text.
   * @param value What verifying it gave.
   * @param until Epoch ms at which it expires (Infinity for never).
   */
  set(token: string, value: V, until: number): void {
    this.#entries.delete(token);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { value, until });
  }

  /** Forgets every entry. */
  clear(): void {
    this.#entries.clear();
  }
}
