/**
 * `createBus()` picks the bus from the configuration: in-process without `databaseUrl`,
 * PostgreSQL with one. Nothing here connects: a bus connects only in `start()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { createBus } from "../../src/bus/create_bus.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import { PostgresBus } from "../../src/bus/postgres/postgres_bus.ts";
import { silentLogger } from "../../src/log.ts";

const databaseFields = {
  notifyShards: 4,
  queueWarnThreshold: 0.5,
  queuePollInterval: 30_000,
  alterSystemMaxNotifyMB: 0,
};

test("createBus() without databaseUrl gives the in-process bus", async () => {
  const bus = createBus({ ...databaseFields, databaseUrl: undefined }, silentLogger);
  assert.ok(bus instanceof MemoryBus);
  assert.equal(bus.status().kind, "memory");
  await bus.close();
});

test("createBus() with an empty databaseUrl gives the in-process bus too", async () => {
  const bus = createBus({ ...databaseFields, databaseUrl: "" }, silentLogger);
  assert.equal(bus.status().kind, "memory");
  await bus.close();
});

test("createBus() with databaseUrl gives the PostgreSQL bus, not connected before start()", async () => {
  // Port 1 refuses at once; the bus must not even try before start().
  const bus = createBus({ ...databaseFields, databaseUrl: "postgres://postgres@127.0.0.1:1/none" }, silentLogger);
  assert.ok(bus instanceof PostgresBus);
  const status = bus.status();
  assert.equal(status.kind, "postgres");
  assert.equal(status.connected, false);
  assert.equal(status.queueUsage, undefined, "no poll before start()");
  await bus.close();
});
