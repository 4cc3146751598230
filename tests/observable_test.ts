import assert from "node:assert/strict";
import {
  type Clock,
  Counter,
  Gauge,
  Histogram,
  ObservableCounter,
  ObservableGauge,
  Registry,
} from "@edgemetrics/edgemetrics";

function manualClock(t = 0): Clock & { t: number } {
  const clock = { t, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

Deno.test("ObservableCounter reports the totals its callback observes, named without _total", async () => {
  const clock = manualClock(500);
  const registry = new Registry({ clock });
  const totals = { hit: 10, miss: 3 };
  const counter = new ObservableCounter({
    name: "cache_lookups_total",
    help: "Lookups.",
    labelNames: ["outcome"] as const,
    registry,
    observe(result) {
      for (const [outcome, total] of Object.entries(totals)) {
        result.observe(total, { outcome });
      }
    },
  });
  assert.equal(counter.name, "cache_lookups");
  assert.deepEqual(await registry.collect(), [{
    type: "counter",
    name: "cache_lookups",
    help: "Lookups.",
    points: [
      { labels: { outcome: "hit" }, value: 10, created: 500 },
      { labels: { outcome: "miss" }, value: 3, created: 500 },
    ],
  }]);
  totals.hit = 12;
  clock.t = 600;
  assert.equal(
    await registry.metrics(),
    "# HELP cache_lookups_total Lookups.\n# TYPE cache_lookups_total counter\n" +
      'cache_lookups_total{outcome="hit"} 12\n' +
      'cache_lookups_total{outcome="miss"} 3\n',
  );
});

Deno.test("ObservableCounter forgets a series its callback stops reporting", async () => {
  const clock = manualClock(1);
  let outcomes = ["a", "b"];
  const counter = new ObservableCounter({
    name: "come_and_go_total",
    help: "X.",
    labelNames: ["k"] as const,
    registry: null,
    clock,
    observe(result) {
      for (const k of outcomes) result.observe(1, { k });
    },
  });
  await counter.collect();
  outcomes = ["b"];
  assert.deepEqual((await counter.collect()).points, [
    { labels: { k: "b" }, value: 1, created: 1 },
  ]);
  clock.t = 2;
  outcomes = ["b", "a"];
  assert.deepEqual((await counter.collect()).points, [
    { labels: { k: "b" }, value: 1, created: 1 },
    { labels: { k: "a" }, value: 1, created: 2 },
  ]);
});

Deno.test("ObservableCounter leaves out a negative or NaN total with one warning", async () => {
  const counter = new ObservableCounter({
    name: "negative_observed_total",
    help: "X.",
    labelNames: ["k"] as const,
    registry: null,
    clock: manualClock(0),
    observe(result) {
      result.observe(-1, { k: "neg" });
      result.observe(NaN, { k: "nan" });
      result.observe(2, { k: "ok" });
    },
  });
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    assert.deepEqual((await counter.collect()).points, [
      { labels: { k: "ok" }, value: 2, created: 0 },
    ]);
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings, [
    'edgemetrics: ignored a value of observable counter "negative_observed_total" that is not a finite non-negative number: -1',
  ]);
});

Deno.test("ObservableGauge reports sync and async observations, last value per label set wins", async () => {
  const registry = new Registry();
  new ObservableGauge({
    name: "pool_connections",
    help: "Open connections.",
    labelNames: ["pool"] as const,
    aggregation: "max",
    registry,
    async observe(result) {
      result.observe(1, { pool: "db" });
      await Promise.resolve();
      result.observe(NaN, { pool: "cache" });
      result.observe(4, { pool: "db" });
    },
  });
  new ObservableGauge({
    name: "temperature_celsius",
    help: "Temperature.",
    unit: "celsius",
    registry,
    observe: (result) => result.observe(-Infinity),
  });
  assert.deepEqual(await registry.collect(), [
    {
      type: "gauge",
      name: "pool_connections",
      help: "Open connections.",
      aggregation: "max",
      points: [
        { labels: { pool: "db" }, value: 4 },
        { labels: { pool: "cache" }, value: NaN },
      ],
    },
    {
      type: "gauge",
      name: "temperature_celsius",
      help: "Temperature.",
      unit: "celsius",
      aggregation: "sum",
      points: [{ labels: {}, value: -Infinity }],
    },
  ]);
});

Deno.test("ObservableGauge folds label sets past maxSeries into the overflow series", async () => {
  const registry = new Registry({ clock: manualClock(9) });
  let count = 5;
  const gauge = new ObservableGauge({
    name: "many_observed",
    help: "X.",
    labelNames: ["id"] as const,
    maxSeries: 2,
    registry,
    observe(result) {
      for (let id = 0; id < count; id++) result.observe(1, { id });
    },
  });
  const families = await registry.collect();
  assert.deepEqual(families, [
    {
      type: "gauge",
      name: "many_observed",
      help: "X.",
      aggregation: "sum",
      points: [
        { labels: { id: "0" }, value: 1 },
        { labels: { id: "1" }, value: 1 },
        { labels: { otel_metric_overflow: "true" }, value: 3 },
      ],
    },
    {
      type: "counter",
      name: "edgemetrics_dropped_label_sets",
      help:
        "Records folded into a metric's overflow series because it reached its series limit.",
      points: [{
        labels: { metric: "many_observed" },
        value: 3,
        created: 9,
      }],
    },
  ]);
  assert.equal(gauge.droppedLabelSets, 3);
  count = 2;
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { id: "0" }, value: 1 },
    { labels: { id: "1" }, value: 1 },
  ]);
});

Deno.test("observe callbacks reject bad records with exact messages", async (t) => {
  const cases: [string, () => unknown, string][] = [
    [
      "a non-number value",
      () =>
        new ObservableGauge({
          name: "obs_bad_value",
          help: "X.",
          registry: null,
          observe: (result) => result.observe("1" as unknown as number),
        }).collect(),
      'Cannot observe gauge "obs_bad_value": the value must be a number, got "1"',
    ],
    [
      "labels missing",
      () =>
        new ObservableCounter({
          name: "obs_missing_total",
          help: "X.",
          labelNames: ["k"],
          registry: null,
          observe: (result) => result.observe(1),
        }).collect(),
      'Cannot record to metric "obs_missing_total": labels "k" are required',
    ],
    [
      "an undeclared label",
      () =>
        new ObservableGauge({
          name: "obs_extra",
          help: "X.",
          labelNames: ["k"],
          registry: null,
          observe: (result) => result.observe(1, { k: "a", j: "b" } as never),
        }).collect(),
      'Cannot record to metric "obs_extra": label "j" is not declared (declared: k)',
    ],
    [
      "a counter name that is only the _total suffix",
      () =>
        new ObservableCounter({
          name: "_total",
          help: "X.",
          registry: null,
          observe: () => {},
        }),
      'Cannot declare counter "_total": the name must not be empty once the _total suffix is removed, got ""',
    ],
    [
      "no observe callback",
      () =>
        new ObservableGauge({
          name: "obs_none",
          help: "X.",
          registry: null,
        } as never),
      'Cannot declare metric "obs_none": observe must be a function, got undefined',
    ],
  ];
  for (const [what, act, message] of cases) {
    await t.step(what, () => {
      assert.throws(act, (error: unknown) => {
        assert.ok(
          error instanceof TypeError,
          `expected TypeError, got ${error}`,
        );
        assert.equal(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("a failing callback or hook is reported to onError and the other metrics are served", async (t) => {
  type Make = (
    name: string,
    registry: Registry,
    callback: () => void | Promise<void>,
  ) => unknown;
  const kinds: [string, Make][] = [
    [
      "ObservableCounter",
      (name, registry, callback) =>
        new ObservableCounter({
          name,
          help: "X.",
          registry,
          observe: callback,
        }),
    ],
    [
      "ObservableGauge",
      (name, registry, callback) =>
        new ObservableGauge({ name, help: "X.", registry, observe: callback }),
    ],
    [
      "Counter collect hook",
      (name, registry, callback) =>
        new Counter({ name, help: "X.", registry, collect: callback }),
    ],
    [
      "Gauge collect hook",
      (name, registry, callback) =>
        new Gauge({ name, help: "X.", registry, collect: callback }),
    ],
    [
      "Histogram collect hook",
      (name, registry, callback) =>
        new Histogram({
          name,
          help: "X.",
          buckets: [1],
          registry,
          collect: callback,
        }),
    ],
  ];
  const failures: [string, () => void | Promise<void>, string][] = [
    ["throws", () => {
      throw new Error("boom");
    }, "boom"],
    ["rejects", () => Promise.reject(new Error("later boom")), "later boom"],
    [
      "takes too long",
      () => new Promise<void>(() => {}),
      'Cannot collect metric "broken": collect took longer than 20 ms',
    ],
  ];
  for (const [kind, make] of kinds) {
    for (const [how, callback, message] of failures) {
      await t.step(`${kind} that ${how}`, async () => {
        const errors: [string, string][] = [];
        const registry = new Registry({
          collectTimeoutMs: 20,
          onError: (error, metric) =>
            errors.push([metric, (error as Error).message]),
        });
        new Gauge({ name: "healthy_before", help: "X.", registry }).set(1);
        make("broken", registry, callback);
        new Gauge({ name: "healthy_after", help: "X.", registry }).set(2);
        assert.equal(
          await registry.metrics(),
          "# HELP healthy_before X.\n# TYPE healthy_before gauge\nhealthy_before 1\n" +
            "# HELP healthy_after X.\n# TYPE healthy_after gauge\nhealthy_after 2\n",
        );
        assert.deepEqual(errors, [["broken", message]]);
      });
    }
  }
});

Deno.test("ObservableGauge still forgets series after a collection the registry abandoned for its timeout", async () => {
  const errors: string[] = [];
  const registry = new Registry({
    collectTimeoutMs: 50,
    onError: (error) => errors.push((error as Error).message),
  });
  // The repro: hangs once (a promise that never settles), then
  // reports pool a, then b, then c, then nothing.
  const reports: (string | undefined)[] = [undefined, "a", "b", "c"];
  let observeLate: (() => void) | undefined;
  let settle: (() => void) | undefined;
  new ObservableGauge({
    name: "pool_size",
    help: "X.",
    labelNames: ["pool"] as const,
    maxSeries: 2,
    registry,
    async observe(result) {
      if (reports.length === 0) return;
      const pool = reports.shift();
      if (pool !== undefined) return result.observe(1, { pool });
      observeLate = () => result.observe(5, { pool: "late" });
      await new Promise<void>((resolve) => settle = resolve);
    },
  });
  const scrapes: string[] = [];
  for (let i = 0; i < 5; i++) {
    const lines = (await registry.metrics()).split("\n");
    scrapes.push(lines.filter((line) => /^pool_size\b/.test(line)).join("; "));
    // The abandoned callback observes late, then settles: neither counts.
    if (i === 1) observeLate!();
    if (i === 2) settle!();
  }
  assert.deepEqual(scrapes, [
    "",
    'pool_size{pool="a"} 1',
    'pool_size{pool="b"} 1',
    'pool_size{pool="c"} 1',
    "",
  ]);
  assert.deepEqual(errors, [
    'Cannot collect metric "pool_size": collect took longer than 50 ms',
  ]);
});
