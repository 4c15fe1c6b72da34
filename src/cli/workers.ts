/**
 * `ssepg serve --workers N`: the supervisor. It starts N worker processes of this same command
 * on one port (SO_REUSEPORT on Deno and Bun, the cluster module on Node 20, which has no
 * reusePort), prints one listening line once all are ready, starts a worker again when one
 * dies, and stops them all on SIGINT/SIGTERM. Each worker has its own LISTEN connection, so
 * every event reaches every worker and a client can resume on any of them.
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import process from "node:process";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log.ts";
import {
  GATHER_TIMEOUT_MS,
  type SupervisorMessage,
  WORKER_VARIABLE,
  type WorkerAssignment,
  type WorkerMessage,
} from "./worker_link.ts";

/**
 * The number of workers `workers` asks for.
 *
 * @param workers The option's value: `auto` or a count.
 * @returns The count; `auto` is the number of cores this process may use.
 *
 * @example
 * ```ts
 * import { workerCount } from "./workers.ts";
 * workerCount("4"); // 4
 * ```
 */
export function workerCount(workers: string): number {
  return workers === "auto" ? availableParallelism() : Number(workers);
}

/** What the supervisor needs from the CLI around it. */
export interface SupervisorIo {
  /** The environment the workers inherit. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes a line to stdout (the listening lines). */
  stdout(line: string): void;
  /** Calls `handler` on SIGINT and SIGTERM; returns a function that stops listening. */
  onStopSignal(handler: (signal: string) => void): () => void;
}

/** A worker that dies this soon after it started counts as failing to start again. */
const QUICK_DEATH_MS = 5_000;
/** Restart delays for workers that keep dying quickly: 1 s doubling to 30 s. */
const RESTART_DELAY_MS = 1_000;
const RESTART_DELAY_MAX_MS = 30_000;
/** After the drain, how long workers get to exit before they are killed. */
const EXIT_GRACE_MS = 5_000;

interface Worker {
  readonly index: number;
  child: ChildProcess;
  startedAt: number;
  restartDelay: number;
  exited: Promise<number>;
}

/**
 * Runs `count` workers until SIGINT or SIGTERM.
 *
 * @param io Environment, stdout and signals.
 * @param config The resolved configuration (validated: workers start with the same arguments).
 * @param count How many workers.
 * @param log Where to log.
 * @param forker How this runtime starts workers ({@link prepareWorkers}).
 * @param databaseUrl An embedded database's URL to hand to the workers, if the supervisor started one.
 * @returns 0 after a graceful stop; a worker's exit code when one could not start.
 *
 * @example
 * ```ts
 * // const code = await superviseWorkers(processIo(), config, 4, logger, await prepareWorkers());
 * ```
 */
export async function superviseWorkers(
  io: SupervisorIo,
  config: Config,
  count: number,
  log: Logger,
  forker: Forker,
  databaseUrl?: string,
): Promise<number> {
  let stopping = false;
  let stopSignal: (name: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => stopSignal = resolve);
  let signals = 0;
  const workers: Worker[] = [];
  const stopListening = io.onStopSignal((name) => {
    signals++;
    if (signals === 1) {
      stopping = true;
      stopSignal(name);
      return;
    }
    // A second signal: the operator will not wait for the drain.
    log.warn(`ssepg: ${name} received again, killing the workers`);
    for (const w of workers) w.child.kill("SIGKILL");
  });

  const assignment = (index: number, port: number, healthPort: number | undefined): WorkerAssignment => ({
    index,
    count,
    port,
    ...(healthPort === undefined ? {} : { healthPort }),
    ...(databaseUrl ? { databaseUrl } : {}),
  });

  // A worker's /metrics asks for every worker's exposition: ask them all, answer with what came.
  const gatherings = new Map<number, (index: number, text: string) => void>();
  let nextGathering = 0;
  const gather = (requester: ChildProcess, requestId: number) => {
    const live = workers.filter((w) => w.child.connected);
    const id = nextGathering++;
    const texts: [number, string][] = [];
    const finish = () => {
      clearTimeout(timer);
      if (!gatherings.delete(id)) return;
      const reply: SupervisorMessage = {
        type: "gathered",
        id: requestId,
        texts: texts.sort((a, b) => a[0] - b[0]).map(([, text]) => text),
      };
      if (requester.connected) requester.send(reply, () => {});
    };
    const timer = setTimeout(finish, GATHER_TIMEOUT_MS);
    gatherings.set(id, (index, text) => {
      texts.push([index, text]);
      if (texts.length >= live.length) finish();
    });
    for (const w of live) w.child.send({ type: "metrics?", id } satisfies SupervisorMessage, () => {});
  };

  const start = (index: number, port: number, healthPort: number | undefined) => {
    const env = { ...io.env, [WORKER_VARIABLE]: JSON.stringify(assignment(index, port, healthPort)) };
    const child = forker.fork(env as Record<string, string>);
    child.on("message", (raw: unknown) => {
      const message = raw as WorkerMessage | undefined;
      if (message?.type === "gather") gather(child, message.id);
      else if (message?.type === "metrics") gatherings.get(message.id)?.(index, message.text);
    });
    const exited = new Promise<number>((resolve) => {
      child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
    return { child, exited, startedAt: Date.now() };
  };

  // The first worker binds what was asked for (port 0 picks one); the others bind what it got.
  const first: Worker = { index: 1, restartDelay: RESTART_DELAY_MS, ...start(1, config.port, config.healthPort) };
  workers.push(first);
  const firstReady = await ready(first, stopped);
  if (typeof firstReady === "number" || typeof firstReady === "string") {
    return await giveUp(workers, firstReady, log, stopListening);
  }
  const port = forker.asksConfiguredPorts ? config.port : Number(new URL(firstReady.url).port);
  const healthPort = forker.asksConfiguredPorts || !firstReady.healthUrl
    ? config.healthPort
    : Number(new URL(firstReady.healthUrl).port);
  for (let index = 2; index <= count; index++) {
    workers.push({ index, restartDelay: RESTART_DELAY_MS, ...start(index, port, healthPort) });
  }
  const others = await Promise.all(workers.slice(1).map((w) => ready(w, stopped)));
  const failed = others.find((r) => typeof r === "number" || typeof r === "string");
  if (failed !== undefined) return await giveUp(workers, failed as number | string, log, stopListening);

  io.stdout(`ssepg listening on ${firstReady.url}`);
  if (firstReady.healthUrl) io.stdout(`ssepg health on ${firstReady.healthUrl}`);
  log.info(`ssepg: ${count} workers on one port (pids ${workers.map((w) => w.child.pid).join(", ")})`);

  // A worker that dies while serving is started again; its clients reconnect to the others.
  for (const w of workers) watch(w);
  function watch(w: Worker): void {
    void w.exited.then(async (code) => {
      if (stopping) return;
      const quick = Date.now() - w.startedAt < QUICK_DEATH_MS;
      w.restartDelay = quick ? Math.min(w.restartDelay * 2, RESTART_DELAY_MAX_MS) : RESTART_DELAY_MS;
      const delay = quick ? w.restartDelay : 0;
      log.error(
        `ssepg: worker ${w.index} (pid ${w.child.pid}) exited with code ${code}; starting it again${
          delay ? ` in ${delay / 1000} s` : ""
        }`,
      );
      if (delay) await Promise.race([new Promise((r) => setTimeout(r, delay)), stopped]);
      if (stopping) return;
      Object.assign(w, start(w.index, port, healthPort));
      watch(w);
    });
  }

  const signal = await stopped;
  log.info(`ssepg: ${signal} received, draining ${count} workers`);
  const codes = await stopAll(workers, config.gracefulDrain + EXIT_GRACE_MS);
  stopListening();
  const bad = codes.find((c) => c !== 0);
  if (bad !== undefined) log.warn(`ssepg: a worker exited with code ${bad} while stopping`);
  return 0;
}

/** Resolves with the worker's ready message, its exit code if it died first, or the stop signal. */
type Ready = Extract<WorkerMessage, { type: "ready" }>;

function ready(w: Worker, stopped: Promise<string>): Promise<Ready | number | string> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if ((message as WorkerMessage | undefined)?.type !== "ready") return;
      w.child.off("message", onMessage);
      resolve(message as Ready);
    };
    w.child.on("message", onMessage);
    void w.exited.then(resolve);
    void stopped.then(resolve);
  });
}

/** A worker could not start (or the supervisor was stopped first): stop the rest and exit. */
async function giveUp(
  workers: Worker[],
  reason: number | string,
  log: Logger,
  stopListening: () => void,
): Promise<number> {
  await stopAll(workers, EXIT_GRACE_MS);
  stopListening();
  if (typeof reason === "string") return 0;
  log.error(`ssepg: cannot start: a worker exited with code ${reason} while starting (its error is above)`);
  return reason === 0 ? 1 : reason;
}

/** Asks every worker to drain and exit; kills those still running after `graceMs`. */
async function stopAll(workers: Worker[], graceMs: number): Promise<number[]> {
  for (const w of workers) {
    if (w.child.exitCode === null && w.child.signalCode === null && w.child.connected) {
      w.child.send({ type: "stop" }, (error) => {
        // The channel is gone: the worker still drains on its own when it notices.
        if (error) w.child.kill("SIGTERM");
      });
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      for (const w of workers) w.child.kill("SIGKILL");
      resolve();
    }, graceMs);
  });
  const codes = await Promise.race([Promise.all(workers.map((w) => w.exited)), killed.then(() => [] as number[])]);
  clearTimeout(timer);
  return codes.length ? codes : Promise.all(workers.map((w) => w.exited));
}

/**
 * How this runtime starts workers.
 *
 * @example
 * ```ts
 * import { prepareWorkers, type Forker } from "./workers.ts";
 * const forker: Forker = await prepareWorkers();
 * ```
 */
export interface Forker {
  /** Starts this same program with the same arguments in `env`, with an IPC channel. */
  fork(env: Record<string, string>): ChildProcess;
  /**
   * Workers must ask for the ports as configured, 0 included: the cluster module shares one
   * socket per address as asked, so a worker asking for the port the first one got is refused.
   */
  readonly asksConfiguredPorts: boolean;
}

/**
 * Loads what forking needs on this runtime. Deno and Bun fork the script (the workers share the
 * ports with SO_REUSEPORT); Node 20 forks through the cluster module, which shares listening
 * sockets without SO_REUSEPORT (Deno does not implement node:cluster).
 *
 * @returns The forker.
 *
 * @example
 * ```ts
 * import { prepareWorkers } from "./workers.ts";
 * const forker = await prepareWorkers();
 * ```
 */
export async function prepareWorkers(): Promise<Forker> {
  const stdio: ("ignore" | "inherit" | "ipc")[] = ["ignore", "inherit", "inherit", "ipc"];
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno || g.Bun) {
    const { fork } = await import("node:child_process");
    return { fork: (env) => fork(process.argv[1], process.argv.slice(2), { env, stdio }), asksConfiguredPorts: false };
  }
  const cluster = (await import("node:cluster")).default;
  cluster.setupPrimary({ exec: process.argv[1], args: process.argv.slice(2), stdio });
  return { fork: (env) => cluster.fork(env).process, asksConfiguredPorts: true };
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 };
function signalNumber(signal: string): number {
  return SIGNALS[signal] ?? 0;
}
