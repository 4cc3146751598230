/**
 * What a hostile-input probe found: records that throw, odd label values,
 * limits and messages, each checked through the public API and the scrape.
 */
import assert from "node:assert/strict";
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  Summary,
} from "@edgemetrics/edgemetrics";

Deno.test("A record that throws creates no series (Counter, Gauge, Histogram, Summary)", async (t) => {
  const registry = new Registry();
  const labelNames = ["route"] as const;
  const counter = new Counter({
    name: "c_total",
    help: "C.",
    labelNames,
    registry,
  });
  const gauge = new Gauge({ name: "g", help: "G.", labelNames, registry });
  const histogram = new Histogram({
    name: "h",
    help: "H.",
    labelNames,
    registry,
  });
  const summary = new Summary({ name: "s", help: "S.", labelNames, registry });
  const bad: [string, () => void, ErrorConstructor][] = [
    [
      "Counter.inc(labels, -1)",
      () => counter.inc({ route: "a" }, -1),
      RangeError,
    ],
    [
      'Counter.inc(labels, "5")',
      () => counter.inc({ route: "b" }, "5" as never),
      TypeError,
    ],
    [
      'Gauge.inc(labels, "5")',
      () => gauge.inc({ route: "c" }, "5" as never),
      TypeError,
    ],
    [
      'Gauge.dec(labels, "5")',
      () => gauge.dec({ route: "d" }, "5" as never),
      TypeError,
    ],
    [
      'Gauge.set(labels, "5")',
      () => gauge.set({ route: "e" }, "5" as never),
      TypeError,
    ],
    [
      'Histogram.observe(labels, "1")',
      () => histogram.observe({ route: "f" }, "1" as never),
      TypeError,
    ],
    [
      'Summary.observe(labels, "1")',
      () => summary.observe({ route: "g" }, "1" as never),
      TypeError,
    ],
  ];
  for (const [name, record, type] of bad) {
    await t.step(name, () => assert.throws(record, type));
  }
  assert.equal(
    await registry.metrics(),
    [
      "# HELP c_total C.",
      "# TYPE c_total counter",
      "# HELP g G.",
      "# TYPE g gauge",
      "# HELP h H.",
      "# TYPE h histogram",
      "# HELP s S.",
      "# TYPE s summary",
      "",
    ].join("\n"),
  );
});

Deno.test("Counter keys values that differ only in lone surrogates to one series, with and without String.prototype.toWellFormed", async (t) => {
  const run = async () => {
    const registry = new Registry();
    const c = new Counter({
      name: "lone_total",
      help: "L.",
      labelNames: ["v", "w"] as const,
      registry,
    });
    const high = JSON.parse('"a\\ud800"') as string;
    const low = JSON.parse('"a\\udc00"') as string;
    c.inc({ v: high, w: "x" });
    c.inc({ v: low, w: "x" });
    c.labels("a\ufffd", "x").inc();
    c.labels(high, "x").inc(); // bound child of the same series
    c.inc({ v: "a\ud83d\ude00", w: "x" }); // a well-formed pair stays itself
    assert.equal(
      await registry.metrics(),
      [
        "# HELP lone_total L.",
        "# TYPE lone_total counter",
        'lone_total{v="a\ufffd",w="x"} 4',
        'lone_total{v="a\ud83d\ude00",w="x"} 1',
        "",
      ].join("\n"),
    );
    c.remove(low, "x");
    assert.equal(
      await registry.metrics(),
      [
        "# HELP lone_total L.",
        "# TYPE lone_total counter",
        'lone_total{v="a\ud83d\ude00",w="x"} 1',
        "",
      ].join("\n"),
    );
  };
  await t.step("native toWellFormed", run);
  await t.step("fallback", async () => {
    const proto = String.prototype as { toWellFormed?: unknown };
    const native = proto.toWellFormed;
    delete proto.toWellFormed;
    try {
      await run();
    } finally {
      proto.toWellFormed = native;
    }
  });
});
