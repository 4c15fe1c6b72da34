import assert from "node:assert/strict";
import { test } from "../helpers/test.ts";
import { mergeMetricTexts } from "../../src/http/metrics_merge.ts";
import { metricsText } from "../../src/http/metrics.ts";
import { Dispatcher } from "../../src/dispatcher/dispatcher.ts";
import { MemoryBus } from "../../src/bus/memory.ts";

test("mergeMetricTexts writes each family once, HELP and TYPE first, then every text's samples in order", () => {
  const one = '# HELP a A.\n# TYPE a gauge\na{worker="1"} 1\n# HELP h H.\n# TYPE h histogram\n' +
    'h_bucket{worker="1",le="1"} 2\nh_count{worker="1"} 2\n';
  const two = '# HELP a A.\n# TYPE a gauge\na{worker="2"} 5\n# HELP h H.\n# TYPE h histogram\n' +
    'h_bucket{worker="2",le="1"} 3\nh_count{worker="2"} 3\n';
  assert.equal(
    mergeMetricTexts([one, two]),
    '# HELP a A.\n# TYPE a gauge\na{worker="1"} 1\na{worker="2"} 5\n' +
      '# HELP h H.\n# TYPE h histogram\nh_bucket{worker="1",le="1"} 2\nh_count{worker="1"} 2\n' +
      'h_bucket{worker="2",le="1"} 3\nh_count{worker="2"} 3\n',
  );
  assert.equal(mergeMetricTexts([one]), one, "one text is unchanged");
  assert.equal(mergeMetricTexts([]), "");
});

test("two workers' real expositions merge into one whose families are introduced once", () => {
  const texts = [1, 2].map((index) => {
    const dispatcher = new Dispatcher({
      ringCapacity: 8,
      clientBuffer: 4,
      keepAlive: 15_000,
      topicIdleTimeout: 60_000,
    });
    try {
      return metricsText({
        dispatcher,
        bus: new MemoryBus().status(),
        draining: false,
        worker: { index, count: 2, pid: 100 + index },
      });
    } finally {
      dispatcher.close();
    }
  });
  const merged = mergeMetricTexts(texts);
  const types = merged.match(/^# TYPE \S+/gm) ?? [];
  assert.equal(new Set(types).size, types.length, "no family twice");
  assert.equal(types.length, (texts[0].match(/^# TYPE /gm) ?? []).length);
  for (const index of [1, 2]) assert.match(merged, new RegExp(`^ssepg_subscribers\\{worker="${index}"\\} 0$`, "m"));
  // Every sample of a family sits together after its TYPE line.
  const lines = merged.trim().split("\n");
  let family = "";
  for (const line of lines) {
    const type = /^# TYPE (\S+)/.exec(line);
    if (type) family = type[1];
    else if (!line.startsWith("#")) assert.ok(line.startsWith(family), `${line} under ${family}`);
  }
});
