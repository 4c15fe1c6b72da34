/**
 * `ssepg serve`: validate the configuration, start the server, drain on SIGINT/SIGTERM.
 *
 * @module
 */

import { type Config, ConfigError, OPTIONS, resolveConfig } from "../config/config.ts";
import { formatDuration } from "../config/duration.ts";
import { securityPosture } from "./security_posture.ts";
import { unknownVariables } from "./unknown_variables.ts";
import type { EmbeddedPostgres } from "./embedded_postgres.ts";
import { serve } from "../serve/mod.ts";
import type { CliIo } from "./io.ts";
import { createLogger } from "../log.ts";
import { BusUnavailableError } from "../bus/bus.ts";
import { supervisorChannel, type WorkerAssignment, workerAssignment } from "./worker_link.ts";
import { prepareWorkers, superviseWorkers, workerCount } from "./workers.ts";
import type { Logger } from "../log.ts";

/** Options that turn JWT verification on. */
const JWT_KEYS: readonly string[] = ["jwtSecret", "jwtPublicKey", "jwtJwksUrl"];

/**
 * Runs the server until SIGINT or SIGTERM.
 *
 * @param io Environment, output and signals.
 * @param flags Server flags by config field name.
 * @returns 0 after a graceful stop, 2 for a bad option, 1 when the server could not start.
 *
 * @example
 * ```ts
 * // const code = await serveCommand(processIo(), { port: "8080" });
 * ```
 */
export async function serveCommand(io: CliIo, flags: Record<string, string | boolean>): Promise<number> {
  let config: Config;
  try {
    config = resolveConfig({ env: io.env, flags });
  } catch (error) {
    if (error instanceof ConfigError) {
      // Not resolved, so read the format as given: a log pipeline still gets JSON.
      const format = flags.logFormat ?? io.env.SSEPG_LOG_FORMAT;
      createLogger(format === "json" ? "json" : "text", io.stderr).error(`ssepg: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const log = createLogger(config.logFormat, io.stderr);
  let assignment: WorkerAssignment | undefined;
  try {
    assignment = workerAssignment(io.env);
  } catch (error) {
    log.error(`ssepg: ${(error as Error).message}`);
    return 2;
  }
  // The supervisor already warned, explained and started what is shared.
  if (assignment) return await serveWorker(io, config, assignment, log);

  for (const line of unknownVariables(io.env, OPTIONS.map((o) => o.env))) log.warn(`ssepg: ${line}`);
  // An empty variable counts as unset; for a credential that leaves something open, so say so.
  // An empty JWT key is refused outright: whoever set it meant to turn JWTs on, and without a
  // key the server would start with publishing and subscribing open.
  for (const option of OPTIONS) {
    if (io.env[option.env] !== "" || flags[option.name] !== undefined) continue;
    if (JWT_KEYS.includes(option.name)) {
      log.error(
        `ssepg: Cannot use ${option.name} (${option.flag}, ${option.env}) as it is set but empty: set a key, or unset the variable to run without JWTs`,
      );
      return 2;
    }
    if (option.secret) {
      log.warn(`ssepg: ⚠️  ${option.env} is set but empty, so it is ignored and ${option.name} stays unset`);
    }
  }

  let embedded: EmbeddedPostgres | undefined;
  if (config.embeddedPostgres && !config.databaseUrl) {
    const { startEmbeddedPostgres } = await import("./embedded_postgres.ts");
    try {
      embedded = await startEmbeddedPostgres();
      // The only change after resolving: resolve the copy with the URL, so that what serve()
      // gets is still a config resolveConfig built (a spread alone is not).
      config = resolveConfig({ overrides: { ...config, databaseUrl: embedded.url } });
    } catch (error) {
      log.error(`ssepg: cannot start the embedded PostgreSQL: ${(error as Error).message}`);
      await embedded?.stop();
      return 1;
    }
    log.info(
      `ssepg: embedded PostgreSQL at ${config.databaseUrl} (more instances can join with --database-url ${config.databaseUrl})`,
    );
  }

  for (const line of securityPosture(config)) {
    if (line.includes("⚠️")) log.warn(line);
    else log.info(line);
  }
  const workers = workerCount(config.workers);
  if (workers > 1) {
    const code = await superviseWorkers(io, config, workers, log, await prepareWorkers(), embedded?.url);
    await embedded?.stop();
    if (code === 0) log.info("ssepg: stopped");
    return code;
  }
  // `auto` on one core: this process serves, as with 1.
  if (config.workers !== "1") config = resolveConfig({ overrides: { ...config, workers: "1" } });
  // Listen for SIGINT/SIGTERM before the server prints its listening line: a supervisor that
  // stops the process right after that line gets a drain, not the runtime's default exit 143.
  let stopListening = () => {};
  const stopped = new Promise<string>((resolve) => {
    stopListening = io.onStopSignal((name) => {
      stopListening();
      resolve(name);
    });
  });
  let server;
  try {
    // The config resolved above, handed on as it is: it is not parsed again.
    server = await serve({ config, logger: log });
  } catch (error) {
    stopListening();
    await embedded?.stop();
    return startFailure(log, error);
  }

  const signal = await stopped;
  log.info(`ssepg: ${signal} received, draining for up to ${formatDuration(config.gracefulDrain)}`);
  await server.shutdown();
  await embedded?.stop();
  log.info("ssepg: stopped");
  return 0;
}

/**
 * One worker of `ssepg serve --workers N`: serves the shared port until the supervisor says stop
 * (or goes away). Signals are left to the supervisor, which also gets them from a terminal's
 * Ctrl-C; a worker only notes them, so a second one does not cut its drain.
 */
async function serveWorker(io: CliIo, config: Config, assignment: WorkerAssignment, base: Logger): Promise<number> {
  const worker = { index: assignment.index, count: assignment.count, pid: workerPid() };
  const fields = { worker: assignment.index };
  const log: Logger = {
    info: (message, more) => base.info(message, { ...fields, ...more }),
    warn: (message, more) => base.warn(message, { ...fields, ...more }),
    error: (message, more) => base.error(message, { ...fields, ...more }),
  };
  const channel = supervisorChannel();
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => stop = resolve);
  channel.onStop(stop);
  const stopListening = io.onStopSignal(() => {});
  const settled = resolveConfig({
    overrides: {
      ...config,
      port: assignment.port,
      healthPort: assignment.healthPort,
      ...(assignment.databaseUrl ? { databaseUrl: assignment.databaseUrl } : {}),
    },
  });
  let server;
  try {
    server = await serve({
      config: settled,
      logger: log,
      announce: false,
      reusePort: true,
      worker,
      gatherMetrics: () => channel.gather(),
    });
  } catch (error) {
    stopListening();
    channel.release();
    return startFailure(log, error);
  }
  const { service } = server;
  channel.answerMetrics(() => service.metrics());
  await channel.send({ type: "ready", url: server.url, ...(server.healthUrl ? { healthUrl: server.healthUrl } : {}) });
  await stopped;
  await server.shutdown();
  stopListening();
  channel.release();
  return 0;
}

function workerPid(): number {
  return (globalThis as unknown as { process: { pid: number } }).process.pid;
}

/**
 * Logs why `serve()` failed and gives the exit code: 2 for a config error (a JWT public key is
 * checked when it is imported, which happens as the server starts), else 1, saying where the
 * database URL comes from when the database was the reason.
 */
function startFailure(log: Logger, error: unknown): number {
  if (error instanceof ConfigError) {
    log.error(`ssepg: ${error.message}`);
    return 2;
  }
  const where = error instanceof BusUnavailableError ? "; the URL comes from --database-url or DATABASE_URL" : "";
  log.error(`ssepg: cannot start: ${(error as Error).message}${where}`);
  return 1;
}
