/**
 * What passes between `ssepg serve --workers N` and its worker processes: the assignment a
 * worker starts with (an environment variable) and the messages over the IPC channel that
 * `fork` opens.
 *
 * @module
 */

import process from "node:process";

/** How long the supervisor waits for the workers' metrics before answering with those it has. */
export const GATHER_TIMEOUT_MS = 1_000;

/** The variable that makes a process a worker and tells it what to serve. */
export const WORKER_VARIABLE = "SSEPG_INTERNAL_WORKER";

/**
 * What a worker is told: which one it is and what the supervisor settled for every worker (the
 * ports the first worker bound when 0 was asked for, an embedded database's URL).
 *
 * @example
 * ```ts
 * import type { WorkerAssignment } from "./worker_link.ts";
 * const assignment: WorkerAssignment = { index: 2, count: 4, port: 8080 };
 * ```
 */
export interface WorkerAssignment {
  /** 1 to `count`. */
  readonly index: number;
  /** How many workers serve the port. */
  readonly count: number;
  /** The port every worker binds. */
  readonly port: number;
  /** The health port every worker binds, if one is set. */
  readonly healthPort?: number;
  /** The database URL, when the supervisor started an embedded one. */
  readonly databaseUrl?: string;
}

/**
 * A message from a worker to the supervisor.
 *
 * @example
 * ```ts
 * import type { WorkerMessage } from "./worker_link.ts";
 * const ready: WorkerMessage = { type: "ready", url: "http://127.0.0.1:8080" };
 * ```
 */
export type WorkerMessage =
  | { type: "ready"; url: string; healthUrl?: string }
  /** Asks for every worker's metrics (answered with `gathered`, the same `id`). */
  | { type: "gather"; id: number }
  /** This worker's metrics, for the gathering `id`. */
  | { type: "metrics"; id: number; text: string };

/**
 * A message from the supervisor to a worker.
 *
 * @example
 * ```ts
 * import type { SupervisorMessage } from "./worker_link.ts";
 * const stop: SupervisorMessage = { type: "stop" };
 * ```
 */
export type SupervisorMessage =
  | { type: "stop" }
  /** Asks this worker for its metrics, for the gathering `id`. */
  | { type: "metrics?"; id: number }
  /** Every worker's metrics that came in time, for this worker's `gather` `id`. */
  | { type: "gathered"; id: number; texts: string[] };

/**
 * The assignment in `env`, if this process is a worker.
 *
 * @param env The environment.
 * @returns The assignment, or `undefined` for a process started by hand.
 * @throws {Error} when the variable is set but not an assignment.
 *
 * @example
 * ```ts
 * import { workerAssignment } from "./worker_link.ts";
 * workerAssignment({ SSEPG_INTERNAL_WORKER: '{"index":1,"count":2,"port":8080}' })?.index; // 1
 * ```
 */
export function workerAssignment(env: Readonly<Record<string, string | undefined>>): WorkerAssignment | undefined {
  const text = env[WORKER_VARIABLE];
  if (text === undefined || text === "") return undefined;
  const parsed = JSON.parse(text) as Partial<WorkerAssignment>;
  if (!Number.isInteger(parsed.index) || !Number.isInteger(parsed.count) || !Number.isInteger(parsed.port)) {
    throw new Error(`${WORKER_VARIABLE} is not a worker assignment; it is set by ssepg serve --workers only`);
  }
  return parsed as WorkerAssignment;
}

/**
 * The worker's end of the IPC channel.
 *
 * @example
 * ```ts
 * import { supervisorChannel } from "./worker_link.ts";
 * const channel = supervisorChannel();
 * channel.onStop(() => console.log("stop"));
 * ```
 */
export interface SupervisorChannel {
  /** Tells the supervisor; resolves once the message is handed to the channel. */
  send(message: WorkerMessage): Promise<void>;
  /** Calls `handler` when the supervisor asks to stop or goes away (the channel closes). */
  onStop(handler: () => void): void;
  /** Answers the supervisor's requests for this worker's metrics with `metrics()`. */
  answerMetrics(metrics: () => string): void;
  /** Every worker's metrics, this one's included, gathered by the supervisor. */
  gather(): Promise<string[]>;
  /** Lets the process exit although the channel is open. */
  release(): void;
}

/**
 * Opens the worker's end of the IPC channel that `fork` (or the cluster module) set up.
 *
 * @returns The channel.
 * @throws {Error} when the process has no IPC channel (it was not forked by ssepg).
 *
 * @example
 * ```ts
 * import { supervisorChannel } from "./worker_link.ts";
 * await supervisorChannel().send({ type: "ready", url: "http://127.0.0.1:8080" });
 * ```
 */
export function supervisorChannel(): SupervisorChannel {
  const send = process.send?.bind(process);
  if (!send) throw new Error(`${WORKER_VARIABLE} is set but there is no IPC channel; it is set by ssepg serve only`);
  const post = (message: WorkerMessage) =>
    new Promise<void>((resolve) => send(message, undefined, undefined, () => resolve()));
  let onStop = () => {};
  let metrics: (() => string) | undefined;
  const gathering = new Map<number, (texts: string[]) => void>();
  let nextId = 0;
  process.on("message", (raw: unknown) => {
    const message = raw as SupervisorMessage | undefined;
    if (message?.type === "stop") onStop();
    else if (message?.type === "metrics?" && metrics) void post({ type: "metrics", id: message.id, text: metrics() });
    else if (message?.type === "gathered") gathering.get(message.id)?.(message.texts);
  });
  return {
    send: post,
    onStop(handler) {
      onStop = handler;
      // The supervisor was killed or crashed: nobody is left to stop this worker.
      process.on("disconnect", handler);
    },
    answerMetrics(answer) {
      metrics = answer;
    },
    gather() {
      const id = nextId++;
      return new Promise<string[]>((resolve, reject) => {
        const timer = setTimeout(() => {
          gathering.delete(id);
          reject(new Error("the supervisor did not gather the workers' metrics in time"));
        }, GATHER_TIMEOUT_MS + 1_000);
        gathering.set(id, (texts) => {
          clearTimeout(timer);
          gathering.delete(id);
          resolve(texts);
        });
        void post({ type: "gather", id });
      });
    },
    release() {
      process.channel?.unref();
    },
  };
}
