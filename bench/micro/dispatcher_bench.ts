/**
 * Dispatcher fan-out: one event to 1000 subscribers of one topic, each taking it as its sink
 * would (`deno task bench:micro`). Figures are per event, so per delivery divide by 1000.
 *
 * @module
 */

import { Dispatcher } from "../../src/dispatcher/dispatcher.ts";
import type { Subscriber, SubscriberSink } from "../../src/dispatcher/subscriber.ts";

function fanOut(subscribers: number, topics: number) {
  const dispatcher = new Dispatcher({
    ringCapacity: 1024,
    clientBuffer: 64,
    keepAlive: 60_000,
    topicIdleTimeout: 60_000,
  });
  const subs: Subscriber[] = [];
  let bytes = 0;
  for (let i = 0; i < subscribers; i++) {
    const sink: SubscriberSink = {
      // What the SSE stream does when the socket asks for more: take the frames, write them.
      ready() {
        for (const event of sub.take()) bytes += event.frame("message").byteLength;
        sub.demand = true;
      },
      drop() {},
      gap() {},
      idle() {},
      shutdown() {},
      abort() {},
    };
    const sub: Subscriber = dispatcher.subscribe([`t${i % topics}`], sink).subscriber;
    sub.demand = true;
    subs.push(sub);
  }
  return { dispatcher, bytes: () => bytes };
}

const data = JSON.stringify({ seq: 1, pad: "x".repeat(200) });

const one = fanOut(1000, 1);
let n = 0;
Deno.bench("1 topic × 1000 subscribers: receive + fan out one event", { group: "fan-out", baseline: true }, () => {
  one.dispatcher.receive({ topic: "t0", data, id: `e${n++}` });
  one.dispatcher.flush();
});

const many = fanOut(1000, 100);
Deno.bench("100 topics × 10 subscribers: receive + fan out 100 events", { group: "fan-out" }, () => {
  for (let t = 0; t < 100; t++) many.dispatcher.receive({ topic: `t${t}`, data, id: `e${n++}` });
  many.dispatcher.flush();
});
