/**
 * What a failed NOTIFY statement means for its publishes: certainly not committed (the client
 * may retry safely), or of unknown outcome (it may have committed, so a retry may duplicate).
 *
 * @module
 */

import postgres from "postgres";
import { BusUnavailableError, EventRejectedError, PublishOutcomeUnknownError } from "../bus.ts";

/**
 * Error codes postgres.js and the socket layer give when a connection could not be opened, so
 * no statement was written on it; they decide only when the caller cannot tell whether the
 * statement was sent. Anything else that breaks a connection (`CONNECTION_CLOSED`,
 * `CONNECTION_DESTROYED`, `ECONNRESET`, `EPIPE`, `ETIMEDOUT` …) may have come after the
 * statement reached the server and committed there.
 */
const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECT_TIMEOUT",
  // The client was already ended (replaced after a stall) when the statement was given to it.
  "CONNECTION_ENDED",
]);

/**
 * Classifies the error a NOTIFY statement failed with. Nothing committed, so
 * {@link BusUnavailableError}, when the statement never reached a connection (`sent` is false:
 * it waited for one that failed to open), when the server answered with an error
 * (`PostgresError`: the statement, or the connection's start-up, was refused), or, when `sent`
 * is not known, when the error says the connection never opened. A connection that broke or
 * was discarded after the statement went out leaves the outcome unknown:
 * {@link PublishOutcomeUnknownError}.
 *
 * @param error What postgres.js rejected the statement with.
 * @param sent Whether the statement was handed to an open connection; `undefined` when not
 *   known, which the error alone then decides.
 * @returns The bus error to answer the statement's publishes with.
 *
 * @example
 * ```ts
 * import { classifyNotifyError } from "./notify_outcome.ts";
 * const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
 * classifyNotifyError(reset, false).name; // "BusUnavailableError": it never left
 * classifyNotifyError(reset, true).name; // "PublishOutcomeUnknownError"
 * ```
 */
export function classifyNotifyError(
  error: unknown,
  sent?: boolean,
): BusUnavailableError | PublishOutcomeUnknownError | EventRejectedError {
  if (
    error instanceof BusUnavailableError || error instanceof PublishOutcomeUnknownError ||
    error instanceof EventRejectedError
  ) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  // A code says nothing once the statement was out: postgres.js may report a failed reconnect
  // for a statement that an earlier socket had already carried.
  const neverSent = sent === undefined && typeof code === "string" && NEVER_SENT_CODES.has(code);
  // Class 22 (data exception) is about what the statement carried, e.g. a character the
  // database's encoding lacks: nothing was published, and the same event would fail again.
  if (error instanceof postgres.PostgresError && error.code.startsWith("22")) {
    return new EventRejectedError(message, { cause: error });
  }
  if (sent === false || error instanceof postgres.PostgresError || neverSent) {
    return new BusUnavailableError(`PostgreSQL did not accept the NOTIFY: ${message}`, 1, { cause: error });
  }
  return new PublishOutcomeUnknownError(
    `The connection carrying the NOTIFY failed before PostgreSQL answered: ${message}`,
    { cause: error },
  );
}
