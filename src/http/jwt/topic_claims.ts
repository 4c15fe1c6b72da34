/**
 * The `ssepg` claim of a token: which topics it may publish to and subscribe to, as topics or
 * patterns in which `*` stands for any run of topic characters (`user-42-*`). Pure functions:
 * parsing the claim once when a token is verified, and matching topics against it on every
 * request.
 *
 * @example
 * ```ts
 * import { covers, parseTopicClaims } from "./topic_claims.ts";
 * const grants = parseTopicClaims({ ssepg: { subscribe: ["user-42-*", "news"] } });
 * if ("error" in grants) throw new Error(grants.error);
 * covers(grants.subscribe, ["user-42-orders", "news"]); // true
 * covers(grants.subscribe, ["user-43-orders"]); // false
 * ```
 *
 * @module
 */

/**
 * The most characters one claim entry may have: a topic is at most 128, and a pattern needs
 * room for its stars.
 */
const MAX_PATTERN_LENGTH = 256;

/** Topic characters and `*`, after lower-casing (topic ids are lower-cased before matching). */
const PATTERN = /^[a-z0-9_*-]+$/;

/**
 * A compiled list of topics and patterns: exact topics in a set, the rest kept for matching.
 *
 * @example
 * ```ts
 * import { compilePatterns } from "./topic_claims.ts";
 * const list = compilePatterns(["news", "user-42-*"]);
 * list.all; // false
 * ```
 */
export interface TopicPatterns {
  /** True when the list has the entry `*`, which covers every topic. */
  readonly all: boolean;
  /** Entries without `*`. */
  readonly exact: ReadonlySet<string>;
  /** Entries with `*`, lower-cased. */
  readonly wildcards: readonly string[];
}

/**
 * What a token grants, per action.
 *
 * @example
 * ```ts
 * import { parseTopicClaims } from "./topic_claims.ts";
 * const grants = parseTopicClaims({ ssepg: { publish: ["news"] } });
 * ```
 */
export interface TopicGrants {
  /** Topics the token may publish to. */
  readonly publish: TopicPatterns;
  /** Topics the token may subscribe to. */
  readonly subscribe: TopicPatterns;
}

/** Grants nothing: a token without an `ssepg` claim, or without one of its lists. */
const NONE: TopicPatterns = Object.freeze({ all: false, exact: new Set<string>(), wildcards: Object.freeze([]) });

/**
 * Compiles topics and patterns (lower-cased, as topic ids are). Entries are expected to be
 * checked already, as {@link parseTopicClaims} does.
 *
 * @param entries Topics and patterns.
 * @returns The compiled list.
 *
 * @example
 * ```ts
 * import { compilePatterns, covers } from "./topic_claims.ts";
 * covers(compilePatterns(["*"]), ["anything"]); // true
 * ```
 */
export function compilePatterns(entries: readonly string[]): TopicPatterns {
  if (entries.length === 0) return NONE;
  const exact = new Set<string>();
  const wildcards: string[] = [];
  let all = false;
  for (const raw of entries) {
    const entry = raw.toLowerCase();
    if (entry === "*") all = true;
    else if (entry.includes("*")) wildcards.push(entry);
    else exact.add(entry);
  }
  return { all, exact, wildcards };
}

/**
 * Reads the `ssepg` claim of a verified payload: `{ publish?: string[], subscribe?: string[] }`.
 * A payload without it grants nothing; one with a claim of another shape is an error, so a
 * mistake at the issuer reads as such rather than as a plain refusal.
 *
 * @param payload The verified JWT payload.
 * @returns The grants, or `{ error }` saying what is wrong with the claim.
 *
 * @example
 * ```ts
 * import { parseTopicClaims } from "./topic_claims.ts";
 * parseTopicClaims({ ssepg: { subscribe: "news" } });
 * // { error: 'ssepg.subscribe must be an array of topics or patterns: found "news"' }
 * ```
 */
export function parseTopicClaims(payload: Readonly<Record<string, unknown>>): TopicGrants | { error: string } {
  const claim = payload.ssepg;
  if (claim === undefined) return { publish: NONE, subscribe: NONE };
  if (typeof claim !== "object" || claim === null || Array.isArray(claim)) {
    return { error: `ssepg must be an object { publish?: string[], subscribe?: string[] }: found ${describe(claim)}` };
  }
  const lists: Record<"publish" | "subscribe", TopicPatterns> = { publish: NONE, subscribe: NONE };
  for (const key of ["publish", "subscribe"] as const) {
    const value = (claim as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (!Array.isArray(value)) {
      return { error: `ssepg.${key} must be an array of topics or patterns: found ${describe(value)}` };
    }
    for (let i = 0; i < value.length; i++) {
      const entry = value[i];
      if (typeof entry !== "string" || !isPattern(entry)) {
        return {
          error: `ssepg.${key}[${i}] must be a topic or a pattern of a-z, 0-9, _, - and * (at most ` +
            `${MAX_PATTERN_LENGTH} characters): found ${describe(entry)}`,
        };
      }
    }
    lists[key] = compilePatterns(value as string[]);
  }
  return lists;
}

/**
 * Whether `entry` is a valid claim entry: topic characters and `*`, case-insensitive.
 *
 * @param entry A claim entry.
 * @returns True when it can be matched.
 *
 * @example
 * ```ts
 * import { isPattern } from "./topic_claims.ts";
 * isPattern("user-42-*"); // true
 * isPattern("user/42"); // false
 * ```
 */
export function isPattern(entry: string): boolean {
  return entry.length > 0 && entry.length <= MAX_PATTERN_LENGTH && PATTERN.test(entry.toLowerCase());
}

/**
 * Whether one pattern matches a topic: `*` matches any run of topic characters, including none.
 * Linear in practice and O(pattern × topic) at worst, so no pattern can make it slow (a regular
 * expression with many stars could backtrack exponentially).
 *
 * @param pattern A lower-case pattern.
 * @param topic A normalised topic id.
 * @returns True when it matches.
 *
 * @example
 * ```ts
 * import { matchPattern } from "./topic_claims.ts";
 * matchPattern("user-42-*", "user-42-orders"); // true
 * matchPattern("user-*-orders", "user-42-invoices"); // false
 * ```
 */
export function matchPattern(pattern: string, topic: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resumeAt = 0;
  while (t < topic.length) {
    const c = pattern.charCodeAt(p);
    if (p < pattern.length && c !== 42 /* * */ && c === topic.charCodeAt(t)) {
      p++;
      t++;
    } else if (p < pattern.length && c === 42) {
      star = p++;
      resumeAt = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resumeAt;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

/**
 * Whether `patterns` covers every one of `topics` (a multi-topic stream needs them all).
 *
 * @param patterns A compiled list.
 * @param topics Normalised topic ids.
 * @returns True when each topic is matched by some entry.
 *
 * @example
 * ```ts
 * import { compilePatterns, covers } from "./topic_claims.ts";
 * covers(compilePatterns(["a", "b-*"]), ["a", "b-1"]); // true
 * covers(compilePatterns(["a"]), ["a", "c"]); // false
 * ```
 */
export function covers(patterns: TopicPatterns, topics: readonly string[]): boolean {
  if (patterns.all) return true;
  for (const topic of topics) {
    if (patterns.exact.has(topic)) continue;
    if (!patterns.wildcards.some((w) => matchPattern(w, topic))) return false;
  }
  return true;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
