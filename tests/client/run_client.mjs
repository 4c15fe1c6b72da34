// One client script for every runtime: `deno run -A`, `bun run` and `node` run it against the
// same server (tests/conformance/client_runtimes.test.ts). It imports `ssepg/client` from the
// module given in its config (the TypeScript source on Deno and Bun, the built dist/ on Node 20,
// which runs only JavaScript) and prints one JSON line: what it saw.
//
// Config (argv[2], JSON): { module, server, tokenUrl, publishToken, topics: [a, b], closedUrl }

const config = JSON.parse(process.argv[2]);
const { ConnectionError, ProblemError, publish, subscribe } = await import(config.module);
const [a, b] = config.topics;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(check, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
}

const result = { published: [], received: [], perTopic: { [a]: [], [b]: [] }, opens: [], reconnects: [], tokens: 0 };
const send = async (topic, n) =>
  result.published.push((await publish(config.server, topic, { n }, { token: config.publishToken })).id);

const subscription = subscribe({ baseUrl: config.server, topics: [a, b] }, {
  token: async () => {
    result.tokens++;
    return await (await fetch(config.tokenUrl)).text();
  },
  onOpen: (info) => result.opens.push(info.lastEventId ?? null),
  onEvent: (e) => result.received.push(e.id),
  handlers: { [a]: (e) => result.perTopic[a].push(e.data.n), [b]: (e) => result.perTopic[b].push(e.data.n) },
  onReconnect: (info) => {
    result.reconnects.push(info.reason);
    // Published while this client is away: the reconnection must replay them.
    void send(a, 100 + result.reconnects.length);
  },
});
await until(() => result.opens.length === 1, "the stream to open");
for (let n = 0; n < 4; n++) await send(n % 2 ? b : a, n);
await until(() => result.opens.length >= 2, "the stream to end at the token's exp and reopen");
await send(b, 200);
await until(() => result.received.length === result.published.length, "every event");
subscription.close();
await subscription.done;

const gaps = [];
const gapped = subscribe(`${config.server}/topics/${a}/events`, {
  token: async () => await (await fetch(config.tokenUrl)).text(),
  lastEventId: "long-gone",
  onGap: (gap) => gaps.push(gap),
});
await until(() => gaps.length === 1, "the gap");
const stop = new AbortController();
gapped.close();
await gapped.done;
result.gaps = gaps;

try {
  await publish(config.server, "bad topic", 1, { token: config.publishToken, signal: stop.signal });
} catch (error) {
  result.badTopic = { problem: error instanceof ProblemError, status: error.status, type: error.problem?.type };
}
try {
  await publish(config.closedUrl, a, 1);
} catch (error) {
  result.down = { connection: error instanceof ConnectionError, message: error.message };
}
console.log(JSON.stringify(result));
