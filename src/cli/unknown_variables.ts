/**
 * Environment variables that look like ssepg's but are not: a typo such as `SSEPG_PUBLISH_TOKN`
 * would otherwise leave the endpoint open without a word.
 *
 * @module
 */

/** Variables with the `SSEPG_` prefix that are not server options but are read elsewhere. */
const OTHER_VARIABLES: readonly string[] = [
  "SSEPG_URL", // the client commands' server
  "SSEPG_TOKEN", // the client commands' token
  "SSEPG_TEST_RUNTIMES", // the test runner's runtimes
  "SSEPG_HOLD_MS", // the long stream-hold test
];

/**
 * One warning per `SSEPG_*` variable that no option reads, with the closest known name.
 *
 * @param env The environment.
 * @param known Every variable the options read (`OPTIONS.map((o) => o.env)`).
 * @returns Warning lines (without the `ssepg: ` prefix), in the environment's order.
 *
 * @example
 * ```ts
 * import { unknownVariables } from "./unknown_variables.ts";
 * unknownVariables({ SSEPG_PUBLISH_TOKN: "x" }, ["SSEPG_PUBLISH_TOKEN"]);
 * // ["⚠️  SSEPG_PUBLISH_TOKN is not an ssepg variable and is ignored (did you mean SSEPG_PUBLISH_TOKEN?)"]
 * ```
 */
export function unknownVariables(
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
): string[] {
  const names = new Set([...known, ...OTHER_VARIABLES]);
  const out: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith("SSEPG_") || names.has(name)) continue;
    const closest = nearest(name, [...names]);
    const hint = closest ? ` (did you mean ${closest}?)` : "";
    out.push(`⚠️  ${name} is not an ssepg variable and is ignored${hint}`);
  }
  return out;
}

/** The known name within a few edits of `name`, if one is. */
function nearest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of candidates) {
    const d = distance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
