import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { TopicRanks } from "../../src/dispatcher/topic_ranks.ts";

interface Item {
  name: string;
  slot: number;
  subscribers: number;
  events: number;
}

/** The order the health report promises: most subscribers, then most events, then by name. */
const busiestFirst = (a: Item, b: Item) =>
  b.subscribers - a.subscribers || b.events - a.events || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function ranked(items: Item[]): TopicRanks<Item> {
  const ranks = new TopicRanks<Item>();
  for (const item of items) {
    ranks.add(item);
    ranks.setSubscribers(item, item.subscribers);
    for (let i = 0; i < item.events; i++) ranks.countEvent(item);
  }
  return ranks;
}

const item = (name: string, subscribers = 0, events = 0): Item => ({ name, slot: -1, subscribers, events });

test("TopicRanks.busiest() orders by subscribers, then events received, then name, and honours the limit", () => {
  const ranks = ranked([
    item("quiet"),
    item("b-loud", 0, 9),
    item("a-loud", 0, 9),
    item("watched", 2),
    item("seen", 1, 1),
  ]);
  const names = (limit: number) => ranks.busiest(limit).sort(busiestFirst).map((t) => t.name);
  assert.deepEqual(names(Infinity), ["watched", "seen", "a-loud", "b-loud", "quiet"]);
  assert.deepEqual(names(3), ["watched", "seen", "a-loud"]);
  assert.deepEqual(names(1), ["watched"]);
  assert.deepEqual(names(2.9), ["watched", "seen"], "a fractional limit rounds down");
  assert.deepEqual(names(0), []);
  assert.deepEqual(names(-1), []);
  assert.deepEqual(names(NaN), []);
  assert.deepEqual(names(99), names(Infinity), "a limit above the topic count returns them all");
});

test("TopicRanks.busiest() picks the same topics as a full sort, whatever the limit, after removals", () => {
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  // Few distinct keys, so ties on subscribers and on events received are common.
  const items = Array.from({ length: 500 }, (_, i) => item(`t${random(1000)}-${i}`, random(4), random(6)));
  const ranks = ranked(items);
  // Free some: their slots are reused or left empty, and must never be returned.
  const kept = items.filter((t, i) => (i % 7 === 3 ? (ranks.remove(t), false) : true));
  const sorted = [...kept].sort(busiestFirst).map((t) => t.name);
  for (const limit of [1, 2, 3, 7, 64, 100, kept.length - 1, kept.length, kept.length + 1]) {
    assert.deepEqual(
      ranks.busiest(limit).sort(busiestFirst).map((t) => t.name),
      sorted.slice(0, limit),
      `limit ${limit}`,
    );
  }
});
