/**
 * What an operator reads when the first connection to PostgreSQL fails: which database (the URL
 * without its password), what went wrong in words, and where the URL came from, rather than the
 * driver's bare `connect ECONNREFUSED 127.0.0.1:5432`.
 *
 * @module
 */

import { shownUrl } from "../../shown_url.ts";

/** Error codes of the driver and of PostgreSQL, in words. */
const EXPLANATIONS: Readonly<Record<string, string>> = {
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name could not be resolved right now",
  ECONNREFUSED: "nothing accepts connections there (is PostgreSQL running, and on that port?)",
  ECONNRESET: "the connection was reset",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  CONNECT_TIMEOUT: "the connection timed out",
  "28000": "the role is not allowed to connect (check the user name and pg_hba.conf)",
  "28P01": "password authentication failed",
  "3D000": "the database does not exist",
  "53300": "the server has no free connection slots",
  "57P03": "the server is starting up or shutting down",
};

/**
 * Describes a failed first connection for the startup error.
 *
 * @param error What the driver threw.
 * @param url The PostgreSQL URL (its password is never shown).
 * @returns One line: `cannot connect to PostgreSQL at <url>: <reason> (<driver message>)`.
 *
 * @example
 * ```ts
 * import { describeConnectError } from "./connect_error.ts";
 * const error = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
 * describeConnectError(error, "postgres://app:pw@127.0.0.1:1/x");
 * // "cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:1/x: nothing accepts connections there …"
 * ```
 */
export function describeConnectError(error: unknown, url: string): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const driver = typeof message === "string" ? message : String(error);
  const explained = typeof code === "string" ? EXPLANATIONS[code] : undefined;
  const reason = explained ? `${explained} (${driver})` : driver;
  return `cannot connect to PostgreSQL at ${shownUrl(url)}: ${reason}`;
}
