import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { SseFrameParser } from "../../bench/load/sse_frames.ts";
import { ChunkedDecoder } from "../../bench/load/http.ts";
import { FieldReader } from "../../bench/load/fields.ts";
import { SequenceTracker, type TopicOutcome } from "../../bench/load/sequence.ts";
import { Histogram } from "../../bench/load/histogram.ts";
import { descendants, processTree, sampleTree } from "../../bench/load/proc.ts";
import { fetchHops, mergeHops, parseHops, type StageSummary } from "../../bench/load/hops.ts";
import { hopTable, stagesOf } from "../../bench/load/hop_table.ts";
import { matchingPeer, naiveSystem, nchanSystem, ratio, ssepgSystem } from "../../bench/load/systems.ts";
import { headlineTable, type ResultRow, scenarioTable } from "../../bench/load/summary.ts";
import { figure, formatTable } from "../../bench/load/table.ts";

/** The load generator reads /proc and opens sockets with Deno's APIs: those tests are skipped under `bun test`. */
const testOnDeno: typeof test = typeof Deno === "undefined" ? () => {} : test;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Feeds `parts` to a fresh parser, reusing one scratch buffer as a socket reader does. */
function frames(parts: Uint8Array[]): string[] {
  const out: string[] = [];
  const parser = new SseFrameParser((data) => out.push(decoder.decode(data)));
  const scratch = new Uint8Array(4096);
  for (const part of parts) {
    scratch.set(part);
    parser.push(scratch.subarray(0, part.length));
    scratch.fill(0x7a, 0, part.length); // the caller reuses its buffer: a kept view would now read "zzz"
  }
  return out;
}

const STREAM = 'retry: 5000\n\n: listening t\n\nid: a-1\nevent: message\ndata: {"seq":1}\n\n' +
  'id: a-2\r\ndata: {"seq":2,\r\ndata: "x":1}\r\n\r\n' +
  'data:{"seq":3}\r\rdata\n\nevent: only\n\ndatax: no\ndata: {"seq":4}\n\n';
const EXPECTED = ['{"seq":1}', '{"seq":2,\n"x":1}', '{"seq":3}', "", '{"seq":4}'];

test("SseFrameParser reads data, joins lines, skips other fields, handles LF, CRLF and CR", () => {
  assert.deepEqual(frames([encoder.encode(STREAM)]), EXPECTED);
});

test("SseFrameParser gives the same events whatever the split, at every byte boundary", () => {
  const bytes = encoder.encode(STREAM);
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(frames([bytes.subarray(0, cut), bytes.subarray(cut)]), EXPECTED, `cut at ${cut}`);
  }
  for (let a = 1; a < bytes.length; a += 3) {
    for (let b = a; b <= bytes.length; b += 7) {
      const parts = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
      assert.deepEqual(frames(parts), EXPECTED, `cuts at ${a}, ${b}`);
    }
  }
  assert.deepEqual(frames([...bytes].map((b) => Uint8Array.of(b))), EXPECTED, "one byte at a time");
});

test("ChunkedDecoder rebuilds the body whatever the split, and stops at the last chunk", () => {
  const body = "4\r\nab\nc\r\n19;ext=1\r\n" + 'data: {"seq":1}\n\nxxxxxxxx\r\n0\r\nTrailer: x\r\n\r\nNEXT';
  const bytes = encoder.encode(body);
  for (let cut = 0; cut <= bytes.length; cut++) {
    let text = "";
    const d = new ChunkedDecoder((part) => text += decoder.decode(part));
    const first = d.push(bytes.subarray(0, cut));
    const rest = d.done ? first + bytes.length - cut : d.push(bytes.subarray(cut));
    assert.equal(text, 'ab\ncdata: {"seq":1}\n\nxxxxxxxx', `cut at ${cut}`);
    assert.ok(d.done);
    assert.equal(rest, 4, `bytes after the body, cut at ${cut}`);
  }
  assert.equal(new ChunkedDecoder(() => {}).push(encoder.encode("zz\r\n")), -1);
});

test("FieldReader finds seq, timestamp and topic in any envelope", () => {
  const r = new FieldReader();
  const data = encoder.encode('{"id":"x","data":{"pad":"\\"seq\\":9","t": 1764000000000.125,"seq":42,"topic":"b1"}}');
  r.read(data);
  assert.equal(r.seq, 42, "an escaped key inside a string value is not a key");
  assert.equal(r.timestamp, 1764000000000.125);
  assert.ok(r.topicIs(encoder.encode('"b1"')));
  assert.ok(!r.topicIs(encoder.encode('"b10"')));
  assert.ok(!r.topicIs(encoder.encode('"b"')), "a prefix of the topic is another topic");
  r.read(encoder.encode('{"seq":"7"}'));
  assert.equal(r.seq, -1);
  r.read(encoder.encode("{}"));
  assert.ok(Number.isNaN(r.timestamp));
  assert.ok(r.topicIs(encoder.encode('"b1"')), "no topic field: any topic");
});

/** Every publish answered before the next was sent: any reorder is the server's. */
const sequential = (n: number): TopicOutcome => ({
  attempted: n,
  failed: [],
  answeredBefore: Int32Array.from({ length: n + 1 }, (_, m) => Math.max(0, m - 1)),
});

test("SequenceTracker: a clean run has no loss, duplicate or reorder", () => {
  const t = new SequenceTracker(5);
  for (const s of [1, 2, 3, 4, 5]) assert.equal(t.record(s), "new");
  assert.deepEqual(t.verdict(sequential(5)), {
    lost: 0,
    missing: 0,
    deliveredUnacked: 0,
    reordered: 0,
    reorderedConcurrent: 0,
  });
});

test("SequenceTracker detects loss, duplicates, reorders and unknown sequence numbers", () => {
  const t = new SequenceTracker(6);
  for (const s of [1, 3, 2, 3, 5, 0, 9, 6]) t.record(s);
  assert.equal(t.duplicates, 1);
  assert.equal(t.invalid, 2);
  const v = t.verdict(sequential(6));
  assert.equal(v.lost, 1, "4 never came");
  assert.equal(v.reordered, 1, "2 after 3");
  assert.equal(v.reorderedConcurrent, 1);
});

test("SequenceTracker: reorders of publishes in flight together are not the server's fault", () => {
  const t = new SequenceTracker(4);
  for (const s of [2, 1, 4, 3]) t.record(s);
  // 1 and 2 were in flight together; 3 was answered before 4 was sent.
  const outcome: TopicOutcome = { attempted: 4, failed: [], answeredBefore: Int32Array.from([0, 0, 0, 2, 3]) };
  const v = t.verdict(outcome);
  assert.equal(v.reorderedConcurrent, 2);
  assert.equal(v.reordered, 1);
});

test("SequenceTracker: failed publishes are not losses; delivered ones are counted apart", () => {
  const t = new SequenceTracker(4);
  for (const s of [1, 3]) t.record(s);
  const v = t.verdict({ ...sequential(4), failed: [2, 3] });
  assert.equal(v.lost, 1, "4 was acknowledged and never came");
  assert.equal(v.missing, 2);
  assert.equal(v.deliveredUnacked, 1);
  // Only what was attempted counts: a run cut short has no loss beyond it.
  assert.equal(new SequenceTracker(10).verdict({ ...sequential(10), attempted: 0 }).lost, 0);
});

test("Histogram percentiles stay within half a percent", () => {
  const h = new Histogram();
  for (let i = 1; i <= 1000; i++) h.record(i / 10);
  assert.ok(Math.abs(h.percentile(0.99)! - 99) / 99 < 0.005);
  assert.ok(Math.abs(h.percentile(0.5)! - 50) / 50 < 0.005);
  assert.equal(h.count, 1000);
});

test("descendants() walks a process tree breadth first, each pid once", () => {
  const tree = new Map([[1, [2, 3]], [2, [4]], [3, [4, 5]], [5, [1]]]);
  assert.deepEqual(descendants([1], (pid) => tree.get(pid) ?? []), [1, 2, 3, 4, 5]);
  assert.deepEqual(descendants([3, 2], (pid) => tree.get(pid) ?? []), [3, 2, 4, 5, 1]);
  assert.deepEqual(descendants([], () => [9]), []);
});

testOnDeno("sampleTree() counts a supervisor and its children, and sees a child started later", async () => {
  // A shell standing in for a supervisor: two children now, a third once a line arrives on its
  // stdin (`read` is a builtin: waiting forks nothing).
  const shell = new Deno.Command("sh", {
    args: ["-c", "sleep 30 & sleep 30 & read go; sleep 30 & wait"],
    stdin: "piped",
  }).spawn();
  const pids = new Set([shell.pid]);
  const waitFor = async (n: number) => {
    for (let i = 0; i < 100 && processTree([shell.pid]).length < n; i++) await new Promise((r) => setTimeout(r, 20));
    const tree = processTree([shell.pid]);
    for (const pid of tree) pids.add(pid);
    return tree;
  };
  try {
    assert.equal((await waitFor(3)).length, 3, "the shell and two sleeps");
    const sample = sampleTree([shell.pid])!;
    assert.equal(sample.pids, 3);
    const own = Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${shell.pid}/status`))![1]);
    assert.ok(sample.rssKb > own, "the children's RSS is added to the shell's");
    const writer = shell.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
    assert.equal((await waitFor(4)).length, 4, "a child started during the run is counted at the next sample");
    assert.equal(sampleTree([shell.pid])!.pids, 4);
  } finally {
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await shell.status;
  }
});

const stage = (count: number, p50: number, p99: number, max = p99): StageSummary => ({
  count,
  p50,
  p90: p50,
  p99,
  max,
});

test("parseHops() reads the health report's hops field and ignores everything else", () => {
  assert.equal(parseHops({ status: "ok", worker: null }), undefined, "tracing off: no field");
  assert.equal(parseHops(undefined), undefined);
  assert.equal(parseHops({ hops: { traced_events: "3" } }), undefined, "malformed");
  const hops = parseHops({
    hops: {
      traced_events: 3,
      stages_ms: { notify_to_commit: stage(3, 1.5, 4), unknown: stage(1, 1, 1), commit_to_listen: {} },
    },
  });
  assert.deepEqual(hops, { traced_events: 3, stages_ms: { notify_to_commit: stage(3, 1.5, 4) } });
});

test("mergeHops() sums counts, weighs p50 by count and keeps the slowest worker's p99 and max", () => {
  const a = { traced_events: 1, stages_ms: { notify_to_commit: stage(1, 1, 2, 9), commit_to_listen: stage(0, 0, 0) } };
  const b = { traced_events: 3, stages_ms: { notify_to_commit: stage(3, 3, 5, 6), commit_to_listen: stage(2, 1, 7) } };
  const merged = mergeHops([a, b]);
  assert.equal(merged.traced_events, 4);
  assert.deepEqual(merged.stages_ms.notify_to_commit, { count: 4, p50: 2.5, p90: 2.5, p99: 5, max: 9 });
  assert.deepEqual(merged.stages_ms.commit_to_listen, stage(2, 1, 7), "a worker that saw nothing does not count");
  assert.equal(mergeHops([a]), a);
});

testOnDeno("fetchHops() asks every worker on fresh connections, and says when hops are not reported", async () => {
  let next = 0;
  let traced = true;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (new URL(request.url).pathname !== "/healthz") return new Response("no", { status: 404 });
    // Stands in for the port handing each connection to another of 3 workers.
    const index = (next++ % 3) + 1;
    const hops = { traced_events: index, stages_ms: { notify_to_commit: stage(index, index, 10 * index) } };
    return Response.json({ status: "ok", worker: { index, count: 3, pid: 1 }, ...(traced ? { hops } : {}) });
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const hops = (await fetchHops(base))!;
    assert.equal(hops.workers, 3);
    assert.equal(hops.workers_seen, 3);
    assert.deepEqual(Object.keys(hops.reports).sort(), ["1", "2", "3"]);
    assert.equal(hops.merged.traced_events, 6);
    assert.equal(hops.merged.stages_ms.notify_to_commit?.p99, 30);
    traced = false;
    assert.equal(await fetchHops(base), undefined);
  } finally {
    await server.shutdown();
  }
});

test("hopTable() prints p50/p99 per stage and system, and 'hops: not reported' when none has them", () => {
  assert.deepEqual(hopTable([{ head: "bun ×1" }, { head: "bun ×auto" }]), ["hops: not reported"]);
  const report = {
    traced_events: 5,
    stages_ms: { arrival_to_notify: stage(5, 0.25, 1.5), notify_to_commit: stage(0, 0, 0) },
  };
  const lines = hopTable([{ head: "bun ×1", publish: report }, { head: "bun ×auto", workers: "0/2" }]);
  assert.match(lines[0], /^hop stage, p50\/p99 ms\s+bun ×1\s+bun ×auto$/);
  assert.match(lines[1], /^arrival_to_notify\s+0\.25\/1\.5\s+not reported$/);
  assert.match(lines[2], /^notify_to_commit\s+–\s+not reported$/, "a stage without events shows –");
  assert.match(lines.at(-2)!, /^traced events\s+5\s+–$/);
  assert.match(lines.at(-1)!, /^workers read\s+–\s+0\/2$/);
});

test("hopTable() cross-instance: publish stages from the publishing instance, writes from the receiving one", () => {
  const publish = {
    traced_events: 2,
    stages_ms: {
      notify_to_commit: stage(2, 1, 2),
      listen_to_first_write: stage(0, 0, 0),
      arrival_to_last_write: stage(0, 0, 0),
    },
  };
  const receive = {
    traced_events: 2,
    stages_ms: { notify_to_commit: stage(0, 0, 0), listen_to_first_write: stage(2, 3, 4) },
  };
  assert.deepEqual(stagesOf({ head: "x", publish, receive }), {
    arrival_to_notify: undefined,
    notify_to_commit: stage(2, 1, 2),
    commit_to_listen: undefined,
    listen_to_first_write: stage(2, 3, 4),
    first_to_last_write: undefined,
  });
  const lines = hopTable([{ head: "bun ×1", publish, receive }], { crossInstance: true });
  assert.match(lines.find((l) => l.startsWith("notify_to_commit"))!, /^notify_to_commit \(pub\)\s+1\.0\/2\.0$/);
  assert.match(lines.find((l) => l.startsWith("listen_to_first_write"))!, /\(recv\)\s+3\.0\/4\.0$/);
  assert.match(lines.find((l) => l.startsWith("arrival_to_last_write"))!, /^arrival_to_last_write \(n\/a\)\s+–$/);
  assert.match(lines.find((l) => l.startsWith("traced events"))!, /2 \+ 2$/);
});

test("matchingPeer() pairs like with like: one process with nchan-1w, workers with nchan-auto, E with Redis", () => {
  const b = [ssepgSystem("bun", "1"), ssepgSystem("bun", "auto"), nchanSystem("1", "B"), nchanSystem("auto", "B")];
  assert.equal(matchingPeer(b[0], b)?.key, "nchan-1w");
  assert.equal(matchingPeer(b[1], b)?.key, "nchan-auto");
  assert.equal(matchingPeer(b[2], b), undefined, "peers have no ratio");
  const e = [ssepgSystem("node", "auto"), nchanSystem("1", "E"), nchanSystem("auto", "E"), naiveSystem()];
  assert.equal(matchingPeer(e[0], e)?.key, "nchan-redis-auto");
  assert.equal(matchingPeer(ssepgSystem("node", "1"), e)?.key, "nchan-redis");
  // Without Nchan: one process against the naive peer (one process too); workers against nothing.
  const naive = [ssepgSystem("deno", "1"), ssepgSystem("deno", "auto"), naiveSystem()];
  assert.equal(matchingPeer(naive[0], naive)?.key, "naive");
  assert.equal(matchingPeer(naive[1], naive), undefined);
  assert.equal(matchingPeer(naive[1], [nchanSystem("1", "B")]), undefined, "never workers against one worker");
});

test("ratio() is above 1× when ours is better, either way round, and – without a figure", () => {
  assert.equal(ratio(300, 100, "higher"), "3.00×");
  assert.equal(ratio(2, 8, "lower"), "4.00×");
  assert.equal(ratio(undefined, 8, "lower"), "–");
  assert.equal(ratio(5, 0, "higher"), "–");
  assert.equal(ratio(0, 5, "lower"), "–");
});

test("ssepgSystem() and nchanSystem() label rows and runs", () => {
  assert.deepEqual(ssepgSystem("bun", "auto"), {
    key: "ssepg-bun-wauto",
    display: "bun ×auto",
    kind: "ssepg",
    runtime: "bun",
    workers: "auto",
  });
  assert.equal(nchanSystem("1", "A").key, "nchan-1w");
  assert.equal(nchanSystem("auto", "D").key, "nchan-auto");
  assert.equal(nchanSystem("1", "E").key, "nchan-redis");
});

test("formatTable() pads text left and figures right, or writes Markdown; figure() rounds by size", () => {
  assert.deepEqual(formatTable(["system", "recv/s"], [["bun ×1", "12k"], ["nchan-auto", "9.5"]]), [
    "system      recv/s",
    "bun ×1         12k",
    "nchan-auto     9.5",
  ]);
  assert.deepEqual(formatTable(["a", "b"], [["x", "1"]], { markdown: true }), ["| a | b |", "|---|---|", "| x | 1 |"]);
  assert.deepEqual([12_345, 150.4, 12.34, 0.256, 0, undefined].map(figure), ["12k", "150", "12.3", "0.26", "0.0", "–"]);
});

test("scenarioTable() shows each system's figures and its ratios against the Nchan row of the same setting", () => {
  const systems = [
    ssepgSystem("bun", "1"),
    ssepgSystem("bun", "auto"),
    nchanSystem("1", "B"),
    nchanSystem("auto", "B"),
  ];
  const results: Record<string, ResultRow> = {
    "ssepg-bun-w1": { label: "", delivered_per_s: 20_000, publish_per_s: 2000, lost: 0, server: { pids: 1 } },
    "ssepg-bun-wauto": { label: "", delivered_per_s: 30_000, publish_per_s: 3000, lost: 0, server: { pids: 3 } },
    "nchan-1w": { label: "", delivered_per_s: 10_000, publish_per_s: 1000, lost: 0, server: { pids: 2 } },
    "nchan-auto": { label: "", delivered_per_s: 15_000, publish_per_s: 6000, lost: 0, server: { pids: 3 } },
  };
  const { lines, rows } = scenarioTable("B", systems, (key) => results[key]);
  assert.match(
    lines[0],
    /^system\s+procs\s+recv\/s\s+pub\/s\s+p50 ms\s+p99 ms\s+srv cpu %\s+lost\s+vs\s+recv\/s ×\s+pub\/s ×$/,
  );
  assert.match(lines[1], /^bun ×1\s+1\s+20k\s+2000\s.*nchan-1w\s+2\.00×\s+2\.00×$/);
  assert.match(lines[2], /^bun ×auto\s+3\s+30k\s+3000\s.*nchan-auto\s+2\.00×\s+0\.50×$/);
  assert.match(lines[3], /^nchan-1w\s+2\s+10k\s+1000\s.*\s0$/, "peers have no ratio");
  assert.deepEqual(rows[1].ratios, { "recv/s": 2, "pub/s": 0.5 });
  assert.equal(rows[1].vs, "nchan-auto");
  assert.equal(rows[1].server_processes, 3);
  // D: memory figures; a system whose run left no result shows – throughout.
  const d = scenarioTable(
    "D",
    [ssepgSystem("node", "auto"), nchanSystem("auto", "D")],
    (key) =>
      key === "nchan-auto"
        ? { label: "", lost: 0, server: { pids: 3, rss_per_conn_kb: 4, rss_end_of_hold_kb: 2048 } }
        : undefined,
  );
  assert.match(d.lines[0], /^system\s+procs\s+KB\/conn\s+RSS MB\s+p99 ms\s+lost\s+vs\s+KB\/conn ×$/);
  assert.match(d.lines[1], /^node ×auto\s+–\s+–\s+–\s+–\s+–\s+nchan-auto\s+–$/);
  assert.match(d.lines[2], /^nchan-auto\s+3\s+4\.0\s+2\.0\s+–\s+0$/);
});

test("scenarioTable() leaves out the ratio columns when no peer ran (--peers none)", () => {
  const { lines, rows } = scenarioTable("E", [ssepgSystem("deno", "1"), ssepgSystem("deno", "auto")], () => ({
    label: "",
    latency_ms: { p50: 1, p99: 9 },
    lost: 0,
  }));
  assert.match(lines[0], /^system\s+procs\s+recv\/s\s+pub\/s\s+p50 ms\s+p99 ms\s+srv cpu %\s+lost$/);
  assert.equal(rows[0].ratios, null);
});

test("headlineTable() puts Nchan's E (Redis pair) on its worker setting's line and pairs like with like", () => {
  const measured = new Map([
    ["B", [ssepgSystem("bun", "1"), ssepgSystem("bun", "auto"), nchanSystem("1", "B"), nchanSystem("auto", "B")]],
    ["E", [ssepgSystem("bun", "1"), ssepgSystem("bun", "auto"), nchanSystem("1", "E"), nchanSystem("auto", "E")]],
  ]);
  const figures: Record<string, number> = {
    "ssepg-bun-w1:B": 20_000,
    "ssepg-bun-wauto:B": 40_000,
    "nchan-1w:B": 10_000,
    "nchan-auto:B": 20_000,
    "ssepg-bun-w1:E": 10,
    "ssepg-bun-wauto:E": 5,
    "nchan-redis:E": 20,
    "nchan-redis-auto:E": 20,
  };
  const { lines, figures: kept } = headlineTable(measured, (key, scenario) => {
    const v = figures[`${key}:${scenario}`];
    return { label: "", lost: 0, delivered_per_s: v, publish_per_s: v, latency_ms: { p99: v } };
  });
  assert.match(lines[0], /^system\s+B recv\/s\s+B pub\/s\s+E p99 ms\s+lost$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/)[0]), [
    "bun ×1",
    "bun ×auto",
    "nchan-1w",
    "nchan-auto",
    "bun ×1 vs nchan-1w",
    "bun ×auto vs nchan-auto",
  ]);
  assert.match(lines[4], /^nchan-auto\s+20k\s+20k\s+20\.0\s+0$/, "the auto line's E is the auto Redis pair's");
  assert.match(lines[6], /vs nchan-auto\s+2\.00×\s+2\.00×\s+4\.00×$/);
  assert.equal(kept["nchan-1w"]["E p99 ms"], 20);
});
