/**
 * Picks the bus a configuration asks for. This is the one place outside `postgres/` that knows
 * the PostgreSQL bus, so the rest of ssepg depends only on the {@link Bus} interface.
 *
 * @module
 */

import type { Bus } from "./bus.ts";
import { MemoryBus } from "./memory.ts";
import { PostgresBus } from "./postgres/postgres_bus.ts";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log.ts";

/**
 * Creates the bus for `config`, not yet started: the PostgreSQL bus (with its NOTIFY queue
 * watch, optional `ALTER SYSTEM` step, `publishTimeout` and `maxPendingPublishes`) when
 * `databaseUrl` is set, else the in-process bus.
 *
 * @param config The database fields of the resolved configuration.
 * @param logger Where the PostgreSQL bus logs connection and queue events.
 * @returns The bus; call `start()` to connect and `close()` to stop it.
 *
 * @example
 * ```ts
 * import { createBus } from "./create_bus.ts";
 * const bus = createBus({
 *   databaseUrl: undefined,
 *   notifyShards: 8,
 *   queueWarnThreshold: 0.5,
 *   queuePollInterval: 30_000,
 *   alterSystemMaxNotifyMB: 0,
 *   publishTimeout: 5_000,
 *   maxPendingPublishes: 10_000,
 * }, console);
 * bus.status().kind; // "memory"
 * ```
 */
export function createBus(
  config:
    & Pick<
      Config,
      "databaseUrl" | "notifyShards" | "queueWarnThreshold" | "queuePollInterval" | "alterSystemMaxNotifyMB"
    >
    // Optional here (the bus has the same defaults), so callers that predate them still build a bus.
    & Partial<Pick<Config, "publishTimeout" | "maxPendingPublishes" | "maxNotifyBytes" | "maxEventBytes">>,
  logger: Logger,
): Bus {
  if (!config.databaseUrl) return new MemoryBus();
  return new PostgresBus({
    url: config.databaseUrl,
    notifyShards: config.notifyShards,
    logger,
    queueWarnThreshold: config.queueWarnThreshold,
    queuePollInterval: config.queuePollInterval,
    alterSystemMaxNotifyMB: config.alterSystemMaxNotifyMB,
    publishTimeout: config.publishTimeout,
    maxPendingPublishes: config.maxPendingPublishes,
    maxNotifyBytes: config.maxNotifyBytes,
    maxEventBytes: config.maxEventBytes,
  });
}
