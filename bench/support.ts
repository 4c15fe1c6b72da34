/**
 * What the benchmark scripts share: command-line flags, sleeping, reading a process's RSS and
 * opening raw event streams.
 *
 * @module
 */

/**
 * The value after `--name` on the command line.
 *
 * @param name Flag name without dashes.
 * @param fallback Value when the flag is absent.
 * @returns The value.
 *
 * @example
 * ```ts
 * import { flag } from "./support.ts";
 * const connections = Number(flag("connections", "10000"));
 * ```
 */
export function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : fallback;
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @param ms Delay.
 * @returns A promise.
 *
 * @example
 * ```ts
 * import { sleep } from "./support.ts";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resident set size of a process, from /proc.
 *
 * @param pid Process id.
 * @returns RSS in MB.
 *
 * @example
 * ```ts
 * import { rssMb } from "./support.ts";
 * rssMb(Deno.pid);
 * ```
 */
export function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) / 1024;
}

/**
 * RSS once the heap settles: the lowest of `readings` readings `gapMs` apart.
 *
 * @param pid Process id.
 * @param readings How many readings.
 * @param gapMs Time before each reading.
 * @returns RSS in MB.
 *
 * @example
 * ```ts
 * import { settledRssMb } from "./support.ts";
 * await settledRssMb(Deno.pid, 2, 10);
 * ```
 */
export async function settledRssMb(pid: number, readings = 5, gapMs = 400): Promise<number> {
  let low = Infinity;
  for (let i = 0; i < readings; i++) {
    await sleep(gapMs);
    low = Math.min(low, rssMb(pid));
  }
  return low;
}

/**
 * Opens an event stream over a raw socket and reads and discards what arrives, like a healthy
 * client that costs the benchmark next to nothing.
 *
 * @param url The server, e.g. `http://127.0.0.1:8080`.
 * @param path The stream path, e.g. `/topics/a/events`.
 * @param headers Extra request header lines, each ending in CRLF.
 * @returns The connection; close it to end the stream.
 *
 * @example
 * ```ts
 * import { openReadingStream } from "./support.ts";
 * // const conn = await openReadingStream("http://127.0.0.1:8080", "/topics/a/events");
 * // conn.close();
 * ```
 */
export async function openReadingStream(url: string, path: string, headers = ""): Promise<Deno.Conn> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\n${headers}\r\n`));
  void (async () => {
    const buffer = new Uint8Array(16_384);
    try {
      while ((await conn.read(buffer)) !== null) { /* discard */ }
    } catch { /* closed */ }
  })();
  return conn;
}
