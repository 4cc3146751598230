import assert from "node:assert/strict";
import {
  type Clock,
  type Collector,
  Counter,
  defaultRegistry,
  DuplicateMetricError,
  Gauge,
  Histogram,
  type MetricFamily,
  ObservableCounter,
  ObservableGauge,
  PROMETHEUS_TEXT_CONTENT_TYPE,
  Registry,
} from "@edgemetrics/edgemetrics";

function manualClock(t = 0): Clock & { t: number } {
  const clock = { t, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

Deno.test("Registry applies its prefix and default labels at collection; a series' own label wins", async () => {
  const registry = new Registry({
    prefix: "shop_",
    defaultLabels: { region: "eu", service: "api" },
    clock: manualClock(0),
  });
  const orders = new Counter({
    name: "orders_total",
    help: "Orders.",
    labelNames: ["region"] as const,
    registry,
  });
  orders.inc({ region: "us" });
  assert.equal(orders.name, "orders");
  assert.equal(
    await registry.metrics(),
    "# HELP shop_orders_total Orders.\n# TYPE shop_orders_total counter\n" +
      'shop_orders_total{region="us",service="api"} 1\n',
  );
  assert.equal(registry.get("orders_total"), orders);
  assert.equal(registry.get("shop_orders_total"), undefined);
});

Deno.test("Registry.collect() with default labels hands out the same frozen label object per series at every collection, until the series is removed", async () => {
  const registry = new Registry({
    prefix: "shop_",
    defaultLabels: { region: "eu" },
  });
  const orders = new Counter({
    name: "orders_total",
    help: "Orders.",
    labelNames: ["status"] as const,
    registry,
  });
  orders.inc({ status: "ok" });
  orders.inc({ status: "failed" });
  const first = await registry.collect();
  orders.inc({ status: "ok" });
  const second = await registry.collect();
  assert.equal(first[0]!.name, "shop_orders");
  assert.equal(second[0]!.name, first[0]!.name);
  const labels = first[0]!.points.map((point) => point.labels);
  assert.deepEqual(labels, [
    { region: "eu", status: "ok" },
    { region: "eu", status: "failed" },
  ]);
  assert.ok(labels.every((l) => Object.isFrozen(l)));
  assert.equal(second[0]!.points[0]!.labels, labels[0]);
  assert.equal(second[0]!.points[1]!.labels, labels[1]);
  assert.deepEqual(
    second[0]!.points.map((point) => (point as { value: number }).value),
    [2, 1],
  );
  orders.remove({ status: "ok" });
  orders.inc({ status: "ok" });
  const third = await registry.collect();
  const again = third[0]!.points.find((p) => p.labels.status === "ok")!;
  assert.notEqual(again.labels, labels[0]);
  assert.deepEqual(again.labels, { region: "eu", status: "ok" });
  assert.equal(
    await registry.metrics(),
    "# HELP shop_orders_total Orders.\n# TYPE shop_orders_total counter\n" +
      'shop_orders_total{region="eu",status="failed"} 1\n' +
      'shop_orders_total{region="eu",status="ok"} 1\n',
  );
});

Deno.test("Registry.collect() with default labels decorates a collector's unfrozen labels afresh each time (nothing stale)", async () => {
  const registry = new Registry({ defaultLabels: { region: "eu" } });
  const labels: Record<string, string> = { queue: "a" };
  registry.register({
    name: "depth",
    type: "gauge",
    collect: () => ({
      type: "gauge",
      name: "depth",
      help: "Depth.",
      aggregation: "sum",
      points: [{ labels, value: 1 }],
    }),
  });
  assert.match(await registry.metrics(), /^depth\{region="eu",queue="a"\} 1$/m);
  labels.queue = "b";
  assert.match(await registry.metrics(), /^depth\{region="eu",queue="b"\} 1$/m);
});

Deno.test("Registry.collect() returns families in registration order, filtered by prefixed name and kind", async () => {
  const registry = new Registry({ prefix: "app_", clock: manualClock(0) });
  new Gauge({ name: "b_gauge", help: "B.", registry }).set(1);
  new Counter({ name: "a_total", help: "A.", registry }).inc();
  new Histogram({ name: "c_seconds", help: "C.", buckets: [1], registry });
  assert.deepEqual(
    (await registry.collect()).map((f) => [f.name, f.type]),
    [["app_b_gauge", "gauge"], ["app_a", "counter"], [
      "app_c_seconds",
      "histogram",
    ]],
  );
  const seen: [string, string][] = [];
  const filtered = await registry.collect((name, type) => {
    seen.push([name, type]);
    return type !== "gauge";
  });
  assert.deepEqual(filtered.map((f) => f.name), ["app_a", "app_c_seconds"]);
  assert.deepEqual(seen, [
    ["app_b_gauge", "gauge"],
    ["app_a", "counter"],
    ["app_c_seconds", "histogram"],
  ]);
});

Deno.test("Registry.register() throws DuplicateMetricError naming the metric as declared, and the clash", async (t) => {
  const cases: [
    string,
    (r: Registry) => unknown,
    (r: Registry) => unknown,
    string,
  ][] = [
    [
      "the same name twice",
      (registry) => new Gauge({ name: "dup", help: "X.", registry }),
      (registry) => new Gauge({ name: "dup", help: "X.", registry }),
      'Cannot register metric "dup": a metric with this name already exists',
    ],
    [
      "a counter c_total twice",
      (registry) => new Counter({ name: "c_total", help: "X.", registry }),
      (registry) => new Counter({ name: "c_total", help: "X.", registry }),
      'Cannot register metric "c_total": a metric with this name already exists',
    ],
    [
      "an observable counter c_total after a counter c_total",
      (registry) => new Counter({ name: "c_total", help: "X.", registry }),
      (registry) =>
        new ObservableCounter({
          name: "c_total",
          help: "X.",
          registry,
          observe: () => {},
        }),
      'Cannot register metric "c_total": a metric with this name already exists',
    ],
    [
      "a counter x_total, then a gauge x (both families are x)",
      (registry) => new Counter({ name: "x_total", help: "X.", registry }),
      (registry) => new Gauge({ name: "x", help: "X.", registry }),
      'Cannot register metric "x": the name "x" is already taken by counter "x_total"',
    ],
    [
      "a counter x, then a counter x_total",
      (registry) => new Counter({ name: "x", help: "X.", registry }),
      (registry) => new Counter({ name: "x_total", help: "X.", registry }),
      'Cannot register metric "x_total": the name "x" is already taken by counter "x"',
    ],
    [
      "a counter x_total, then a gauge x_created",
      (registry) => new Counter({ name: "x_total", help: "X.", registry }),
      (registry) => new Gauge({ name: "x_created", help: "X.", registry }),
      'Cannot register metric "x_created": the name "x_created" is already taken by counter "x_total"',
    ],
    [
      "a counter x, then a gauge x_total (sample x_total)",
      (registry) => new Counter({ name: "x", help: "X.", registry }),
      (registry) => new Gauge({ name: "x_total", help: "X.", registry }),
      'Cannot register metric "x_total": the name "x_total" is already taken by counter "x"',
    ],
    [
      "a histogram lat, then a gauge lat_bucket",
      (registry) =>
        new Histogram({ name: "lat", help: "X.", buckets: [1], registry }),
      (registry) => new Gauge({ name: "lat_bucket", help: "X.", registry }),
      'Cannot register metric "lat_bucket": the name "lat_bucket" is already taken by histogram "lat"',
    ],
    [
      "a gauge size_sum, then a histogram size",
      (registry) => new Gauge({ name: "size_sum", help: "X.", registry }),
      (registry) =>
        new Histogram({ name: "size", help: "X.", buckets: [1], registry }),
      'Cannot register metric "size": the name "size_sum" is already taken by gauge "size_sum"',
    ],
    [
      "gauges size_count and size_sum, then a histogram size (the first clash in sample order)",
      (registry) => {
        new Gauge({ name: "size_count", help: "X.", registry });
        return new Gauge({ name: "size_sum", help: "X.", registry });
      },
      (registry) =>
        new Histogram({ name: "size", help: "X.", buckets: [1], registry }),
      'Cannot register metric "size": the name "size_sum" is already taken by gauge "size_sum"',
    ],
  ];
  for (const [what, first, second, message] of cases) {
    await t.step(what, () => {
      const registry = new Registry();
      const existing = first(registry);
      assert.throws(() => second(registry), (error: unknown) => {
        assert.ok(error instanceof DuplicateMetricError);
        assert.equal(error.message, message);
        assert.equal(error.existing, existing);
        return true;
      });
    });
  }
  await t.step("with a prefix", () => {
    const registry = new Registry({ prefix: "p_" });
    new Gauge({ name: "g", help: "X.", registry });
    assert.throws(
      () => new Gauge({ name: "g", help: "X.", registry }),
      {
        name: "DuplicateMetricError",
        message:
          'Cannot register metric "p_g": a metric with this name already exists',
      },
    );
    new Counter({ name: "c_total", help: "X.", registry });
    assert.throws(
      () => new Gauge({ name: "c", help: "X.", registry }),
      {
        name: "DuplicateMetricError",
        message:
          'Cannot register metric "p_c": the name "p_c" is already taken by counter "p_c_total"',
      },
    );
  });
});

Deno.test("Registry refuses the name it keeps for the dropped-label-sets counter", () => {
  const registry = new Registry();
  assert.throws(
    () =>
      new Counter({
        name: "edgemetrics_dropped_label_sets_total",
        help: "X.",
        registry,
      }),
    {
      name: "TypeError",
      message:
        'Cannot register metric "edgemetrics_dropped_label_sets_total": the name "edgemetrics_dropped_label_sets" is kept for the registry\'s counter of dropped label sets',
    },
  );
});

Deno.test("Registry.register() refuses a collector with a bad name or type", () => {
  const registry = new Registry();
  const collect = () => ({
    type: "gauge" as const,
    name: "x",
    help: "",
    aggregation: "sum" as const,
    points: [],
  });
  assert.throws(
    () => registry.register({ name: "bad-name", type: "gauge", collect }),
    {
      name: "TypeError",
      message:
        'Cannot register metric "bad-name": a collector needs a name matching [a-zA-Z_:][a-zA-Z0-9_:]* and a type of counter, gauge, histogram, summary, updowncounter, got type "gauge"',
    },
  );
  assert.throws(
    () => registry.register({ name: "ok", type: "info" as never, collect }),
    {
      name: "TypeError",
      message:
        'Cannot register metric "ok": a collector needs a name matching [a-zA-Z_:][a-zA-Z0-9_:]* and a type of counter, gauge, histogram, summary, updowncounter, got type "info"',
    },
  );
});

Deno.test("Registry.get(), remove() and clear() free names for registration again", async () => {
  const registry = new Registry();
  const jobs = new Counter({ name: "jobs_total", help: "Jobs.", registry });
  const depth = new Gauge({ name: "depth", help: "Depth.", registry });
  assert.equal(registry.get("jobs"), jobs);
  assert.equal(registry.get("jobs_total"), jobs);
  assert.equal(registry.get("depth"), depth);
  assert.equal(registry.get("depth_total"), undefined);
  assert.equal(registry.remove("jobs_total"), true);
  assert.equal(registry.remove("jobs"), false);
  assert.equal(registry.get("jobs"), undefined);
  // every sample name of the removed counter is free again
  new Gauge({ name: "jobs_total", help: "Now a gauge.", registry });
  registry.clear();
  assert.deepEqual(await registry.collect(), []);
  new Gauge({ name: "depth", help: "Again.", registry });
  assert.deepEqual((await registry.collect()).map((f) => f.name), ["depth"]);
});

Deno.test("defaultRegistry is where instruments go without a registry option; null registers nowhere", () => {
  assert.ok(defaultRegistry instanceof Registry);
  const counter = new Counter({
    name: "registry_test_default_total",
    help: "X.",
  });
  try {
    assert.equal(defaultRegistry.get("registry_test_default_total"), counter);
  } finally {
    defaultRegistry.remove("registry_test_default_total");
  }
  new Counter({
    name: "registry_test_nowhere_total",
    help: "X.",
    registry: null,
  });
  assert.equal(defaultRegistry.get("registry_test_nowhere_total"), undefined);
});

Deno.test("Registry.collect() reports a throwing custom collector and serves the rest", async () => {
  const errors: unknown[] = [];
  const registry = new Registry({
    onError: (error, metric) => errors.push([metric, (error as Error).message]),
  });
  const broken: Collector = {
    name: "broken",
    type: "gauge",
    collect: () => {
      throw new Error("no data");
    },
  };
  registry.register(broken);
  new Gauge({ name: "ok", help: "Fine.", registry }).set(1);
  assert.equal(
    await registry.metrics(),
    "# HELP ok Fine.\n# TYPE ok gauge\nok 1\n",
  );
  assert.deepEqual(errors, [["broken", "no data"]]);
});

Deno.test("maxSeries: the registry sets the default, a metric overrides it, Infinity lifts it", async () => {
  const registry = new Registry({ maxSeries: 3, clock: manualClock(5) });
  const limited = new Counter({
    name: "limited_total",
    help: "X.",
    labelNames: ["id"] as const,
    registry,
  });
  const own = new Gauge({
    name: "own_limit",
    help: "X.",
    labelNames: ["id"] as const,
    maxSeries: 1,
    registry,
  });
  const unlimited = new Gauge({
    name: "unlimited",
    help: "X.",
    labelNames: ["id"] as const,
    maxSeries: Infinity,
    registry,
  });
  for (let id = 0; id < 5; id++) {
    limited.inc({ id });
    own.set({ id }, id);
    unlimited.set({ id }, id);
  }
  limited.labels("a").inc(10); // the child of a folded label set records into the overflow
  const families = await registry.collect();
  assert.deepEqual(families.map((f) => [f.name, f.points.length]), [
    ["limited", 4],
    ["own_limit", 2],
    ["unlimited", 5],
    ["edgemetrics_dropped_label_sets", 2],
  ]);
  assert.deepEqual(families[0]?.points.at(-1), {
    labels: { otel_metric_overflow: "true" },
    value: 12,
    created: 5,
  });
  assert.equal(
    await registry.metrics(),
    `# HELP limited_total X.
# TYPE limited_total counter
limited_total{id="0"} 1
limited_total{id="1"} 1
limited_total{id="2"} 1
limited_total{otel_metric_overflow="true"} 12
# HELP own_limit X.
# TYPE own_limit gauge
own_limit{id="0"} 0
own_limit{otel_metric_overflow="true"} 4
# HELP unlimited X.
# TYPE unlimited gauge
unlimited{id="0"} 0
unlimited{id="1"} 1
unlimited{id="2"} 2
unlimited{id="3"} 3
unlimited{id="4"} 4
# HELP edgemetrics_dropped_label_sets_total Records folded into a metric's overflow series because it reached its series limit.
# TYPE edgemetrics_dropped_label_sets_total counter
edgemetrics_dropped_label_sets_total{metric="limited_total"} 3
edgemetrics_dropped_label_sets_total{metric="own_limit"} 4
`,
  );
});

Deno.test("the dropped-label-sets counter carries default labels and the prefixed metric name", async () => {
  const registry = new Registry({
    prefix: "svc_",
    defaultLabels: { region: "eu" },
    maxSeries: 1,
    clock: manualClock(7),
  });
  const gauge = new Gauge({
    name: "g",
    help: "X.",
    labelNames: ["k"] as const,
    registry,
  });
  gauge.set({ k: "a" }, 1);
  gauge.set({ k: "b" }, 2);
  const families = await registry.collect();
  assert.deepEqual(families.at(-1), {
    type: "counter",
    name: "edgemetrics_dropped_label_sets",
    help:
      "Records folded into a metric's overflow series because it reached its series limit.",
    points: [{
      labels: { region: "eu", metric: "svc_g" },
      value: 1,
      created: 7,
    }],
  });
  assert.deepEqual(
    (await registry.collect((_name, type) => type === "gauge")).map((f) =>
      f.name
    ),
    ["svc_g"],
  );
});

Deno.test("the dropped-label-sets counter names a counter by its _total sample name and others by their family name, as the exposition shows them", async () => {
  const registry = new Registry({
    prefix: "svc_",
    maxSeries: 1,
    clock: manualClock(7),
  });
  const declaredWith = new Counter({
    name: "req_total",
    help: "X.",
    labelNames: ["k"] as const,
    registry,
  });
  const declaredWithout = new Counter({
    name: "jobs",
    help: "X.",
    labelNames: ["k"] as const,
    registry,
  });
  const histogram = new Histogram({
    name: "lat_seconds",
    help: "X.",
    labelNames: ["k"] as const,
    buckets: [1],
    registry,
  });
  for (const k of ["a", "b"]) {
    declaredWith.inc({ k });
    declaredWithout.inc({ k });
    histogram.observe({ k }, 0.5);
  }
  const text = await registry.metrics();
  const dropped = text.split("\n").filter((line) =>
    line.startsWith("edgemetrics_dropped_label_sets_total{")
  );
  assert.deepEqual(dropped, [
    'edgemetrics_dropped_label_sets_total{metric="svc_req_total"} 1',
    'edgemetrics_dropped_label_sets_total{metric="svc_jobs_total"} 1',
    'edgemetrics_dropped_label_sets_total{metric="svc_lat_seconds"} 1',
  ]);
  // Each named metric is one the exposition shows: a sample name for a
  // counter, the family name for a histogram.
  for (const name of ["svc_req_total", "svc_jobs_total"]) {
    assert.match(text, new RegExp(`^${name}\\{`, "m"));
  }
  assert.match(text, /^# TYPE svc_lat_seconds histogram$/m);
});

Deno.test("remove() and reset() free series under the limit", async () => {
  const gauge = new Gauge({
    name: "freed",
    help: "X.",
    labelNames: ["k"] as const,
    maxSeries: 2,
    registry: null,
  });
  gauge.set({ k: "a" }, 1);
  gauge.set({ k: "b" }, 1);
  gauge.remove({ k: "a" });
  gauge.set({ k: "c" }, 1);
  assert.equal(gauge.droppedLabelSets, 0);
  gauge.set({ k: "d" }, 1);
  assert.equal(gauge.droppedLabelSets, 1);
  gauge.reset();
  assert.equal(gauge.droppedLabelSets, 0);
  gauge.set({ k: "e" }, 1);
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { k: "e" }, value: 1 },
  ]);
});

Deno.test("Registry and metrics reject bad options with exact messages", async (t) => {
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "registry maxSeries 0",
      () => new Registry({ maxSeries: 0 }),
      RangeError,
      "Cannot create registry: maxSeries must be a whole number of at least 1 or Infinity, got 0",
    ],
    [
      "metric maxSeries 1.5",
      () =>
        new Gauge({ name: "m", help: "X.", maxSeries: 1.5, registry: null }),
      RangeError,
      'Cannot declare metric "m": maxSeries must be a whole number of at least 1 or Infinity, got 1.5',
    ],
    [
      "metric maxSeries NaN",
      () =>
        new Counter({ name: "m", help: "X.", maxSeries: NaN, registry: null }),
      RangeError,
      'Cannot declare metric "m": maxSeries must be a whole number of at least 1 or Infinity, got NaN',
    ],
    [
      "metric maxSeries as a string",
      () =>
        new Histogram({
          name: "m",
          help: "X.",
          maxSeries: "10" as unknown as number,
          registry: null,
        }),
      RangeError,
      'Cannot declare metric "m": maxSeries must be a whole number of at least 1 or Infinity, got "10"',
    ],
    [
      "an invalid prefix",
      () => new Registry({ prefix: "my-app_" }),
      TypeError,
      'Cannot create registry: prefix "my-app_" must match [a-zA-Z_:][a-zA-Z0-9_:]*',
    ],
    [
      "a reserved default label",
      () => new Registry({ defaultLabels: { le: "1" } }),
      TypeError,
      'Cannot create registry: label name "le" is reserved for this kind of metric',
    ],
    [
      "a default label starting with __",
      () => new Registry({ defaultLabels: { __name: "1" } }),
      TypeError,
      'Cannot create registry: label name "__name" starts with "__", which Prometheus reserves',
    ],
    [
      "a default label that is not a string",
      () =>
        new Registry({
          defaultLabels: { zone: 1 as unknown as string },
        }),
      TypeError,
      'Cannot create registry: default label "zone" must have a string value, got 1',
    ],
    [
      "collectTimeoutMs 0",
      () => new Registry({ collectTimeoutMs: 0 }),
      RangeError,
      "Cannot create registry: collectTimeoutMs must be a positive number, got 0",
    ],
  ];
  for (const [what, act, type, message] of cases) {
    await t.step(what, () => {
      assert.throws(act, (error: unknown) => {
        assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
        assert.equal((error as Error).message, message);
        return true;
      });
    });
  }
});

Deno.test("an observable instrument's overflow is counted in the same collection", async () => {
  const registry = new Registry({ clock: manualClock(0) });
  new ObservableGauge({
    name: "observed",
    help: "X.",
    labelNames: ["k"] as const,
    maxSeries: 1,
    registry,
    observe(result) {
      result.observe(1, { k: "a" });
      result.observe(1, { k: "b" });
    },
  });
  const families = await registry.collect();
  assert.deepEqual(families.at(-1)?.points, [
    { labels: { metric: "observed" }, value: 1, created: 0 },
  ]);
});

Deno.test("Registry.collect() aborts the signal it gave a collector still running at collectTimeoutMs, and only then", async () => {
  const errors: string[] = [];
  const registry = new Registry({
    collectTimeoutMs: 30,
    onError: (error) => errors.push((error as Error).message),
  });
  const signals: Record<string, AbortSignal | undefined> = {};
  const family = (name: string): MetricFamily => ({
    type: "gauge",
    name,
    help: "",
    aggregation: "sum",
    points: [{ labels: {}, value: 1 }],
  });
  registry.register({
    name: "quick",
    type: "gauge",
    collect(signal) {
      signals.quick = signal;
      return Promise.resolve(family("quick"));
    },
  });
  registry.register({
    name: "stuck",
    type: "gauge",
    collect(signal) {
      signals.stuck = signal;
      return new Promise(() => {});
    },
  });
  assert.deepEqual(await registry.collect(), [family("quick")]);
  assert.deepEqual(errors, [
    'Cannot collect metric "stuck": collect took longer than 30 ms',
  ]);
  assert.equal(signals.stuck?.aborted, true);
  assert.equal(signals.stuck?.reason.name, "TimeoutError");

  // A collection that ends in time aborts nothing, before or after.
  registry.remove("stuck");
  assert.deepEqual(await registry.collect(), [family("quick")]);
  assert.equal(signals.quick?.aborted, false);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(signals.quick?.aborted, false);
});

Deno.test("prom-client forms: registers joins each registry (none when empty), contentType names metrics()'s text, resetMetrics() keeps metrics registered", async () => {
  const a = new Registry();
  const b = new Registry();
  const both = new Counter({
    name: "both_total",
    help: "X.",
    registers: [a, b],
  });
  both.inc(2);
  assert.equal(a.get("both_total"), both);
  assert.equal(b.get("both_total"), both);
  assert.match(await b.metrics(), /^both_total 2$/m);
  // registers: [] joins none, so tests can declare the same name twice.
  new Counter({ name: "alone_total", help: "X.", registers: [] });
  new Counter({ name: "alone_total", help: "X.", registers: [] });
  assert.equal(defaultRegistry.get("alone_total"), undefined);
  assert.throws(
    () =>
      new Counter({ name: "c_total", help: "X.", registry: a, registers: [b] }),
    new TypeError(
      'Cannot declare metric "c_total": give registry or registers (prom-client\'s form), not both',
    ),
  );
  assert.throws(
    () =>
      new Counter({
        name: "d_total",
        help: "X.",
        registers: a as unknown as Registry[],
      }),
    /Cannot declare metric "d_total": registers must be an array of registries/,
  );
  assert.equal(a.contentType, PROMETHEUS_TEXT_CONTENT_TYPE);
  a.resetMetrics();
  assert.match(await a.metrics(), /^both_total 0$/m);
  assert.equal(a.get("both_total"), both);
});
