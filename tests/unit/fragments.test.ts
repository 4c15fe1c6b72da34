import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "../helpers/test.ts";
import { encodeEnvelope } from "../../src/bus/envelope.ts";
import { FragmentAssembler, MIN_FRAGMENT_PAYLOAD, splitEnvelope } from "../../src/bus/fragments.ts";
import { utf8Length } from "../../src/utf8.ts";

function collect(maxEventBytes = 64 * 1_048_576) {
  const discards: { topic: string | undefined; reason: string }[] = [];
  const assembler = new FragmentAssembler(maxEventBytes, (topic, reason) => discards.push({ topic, reason }));
  return { assembler, discards };
}

test("splitEnvelope() + FragmentAssembler rebuild any text, each payload within maxNotifyBytes", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 6_000 }),
      fc.integer({ min: MIN_FRAGMENT_PAYLOAD, max: 7999 }),
      (data, max) => {
        const text = encodeEnvelope({ topic: "t-1", data: JSON.stringify(data), id: "id-1" });
        const payloads = splitEnvelope(text, "id-1", "t-1", max);
        for (const payload of payloads) assert.ok(utf8Length(payload) <= max, `${utf8Length(payload)} > ${max}`);
        // Every payload is well-formed text on its own (no half of a surrogate pair).
        for (const payload of payloads) assert.ok(payload.isWellFormed());
        if (payloads.length < 2) return; // Fits in one piece: the bus sends it as a plain NOTIFY instead.
        const { assembler, discards } = collect();
        const results = payloads.map((p) => assembler.accept(p));
        assert.deepEqual(results.slice(0, -1), payloads.slice(0, -1).map(() => undefined));
        assert.deepEqual(results.at(-1), { id: "id-1", topic: "t-1", text });
        assert.deepEqual(discards, []);
        assert.equal(assembler.heldBytes, 0);
        assert.equal(assembler.completed, 1);
      },
    ),
    { numRuns: 300 },
  );
});

test("an ASCII envelope is cut by characters, a 1 MiB one into pieces of maxNotifyBytes minus the header room", () => {
  const text = encodeEnvelope({ topic: "big", data: JSON.stringify("x".repeat(1_048_000)), id: "e1" });
  const payloads = splitEnvelope(text, "e1", "big", 7900);
  assert.equal(payloads.length, Math.ceil(text.length / (7900 - 420)));
  assert.ok(payloads.every((p) => p.startsWith(`e1 `) && p.includes(` ${payloads.length} big\n`)));
  const { assembler } = collect();
  let out;
  for (const p of payloads) out = assembler.accept(p);
  assert.equal(out?.text, text);
});

test("anything between two fragments of a set drops it, and the dropped topic is named", () => {
  const text = encodeEnvelope({ topic: "a", data: JSON.stringify("y".repeat(20_000)), id: "e1" });
  const [first, second, third] = splitEnvelope(text, "e1", "a", 7900);
  const { assembler, discards } = collect();
  assert.equal(assembler.accept(first), undefined);
  assert.ok(assembler.open);
  assert.ok(assembler.heldBytes > 7000);
  assembler.interrupt();
  assert.equal(assembler.open, false);
  assert.equal(assembler.heldBytes, 0);
  assert.deepEqual(discards, [{ topic: "a", reason: "event e1 was interrupted with 2 of its fragments missing" }]);
  // The rest of the set is ignored quietly: the set was reported once.
  assert.equal(assembler.accept(second), undefined);
  assert.equal(assembler.accept(third), undefined);
  assert.equal(discards.length, 1);
  assert.equal(assembler.discarded, 1);
  assert.equal(assembler.completed, 0);
  // A later fragment of a set never started is reported (once), naming why.
  const other = splitEnvelope(
    encodeEnvelope({ topic: "b", data: `"${"q".repeat(20_000)}"`, id: "e2" }),
    "e2",
    "b",
    7900,
  );
  assembler.accept(other[1]);
  assembler.accept(other[2]);
  assert.equal(discards.length, 2);
  assert.match(discards[1].reason, /fragment 1 of 3 of event e2 arrived without the ones before it/);
});

test("a new set's first fragment drops an open set; a quiet interrupt counts it without telling", () => {
  const one = splitEnvelope(encodeEnvelope({ topic: "a", data: `"${"a".repeat(9_000)}"`, id: "e1" }), "e1", "a", 7900);
  const two = splitEnvelope(encodeEnvelope({ topic: "b", data: `"${"b".repeat(9_000)}"`, id: "e2" }), "e2", "b", 7900);
  const { assembler, discards } = collect();
  assembler.accept(one[0]);
  assembler.accept(two[0]);
  assert.deepEqual(discards.map((d) => d.topic), ["a"]);
  assert.equal(assembler.accept(two[1])?.id, "e2");
  assembler.accept(one[0]);
  assembler.interrupt(false);
  assert.equal(discards.length, 1);
  assert.equal(assembler.discarded, 2);
});

test("a set larger than maxEventBytes is dropped as soon as it grows past it, holding no more", () => {
  const text = encodeEnvelope({ topic: "a", data: JSON.stringify("z".repeat(30_000)), id: "e1" });
  const { assembler, discards } = collect(20_000);
  for (const p of splitEnvelope(text, "e1", "a", 7900)) {
    assert.equal(assembler.accept(p), undefined);
    assert.ok(assembler.heldBytes <= 20_000);
  }
  assert.equal(discards.length, 1, "one report per set, not one per fragment");
  assert.equal(discards[0].topic, "a");
  assert.match(discards[0].reason, /larger than maxEventBytes \(20000 bytes\)/);
  assert.equal(assembler.discarded, 1);
});

test("maxEventBytes counts UTF-8 bytes, not characters, on the receiving side too", () => {
  // 9000 euro signs: 9000 characters, 27 000 bytes.
  const text = encodeEnvelope({ topic: "a", data: JSON.stringify("€".repeat(9_000)), id: "e1" });
  const small = collect(20_000);
  for (const p of splitEnvelope(text, "e1", "a", 7900)) small.assembler.accept(p);
  assert.equal(small.discards.length, 1);
  assert.equal(small.assembler.completed, 0);
  const large = collect(30_000);
  let out;
  for (const p of splitEnvelope(text, "e1", "a", 7900)) {
    out = large.assembler.accept(p);
    if (!out) assert.ok(large.assembler.heldBytes > 0);
  }
  assert.equal(out?.text, text);
});

test("malformed fragments are dropped, never thrown on", () => {
  const { assembler, discards } = collect();
  for (
    const payload of [
      "",
      "no header",
      "a 0 1 t\nx",
      "b 1 1 t\nx",
      "c 0 2\nx",
      "d -1 2 t\nx",
      "e 0 2 t\n",
      "f x 2 t\ny",
      "g 0 99999999999 t\ny",
    ]
  ) {
    assert.equal(assembler.accept(payload), undefined, payload);
  }
  assert.equal(discards.length, 9, "one report per bad set");
  assert.equal(assembler.heldBytes, 0);
});
