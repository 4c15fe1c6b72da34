/**
 * `ssepg serve`: validate the configuration, start the server, drain on SIGINT/SIGTERM.
 *
 * @module
 */

import { type Config, ConfigError, OPTIONS, resolveConfig } from "../config/config.ts";
import { formatDuration } from "../config/duration.ts";
import { securityPosture } from "./security_posture.ts";
import type { EmbeddedPostgres } from "./embedded_postgres.ts";
import { serve } from "../serve/mod.ts";
import type { CliIo } from "./io.ts";
import { stderrLogger } from "../log.ts";

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
      io.stderr(`ssepg: ${error.message}`);
      return 2;
    }
    throw error;
  }

  // An empty variable counts as unset; for a credential that leaves something open, so say so.
  for (const option of OPTIONS) {
    if (option.secret && io.env[option.env] === "" && flags[option.name] === undefined) {
      io.stderr(`ssepg: ⚠️  ${option.env} is set but empty, so it is ignored and ${option.name} stays unset`);
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
      io.stderr(`ssepg: cannot start the embedded PostgreSQL: ${(error as Error).message}`);
      await embedded?.stop();
      return 1;
    }
    io.stderr(
      `ssepg: embedded PostgreSQL at ${config.databaseUrl} (more instances can join with --database-url ${config.databaseUrl})`,
    );
  }

  for (const line of securityPosture(config)) io.stderr(line);
  let server;
  try {
    // The config resolved above, handed on as it is: it is not parsed again.
    server = await serve({ config, logger: stderrLogger });
  } catch (error) {
    await embedded?.stop();
    // A JWT public key is checked when it is imported, which happens as the server starts.
    if (error instanceof ConfigError) {
      io.stderr(`ssepg: ${error.message}`);
      return 2;
    }
    io.stderr(`ssepg: cannot start: ${(error as Error).message}`);
    return 1;
  }

  const signal = await new Promise<string>((resolve) => {
    const off = io.onStopSignal((name) => {
      off();
      resolve(name);
    });
  });
  io.stderr(`ssepg: ${signal} received, draining for up to ${formatDuration(config.gracefulDrain)}`);
  await server.shutdown();
  await embedded?.stop();
  io.stderr("ssepg: stopped");
  return 0;
}
