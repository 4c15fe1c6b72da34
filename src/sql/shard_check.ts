/**
 * Whether the `ssepg` schema installed in the database hashes topics over the same number of
 * NOTIFY shards as this server. A mismatch sends some events published from SQL to channels no
 * instance LISTENs on, so a server says so at start and in its health.
 *
 * @module
 */

/**
 * The part of a postgres.js `Sql` the check uses (a `Sql` or a transaction's `tx` both fit).
 *
 * @example
 * ```ts
 * import type { ShardCheckSql } from "./shard_check.ts";
 * const fake: ShardCheckSql = { unsafe: () => Promise.resolve([{ installed: null }]) };
 * ```
 */
export interface ShardCheckSql {
  /** Runs one statement and resolves with its rows. */
  unsafe(query: string): PromiseLike<readonly Record<string, unknown>[]>;
}

/**
 * Compares `ssepg.notify_shards()`, when the schema is installed, with this server's
 * `notifyShards`.
 *
 * Errors reaching the database (connection refused, broken connection) are thrown: they are the
 * caller's to handle. An error the server answers with (no `usage` on the schema, a function of
 * the same name that fails) gives a warning instead: the check could not be made.
 *
 * @param sql A postgres.js connection pool (or anything with the same `unsafe`).
 * @param notifyShards This server's `notifyShards`.
 * @returns One warning line, or `undefined` when the schema is absent or agrees.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { checkInstalledShards } from "./shard_check.ts";
 * const sql = postgres("postgres://postgres@127.0.0.1:5432/test", { max: 1 });
 * const warning = await checkInstalledShards(sql, 8);
 * if (warning) console.error(warning);
 * await sql.end();
 * ```
 */
export async function checkInstalledShards(sql: ShardCheckSql, notifyShards: number): Promise<string | undefined> {
  let shown: string;
  try {
    // to_regprocedure() answers null rather than failing when the function or the schema is
    // absent, so a database without the schema costs one round trip and no error in its log.
    const [found] = await sql.unsafe("select to_regprocedure('ssepg.notify_shards()') is not null as installed");
    if (found?.installed !== true) return undefined;
    const [row] = await sql.unsafe("select ssepg.notify_shards()::text as shards");
    shown = String(row?.shards);
  } catch (error) {
    // Only an error the server answered with (no usage on the schema, a function of that name
    // that fails) is the check's to report; a lost connection is the caller's.
    if ((error as Error).name !== "PostgresError") throw error;
    return `ssepg: ⚠️  cannot read ssepg.notify_shards() to compare it with notifyShards ${notifyShards}: ${
      (error as Error).message
    }`;
  }
  const installed = Number(shown);
  if (installed === notifyShards) return undefined;
  if (!Number.isInteger(installed) || installed < 1) {
    return `ssepg: ⚠️  ssepg.notify_shards() in this database returns ${shown}, not a shard count: reinstall it with \`ssepg sql --apply --notify-shards ${notifyShards}\``;
  }
  const effect = installed > notifyShards
    ? `events published from SQL to topics that hash to topic_broadcast_${notifyShards}…${
      installed - 1
    } reach no instance that uses ${notifyShards}`
    : `events published from SQL still reach this instance, but the counts must be equal everywhere`;
  return `ssepg: ⚠️  ssepg.publish() in this database hashes topics over ${installed} NOTIFY shards but notifyShards is ${notifyShards}: ${effect}; run \`ssepg sql --apply --notify-shards ${notifyShards}\` or set notifyShards to ${installed} on every instance`;
}
