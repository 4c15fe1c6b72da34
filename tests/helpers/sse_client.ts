/**
 * A small SSE client for tests: reads a streaming response and yields parsed blocks.
 *
 * @module
 */

/** One block of an SSE stream (an event, or comments only). */
export interface SseBlock {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comments: string[];
}

/**
 * Parses one block of SSE text (lines without the blank separator).
 *
 * @example
 * ```ts
 * parseBlock("id: 1\ndata: x"); // { id: "1", data: "x", comments: [] }
 * ```
 */
export function parseBlock(text: string): SseBlock {
  const block: SseBlock = { comments: [] };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.startsWith(":")) {
      block.comments.push(line.slice(1).trimStart());
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") block.data = block.data === undefined ? value : `${block.data}\n${value}`;
    else if (field === "id") block.id = value;
    else if (field === "event") block.event = value;
    else if (field === "retry") block.retry = Number(value);
  }
  return block;
}

/** A connected SSE stream. */
export class SseClient {
  readonly response: Response;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  /** Everything received so far, raw. */
  raw = "";
  #ended = false;
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;

  private constructor(response: Response) {
    this.response = response;
    this.#reader = response.body!.getReader();
  }

  /** Opens a stream; throws unless the response is 200 text/event-stream. */
  static async open(url: string, init: RequestInit = {}): Promise<SseClient> {
    const response = await fetch(url, init);
    if (response.status !== 200 || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
      const body = await response.text();
      throw new Error(`Expected an event stream from ${url}, got ${response.status}: ${body}`);
    }
    return new SseClient(response);
  }

  /** True once the server ended the stream. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next block, comments included; rejects after `timeout` ms or at the end of the stream. */
  async next(timeout = 5_000): Promise<SseBlock> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const text = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return parseBlock(text);
      }
      if (this.#ended) throw new Error(`Stream ended; unparsed: ${JSON.stringify(this.#buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`No SSE block within ${timeout} ms; received so far: ${JSON.stringify(this.raw.slice(-500))}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      // A read that outlives a timeout is kept for the next call, so no chunk is ever lost.
      this.#pending ??= this.#reader.read();
      const result = await Promise.race([
        this.#pending,
        new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), left)),
      ]);
      clearTimeout(timer);
      if (result === "timeout") continue;
      this.#pending = undefined;
      if (result.done) {
        this.#ended = true;
        continue;
      }
      const text = this.#decoder.decode(result.value, { stream: true });
      this.raw += text;
      this.#buffer += text;
    }
  }

  /** The next block that carries data (skips comments-only blocks). */
  async nextEvent(timeout = 5_000): Promise<SseBlock> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const block = await this.next(Math.max(1, deadline - Date.now()));
      if (block.data !== undefined) return block;
    }
  }

  /** Collects `count` events. */
  async events(count: number, timeout = 10_000): Promise<SseBlock[]> {
    const deadline = Date.now() + timeout;
    const out: SseBlock[] = [];
    while (out.length < count) out.push(await this.nextEvent(Math.max(1, deadline - Date.now())));
    return out;
  }

  /** Resolves when the server ends the stream; rejects after `timeout` ms. */
  async waitForEnd(timeout = 5_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!this.#ended) {
      try {
        await this.next(Math.max(1, deadline - Date.now()));
      } catch (error) {
        if (this.#ended) return;
        throw error;
      }
    }
  }

  /** Expects nothing but comments for `ms` milliseconds. */
  async expectNoEvent(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      let block: SseBlock;
      try {
        block = await this.next(left);
      } catch {
        return;
      }
      if (block.data !== undefined) throw new Error(`Unexpected event: ${JSON.stringify(block)}`);
    }
  }

  /** Disconnects. */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
