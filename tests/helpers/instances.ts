/**
 * Test fixtures: the database URL, servers on free ports, unique topic names.
 *
 * @module
 */

import postgres from "postgres";
import { serve, type ServeOptions, type SsepgServer } from "../../src/serve/mod.ts";
import { silentLogger } from "../../src/log.ts";

/**
 * The PostgreSQL the integration tests use. `deno task test` / `npm test` provide it (from
 * `DATABASE_URL` or an embedded server); a missing database fails the test, it never skips.
 */
export function databaseUrl(): string {
  const url = Deno.env.get("DATABASE_URL");
  if (!url) {
    throw new Error("DATABASE_URL is not set: run the suite with `deno task test` (it starts an embedded PostgreSQL)");
  }
  return url;
}

/**
 * A database of this test's own on the `DATABASE_URL` server, for assertions on instance-wide
 * figures: NOTIFY is scoped to one database, so no other test (or other user of a shared
 * server) adds to them. Drop it with the returned function.
 */
export async function ownDatabase(
  options: { encoding?: string } = {},
): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(databaseUrl());
  const name = `ssepg_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(base.href, { max: 1, onnotice: () => {} });
  // Another encoding needs template0 and a C locale, which every encoding accepts.
  const encoding = options.encoding
    ? ` encoding '${options.encoding}' template template0 lc_collate 'C' lc_ctype 'C'`
    : "";
  try {
    await admin.unsafe(`create database ${name}${encoding}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base.href);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const sql = postgres(base.href, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end();
      }
    },
  };
}

/** Starts ssepg on 127.0.0.1 and a free port, quietly. */
export function startServer(options: ServeOptions = {}): Promise<SsepgServer> {
  return serve({ port: 0, hostname: "127.0.0.1", announce: false, logger: silentLogger, ...options });
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** POSTs `{"data": data}` and returns the response and its parsed JSON body. */
export async function publish(
  base: string,
  topic: string,
  data: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; response: Response }> {
  const response = await fetch(`${base}/topics/${topic}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ data }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, response };
}

/** Polls `check` until it returns true or `timeout` ms pass. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeout = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Options for Deno.test that skip the sanitizers for tests holding sockets to PostgreSQL. */
export const dbTest = { sanitizeOps: false, sanitizeResources: false } as const;

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
