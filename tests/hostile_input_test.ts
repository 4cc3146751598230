/**
 * What a hostile-input probe found: records that throw, odd label values,
 * limits and messages, each checked through the public API and the scrape.
 */
import assert from "node:assert/strict";
import {
  Counter,
  encodeOpenMetrics,
  Gauge,
  Histogram,
  Registry,
  Summary,
} from "@edgemetrics/edgemetrics";
import { captureWarnings } from "./_warnings.ts";
import { promtoolCheckMetrics } from "./_peers.ts";

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

Deno.test("Declarations refuse names past 255 characters, more than 1,000 buckets and more than 60 ageBuckets", async (t) => {
  const cases: [string, () => unknown, string][] = [
    [
      "a 256-character name",
      () => new Counter({ name: "a".repeat(256), help: "N.", registry: null }),
      `Cannot declare metric "${
        "a".repeat(40)
      }…": a metric name must be at most 255 characters (the OpenTelemetry limit), got 256`,
    ],
    [
      "a 1,000,000-character name",
      () => new Gauge({ name: "b".repeat(1e6), help: "N.", registry: null }),
      `Cannot declare metric "${
        "b".repeat(40)
      }…": a metric name must be at most 255 characters (the OpenTelemetry limit), got 1000000`,
    ],
    [
      "1,001 buckets",
      () =>
        new Histogram({
          name: "wide",
          help: "W.",
          buckets: Array.from({ length: 1001 }, (_, i) => i),
          registry: null,
        }),
      'Cannot declare metric "wide": buckets must hold at most 1000 bounds (each series keeps a count per bucket), got 1001',
    ],
    [
      "100,000 buckets",
      () =>
        new Histogram({
          name: "wider",
          help: "W.",
          buckets: Array.from({ length: 100_000 }, (_, i) => i),
          registry: null,
        }),
      'Cannot declare metric "wider": buckets must hold at most 1000 bounds (each series keeps a count per bucket), got 100000',
    ],
    [
      "ageBuckets: 1e8",
      () =>
        new Summary({
          name: "aged",
          help: "A.",
          percentiles: [0.5],
          ageBuckets: 1e8,
          registry: null,
        }),
      'Cannot declare summary "aged": ageBuckets must be an integer from 1 to 60, got 100000000',
    ],
  ];
  for (const [name, declare, message] of cases) {
    await t.step(name, () => assert.throws(declare, new RangeError(message)));
  }
  await t.step("the limits themselves are accepted", () => {
    new Counter({ name: "c".repeat(255), help: "N.", registry: null });
    new Histogram({
      name: "thousand",
      help: "T.",
      buckets: Array.from({ length: 1000 }, (_, i) => i),
      registry: null,
    }).observe(999);
    new Summary({
      name: "sixty",
      help: "S.",
      percentiles: [0.5],
      ageBuckets: 60,
      registry: null,
    }).observe(1);
  });
});

Deno.test("Counter.inc(new Number(3)) throws a TypeError instead of reading the object as a label set", async (t) => {
  const plain = new Counter({
    name: "boxed_total",
    help: "B.",
    registry: null,
  });
  const labeled = new Counter({
    name: "boxed_labeled_total",
    help: "B.",
    labelNames: ["k"] as const,
    registry: null,
  });
  const gauge = new Gauge({ name: "boxed_gauge", help: "B.", registry: null });
  const cases: [string, () => void, string][] = [
    [
      "unlabeled counter",
      () => plain.inc(new Number(3) as never),
      'Cannot record to metric "boxed_total": labels must be a plain object, got a Number object (3); pass an amount or a value as a primitive: Number(x) unwraps it',
    ],
    [
      "labeled counter",
      () => labeled.inc(new Number(3) as never),
      'Cannot record to metric "boxed_labeled_total": labels must be a plain object, got a Number object (3); pass an amount or a value as a primitive: Number(x) unwraps it',
    ],
    [
      "histogram observe",
      () =>
        new Histogram({ name: "boxed_hist", help: "B.", registry: null })
          .observe(new Number(0.5) as never),
      'Cannot record to metric "boxed_hist": labels must be a plain object, got a Number object (0.5); pass an amount or a value as a primitive: Number(x) unwraps it',
    ],
    [
      "gauge set",
      () => gauge.set(new Number(7) as never),
      'Cannot record to metric "boxed_gauge": labels must be a plain object, got a Number object (7); pass an amount or a value as a primitive: Number(x) unwraps it',
    ],
  ];
  for (const [name, record, message] of cases) {
    await t.step(name, () => assert.throws(record, new TypeError(message)));
  }
  assert.equal((await plain.collect()).points[0]?.value, 0);
  assert.equal((await gauge.collect()).points[0]?.value, 0);
});

Deno.test("Non-finite increments and observations are ignored with one warning per metric, on every instrument", async () => {
  const registry = new Registry();
  const counter = new Counter({
    name: "nf_total",
    help: "C.",
    labelNames: ["k"] as const,
    registry,
  });
  const gauge = new Gauge({
    name: "nf_gauge",
    help: "G.",
    labelNames: ["k"] as const,
    registry,
  });
  const histogram = new Histogram({
    name: "nf_hist",
    help: "H.",
    buckets: [1],
    labelNames: ["k"] as const,
    registry,
  });
  const summary = new Summary({
    name: "nf_sum",
    help: "S.",
    labelNames: ["k"] as const,
    registry,
  });
  const warnings = captureWarnings(() => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      gauge.inc({ k: "a" }, bad);
      gauge.dec({ k: "a" }, bad);
      gauge.labels("a").inc(bad);
      gauge.labels("a").dec(bad);
      histogram.observe({ k: "a" }, bad);
      histogram.labels("a").observe(bad);
      summary.observe({ k: "a" }, bad);
      summary.labels("a").observe(bad);
    }
    for (const bad of [NaN, Infinity]) {
      counter.inc({ k: "a" }, bad);
      counter.labels("a").inc(bad);
    }
  });
  assert.deepEqual(
    warnings.map((w) => w.replace(/, got .*/, "")),
    [
      'edgemetrics: ignored a non-finite increment of gauge "nf_gauge"',
      'edgemetrics: ignored a non-finite observation of histogram "nf_hist"',
      'edgemetrics: ignored a non-finite observation of summary "nf_sum"',
      'edgemetrics: ignored a non-finite increment of counter "nf_total"',
    ],
  );
  // Nothing entered a value, and no series was created by a skipped record
  // before its bound child made it.
  assert.equal(
    await registry.metrics(),
    [
      "# HELP nf_total C.",
      "# TYPE nf_total counter",
      'nf_total{k="a"} 0',
      "# HELP nf_gauge G.",
      "# TYPE nf_gauge gauge",
      'nf_gauge{k="a"} 0',
      "# HELP nf_hist H.",
      "# TYPE nf_hist histogram",
      'nf_hist_bucket{k="a",le="1.0"} 0',
      'nf_hist_bucket{k="a",le="+Inf"} 0',
      'nf_hist_sum{k="a"} 0',
      'nf_hist_count{k="a"} 0',
      "# HELP nf_sum S.",
      "# TYPE nf_sum summary",
      'nf_sum_sum{k="a"} 0',
      'nf_sum_count{k="a"} 0',
      "",
    ].join("\n"),
  );
  // set() is not an accumulation: it keeps what it is told.
  gauge.set({ k: "a" }, NaN);
  assert.match(await registry.metrics(), /^nf_gauge\{k="a"\} NaN$/m);
});

Deno.test("Messages name the metric, the rule and the value for bigint, symbol and function values", async (t) => {
  const counter = new Counter({
    name: "odd_total",
    help: "O.",
    labelNames: ["k"] as const,
    registry: null,
  });
  function handler() {}
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "a bigint label value",
      () => counter.inc({ k: 1n as never }),
      TypeError,
      'Cannot record to metric "odd_total": label "k" must be a string or number, got 1n',
    ],
    [
      "a bigint positional label value",
      () => counter.labels(2n as never),
      TypeError,
      'Cannot record to metric "odd_total": label "k" must be a string or number, got 2n',
    ],
    [
      "a symbol label value",
      () => counter.inc({ k: Symbol("route") as never }),
      TypeError,
      'Cannot record to metric "odd_total": label "k" must be a string or number, got Symbol(route)',
    ],
    [
      "a function label value",
      () => counter.inc({ k: handler as never }),
      TypeError,
      'Cannot record to metric "odd_total": label "k" must be a string or number, got function handler',
    ],
    [
      "maxSeries: 1n on an instrument",
      () =>
        new Counter({
          name: "big_total",
          help: "B.",
          maxSeries: 1n as never,
          registry: null,
        }),
      RangeError,
      'Cannot declare metric "big_total": maxSeries must be a whole number of at least 1 or Infinity, got 1n',
    ],
    [
      "maxSeries: 1n on a registry",
      () => new Registry({ maxSeries: 1n as never }),
      RangeError,
      "Cannot create registry: maxSeries must be a whole number of at least 1 or Infinity, got 1n",
    ],
    [
      "help holding a bigint",
      () => new Gauge({ name: "h", help: { n: 1n } as never, registry: null }),
      TypeError,
      'Cannot declare metric "h": help must be a string, got an unprintable object',
    ],
  ];
  for (const [name, act, type, message] of cases) {
    await t.step(name, () => assert.throws(act, new type(message)));
  }
});

Deno.test("Whitespace-only HELP is refused at declaration and left out by the encoders; promtool agrees", async () => {
  for (const help of [" ", "\t", " \n "]) {
    assert.throws(
      () => new Counter({ name: "blank_total", help, registry: null }),
      new TypeError(
        `Cannot declare metric "blank_total": help must be empty or say what the metric measures, got ${
          JSON.stringify(help)
        } (whitespace only)`,
      ),
    );
  }
  // A hand-made collector can still carry one: it is written as no HELP.
  const registry = new Registry();
  new Gauge({ name: "said", help: "Says what it measures.", registry }).set(1);
  registry.register({
    name: "blank",
    type: "gauge",
    collect: () => ({
      type: "gauge",
      name: "blank",
      help: " \t",
      aggregation: "sum",
      points: [{ labels: {}, value: 2 }],
    }),
  });
  const text = await registry.metrics();
  assert.equal(
    text,
    "# HELP said Says what it measures.\n# TYPE said gauge\nsaid 1\n" +
      "# TYPE blank gauge\nblank 2\n",
  );
  const om = encodeOpenMetrics(await registry.collect());
  assert.match(om, /^# TYPE blank gauge\nblank 2\n# EOF\n$/m);
  assert.doesNotMatch(om, /# HELP blank/);
  // promtool: the declared metric passes; the blank one draws only the lint
  // every metric without HELP draws, never a parse error.
  const { code, output } = await promtoolCheckMetrics(text);
  assert.equal(output.trim(), "blank no help text");
  assert.equal(code, 3);
  const said = await promtoolCheckMetrics(
    "# HELP said Says what it measures.\n# TYPE said gauge\nsaid 1\n",
  );
  assert.deepEqual(said, { code: 0, output: "" });
});
