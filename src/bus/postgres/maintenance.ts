/**
 * Upkeep of the PostgreSQL server the bus runs on: watching how full the NOTIFY queue is, and
 * optionally raising its size with `ALTER SYSTEM`. Both are small functions over a query
 * callback, so `PostgresBus` runs them on its own connections and they can be tested alone.
 *
 * @module
 */

import type { Logger } from "../../log.ts";

/**
 * Runs one SQL statement without parameters and returns its rows.
 *
 * @example
 * ```ts
 * import type { Query } from "./maintenance.ts";
 * const query: Query = (statement) => Promise.resolve([{ statement }]);
 * ```
 */
export type Query = (statement: string) => Promise<readonly Record<string, unknown>[]>;

/**
 * Settings of {@link startQueueWatch}.
 *
 * @example
 * ```ts
 * import type { QueueWatchOptions } from "./maintenance.ts";
 * const options: QueueWatchOptions = { poll: () => Promise.resolve(0.1), interval: 30_000, warnThreshold: 0.5, logger: console };
 * ```
 */
export interface QueueWatchOptions {
  /** Reads the NOTIFY queue usage, 0 to 1 (`pg_notification_queue_usage()`). */
  readonly poll: () => Promise<number>;
  /** Milliseconds between polls. */
  readonly interval: number;
  /** Usage above which a warning is logged; unset polls without warning. */
  readonly warnThreshold?: number;
  /** Where the warning goes. */
  readonly logger: Logger;
}

/**
 * Polls the NOTIFY queue usage now and every `interval` ms, and warns when it rises above
 * `warnThreshold`. It warns once per crossing, not at every poll, so a queue that stays full
 * does not flood the log; it warns again after usage fell back below the threshold.
 *
 * A full queue makes every NOTIFY fail, so publishes stop across all instances: the warning
 * is the early sign of a listener (this one or any other on the server) that stopped reading.
 *
 * @param options What to poll, how often, and when to warn.
 * @returns Stops the polling; a poll already running finishes, but logs nothing.
 *
 * @example
 * ```ts
 * import { startQueueWatch } from "./maintenance.ts";
 * const stop = startQueueWatch({ poll: () => Promise.resolve(0.6), interval: 1_000, warnThreshold: 0.5, logger: console });
 * stop();
 * ```
 */
export function startQueueWatch(options: QueueWatchOptions): () => void {
  const { poll, interval, warnThreshold, logger } = options;
  let warned = false;
  let stopped = false;
  const check = async () => {
    let usage: number;
    try {
      usage = await poll();
    } catch {
      // The database is away; the listener's reconnect loop reports that.
      return;
    }
    // A poll that was in flight when the watch stopped reports nothing: its owner is gone.
    if (stopped || warnThreshold === undefined) return;
    if (usage > warnThreshold && !warned) {
      logger.warn(
        `ssepg: NOTIFY queue usage is ${(usage * 100).toFixed(1)}%, above queueWarnThreshold (${warnThreshold * 100}%)`,
      );
    }
    warned = usage > warnThreshold;
  };
  void check();
  const timer = setInterval(check, interval);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/**
 * Sets `max_notify_queue_pages` with `ALTER SYSTEM` so the NOTIFY queue holds `mb` megabytes.
 * The setting exists from PostgreSQL 17 and `ALTER SYSTEM` needs a superuser, so either missing
 * is logged and skipped rather than thrown: the bus works without it, with the server's queue.
 * It never throws; a failed statement is logged the same way.
 *
 * @param query Runs a statement on the server to change.
 * @param mb Queue size in MB; a page is 8 kB, so this sets `mb * 128` pages.
 * @param logger Where the outcome (set, or skipped and why) is logged.
 *
 * @example
 * ```ts
 * import { alterSystemMaxNotify } from "./maintenance.ts";
 * const query = () => Promise.resolve([{ version: 150000, superuser: true }]);
 * await alterSystemMaxNotify(query, 1024, console); // logs the PostgreSQL 17+ skip line
 * ```
 */
export async function alterSystemMaxNotify(query: Query, mb: number, logger: Logger): Promise<void> {
  try {
    const [row] = await query(
      "select current_setting('server_version_num')::int as version, (select rolsuper from pg_roles where rolname = current_user) as superuser",
    );
    if (Number(row.version) < 170000) {
      logger.warn(
        `ssepg: alterSystemMaxNotifyMB skipped: max_notify_queue_pages needs PostgreSQL 17+ (server is ${row.version})`,
      );
      return;
    }
    if (row.superuser !== true) {
      logger.warn("ssepg: alterSystemMaxNotifyMB skipped: ALTER SYSTEM needs a superuser");
      return;
    }
    // A page is 8 kB; the setting counts pages.
    await query(`ALTER SYSTEM SET max_notify_queue_pages = ${Math.round(mb * 128)}`);
    logger.info(`ssepg: set max_notify_queue_pages for ${mb} MB; it takes effect after a PostgreSQL restart`);
  } catch (error) {
    logger.warn(`ssepg: alterSystemMaxNotifyMB skipped: ${error instanceof Error ? error.message : error}`);
  }
}
