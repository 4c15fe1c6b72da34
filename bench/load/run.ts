/**
 * One scenario run against a server: subscriber threads open their streams, the publisher
 * sends, the run drains until every expected event arrived (or progress stops), then the
 * threads judge their arrivals and the figures are merged into one result — the JSON object
 * `scripts/bench.ts` reads (field names as in the README's Performance section).
 *
 * @module
 */

import { now } from "./clock.ts";
import { Histogram } from "./histogram.ts";
import { machineBusyS, ownCpuS, sampleTree } from "./proc.ts";
import { publish } from "./publisher.ts";
import type { Scenario } from "./scenarios.ts";
import { target } from "./subscriber.ts";
import type { WorkerInit, WorkerResult } from "./worker.ts";

/** How to run a scenario. */
export interface RunOptions {
  scenario: Scenario;
  /** Instance 1 (publishing, and subscribing unless the scenario is cross-instance), `http://host:port`. */
  base: string;
  /** Instance 2, where cross-instance subscribers go. */
  base2?: string;
  /** Stream and publish path, `{topic}` substituted. */
  path: string;
  /** Publish body template (`{ts}`, `{seq}`, `{topic}`, `{pad}`). */
  pubBody: string;
  /** Extra request headers, `Name: value`. */
  headers: string[];
  serverPids: number[];
  auxPids: number[];
  label: string;
  /** Subscriber threads. */
  workers: number;
  /** Hard bound on the whole run, seconds. */
  maxS: number;
  drainIdleMs: number;
  drainTimeoutMs: number;
  log: (text: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number, digits = 0) => Number(v.toFixed(digits));

/** Asks a worker and waits for the answer of `type`. */
function ask<T>(worker: Worker, message: unknown, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (e: MessageEvent) => {
      if (e.data?.type !== type) return;
      worker.removeEventListener("message", onMessage);
      resolve(e.data as T);
    };
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", (e) => reject(new Error(`subscriber thread failed: ${e.message}`)), {
      once: true,
    });
    worker.postMessage(message);
  });
}

/** Runs the scenario; resolves with the result object. */
export async function run(o: RunOptions): Promise<Record<string, unknown>> {
  const s = o.scenario;
  const startedAt = now();
  const deadline = startedAt + o.maxS * 1000;
  const idle = s.holdS !== undefined;
  const prefix = `b${Math.random().toString(36).slice(2, 8)}`;
  const topics = Array.from({ length: s.topics }, (_, i) => `${prefix}${i}`);
  const maxSeq = topics.map((_, t) => Math.floor(s.events / s.topics) + (t < s.events % s.topics ? 1 : 0));
  const url = (base: string, topic: string) => `${base.replace(/\/$/, "")}${o.path.replaceAll("{topic}", topic)}`;
  const subBase = s.crossInstance ? o.base2 : o.base;
  if (!subBase) throw new Error(`scenario ${s.id} needs a second instance (--base2)`);
  const total = s.topics * s.subscribersPerTopic;
  const specs = Array.from(
    { length: total },
    (_, g) => ({ topic: g % s.topics, target: target(url(subBase, topics[g % s.topics])) }),
  );
  const nWorkers = Math.max(1, Math.min(o.workers, total));
  const perWorker = Math.ceil(total / nWorkers);
  const bufferBytes = Math.min(65_536, Math.max(4096, 2 ** Math.floor(Math.log2((8 << 20) / perWorker))));
  const headers = o.headers.map((h) =>
    `${h.slice(0, h.indexOf(":")).trim()}: ${h.slice(h.indexOf(":") + 1).trim()}\r\n`
  )
    .join("");
  const progress = new SharedArrayBuffer(8 * nWorkers);
  const counters = new Int32Array(progress);
  const sum = (offset: number) => {
    let n = 0;
    for (let k = 0; k < nWorkers; k++) n += Atomics.load(counters, 2 * k + offset);
    return n;
  };

  const workers = Array.from(
    { length: nWorkers },
    () => new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" }),
  );
  const serverBefore = sampleTree(o.serverPids);
  o.log(
    `${s.id}: connecting ${total} subscribers (${s.topics} topics × ${s.subscribersPerTopic}) on ${nWorkers} threads`,
  );
  const connectStart = now();
  const opened = await Promise.all(
    workers.map((w, k) =>
      ask<{ connected: number; failed: number; failures: Record<string, number> }>(
        w,
        {
          type: "init",
          slot: k,
          progress,
          topics,
          maxSeq,
          subscribers: specs.filter((_, g) => g % nWorkers === k),
          headers,
          fields: { seq: "seq", ts: "t", topic: "topic" },
          connectConcurrency: s.connectConcurrency,
          connectTimeoutMs: 10_000,
          bufferBytes,
        } satisfies WorkerInit,
        "connected",
      )
    ),
  );
  const connectS = (now() - connectStart) / 1000;
  const connected = opened.reduce((n, r) => n + r.connected, 0);
  const failures: Record<string, number> = {};
  for (const r of opened) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
  o.log(
    `${s.id}: ${connected}/${total} connected in ${connectS.toFixed(2)} s${
      connected < total ? ` ${JSON.stringify(failures)}` : ""
    }`,
  );
  await sleep(s.settleMs);

  let serverConnected, serverEndOfHold;
  if (idle) {
    serverConnected = sampleTree(o.serverPids);
    o.log(`${s.id}: holding ${connected} idle streams for ${s.holdS} s`);
    await sleep(Math.max(0, Math.min(s.holdS! * 1000, deadline - now())));
    serverEndOfHold = sampleTree(o.serverPids);
  }

  // One window for every CPU figure: publish start to end of drain.
  const serverStart = sampleTree(o.serverPids);
  const auxStart = sampleTree(o.auxPids);
  const clientCpu0 = ownCpuS();
  const machine0 = machineBusyS();
  const windowStart = now();
  const ticker = setInterval(() => o.log(`${s.id}: ${sum(0)} unique deliveries, ${sum(1)} streams open`), 5000);
  const pubTargets = topics.map((t) => target(url(o.base, t)));
  o.log(`${s.id}: publishing ${s.events} events ${s.rate ? `at ${s.rate}/s` : `with ${s.concurrency} in flight`}`);
  const pub = await publish({
    targets: pubTargets,
    topics,
    count: s.events,
    rate: s.rate,
    concurrency: s.concurrency,
    body: o.pubBody,
    payloadBytes: s.payloadBytes,
    headers,
    timeoutMs: 10_000,
    deadline,
  });
  const publishS = (pub.endedAt - pub.startedAt) / 1000;
  o.log(`${s.id}: published ${pub.ok} (errors ${pub.errors}) in ${publishS.toFixed(2)} s`);

  // Drain: every expected event arrived, or no progress for drainIdleMs, or drainTimeoutMs.
  const subsPerTopic = topics.map((_, t) => specs.filter((x) => x.topic === t).length);
  const expectedUpper = pub.outcomes.reduce((n, t, i) => n + (t.attempted - t.failed.length) * subsPerTopic[i], 0);
  const drainStart = now();
  let last = -1;
  let lastChange = drainStart;
  for (;;) {
    const unique = sum(0);
    if (unique !== last) [last, lastChange] = [unique, now()];
    if (unique >= expectedUpper) break;
    const t = now();
    if (t - lastChange > o.drainIdleMs || t - drainStart > o.drainTimeoutMs || t > deadline) break;
    await sleep(20);
  }
  await sleep(250); // late duplicates
  clearInterval(ticker);
  const drainS = (now() - drainStart) / 1000;

  const results = await Promise.all(
    workers.map((w) => ask<WorkerResult>(w, { type: "finish", outcomes: pub.outcomes }, "result")),
  );
  const windowS = (now() - windowStart) / 1000;
  const clientCpuS = ownCpuS() - clientCpu0;
  const machine1 = machineBusyS();
  const serverAfter = sampleTree(o.serverPids);
  const auxAfter = sampleTree(o.auxPids);
  await Promise.all(workers.map((w) => Promise.race([ask(w, { type: "close" }, "closed"), sleep(2000)])));
  for (const w of workers) w.terminate();

  const add = (f: (r: WorkerResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const latency = new Histogram();
  for (const r of results) latency.merge(r.histogram);
  const lastDelivery = Math.max(...results.map((r) => r.lastDeliveryAt));
  const firstDelivery = Math.min(...results.map((r) => r.firstDeliveryAt || Infinity));
  const deliverS = lastDelivery ? (lastDelivery - pub.startedAt) / 1000 : 0;
  const unique = add((r) => r.unique);
  const expected = add((r) => r.verdict.expected);
  const lost = add((r) => r.verdict.lost);
  const byTopic = (f: (r: WorkerResult) => number[]) => {
    const totals = topics.map((_, t) => add((r) => f(r)[t]));
    const named = Object.fromEntries(totals.map((v, t) => [topics[t], v]).filter(([, v]) => v).slice(0, 20));
    return Object.keys(named).length ? named : undefined;
  };
  const pct = (cpuS: number) => windowS > 0 ? Math.round((100 * cpuS) / windowS) : 0;
  const ack = pub.ack.summary();

  const out: Record<string, unknown> = {
    label: o.label || undefined,
    mode: idle ? "idle" : "load",
    tool: "ssepg bench/load",
    ts: new Date().toISOString(),
    topics: s.topics,
    subs_per_topic: s.subscribersPerTopic,
    subscribers: total,
    subscribers_connected: connected,
    subscriber_connect_failures: total - connected,
    connect_failure_reasons: connected < total ? failures : undefined,
    connect_s: round(connectS, 3),
    workers: nWorkers,
    events_requested: s.events,
    rate: s.rate || undefined,
    concurrency: s.concurrency,
    published: pub.ok,
    publish_errors: pub.errors,
    publish_error_reasons: pub.errors ? pub.errorReasons : undefined,
    payload_bytes: pub.bodyBytes,
    expected_deliveries: expected,
    deliveries: add((r) => r.deliveries),
    unique_deliveries: unique,
    lost,
    lost_pct: expected ? round((100 * lost) / expected, 3) : 0,
    not_received_incl_failed_publishes: add((r) => r.verdict.missing),
    duplicates: add((r) => r.duplicates),
    out_of_order: add((r) => r.verdict.reordered),
    out_of_order_incl_concurrent: add((r) => r.verdict.reorderedConcurrent),
    out_of_order_by_topic: byTopic((r) => r.reorderedByTopic),
    lost_by_topic: lost ? byTopic((r) => r.lostByTopic) : undefined,
    delivered_unacked: add((r) => r.verdict.deliveredUnacked) || undefined,
    invalid_seq: add((r) => r.invalid) || undefined,
    foreign_topic: add((r) => r.foreign) || undefined,
    other_events: add((r) => r.other) || undefined,
    subs_with_loss: add((r) => r.subsWithLoss),
    subs_with_nothing: add((r) => r.subsWithNothing) || undefined,
    sub_disconnects: add((r) => r.disconnects),
    publish_s: round(publishS, 3),
    publish_per_s: publishS > 0 ? Math.round(pub.ok / publishS) : 0,
    publish_max_lag_ms: s.rate ? round(pub.maxLagMs, 1) : undefined,
    publish_connections: pub.connections,
    publish_ack_ms: ack ? { p50: ack.p50, p99: ack.p99, max: ack.max } : undefined,
    publish_overlaps: pub.overlaps,
    deliver_s: round(deliverS, 3),
    delivered_per_s: deliverS > 0 ? Math.round(unique / deliverS) : 0,
    first_delivery_ms: firstDelivery < Infinity ? round(firstDelivery - pub.startedAt, 2) : undefined,
    latency_ms: latency.summary() &&
      { ...latency.summary(), negative_clamped: add((r) => r.negativeLatency) || undefined },
    drain_s: round(drainS, 3),
    wall_s: round((now() - startedAt) / 1000, 3),
    client: { cpu_s: round(clientCpuS, 3), cpu_pct_of_one_core: pct(clientCpuS) },
  };
  if (serverBefore && serverAfter && serverStart) {
    const cpuS = round(serverAfter.cpuS - serverStart.cpuS, 2);
    const server: Record<string, unknown> = {
      pids: serverAfter.pids,
      rss_before_kb: serverBefore.rssKb,
      rss_after_kb: serverAfter.rssKb,
      pss_before_kb: serverBefore.pssKb,
      pss_after_kb: serverAfter.pssKb,
      cpu_s: cpuS,
      cpu_pct_of_one_core: pct(cpuS),
    };
    if (serverConnected && serverEndOfHold) {
      const perConn = (a: number, b: number) => connected ? round((a - b) / connected, 2) : null;
      server.rss_connected_kb = serverConnected.rssKb;
      server.rss_end_of_hold_kb = serverEndOfHold.rssKb;
      server.rss_per_conn_kb = perConn(serverEndOfHold.rssKb, serverBefore.rssKb);
      server.pss_per_conn_kb = perConn(serverEndOfHold.pssKb, serverBefore.pssKb);
    }
    out.server = server;
  }
  if (machine0 !== undefined && machine1 !== undefined) {
    out.machine = { cpu_window_s: round(windowS, 3), busy_pct_of_one_core: pct(machine1 - machine0) };
  }
  if (auxStart && auxAfter) {
    const cpuS = round(auxAfter.cpuS - auxStart.cpuS, 2);
    out.aux = { cpu_s: cpuS, cpu_pct_of_one_core: pct(cpuS), rss_after_kb: auxAfter.rssKb };
  }
  if (idle) {
    out.idle = { hold_s: s.holdS, open_at_end: add((r) => r.open), closed_during_run: add((r) => r.disconnects) };
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/**
 * What makes a result wrong rather than slow: lost, duplicated or reordered events, events of
 * another topic or an unknown sequence, failed publishes or subscribers.
 *
 * @returns One phrase per problem; empty when the run is clean.
 */
export function problems(r: Record<string, unknown>): string[] {
  const n = (k: string) => Number(r[k] ?? 0);
  const found: [string, number][] = [
    ["events lost", n("lost")],
    ["events duplicated", n("duplicates")],
    ["events reordered", n("out_of_order")],
    ["events of another topic", n("foreign_topic")],
    ["events with an unknown sequence number", n("invalid_seq")],
    ["publishes failed", n("publish_errors")],
    ["subscribers failed to connect", n("subscriber_connect_failures")],
    ["streams closed by the server", n("sub_disconnects")],
    ["subscribers got nothing", n("subs_with_nothing")],
  ];
  return found.filter(([, v]) => v > 0).map(([what, v]) => `${v} ${what}`);
}
