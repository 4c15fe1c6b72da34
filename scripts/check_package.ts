/**
 * Checks that the npm and JSR packages describe the same thing:
 *
 * - `package.json` `exports`, `jsr.json` `exports` and `deno.json` `exports` name the same entry
 *   points (`./dist/<path>.js` on npm is `./<path>.ts` on JSR);
 * - the version is the same in package.json, jsr.json, deno.json and src/version.ts;
 * - every exported symbol of every entry point has JSDoc with an `@example`.
 *
 * Run by CI: `deno run -A scripts/check_package.ts`. Exits 1 listing every problem.
 *
 * @module
 */

import { VERSION } from "../src/version.ts";

const root = new URL("../", import.meta.url).pathname;
const problems: string[] = [];
const readJson = async (name: string) => JSON.parse(await Deno.readTextFile(`${root}${name}`));

const pkg = await readJson("package.json");
const jsr = await readJson("jsr.json");
const deno = await readJson("deno.json");

type ExportMap = Record<string, string | { default?: string; types?: string }>;
const npmExports = new Map(
  Object.entries(pkg.exports as ExportMap).map(([key, value]) => {
    const target = typeof value === "string" ? value : value.default ?? "";
    return [key, target.replace(/^\.\/dist\//, "./").replace(/\.js$/, ".ts")];
  }),
);
for (const [name, other] of [["jsr.json", jsr], ["deno.json", deno]] as const) {
  const theirs = new Map(Object.entries(other.exports as Record<string, string>));
  for (const [key, path] of npmExports) {
    if (theirs.get(key) !== path) {
      problems.push(`${name} exports ${key} as ${theirs.get(key)}; package.json has ${path}`);
    }
  }
  for (const key of theirs.keys()) {
    if (!npmExports.has(key)) problems.push(`${name} exports ${key}, which package.json does not`);
  }
}
if (pkg.bin?.ssepg !== "./dist/cli.js") {
  problems.push(`package.json bin.ssepg is ${pkg.bin?.ssepg}; expected ./dist/cli.js`);
}

for (const [name, version] of [["package.json", pkg.version], ["jsr.json", jsr.version], ["deno.json", deno.version]]) {
  if (version !== VERSION) problems.push(`${name} has version ${version}; src/version.ts has ${VERSION}`);
}

const entries = [...npmExports.values()].map((p) => `${root}${p.slice(2)}`);
const doc = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--json", ...entries],
  stdout: "piped",
  stderr: "piped",
})
  .output();
if (!doc.success) problems.push(`deno doc failed: ${new TextDecoder().decode(doc.stderr)}`);
else {
  interface DocNode {
    name: string;
    declarations?: { kind: string; jsDoc?: { doc?: string; tags?: { kind: string }[] } }[];
  }
  const { nodes } = JSON.parse(new TextDecoder().decode(doc.stdout)) as {
    nodes: Record<string, { symbols: DocNode[] }>;
  };
  for (const [file, mod] of Object.entries(nodes)) {
    for (const symbol of mod.symbols) {
      for (const declaration of symbol.declarations ?? []) {
        if (declaration.kind === "reference") continue; // a re-export; checked where it is declared
        const tags = declaration.jsDoc?.tags?.map((t) => t.kind) ?? [];
        if (!tags.includes("example")) {
          problems.push(`${file.replace(`file://${root}`, "")}: ${symbol.name} has no @example`);
        }
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`check_package: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  Deno.exit(1);
}
console.log(
  `check_package: exports agree (${
    [...npmExports.keys()].join(", ")
  }), version ${VERSION}, every export documented with an example`,
);
