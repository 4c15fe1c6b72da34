import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { type ParsedEvent, SseParser } from "../../src/client/parse.ts";

function parse(chunks: string[]): { events: ParsedEvent[]; retries: number[] } {
  const events: ParsedEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) });
  for (const c of chunks) parser.push(c);
  return { events, retries };
}

test("SseParser reads id, event, multi-line data, comments and retry", () => {
  const { events, retries } = parse(["retry: 5000\n\n: listening a\n\nid: 1\nevent: message\ndata: a\ndata: b\n\n"]);
  assert.deepEqual(retries, [5000]);
  assert.deepEqual(events, [{ id: "1", event: "message", data: "a\nb" }]);
});

test("SseParser handles CRLF and CR line ends and frames split anywhere", () => {
  const text = 'id: 7\r\nevent: gap\rdata: {"x":1}\r\n\r\ndata: y\n\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const { events } = parse([text.slice(0, cut), text.slice(cut)]);
    assert.deepEqual(events, [{ id: "7", event: "gap", data: '{"x":1}' }, {
      id: undefined,
      event: "message",
      data: "y",
    }], `cut ${cut}`);
  }
});

test("SseParser ignores blocks without data and unknown fields", () => {
  assert.deepEqual(parse(["event: x\n\nfoo: bar\ndata: z\n\n"]).events, [{
    id: undefined,
    event: "message",
    data: "z",
  }]);
});
