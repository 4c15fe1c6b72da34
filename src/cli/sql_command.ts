/**
 * `ssepg sql`: print the SQL install script (the `ssepg` schema, for publishing from SQL) for the
 * configured `notifyShards`, or with `--apply` install it in the configured database.
 *
 * @module
 */

import postgres from "postgres";
import { ConfigError, OPTIONS, resolveConfig } from "../config/config.ts";
import { type FlagSpec, UsageError } from "./args.ts";
import type { CliIo } from "./io.ts";
import { installScript } from "../sql/install_script.ts";

/**
 * Flags of `ssepg sql`: the two options the script depends on, and `--apply`.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * import { SQL_FLAGS } from "./sql_command.ts";
 * parseArgs(["--apply", "--notify-shards", "4"], SQL_FLAGS).flags; // { apply: true, notifyShards: "4" }
 * ```
 */
export const SQL_FLAGS: readonly FlagSpec[] = [
  { flag: "--notify-shards", key: "notifyShards" },
  { flag: "--max-event-bytes", key: "maxEventBytes" },
  { flag: "--database-url", key: "databaseUrl" },
  { flag: "--apply", key: "apply", bool: true },
];

/** The options `ssepg sql` reads, with their environment variables. */
const SQL_OPTIONS = OPTIONS.filter((o) => ["notifyShards", "maxEventBytes", "databaseUrl"].includes(o.name));

/**
 * Runs `ssepg sql [--apply]`.
 *
 * Only `notifyShards`, `maxEventBytes` and `databaseUrl` are read (flags, then `SSEPG_NOTIFY_SHARDS`, `SSEPG_MAX_EVENT_BYTES` and
 * `DATABASE_URL`), so a server setting that is wrong for `serve` does not stop a migration.
 *
 * @param io Environment and output.
 * @param positionals Arguments after `sql`; there must be none.
 * @param flags Parsed {@link SQL_FLAGS}.
 * @returns 0 when printed or installed; 2 for bad usage, a bad option or `--apply` without a
 * database URL; 1 when the database refused the script or could not be reached.
 * @throws {UsageError} for arguments after `sql` or a bad `--apply` value.
 *
 * @example
 * ```ts
 * import { sqlCommand } from "./sql_command.ts";
 * const lines: string[] = [];
 * const io = { args: [], env: {}, stdout: (l: string) => lines.push(l), stderr: console.error, onStopSignal: () => () => {} };
 * await sqlCommand(io, [], { notifyShards: "4" }); // 0; lines[0] is the script
 * ```
 */
export async function sqlCommand(
  io: CliIo,
  positionals: readonly string[],
  flags: Record<string, string | boolean>,
): Promise<number> {
  if (positionals.length > 0) {
    throw new UsageError(`ssepg sql takes no arguments: found ${JSON.stringify(positionals[0])}; see ssepg --help`);
  }
  const apply = flagBool(flags.apply);
  let notifyShards: number;
  let maxEventBytes: number;
  let databaseUrl: string | undefined;
  try {
    const env = Object.fromEntries(SQL_OPTIONS.map((o) => [o.env, io.env[o.env]]));
    const config = resolveConfig({
      env,
      flags: { notifyShards: flags.notifyShards, maxEventBytes: flags.maxEventBytes, databaseUrl: flags.databaseUrl },
    });
    notifyShards = config.notifyShards;
    maxEventBytes = config.maxEventBytes;
    databaseUrl = config.databaseUrl;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`ssepg: ${error.message}`);
    return 2;
  }
  const script = installScript({ notifyShards, maxEventBytes });
  if (!apply) {
    io.stdout(script);
    return 0;
  }
  if (!databaseUrl) {
    io.stderr("ssepg: sql --apply needs databaseUrl (--database-url or DATABASE_URL): neither is set");
    return 2;
  }
  const shown = withoutPassword(databaseUrl);
  const sql = postgres(databaseUrl, {
    max: 1,
    connect_timeout: 10,
    // "schema ssepg already exists, skipping" on a second run is expected, not news.
    onnotice: () => {},
    connection: { application_name: "ssepg-sql" },
  });
  try {
    // One transaction: a script that fails half-way leaves the previous install as it was.
    await sql.begin((tx) => tx.unsafe(script));
  } catch (error) {
    io.stderr(`ssepg: cannot install the ssepg schema in ${shown}: ${(error as Error).message}`);
    return 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
  io.stderr(
    `ssepg: installed the ssepg schema (publish, notify_shards) for ${notifyShards} shards and events up to ${maxEventBytes} bytes in ${shown}`,
  );
  return 0;
}

function flagBool(value: string | boolean | undefined): boolean {
  if (value === undefined || typeof value === "boolean") return value === true;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw new UsageError(`--apply takes true or false: current value is ${JSON.stringify(value)}`);
}

/** The URL without its password (in the user part or a `password` parameter), for messages. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    parsed.searchParams.delete("password");
    return parsed.href;
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^@/]*@/i, "$1@");
  }
}
