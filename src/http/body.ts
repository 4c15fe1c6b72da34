/**
 * Reading and validating a publish body: `{"data": <any JSON but null>}`.
 *
 * @module
 */

import { compactMember } from "../json.ts";
import { concatBytes } from "../bytes.ts";
import { HttpProblem } from "./problem.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The 413 problem for a body over `maxBodyBytes`.
 *
 * @param limit `maxBodyBytes`.
 * @param size The size seen so far (or declared).
 * @returns The problem to throw.
 *
 * @example
 * ```ts
 * import { bodyTooLarge } from "./body.ts";
 * bodyTooLarge(262_144, 300_000).status; // 413
 * ```
 */
export function bodyTooLarge(limit: number, size: number | string): HttpProblem {
  return new HttpProblem(
    413,
    "body-too-large",
    "Payload too large",
    `The body is ${size} bytes, over maxBodyBytes (${limit} bytes)`,
    // The rest of the body is not read, so the connection cannot carry another request.
    { Connection: "close" },
  );
}

/**
 * Reads a request body, refusing more than `limit` bytes without buffering past the limit.
 *
 * @param request The request.
 * @param limit `maxBodyBytes`.
 * @param timeout `bodyTimeout` in ms: the whole body must arrive within it.
 * @returns The body bytes.
 * @throws {HttpProblem} 413 when the body is larger than `limit`, 408 when it is too slow.
 *
 * @example
 * ```ts
 * import { readBodyLimited } from "./body.ts";
 * await readBodyLimited(new Request("http://x/", { method: "POST", body: "{}" }), 10);
 * ```
 */
export async function readBodyLimited(request: Request, limit: number, timeout = 30_000): Promise<Uint8Array> {
  const header = request.headers.get("content-length");
  const declared = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
  if (declared !== undefined && declared > limit) {
    await request.body?.cancel().catch(() => {});
    throw bodyTooLarge(limit, declared);
  }
  if (!request.body) return new Uint8Array(0);
  if (declared !== undefined) {
    // A declared length (within the limit) is read in one call: the runtime's native path,
    // cheaper than a reader loop (Bun: +8–19 % publishes/s in scenario B).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeout));
    const whole = request.arrayBuffer();
    whole.catch(() => {}); // after a timeout nobody awaits it any more
    const result = await Promise.race([whole, expired]).finally(() => clearTimeout(timer));
    if (result === "timeout") throw bodyTimedOut(timeout);
    if (result.byteLength > limit) throw bodyTooLarge(limit, result.byteLength);
    return new Uint8Array(result);
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeout));
  for (;;) {
    const next = await Promise.race([reader.read(), expired]).catch((error) => {
      clearTimeout(timer);
      throw error;
    });
    if (next === "timeout") {
      await reader.cancel().catch(() => {});
      throw bodyTimedOut(timeout);
    }
    const { done, value } = next;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      clearTimeout(timer);
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limit, `more than ${limit}`);
    }
    chunks.push(value);
  }
  clearTimeout(timer);
  return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks);
}

/**
 * Validates a publish body and returns its `data` as compact JSON text, digits intact.
 *
 * @param bytes The raw body.
 * @returns Compact JSON of `data`.
 * @throws {HttpProblem} 400 when the body is not UTF-8 JSON, not an object, or has no `data`
 * or `data: null`.
 *
 * @example
 * ```ts
 * import { parsePublishBody } from "./body.ts";
 * parsePublishBody(new TextEncoder().encode('{"data": {"msg": "hi"}}')); // '{"msg":"hi"}'
 * ```
 */
export function parsePublishBody(bytes: Uint8Array): string {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw invalidBody("The body is not valid UTF-8");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // A RangeError here means nesting beyond the engine's limit: still the client's fault.
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidBody(`The body is not JSON: ${reason.slice(0, 200)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalidBody('The body must be a JSON object such as {"data": …}');
  }
  const data = (parsed as { data?: unknown }).data;
  if (data === undefined) throw invalidBody('The body has no "data" member');
  if (data === null) throw invalidBody('"data" must not be null');
  const compact = compactMember(text, "data");
  if (compact === undefined) throw invalidBody('The body has no "data" member');
  return compact;
}

/**
 * The 408 problem for a body that did not arrive within `bodyTimeout`.
 *
 * @param timeout `bodyTimeout` in ms.
 * @returns The problem to throw.
 *
 * @example
 * ```ts
 * import { bodyTimedOut } from "./body.ts";
 * bodyTimedOut(30_000).status; // 408
 * ```
 */
export function bodyTimedOut(timeout: number): HttpProblem {
  return new HttpProblem(408, "body-timeout", "Request timeout", `The body did not arrive within ${timeout} ms`, {
    Connection: "close",
  });
}

function invalidBody(detail: string): HttpProblem {
  return new HttpProblem(400, "invalid-body", "Invalid body", `${detail}; expected {"data": <any JSON but null>}`);
}
