/**
 * The packed npm package: `npm pack`, install the tarball into an empty project, and start its
 * bin with `npx ssepg serve` (Node) and `bunx --bun ssepg serve` (Bun).
 *
 * @module
 */

import assert from "node:assert/strict";
import { databaseUrl, uniqueTopic, waitFor } from "../helpers/instances.ts";
import { root, type Runtime, runtimesUnderTest, startProcess, which } from "../../scripts/processes.ts";
import { SseClient } from "../helpers/sse_client.ts";

const decoder = new TextDecoder();

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const output = await new Deno.Command(cmd, { args, cwd, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  const stdout = decoder.decode(output.stdout);
  if (!output.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${stdout}${decoder.decode(output.stderr)}`);
  return stdout;
}

/** Every descendant process of `pid` (from /proc, via ps). */
async function descendants(pid: number): Promise<number[]> {
  const out = await run("ps", ["-e", "-o", "pid=,ppid="], root);
  const children = new Map<number, number[]>();
  for (const line of out.trim().split("\n")) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      found.push(c);
      walk(c);
    }
  };
  walk(pid);
  return found;
}

const packable = ["node", "bun"].every((r) => runtimesUnderTest().includes(r as Runtime));
if (!packable) console.error("npm package: NOT RUN (needs node and bun: npm install)");

Deno.test({
  ignore: !packable,
  name: "the packed tarball installs into an empty project and its bin serves under npx (Node) and bunx (Bun)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const npm = which("npm");
    const npx = which("npx");
    const bun = which("bun");
    if (!npm || !npx || !bun) throw new Error("npm, npx and bun are needed (npm install)");
    const work = await Deno.makeTempDir({ prefix: "ssepg-pack-" });
    try {
      const packed = await run(npm, ["pack", "--silent", "--pack-destination", work], root);
      const tarball = `${work}/${packed.trim().split("\n").pop()}`;
      const project = `${work}/consumer`;
      await Deno.mkdir(project);
      await Deno.writeTextFile(
        `${project}/package.json`,
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      );
      await run(npm, ["install", "--no-audit", "--no-fund", "--silent", tarball], project);
      const listing = await run(npm, ["ls", "--depth=0"], project);
      assert.match(listing, /ssepg@\d/);

      const starts: [Runtime, string[]][] = [
        ["node", [npx, "--no-install", "ssepg"]],
        ["bun", [bun, "x", "--bun", "ssepg"]],
      ];
      for (const [runtime, command] of starts) {
        await t.step(`${command.slice(1).join(" ")} serve`, async () => {
          const server = await startProcess(runtime, { command, cwd: project, env: { DATABASE_URL: databaseUrl() } });
          try {
            const health = await (await fetch(`${server.url}/healthz`)).json();
            assert.match(health.runtime, new RegExp(`^${runtime} \\d`));
            assert.equal(health.bus, "postgres");
            const topic = uniqueTopic("packed");
            const client = await SseClient.open(`${server.url}/topics/${topic}/events`);
            const response = await fetch(`${server.url}/topics/${topic}/events`, {
              method: "POST",
              body: '{"data":"packed"}',
            });
            const { id } = await response.json();
            assert.equal((await client.nextEvent()).id, id);
            await client.close();
          } finally {
            // npx does not forward SIGTERM; a terminal signals the whole process group, which is
            // what this does: the wrappers and the server get it.
            const tree = await descendants(server.pid);
            for (const pid of tree) Deno.kill(pid, "SIGTERM");
            const code = await server.stop("SIGTERM");
            assert.ok(code === 0 || code === 143, `exit ${code}: ${server.stderr()}`);
            await waitFor(
              async () => {
                try {
                  (await fetch(`${server.url}/healthz`)).body?.cancel();
                  return false;
                } catch {
                  return true;
                }
              },
              10_000,
              "the server to stop listening",
            );
            assert.match(server.stderr(), /SIGTERM received/);
          }
        });
      }
    } finally {
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
