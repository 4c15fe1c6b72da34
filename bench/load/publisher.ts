/**
 * The publisher: `count` events round-robin over the topics, open loop at a fixed rate (event i
 * leaves at i/rate) or as fast as `concurrency` requests in flight allow, over a pool of
 * keep-alive connections. Each body carries the topic's sequence number (1..n), the send time
 * on the shared clock and padding, through a template with `{ts}`, `{seq}`, `{topic}`, `{pad}`.
 * It records, per topic, which publishes failed and how far the answered prefix reached when
 * each one was sent — what the subscribers' reorder verdict needs.
 *
 * @module
 */

import { now } from "./clock.ts";
import { Histogram } from "./histogram.ts";
import { HttpConnection, RequestError } from "./http_client.ts";
import type { TopicOutcome } from "./sequence.ts";
import type { Target } from "./subscriber.ts";

/** What to publish. */
export interface PublishPlan {
  /** One target per topic. */
  targets: Target[];
  topics: string[];
  count: number;
  /** Events per second in total; 0 = as fast as possible. */
  rate: number;
  concurrency: number;
  /** Body template: `{ts}`, `{seq}`, `{topic}`, `{pad}`. */
  body: string;
  payloadBytes: number;
  headers: string;
  timeoutMs: number;
  /** Stop sending new events after this time (shared clock). */
  deadline: number;
}

/** How publishing went. */
export interface PublishResult {
  ok: number;
  errors: number;
  errorReasons: Record<string, number>;
  outcomes: TopicOutcome[];
  /** Publishes sent while an earlier one of the same topic was unanswered. */
  overlaps: number;
  startedAt: number;
  endedAt: number;
  ack: Histogram;
  maxLagMs: number;
  connections: number;
  bodyBytes: number;
}

const encoder = new TextEncoder();
const fill = (template: string, v: Record<string, string>) =>
  template.replace(/\{(ts|seq|topic|pad)\}/g, (_, k) => v[k]);

/** Publishes the plan and resolves once every request is answered or given up. */
export async function publish(plan: PublishPlan): Promise<PublishResult> {
  const T = plan.topics.length;
  const quota = plan.topics.map((_, t) => Math.floor(plan.count / T) + (t < plan.count % T ? 1 : 0));
  const widest = fill(plan.body, { ts: now().toFixed(3), seq: String(plan.count), topic: plan.topics[0], pad: "" });
  const pad = "x".repeat(Math.max(0, plan.payloadBytes - encoder.encode(widest).length));
  const sent = new Int32Array(T);
  const answered = quota.map((q) => new Uint8Array(q + 2));
  const prefix = new Int32Array(T);
  const outcomes: TopicOutcome[] = quota.map((q) => ({
    attempted: 0,
    failed: [],
    answeredBefore: new Int32Array(q + 1),
  }));
  const result: PublishResult = {
    ok: 0,
    errors: 0,
    errorReasons: {},
    outcomes,
    overlaps: 0,
    startedAt: now(),
    endedAt: 0,
    ack: new Histogram(),
    maxLagMs: 0,
    connections: 0,
    bodyBytes: 0,
  };
  const idle = new Map<string, HttpConnection[]>();
  const take = (t: Target) => {
    const key = `${t.hostname}:${t.port}`;
    const free = idle.get(key) ?? idle.set(key, []).get(key)!;
    if (free.length) return free.pop()!;
    result.connections++;
    return new HttpConnection(t.hostname, t.port);
  };
  const give = (c: HttpConnection) => idle.get(`${c.hostname}:${c.port}`)!.push(c);

  let inflight = 0;
  let freed: (() => void) | undefined;
  const inflightDone = new Set<Promise<void>>();

  const send = async (topic: number) => {
    const seq = ++sent[topic];
    outcomes[topic].attempted = seq;
    outcomes[topic].answeredBefore[seq] = prefix[topic];
    if (prefix[topic] < seq - 1) result.overlaps++;
    const where = plan.targets[topic];
    const at = now();
    const body = encoder.encode(
      fill(plan.body, { ts: at.toFixed(3), seq: String(seq), topic: plan.topics[topic], pad }),
    );
    result.bodyBytes = Math.max(result.bodyBytes, body.length);
    const head = `POST ${where.path} HTTP/1.1\r\nHost: ${where.hostname}:${where.port}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nUser-Agent: ssepg-bench-load\r\n${plan.headers}\r\n`;
    const request = new Uint8Array(head.length + body.length);
    request.set(encoder.encode(head));
    request.set(body, head.length);
    const conn = take(where);
    let reason: string | undefined;
    let definite = true;
    try {
      const status = await conn.request(request, plan.timeoutMs);
      if (status < 200 || status > 299) reason = `http_${status}`;
    } catch (e) {
      reason = e instanceof RequestError ? e.message : String(e);
      // After a timeout or a reset the server may still act on the request: not a definite answer.
      definite = reason === "ECONNREFUSED" || reason === "ConnectionRefused";
    }
    give(conn);
    result.ack.record(now() - at);
    if (definite) {
      answered[topic][seq] = 1;
      while (answered[topic][prefix[topic] + 1]) prefix[topic]++;
    }
    if (reason) {
      result.errors++;
      result.errorReasons[reason] = (result.errorReasons[reason] ?? 0) + 1;
      (outcomes[topic].failed as number[]).push(seq);
    } else result.ok++;
  };

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < plan.count; i++) {
    if (plan.rate > 0) {
      const due = result.startedAt + (i * 1000) / plan.rate;
      const wait = due - now();
      if (wait > 0.5) await sleep(wait);
      result.maxLagMs = Math.max(result.maxLagMs, now() - due);
    }
    while (inflight >= plan.concurrency) await new Promise<void>((r) => freed = r);
    if (now() > plan.deadline) break;
    inflight++;
    const p: Promise<void> = send(i % T).finally(() => {
      inflight--;
      inflightDone.delete(p);
      const wake = freed;
      freed = undefined;
      wake?.();
    });
    inflightDone.add(p);
  }
  await Promise.all(inflightDone);
  result.endedAt = now();
  for (const list of idle.values()) for (const c of list) c.close();
  return result;
}
