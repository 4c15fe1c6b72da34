/**
 * `classifyNotifyError()`: which failures of a NOTIFY statement mean "nothing committed" (503)
 * and which leave the outcome unknown (504).
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { test } from "../helpers/test.ts";
import { classifyNotifyError } from "../../src/bus/postgres/notify_outcome.ts";
import { BusUnavailableError, PublishOutcomeUnknownError } from "../../src/bus/bus.ts";

const withCode = (code: string) => Object.assign(new Error(`write ${code} 127.0.0.1:5432`), { code });
// postgres.js builds its server errors from the ErrorResponse fields; the typings hide that constructor.
const PostgresError = postgres.PostgresError as unknown as new (fields: object) => Error;

test("a server error or a connection that never opened means nothing committed", () => {
  const refused = [
    new PostgresError({ message: 'database "x" is not currently accepting connections', code: "55000" }),
    new PostgresError({ message: "terminating connection due to administrator command", code: "57P01" }),
    withCode("ECONNREFUSED"),
    withCode("CONNECT_TIMEOUT"),
    withCode("CONNECTION_ENDED"),
  ];
  for (const error of refused) {
    const classified = classifyNotifyError(error);
    assert.ok(classified instanceof BusUnavailableError, `${error.message}: ${classified.name}`);
    assert.equal(classified.cause, error);
  }
});

test("a connection that broke or was discarded with the statement out leaves the outcome unknown", () => {
  for (const code of ["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "ECONNRESET", "EPIPE", "ETIMEDOUT"]) {
    assert.ok(classifyNotifyError(withCode(code)) instanceof PublishOutcomeUnknownError, code);
  }
  assert.ok(classifyNotifyError("something odd") instanceof PublishOutcomeUnknownError);
});

test("a statement that never reached a connection committed nothing, whatever broke", () => {
  for (const code of ["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "ECONNRESET", "ECONNREFUSED"]) {
    assert.ok(classifyNotifyError(withCode(code), false) instanceof BusUnavailableError, code);
    // Once it was out, even a failed reconnect does not say it did not commit.
    assert.ok(classifyNotifyError(withCode(code), true) instanceof PublishOutcomeUnknownError, code);
  }
  const refused = new PostgresError({ message: "the database system is shutting down", code: "57P03" });
  assert.ok(classifyNotifyError(refused, true) instanceof BusUnavailableError, "the server's answer is certain");
});

test("bus errors pass through unchanged", () => {
  const unavailable = new BusUnavailableError("queue full");
  const unknown = new PublishOutcomeUnknownError("no answer");
  assert.equal(classifyNotifyError(unavailable), unavailable);
  assert.equal(classifyNotifyError(unknown), unknown);
});
