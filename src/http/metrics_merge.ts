/**
 * Several Prometheus expositions as one: how `/metrics` answers for every worker of
 * `ssepg serve --workers N` at once.
 *
 * @module
 */

/**
 * Merges Prometheus text expositions whose samples are already told apart by labels (each
 * worker's carry `worker="N"`): each metric family is written once, its `# HELP` and `# TYPE`
 * first, then the samples of every text in order. The text format requires a family's lines to
 * be together, so concatenating the texts would not do.
 *
 * @param texts Expositions, each a sequence of `# HELP` / `# TYPE` / sample blocks.
 * @returns One exposition, ending with a newline.
 *
 * @example
 * ```ts
 * import { mergeMetricTexts } from "./metrics_merge.ts";
 * const one = '# HELP up Up.\n# TYPE up gauge\nup{worker="1"} 1\n';
 * const two = '# HELP up Up.\n# TYPE up gauge\nup{worker="2"} 1\n';
 * mergeMetricTexts([one, two]); // '# HELP up Up.\n# TYPE up gauge\nup{worker="1"} 1\nup{worker="2"} 1\n'
 * ```
 */
export function mergeMetricTexts(texts: readonly string[]): string {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  for (const text of texts) {
    let family: { head: string[]; samples: string[] } | undefined;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const comment = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (comment) {
        const name = comment[2];
        family = families.get(name);
        if (!family) families.set(name, family = { head: [], samples: [] });
        // The first text's HELP and TYPE stand for all: the workers run the same code.
        if (family.head.length < 2 && !family.head.some((h) => h.startsWith(`# ${comment[1]} `))) {
          family.head.push(line);
        }
        continue;
      }
      if (line.startsWith("#")) continue;
      if (!family) families.set("", family = { head: [], samples: [] });
      family.samples.push(line);
    }
  }
  let out = "";
  for (const { head, samples } of families.values()) {
    for (const line of [...head, ...samples]) out += `${line}\n`;
  }
  return out;
}
