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

// What JSR would publish, with deno.json (what `deno publish` reads) and with jsr.json: the
// sources and the README, no test, bench, script or lock file, and jsr.json must type-check
// on its own (its imports are deno.json's, for the packages the sources import).
const published = async (config: string) => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty", "--config", config],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
  if (!run.success) problems.push(`deno publish --dry-run --config ${config} failed:\n${text.slice(-2000)}`);
  return [...text.matchAll(/file:\/\/\S+/g)].map((m) => m[0].replace(`file://${root}`, "")).sort();
};
const allowed = (file: string) =>
  file === "mod.ts" || file === "README.md" || file === "LICENSE" || file === "deno.json" || file === "jsr.json" ||
  (file.startsWith("src/") && file.endsWith(".ts"));
const viaDeno = await published("deno.json");
const viaJsr = await published("jsr.json");
for (const [config, files] of [["deno.json", viaDeno], ["jsr.json", viaJsr]] as const) {
  const extra = files.filter((f) => !allowed(f));
  if (extra.length > 0) problems.push(`JSR (${config}) would publish files outside the package: ${extra.join(", ")}`);
  if (!files.includes("mod.ts")) problems.push(`JSR (${config}) would not publish mod.ts`);
}
const sources = (files: string[]) => files.filter((f) => f !== "deno.json" && f !== "jsr.json").join(" ");
if (sources(viaDeno) !== sources(viaJsr)) problems.push("deno.json and jsr.json would publish different files");
for (const [name, value] of Object.entries(jsr.imports ?? {})) {
  if (deno.imports?.[name] !== value) {
    problems.push(`jsr.json imports ${name} as ${value}, deno.json as ${deno.imports?.[name]}`);
  }
}

// What npm would pack: the build of every export and of the bin, and nothing else of dist/.
// Build first, as `npm pack` would (its prepack), so a fresh clone is checked the same way.
const build = await new Deno.Command(`${root}node_modules/.bin/tsc`, {
  args: ["-p", "tsconfig.build.json"],
  cwd: root,
  stdout: "piped",
  stderr: "piped",
}).output();
if (!build.success) problems.push(`the npm build failed: ${new TextDecoder().decode(build.stdout)}`);
const pack = await new Deno.Command("npm", {
  args: ["pack", "--dry-run", "--json", "--ignore-scripts"],
  cwd: root,
  stdout: "piped",
  stderr: "piped",
}).output();
if (!pack.success) problems.push(`npm pack --dry-run failed: ${new TextDecoder().decode(pack.stderr)}`);
else {
  const [{ files }] = JSON.parse(new TextDecoder().decode(pack.stdout)) as { files: { path: string }[] }[];
  const paths = files.map((f) => f.path);
  for (const path of paths) {
    const ok = path === "package.json" || path === "README.md" || path === "LICENSE" ||
      (path.startsWith("dist/") && /\.(js|d\.ts)$/.test(path) && !path.startsWith("dist/tests/") &&
        !path.startsWith("dist/scripts/") && !path.startsWith("dist/bench/"));
    if (!ok) problems.push(`npm pack would ship ${path}`);
  }
  const built = Object.values(pkg.exports as ExportMap).flatMap((v) =>
    typeof v === "string" ? [v] : [v.default ?? "", v.types ?? ""]
  );
  for (const target of [...built, pkg.bin.ssepg]) {
    if (!paths.includes(target.replace(/^\.\//, ""))) problems.push(`npm pack would not ship ${target}`);
  }
  if (paths.includes("dist/src/client.js")) {
    problems.push("npm pack would ship dist/src/client.js, which nothing exports");
  }
}
// No public repository exists yet, so repository, homepage and bugs stay out rather than point
// nowhere; sideEffects lets bundlers drop what a browser bundle of the client does not use.
if (pkg.sideEffects !== false) problems.push("package.json must say sideEffects: false");

// `ssepg/client` goes into browser bundles: its module graph is src/client/ and
// eventsource-parser, never the server (postgres, hono, node: built-ins).
const clientGraph = await new Deno.Command(Deno.execPath(), {
  args: ["info", "--json", `${root}src/client/mod.ts`],
  stdout: "piped",
  stderr: "piped",
}).output();
if (!clientGraph.success) {
  problems.push(`deno info src/client/mod.ts failed: ${new TextDecoder().decode(clientGraph.stderr)}`);
} else {
  const { modules } = JSON.parse(new TextDecoder().decode(clientGraph.stdout)) as { modules: { specifier: string }[] };
  for (const { specifier } of modules) {
    if (specifier.startsWith(`file://${root}src/client/`) || specifier.startsWith("npm:/eventsource-parser@")) continue;
    problems.push(
      `src/client/mod.ts imports ${specifier.replace(`file://${root}`, "")}: the client must not pull in more`,
    );
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
