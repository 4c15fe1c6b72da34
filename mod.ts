/**
 * ssepg: Server-Sent Events fan-out over PostgreSQL `LISTEN`/`NOTIFY`.
 *
 * Publishers POST JSON to a topic; every subscriber of that topic, on every instance that
 * shares the database, receives it. No tables, no storage.
 *
 * Run as a program (`deno run -A mod.ts [serve] [flags]`) it starts the server; imported, it is
 * the library:
 *
 * ```ts
 * import { createSsepg } from "./mod.ts";
 * const svc = await createSsepg({ databaseUrl: "postgres://postgres@127.0.0.1:5432/postgres" });
 * Deno.serve(svc.fetch);
 * ```
 *
 * @module
 */

export { createSsepg } from "./src/service/create.ts";
export type { Ssepg, SsepgOptions } from "./src/service/create.ts";
export type { SubscribeOptions } from "./src/service/subscribe.ts";
export type { Authorize, AuthorizeRequest } from "./src/http/target.ts";
export type { JwtClaims } from "./src/http/jwt/verifier.ts";
export type { HonoApp } from "./src/http/hono.ts";
export type { Handler } from "./src/http/handler.ts";
export type { BodyReader, HeaderLookup, RequestHead } from "./src/http/request_head.ts";
export type { PlainReply, Reply, StreamReply } from "./src/http/reply.ts";
export type { EventStream, StreamWriter } from "./src/sse/event_stream.ts";
export { serve } from "./src/serve/mod.ts";
export type { ServeOptions, SsepgServer } from "./src/serve/mod.ts";
export { ConfigError, isResolvedConfig, OPTION_TABLE, OPTIONS, resolveConfig } from "./src/config/config.ts";
export type {
  Config,
  ConfigInput,
  ConfigSources,
  OptionGroup,
  OptionKind,
  OptionRule,
  OptionSpec,
  OptionTable,
  OptionValues,
} from "./src/config/config.ts";
export { HttpProblem } from "./src/http/problem.ts";
export type { ProblemBody } from "./src/http/problem.ts";
export type { HealthReport, HealthTotals } from "./src/http/health.ts";
export type { WorkerIdentity } from "./src/worker_identity.ts";
export { HOP_STAGES, type HopsReport, type HopStage } from "./src/hops/hop_tracer.ts";
export type { PercentileSummary } from "./src/hops/percentiles.ts";
export type { DispatcherTotals, TopicStats } from "./src/dispatcher/dispatcher.ts";
export type { SsepgEvent } from "./src/dispatcher/event.ts";
export type { LogFields, Logger } from "./src/log.ts";
export { channelFor, decodeEnvelope, encodeEnvelope, fnv1a32 } from "./src/bus/envelope.ts";
export type { Envelope } from "./src/bus/envelope.ts";
export type { Bus, BusHandlers, BusStatus, FragmentStatus, PublishMarks } from "./src/bus/bus.ts";
export { BusUnavailableError } from "./src/bus/bus.ts";
export { main, processIo, runCli } from "./src/cli/main.ts";
import { runCli as startCli } from "./src/cli/main.ts";
export type { CliIo } from "./src/cli/main.ts";
export { VERSION } from "./src/version.ts";
export { Histogram } from "./src/histogram.ts";

// `import.meta.main` is true when Deno or Bun run this file directly (Node has no such flag;
// it runs dist/cli.js instead). No top-level await: a module graph with one cannot be
// require()d (Node's ERR_REQUIRE_ASYNC_MODULE), and the package must load from CommonJS too.
if ((import.meta as { main?: boolean }).main) void startCli();
