/**
 * The `ssepg --help` text.
 *
 * @module
 */

import { OPTIONS, type OptionSpec } from "../config/config.ts";
import { formatDuration } from "../config/duration.ts";
import { VERSION } from "../version.ts";

const GROUPS: Record<OptionSpec["group"], string> = {
  server: "Server",
  database: "Database",
  security: "Security",
  streams: "Streams",
  limits: "Limits",
  operations: "Operations",
};

/**
 * Usage of every command, then every server option grouped, with its env variable and default.
 *
 * @returns The help text.
 *
 * @example
 * ```ts
 * import { helpText } from "./help.ts";
 * console.log(helpText());
 * ```
 */
export function helpText(): string {
  const lines = [
    `ssepg ${VERSION}: Server-Sent Events fan-out over PostgreSQL LISTEN/NOTIFY`,
    "",
    "Usage:",
    "  ssepg [serve] [flags]                      run the server",
    "  ssepg publish <topic> <json> [--url U] [--token T] [--base-path P]",
    '                                             publish one event ({"data": <json>})',
    "  ssepg subscribe <topic>... [--url U] [--token T] [--base-path P] [--last-event-id ID]",
    "                                             print events as JSON lines, reconnecting with Last-Event-ID",
    "  ssepg sql [--apply] [--notify-shards N] [--max-event-bytes B] [--database-url U]",
    "                                             print the SQL install script (ssepg.publish() for triggers and",
    "                                             transactions); --apply installs it in the database",
    "  ssepg --help | --version",
    "",
    "Client commands read SSEPG_URL (default http://127.0.0.1:8080) and SSEPG_TOKEN.",
    "Server flags win over environment variables; durations take 250ms, 15s, 10m or milliseconds; -p is --port.",
  ];
  for (const [group, title] of Object.entries(GROUPS)) {
    lines.push("", `${title}:`);
    for (const o of OPTIONS.filter((x) => x.group === group)) {
      const value = o.kind === "bool" ? "" : o.kind === "duration" ? " <duration>" : " <value>";
      const shown = o.follows !== undefined
        ? o.follows
        : o.default === undefined
        ? "unset"
        : o.kind === "duration"
        ? formatDuration(o.default as number)
        : String(o.default);
      lines.push(`  ${(o.flag + value).padEnd(42)} ${o.help}`);
      lines.push(`  ${"".padEnd(42)} env ${o.env}, default ${shown}`);
    }
  }
  return lines.join("\n");
}
