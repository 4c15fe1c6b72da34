/**
 * The PostgreSQL bus's upkeep of the server's NOTIFY queue, on a real database: the queue watch
 * polls while the bus runs and stops with `close()`, and `alterSystemMaxNotifyMB` is skipped
 * with its log line where the server cannot take it (`max_notify_queue_pages` is PostgreSQL 17+).
 *
 * The NOTIFY queue belongs to the whole server, which other databases and test runs share, so
 * these tests never assert its figures, only that they are read.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { PostgresBus } from "../../src/bus/postgres/postgres_bus.ts";
import { startQueueWatch } from "../../src/bus/postgres/maintenance.ts";
import type { Logger } from "../../src/log.ts";

/** `DATABASE_URL`, or the local test server when this file runs on its own. */
function testDatabaseUrl(): string {
  return Deno.env.get("DATABASE_URL") || "postgres://postgres@127.0.0.1:5432/test";
}

/**
 * Polls `check` until it holds or `timeout` ms pass. (The one in `helpers/instances.ts` would
 * pull in the whole server, which this test of the bus alone does not need.)
 */
async function waitFor(check: () => boolean, timeout: number, what: string): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A logger that keeps every line, with its level, for the assertions. */
function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
  };
}

/**
 * Keeps track of the intervals set and not yet cleared while it is on. Deno's op sanitizer does
 * not report a forgotten `setInterval` (as of Deno 2.9), so the test counts them itself.
 */
function trackIntervals(): { open: Set<unknown>; restore(): void } {
  const open = new Set<unknown>();
  const { setInterval: set, clearInterval: clear } = globalThis;
  globalThis.setInterval = ((...args: Parameters<typeof set>) => {
    const id = set(...args);
    open.add(id);
    return id;
  }) as typeof set;
  globalThis.clearInterval = ((id?: number) => {
    open.delete(id);
    clear(id);
  }) as typeof clear;
  return {
    open,
    restore() {
      globalThis.setInterval = set;
      globalThis.clearInterval = clear;
    },
  };
}

/** The server's version number and `max_notify_queue_pages` (undefined before PostgreSQL 17). */
async function serverFacts(url: string): Promise<{ version: number; queuePages: number | undefined }> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, fetch_types: false });
  try {
    const [row] = await sql`select current_setting('server_version_num')::int as version,
      current_setting('max_notify_queue_pages', true) as pages`;
    return { version: Number(row.version), queuePages: row.pages ? Number(row.pages) : undefined };
  } finally {
    await sql.end();
  }
}

Deno.test("PostgresBus maintenance: the queue watch polls, ALTER SYSTEM is skipped with its line, close() stops the timer", async () => {
  const url = testDatabaseUrl();
  const { version, queuePages } = await serverFacts(url);
  // Before 17 the skip is what is tested. From 17 the step really runs ALTER SYSTEM on this shared
  // server, so it asks for the size already in force: after a restart nothing differs.
  const modern = version >= 170000;
  const mb = modern ? (queuePages ?? 1_048_576) / 128 : 64;
  const logger = capturingLogger();
  const intervals = trackIntervals();
  const bus = new PostgresBus({
    url,
    notifyShards: 2,
    logger,
    queuePollInterval: 100,
    queueWarnThreshold: 0.9,
    alterSystemMaxNotifyMB: mb,
  });
  // Counts the polls: the bus calls its own pollQueueUsage(), which this instance property shadows.
  let polls = 0;
  const poll = bus.pollQueueUsage.bind(bus);
  bus.pollQueueUsage = () => {
    polls++;
    return poll();
  };
  try {
    assert.equal(bus.status().queueUsage, undefined, "nothing polled before start()");
    await bus.start({ event() {}, gap() {} });
    await waitFor(() => typeof bus.status().queueUsage === "number", 5_000, "the first queue poll");
    const usage = bus.status().queueUsage!;
    assert.ok(usage >= 0 && usage <= 1, `usage is a fraction: ${usage}`);
    await waitFor(() => polls >= 3, 5_000, "polls every queuePollInterval");
    assert.equal(intervals.open.size, 1, "one poll timer while the bus runs");

    if (!modern) {
      assert.ok(
        logger.lines.includes(
          `warn ssepg: alterSystemMaxNotifyMB skipped: max_notify_queue_pages needs PostgreSQL 17+ (server is ${version})`,
        ),
        logger.lines.join("\n"),
      );
    } else {
      assert.ok(
        logger.lines.some((line) =>
          line === `info ssepg: set max_notify_queue_pages for ${mb} MB; it takes effect after a PostgreSQL restart` ||
          line === "warn ssepg: alterSystemMaxNotifyMB skipped: ALTER SYSTEM needs a superuser"
        ),
        logger.lines.join("\n"),
      );
    }
  } finally {
    await bus.close();
    intervals.restore();
  }
  assert.equal(intervals.open.size, 0, "close() cleared the poll timer");
  const afterClose = polls;
  await new Promise((resolve) => setTimeout(resolve, 350));
  assert.equal(polls, afterClose, "no poll after close()");
});

Deno.test("PostgresBus without maintenance options polls nothing and logs nothing", async () => {
  const logger = capturingLogger();
  const bus = new PostgresBus({ url: testDatabaseUrl(), notifyShards: 1, logger });
  try {
    await bus.start({ event() {}, gap() {} });
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(bus.status().queueUsage, undefined);
    assert.deepEqual(logger.lines, []);
  } finally {
    await bus.close();
  }
});

Deno.test("startQueueWatch() warns once per crossing of the threshold and stops polling when stopped", async () => {
  const readings = [0.2, 0.7, 0.8, 0.3, 0.75];
  let polls = 0;
  const logger = capturingLogger();
  const stop = startQueueWatch({
    poll: () => Promise.resolve(readings[Math.min(polls++, readings.length - 1)]),
    interval: 10,
    warnThreshold: 0.5,
    logger,
  });
  await waitFor(() => polls >= readings.length + 1, 2_000, "every reading");
  stop();
  const stoppedAt = polls;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(polls, stoppedAt, "no poll after stop()");
  assert.deepEqual(logger.lines, [
    "warn ssepg: NOTIFY queue usage is 70.0%, above queueWarnThreshold (50%)",
    "warn ssepg: NOTIFY queue usage is 75.0%, above queueWarnThreshold (50%)",
  ]);
});

Deno.test("startQueueWatch() survives a failing poll (the database is away)", async () => {
  let polls = 0;
  const logger = capturingLogger();
  const stop = startQueueWatch({
    poll: () => {
      polls++;
      return Promise.reject(new Error("connection refused"));
    },
    interval: 10,
    warnThreshold: 0.5,
    logger,
  });
  await waitFor(() => polls >= 3, 2_000, "three polls");
  stop();
  assert.deepEqual(logger.lines, [], "the listener's reconnect loop reports outages, not the watch");
});
