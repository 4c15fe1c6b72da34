/**
 * The health report of a server that may be several workers on one port: each worker reports
 * its own figures, so this asks until every worker has answered and adds their figures up.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any -- a health report is JSON of a documented but loose shape
type Json = any;

/**
 * Fetches `/healthz` from every worker behind `base` and merges the reports: numbers are summed
 * (totals and per-topic figures), booleans must hold on every worker, the rest is the first
 * worker's.
 *
 * @param base The server's base URL.
 * @param options `token` for the Authorization header; `workers`, how many answer on the port.
 * @returns The status of the first answer and the merged body.
 */
export async function workerHealth(
  base: string,
  options: { token?: string; workers?: number; path?: string } = {},
): Promise<{ status: number; body: Json; reports: Json[] }> {
  const workers = options.workers ?? 1;
  const headers: Record<string, string> = { connection: "close" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const reports = new Map<number, Json>();
  let status = 0;
  // A new connection each time: the kernel (or Node's cluster primary) picks the worker.
  for (let attempt = 0; reports.size < workers && attempt < 200; attempt++) {
    let response: Response;
    let body: Json;
    try {
      // A connection handed to a worker that is dying can be lost (Node's cluster primary):
      // give up on it and ask again, as a real client would.
      response = await fetch(`${base}${options.path ?? "/healthz"}`, { headers, signal: AbortSignal.timeout(3_000) });
      body = await response.json();
    } catch (error) {
      if (attempt >= 20) throw error;
      continue;
    }
    status ||= response.status;
    reports.set(body.worker?.index ?? 1, body);
  }
  if (reports.size < workers) throw new Error(`only ${reports.size} of ${workers} workers answered on ${base}`);
  const all = [...reports.values()];
  return { status, body: workers === 1 ? all[0] : merge(all), reports: all };
}

function merge(reports: Json[]): Json {
  const body = structuredClone(reports[0]);
  body.totals = sum(reports.map((r) => r.totals));
  const topics = new Map<string, Json[]>();
  for (const report of reports) {
    for (const topic of report.topics) topics.set(topic.topic, [...(topics.get(topic.topic) ?? []), topic]);
  }
  body.topics = [...topics.values()].map(sum);
  return body;
}

function sum(parts: Json[]): Json {
  const out = { ...parts[0] };
  for (const part of parts.slice(1)) {
    for (const [key, value] of Object.entries(part)) {
      if (typeof value === "number" && typeof out[key] === "number") out[key] += value;
      else if (typeof value === "boolean" && typeof out[key] === "boolean") out[key] &&= value;
    }
  }
  return out;
}
