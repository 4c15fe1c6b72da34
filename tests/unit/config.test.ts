import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { type Config, ConfigError, isResolvedConfig, OPTIONS, resolveConfig } from "../../src/config/config.ts";
import { formatDuration, parseDuration } from "../../src/config/duration.ts";
import { createSsepg } from "../../src/service/create.ts";
import { silentLogger } from "../../src/log.ts";

test("parseDuration() reads ms, s, m, h and plain milliseconds", () => {
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("15s"), 15_000);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1.5s"), 1_500);
  assert.equal(parseDuration("42"), 42);
  assert.equal(parseDuration(" 5s "), 5_000);
  for (const bad of ["", "s", "-1s", "5x", "5 s", "1e3", "fifteen"]) assert.equal(parseDuration(bad), undefined, bad);
});

test("formatDuration() gives the shortest exact form", () => {
  assert.equal(formatDuration(600_000), "10m");
  assert.equal(formatDuration(15_000), "15s");
  assert.equal(formatDuration(1_500), "1500ms");
  assert.equal(formatDuration(0), "0ms");
});

test("resolveConfig() gives the defaults of the options table in the README", () => {
  const c = resolveConfig();
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.embeddedPostgres, false);
  assert.equal(c.port, 8080);
  assert.equal(c.hostname, "0.0.0.0");
  assert.equal(c.basePath, "/topics");
  assert.equal(c.healthz, "/healthz");
  assert.equal(c.healthPort, undefined);
  assert.equal(c.publishToken, undefined);
  assert.equal(c.listenToken, undefined);
  assert.equal(c.allowQueryToken, false);
  assert.equal(c.corsOrigins, undefined);
  assert.equal(c.keepAlive, 15_000);
  assert.equal(c.retry, 5_000);
  assert.equal(c.notifyShards, 8);
  assert.equal(c.ringCapacity, 1024);
  assert.equal(c.maxRingBytes, 268_435_456);
  assert.equal(c.clientBuffer, 64);
  assert.equal(c.maxNotifyBytes, 7900);
  assert.equal(c.maxEventBytes, 1_048_576);
  assert.equal(c.maxBodyBytes, 1_048_576, "maxBodyBytes follows maxEventBytes");
  assert.equal(c.bodyTimeout, 30_000);
  assert.equal(c.gracefulDrain, 10_000);
  assert.equal(c.queueWarnThreshold, 0.5);
  assert.equal(c.queuePollInterval, 30_000);
  assert.equal(c.topicIdleTimeout, 600_000);
  assert.equal(c.alterSystemMaxNotifyMB, 0);
  assert.ok(Object.isFrozen(c));
});

test("resolveConfig() reads every option from its environment variable", () => {
  const env: Record<string, string> = {
    DATABASE_URL: "postgres://u@h:5432/db",
    SSEPG_EMBEDDED_POSTGRES: "true",
    PORT: "9000",
    HOST: "127.0.0.1",
    SSEPG_DENO_SERVE: "true",
    SSEPG_WORKERS: "auto",
    SSEPG_BASE_PATH: "/sse/",
    SSEPG_HEALTHZ: "/health",
    SSEPG_HEALTH_PORT: "9001",
    SSEPG_PUBLISH_TOKEN: "pub",
    SSEPG_LISTEN_TOKEN: "lis",
    SSEPG_ALLOW_QUERY_TOKEN: "1",
    SSEPG_CORS_ORIGINS: "https://a.example, https://B.example/",
    SSEPG_KEEP_ALIVE: "5s",
    SSEPG_RETRY: "250ms",
    SSEPG_NOTIFY_SHARDS: "16",
    SSEPG_RING_CAPACITY: "256",
    SSEPG_MAX_RING_BYTES: "1048576",
    SSEPG_CLIENT_BUFFER: "32",
    SSEPG_MAX_NOTIFY_BYTES: "4000",
    SSEPG_MAX_BODY_BYTES: "1000",
    SSEPG_MAX_EVENT_BYTES: "500000",
    SSEPG_LOG_FORMAT: "json",
    SSEPG_TRACE_HOPS: "true",
    SSEPG_BODY_TIMEOUT: "5s",
    SSEPG_GRACEFUL_DRAIN: "2s",
    SSEPG_QUEUE_WARN_THRESHOLD: "0.8",
    SSEPG_QUEUE_POLL_INTERVAL: "1m",
    SSEPG_TOPIC_IDLE_TIMEOUT: "30s",
    SSEPG_ALTER_SYSTEM_MAX_NOTIFY_MB: "64",
    SSEPG_PUBLISH_TIMEOUT: "3s",
    SSEPG_RESUME_WAIT: "500ms",
    SSEPG_MAX_TOPICS: "5000",
    SSEPG_MAX_PENDING_PUBLISHES: "99",
    SSEPG_JWT_SECRET: "jwt-secret",
    SSEPG_JWT_PUBLIC_KEY:
      "-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\\n-----END PUBLIC KEY-----",
    SSEPG_JWT_JWKS_URL: "https://auth.example/.well-known/jwks.json",
    SSEPG_JWT_ALGORITHMS: "HS256,ES256",
    SSEPG_JWT_AUDIENCE: "ssepg",
    SSEPG_JWT_ISSUER: "https://auth.example",
    SSEPG_JWT_COOKIE: "ssepg_token",
  };
  assert.equal(Object.keys(env).length, OPTIONS.length, "one variable per option");
  const c = resolveConfig({ env });
  assert.deepEqual({ ...c }, {
    databaseUrl: "postgres://u@h:5432/db",
    embeddedPostgres: true,
    port: 9000,
    hostname: "127.0.0.1",
    denoServe: true,
    workers: "auto",
    basePath: "/sse",
    healthz: "/health",
    healthPort: 9001,
    publishToken: "pub",
    listenToken: "lis",
    allowQueryToken: true,
    corsOrigins: ["https://a.example", "https://b.example"],
    keepAlive: 5_000,
    retry: 250,
    notifyShards: 16,
    ringCapacity: 256,
    maxRingBytes: 1_048_576,
    clientBuffer: 32,
    maxNotifyBytes: 4000,
    maxBodyBytes: 1000,
    maxEventBytes: 500_000,
    logFormat: "json",
    traceHops: true,
    bodyTimeout: 5_000,
    gracefulDrain: 2_000,
    queueWarnThreshold: 0.8,
    queuePollInterval: 60_000,
    topicIdleTimeout: 30_000,
    alterSystemMaxNotifyMB: 64,
    publishTimeout: 3_000,
    resumeWait: 500,
    maxTopics: 5_000,
    maxPendingPublishes: 99,
    jwtSecret: "jwt-secret",
    jwtPublicKey: "-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\\n-----END PUBLIC KEY-----",
    jwtJwksUrl: "https://auth.example/.well-known/jwks.json",
    jwtAlgorithms: "HS256,ES256",
    jwtAudience: "ssepg",
    jwtIssuer: "https://auth.example",
    jwtCookie: "ssepg_token",
  });
});

test("resolveConfig() lets flags win over env and overrides win over flags", () => {
  const c = resolveConfig({
    env: { PORT: "1", SSEPG_RETRY: "1s" },
    flags: { port: "2", retry: "2s" },
    overrides: { port: 3 },
  });
  assert.equal(c.port, 3);
  assert.equal(c.retry, 2_000);
});

test("resolveConfig() treats an empty env value as unset", () => {
  assert.equal(resolveConfig({ env: { SSEPG_PUBLISH_TOKEN: "", PORT: "" } }).publishToken, undefined);
});

function rejects(sources: Parameters<typeof resolveConfig>[0], option: string, ...fragments: string[]) {
  assert.throws(() => resolveConfig(sources), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.option, option);
    for (const f of fragments) assert.ok(error.message.includes(f), `${error.message} should include ${f}`);
    return true;
  });
}

test("resolveConfig() errors name the option, its flag and env, the value and what is allowed", () => {
  rejects(
    { env: { SSEPG_RING_CAPACITY: "1000" } },
    "ringCapacity",
    "--ring-capacity",
    "SSEPG_RING_CAPACITY",
    "power of two",
    '"1000"',
  );
  rejects({ env: { PORT: "abc" } }, "port", "PORT", "0-65535", '"abc"');
  rejects({ env: { PORT: "70000" } }, "port", "0-65535");
  rejects({ flags: { keepAlive: "soon" } }, "keepAlive", "--keep-alive", "duration", '"soon"', "from --keep-alive");
  rejects({ env: { SSEPG_NOTIFY_SHARDS: "0" } }, "notifyShards", "1-1024");
  rejects({ env: { SSEPG_NOTIFY_SHARDS: "2.5" } }, "notifyShards", "whole number");
  rejects({ env: { SSEPG_MAX_NOTIFY_BYTES: "8000" } }, "maxNotifyBytes", "512-7999");
  rejects({ env: { SSEPG_QUEUE_WARN_THRESHOLD: "1.5" } }, "queueWarnThreshold", "0-1");
  rejects({ env: { SSEPG_ALLOW_QUERY_TOKEN: "maybe" } }, "allowQueryToken", "true or false");
  rejects({ env: { DATABASE_URL: "mysql://x" } }, "databaseUrl", "postgres://");
  rejects({ env: { SSEPG_BASE_PATH: "topics" } }, "basePath", "path");
  rejects({ env: { SSEPG_BASE_PATH: "/" } }, "basePath", "path");
  rejects({ env: { SSEPG_CORS_ORIGINS: "not an origin" } }, "corsOrigins", "origins");
  rejects({ env: { SSEPG_CORS_ORIGINS: "*,https://a.example" } }, "corsOrigins", "* alone");
  rejects(
    { env: { SSEPG_CLIENT_BUFFER: "128", SSEPG_RING_CAPACITY: "64" } },
    "clientBuffer",
    "at most ringCapacity (64)",
  );
  rejects({ env: { SSEPG_HEALTHZ: "/topics/health" } }, "healthz", "outside basePath");
  rejects({ env: { SSEPG_HEALTH_PORT: "8080" } }, "healthPort", "other than the main port");
  rejects({ overrides: { keepAlive: -5 } }, "keepAlive", "duration");
});

test("Config is inferred from the options table: each field has its kind's type", () => {
  const c: Config = resolveConfig({ env: { SSEPG_HEALTH_PORT: "9001", SSEPG_CORS_ORIGINS: "*" } });
  // Compile-time checks: these assignments type-check only if inference gives these types.
  const port: number = c.port;
  const denoServe: boolean = c.denoServe;
  const basePath: string = c.basePath;
  const keepAlive: number = c.keepAlive;
  const healthPort: number | undefined = c.healthPort;
  const corsOrigins: readonly string[] | undefined = c.corsOrigins;
  const databaseUrl: string | undefined = c.databaseUrl;
  // @ts-expect-error an option that is off by default may be undefined
  const unset: number = c.healthPort;
  // @ts-expect-error a port is a number, not text
  const text: string = c.port;
  // @ts-expect-error only options of the table are fields
  const missing = c.noSuchOption;
  assert.throws(() => {
    // @ts-expect-error the config is read-only, and frozen at run time too
    c.port = 1;
  }, TypeError);
  assert.equal(missing, undefined);
  assert.equal(port, 8080);
  assert.equal(denoServe, false);
  assert.equal(basePath, "/topics");
  assert.equal(keepAlive, 15_000);
  assert.equal(healthPort, 9001);
  assert.deepEqual(corsOrigins, ["*"]);
  assert.equal(databaseUrl, undefined);
  assert.equal(unset, 9001);
  assert.equal(text, 8080);

  // The same at run time: the fields are the table's names, in its order, typed by kind.
  assert.deepEqual(Object.keys(c), OPTIONS.map((o) => o.name));
  const expected = { port: "number", int: "number", float: "number", duration: "number", bool: "boolean" } as const;
  for (const o of OPTIONS) {
    const value = c[o.name];
    if (value === undefined) {
      assert.equal(o.default, undefined, `${o.name} is unset only when off by default`);
    } else if (o.kind === "origins") {
      assert.ok(Array.isArray(value) && Object.isFrozen(value), o.name);
    } else {
      assert.equal(typeof value, o.kind in expected ? expected[o.kind as keyof typeof expected] : "string", o.name);
    }
  }
});

test("OPTIONS lists every option with its default as resolveConfig() gives it", () => {
  const c = resolveConfig();
  for (const o of OPTIONS) {
    const expected = o.follows === undefined ? o.default : c[o.follows as keyof Config];
    assert.deepEqual(c[o.name], expected, o.name);
    for (const field of ["flag", "env", "kind", "group", "help"] as const) assert.ok(o[field], `${o.name}.${field}`);
  }
  assert.equal(new Set(OPTIONS.map((o) => o.flag)).size, OPTIONS.length, "one flag per option");
  assert.equal(new Set(OPTIONS.map((o) => o.env)).size, OPTIONS.length, "one variable per option");
});

test("resolveConfig() passes a resolved config through as the very same object", () => {
  const config = resolveConfig({ env: { PORT: "9000", SSEPG_KEEP_ALIVE: "5s" } });
  assert.ok(isResolvedConfig(config));
  assert.equal(resolveConfig({ overrides: config }), config);
  assert.equal(resolveConfig({ overrides: resolveConfig({ overrides: config }) }), config);
});

test("resolveConfig() validates a plain object with the same fields again", () => {
  const config = resolveConfig({ env: { PORT: "9000", SSEPG_CORS_ORIGINS: "https://a.example" } });
  const copy = { ...config };
  assert.equal(isResolvedConfig(copy), false);
  assert.equal(isResolvedConfig(Object.freeze({ ...config })), false, "frozen alone is not resolved");
  const again = resolveConfig({ overrides: copy });
  assert.notEqual(again, copy);
  assert.notEqual(again, config);
  assert.ok(isResolvedConfig(again));
  assert.deepEqual({ ...again }, { ...config });

  rejects({ overrides: { ...config, ringCapacity: 1000 } }, "ringCapacity", "power of two");
  rejects({ overrides: Object.freeze({ ...config, port: 70_000 }) }, "port", "0-65535");
  rejects({ overrides: { ...config, healthPort: config.port } }, "healthPort", "other than the main port");
});

test("resolveConfig() resolves a resolved config again when env or flags come with it", () => {
  const config = resolveConfig();
  // The config leaves publishToken unset, so the env fills it, as it would for any override.
  const layered = resolveConfig({ env: { SSEPG_PUBLISH_TOKEN: "t" }, overrides: config });
  assert.notEqual(layered, config);
  assert.equal(layered.publishToken, "t");
  assert.equal(resolveConfig({ flags: { port: "1" }, overrides: config }).port, 8080, "overrides still win");
});

test("isResolvedConfig() is false for anything resolveConfig() did not return", () => {
  for (const value of [undefined, null, 0, "config", {}, [], OPTIONS]) assert.equal(isResolvedConfig(value), false);
});

test("createSsepg({ config }) uses a config resolveConfig built as it is, without parsing it again", async () => {
  const config = resolveConfig({ env: { SSEPG_KEEP_ALIVE: "5s" } });
  const svc = await createSsepg({ config, keepAlive: "1s", logger: silentLogger });
  try {
    assert.equal(svc.config, config, "the very same object");
    assert.equal(svc.config.keepAlive, 5_000, "fields beside it are ignored");
  } finally {
    await svc.close();
  }
});

test("maxBodyBytes follows maxEventBytes unless set itself", () => {
  assert.equal(resolveConfig({ env: { SSEPG_MAX_EVENT_BYTES: "4096" } }).maxBodyBytes, 4096);
  assert.equal(resolveConfig({ overrides: { maxEventBytes: 2_000_000 } }).maxBodyBytes, 2_000_000);
  const both = resolveConfig({ env: { SSEPG_MAX_EVENT_BYTES: "4096", SSEPG_MAX_BODY_BYTES: "100" } });
  assert.equal(both.maxBodyBytes, 100);
  assert.equal(both.maxEventBytes, 4096);
});

test("a JWKS URL with a user or password is refused (fetch cannot send them) without showing the password", () => {
  assert.throws(
    () => resolveConfig({ env: { SSEPG_JWT_JWKS_URL: "https://user:Secret-Pass@issuer.example/jwks" } }),
    (e) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.option, "jwtJwksUrl");
      assert.match(e.message, /without user or password/);
      assert.ok(!e.message.includes("Secret-Pass"), e.message);
      return true;
    },
  );
});
