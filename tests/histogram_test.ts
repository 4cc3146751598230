import assert from "node:assert/strict";
import {
  type Clock,
  DEFAULT_BUCKETS,
  encodeOpenMetrics,
  Histogram,
  type HistogramFamily,
  linearBuckets,
  Registry,
} from "@edgemetrics/edgemetrics";
import { captureWarnings } from "./_warnings.ts";

function manualClock(t = 0): Clock & { t: number } {
  const clock = { t, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

async function family(histogram: Histogram<string>): Promise<HistogramFamily> {
  return await histogram.collect();
}

Deno.test("Histogram uses DEFAULT_BUCKETS and starts an unlabeled series empty", async () => {
  const histogram = new Histogram({
    name: "default_seconds",
    help: "X.",
    registry: null,
    clock: manualClock(42),
  });
  assert.equal(histogram.bounds, DEFAULT_BUCKETS);
  assert.deepEqual(await family(histogram), {
    type: "histogram",
    name: "default_seconds",
    help: "X.",
    bounds: DEFAULT_BUCKETS,
    points: [{
      labels: {},
      counts: new Array(12).fill(0),
      sum: 0,
      count: 0,
      created: 42,
    }],
  });
});

Deno.test("Histogram.observe() counts a value equal to a bound in that bucket", async () => {
  const histogram = new Histogram({
    name: "bounds_seconds",
    help: "X.",
    buckets: [0.1, 0.3, 1],
    registry: null,
    clock: manualClock(0),
  });
  for (const value of [0.1, 0.3, 1, 0.10000000000000001, -5, 0]) {
    histogram.observe(value);
  }
  histogram.observe(1.0000001);
  assert.deepEqual((await family(histogram)).points, [{
    labels: {},
    counts: [4, 1, 1, 1],
    sum: 1.0000001 + 0.1 + 0.3 + 1 + 0.10000000000000001 - 5,
    count: 7,
    created: 0,
  }]);
});

Deno.test("Histogram.observe() puts every value in the right bucket of many (binary search)", async () => {
  const bounds = linearBuckets(1, 1, 40); // 1..40
  const histogram = new Histogram({
    name: "many_buckets",
    help: "X.",
    buckets: bounds,
    registry: null,
  });
  const expected = new Array(41).fill(0);
  for (let v = -1; v <= 45; v += 0.5) {
    histogram.observe(v);
    const bucket = bounds.findIndex((b) => v <= b);
    expected[bucket === -1 ? 40 : bucket]++;
  }
  const point = (await family(histogram)).points[0]!;
  assert.deepEqual(point.counts, expected);
  assert.equal(point.count, 93);
});

Deno.test("Histogram.observe() finds the right bucket for every bound count from 1 to 300, bound and by labels", async () => {
  // Bound counts around each power of two exercise every search depth,
  // the padded tail and the loop past 255 bounds.
  const counts = [
    1,
    2,
    3,
    4,
    7,
    8,
    12,
    15,
    16,
    31,
    32,
    63,
    64,
    127,
    128,
    255,
    256,
    300,
  ];
  for (const n of counts) {
    const bounds = linearBuckets(1, 1, n); // 1..n
    const histogram = new Histogram({
      name: `depth_${n}`,
      help: "X.",
      labelNames: ["via"] as const,
      buckets: bounds,
      registry: null,
    });
    const child = histogram.labels("child");
    const expected = new Array(n + 1).fill(0);
    const values = [-Number.MAX_VALUE, -1, 0, Number.MAX_VALUE, -0];
    for (let v = 0.5; v <= n + 1.5; v += 0.5) values.push(v);
    for (const v of values) {
      child.observe(v);
      histogram.observe({ via: "labels" }, v);
      const bucket = bounds.findIndex((b) => v <= b);
      expected[bucket === -1 ? n : bucket]++;
    }
    const points = (await family(histogram)).points;
    assert.deepEqual(
      points.map((p) => p.counts),
      [expected, expected],
      `n=${n}`,
    );
  }
});

Deno.test("Histogram accepts a trailing +Inf bucket and drops it", () => {
  const histogram = new Histogram({
    name: "inf_bucket",
    help: "X.",
    buckets: [1, 2, Infinity],
    registry: null,
  });
  assert.deepEqual(histogram.bounds, [1, 2]);
  assert.ok(Object.isFrozen(histogram.bounds));
});

Deno.test("Histogram.observe(labels, value) keeps one series per label set", async () => {
  const clock = manualClock(10);
  const histogram = new Histogram({
    name: "route_seconds",
    help: "X.",
    labelNames: ["route", "code"] as const,
    buckets: [1],
    registry: null,
    clock,
  });
  histogram.observe({ route: "/a", code: 200 }, 0.5);
  clock.t = 11;
  histogram.observe({ route: "/b", code: "500" }, 3);
  histogram.labels("/a", 200).observe(2);
  assert.deepEqual((await family(histogram)).points, [
    {
      labels: { route: "/a", code: "200" },
      counts: [1, 1],
      sum: 2.5,
      count: 2,
      created: 10,
    },
    {
      labels: { route: "/b", code: "500" },
      counts: [0, 1],
      sum: 3,
      count: 1,
      created: 11,
    },
  ]);
});

Deno.test("Histogram keeps the latest exemplar per bucket, aligned with counts", async () => {
  const clock = manualClock(100);
  const histogram = new Histogram({
    name: "exemplar_seconds",
    help: "X.",
    labelNames: ["r"] as const,
    buckets: [0.1, 1],
    registry: null,
    clock,
  });
  histogram.observe({ r: "a" }, 0.05, { trace_id: "t1" });
  clock.t = 101;
  histogram.observe({ r: "a" }, 0.07, { trace_id: "t2", span_id: "s2" });
  histogram.labels("a").observe(5, { trace_id: "t3" });
  histogram.observe({ r: "a" }, 0.5); // no exemplar: bucket 1 keeps none
  histogram.observe({ r: "b" }, 0.5);
  const unlabeled = new Histogram({
    name: "exemplar_plain",
    help: "X.",
    buckets: [1],
    registry: null,
    clock,
  });
  unlabeled.observe({}, 2, { trace_id: "t4" });
  assert.deepEqual((await family(histogram)).points, [
    {
      labels: { r: "a" },
      counts: [2, 1, 1],
      sum: 5.62,
      count: 4,
      created: 100,
      exemplars: [
        {
          labels: { trace_id: "t2", span_id: "s2" },
          value: 0.07,
          timestamp: 101,
        },
        null,
        { labels: { trace_id: "t3" }, value: 5, timestamp: 101 },
      ],
    },
    {
      labels: { r: "b" },
      counts: [0, 1, 0],
      sum: 0.5,
      count: 1,
      created: 101,
    },
  ]);
  assert.deepEqual((await family(unlabeled)).points[0]?.exemplars, [
    null,
    { labels: { trace_id: "t4" }, value: 2, timestamp: 101 },
  ]);
});

Deno.test("Histogram drops an exemplar over 128 code points with one warning", async () => {
  const histogram = new Histogram({
    name: "exemplar_long_histogram",
    help: "X.",
    buckets: [1],
    registry: null,
  });
  const warnings = captureWarnings(() => {
    histogram.labels().observe(0.5, { trace_id: "🙂".repeat(121) });
    histogram.observe({}, 0.5, { trace_id: "x".repeat(500) });
  });
  const point = (await family(histogram)).points[0]!;
  assert.equal(point.count, 2);
  assert.equal(point.exemplars, undefined);
  assert.deepEqual(warnings, [
    'edgemetrics: dropped an exemplar of metric "exemplar_long_histogram": its labels have 129 code points, more than the 128 OpenMetrics allows',
  ]);
});

Deno.test("Histogram.observe() ignores NaN with one warning", async () => {
  const histogram = new Histogram({
    name: "nan_histogram",
    help: "X.",
    buckets: [1],
    registry: null,
  });
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    histogram.observe(NaN);
    histogram.labels().observe(NaN);
    histogram.observe(0.5);
  } finally {
    console.warn = warn;
  }
  const point = (await family(histogram)).points[0]!;
  assert.deepEqual([point.counts, point.sum, point.count], [[1, 0], 0.5, 1]);
  assert.deepEqual(warnings, [
    'edgemetrics: ignored a non-finite observation of histogram "nan_histogram", got NaN: NaN and ±Infinity never enter a total or a sum (this warning is shown once per metric)',
  ]);
});

Deno.test("Histogram.startTimer() observes elapsed monotonic seconds and returns them", async () => {
  const clock = manualClock(1_000);
  const histogram = new Histogram({
    name: "timer_seconds",
    help: "X.",
    labelNames: ["method", "status"] as const,
    buckets: [0.1, 1],
    registry: null,
    clock,
  });
  const end = histogram.startTimer({ method: "GET" });
  clock.t = 1_050;
  assert.equal(end({ status: "200" }), 0.05);
  const child = histogram.labels("GET", "200").startTimer();
  clock.t = 3_050;
  assert.equal(child(), 2);
  const full = histogram.startTimer({ method: "POST", status: "201" });
  clock.t = 3_550;
  assert.equal(full(), 0.5);
  assert.deepEqual(
    (await family(histogram)).points.map((p) => [p.labels, p.counts, p.sum]),
    [
      [{ method: "GET", status: "200" }, [1, 0, 1], 2.05],
      [{ method: "POST", status: "201" }, [0, 1, 0], 0.5],
    ],
  );
});

Deno.test("Histogram.labels() caches children; remove() and reset() keep them valid", async () => {
  const clock = manualClock(1);
  const histogram = new Histogram({
    name: "children_seconds",
    help: "X.",
    labelNames: ["k"] as const,
    buckets: [1],
    registry: null,
    clock,
  });
  const a = histogram.labels("a");
  assert.equal(histogram.labels({ k: "a" }), a);
  const b = histogram.labels("b");
  a.observe(0.5, { trace_id: "old" });
  b.observe(2);
  histogram.remove("a");
  assert.deepEqual(
    (await family(histogram)).points.map((p) => p.labels),
    [{ k: "b" }],
  );
  clock.t = 2;
  histogram.observe({ k: "c" }, 3); // may reuse a's series number
  a.observe(3);
  assert.deepEqual((await family(histogram)).points, [
    { labels: { k: "b" }, counts: [0, 1], sum: 2, count: 1, created: 1 },
    { labels: { k: "c" }, counts: [0, 1], sum: 3, count: 1, created: 2 },
    { labels: { k: "a" }, counts: [0, 1], sum: 3, count: 1, created: 2 },
  ]);
  histogram.reset();
  assert.deepEqual((await family(histogram)).points, []);
  b.observe(0.25);
  assert.deepEqual((await family(histogram)).points, [
    { labels: { k: "b" }, counts: [1, 0], sum: 0.25, count: 1, created: 2 },
  ]);
});

Deno.test("Histogram renders cumulative buckets in text 0.0.4 and exemplars in OpenMetrics", async () => {
  const registry = new Registry({ clock: manualClock(1_000) });
  const histogram = new Histogram({
    name: "render_seconds",
    help: "Latency.",
    labelNames: ["route"] as const,
    buckets: linearBuckets(0.1, 0.1, 3),
    registry,
  });
  histogram.observe({ route: "/" }, 0.3, { trace_id: "abc" });
  histogram.observe({ route: "/" }, 0.05);
  histogram.observe({ route: "/" }, 7);
  assert.equal(
    await registry.metrics(),
    `# HELP render_seconds Latency.
# TYPE render_seconds histogram
render_seconds_bucket{route="/",le="0.1"} 1
render_seconds_bucket{route="/",le="0.2"} 1
render_seconds_bucket{route="/",le="0.3"} 2
render_seconds_bucket{route="/",le="+Inf"} 3
render_seconds_sum{route="/"} 7.35
render_seconds_count{route="/"} 3
`,
  );
  assert.equal(
    encodeOpenMetrics(await registry.collect()),
    `# TYPE render_seconds histogram
# HELP render_seconds Latency.
render_seconds_bucket{route="/",le="0.1"} 1
render_seconds_bucket{route="/",le="0.2"} 1
render_seconds_bucket{route="/",le="0.3"} 2 # {trace_id="abc"} 0.3 1
render_seconds_bucket{route="/",le="+Inf"} 3
render_seconds_count{route="/"} 3
render_seconds_sum{route="/"} 7.35
render_seconds_created{route="/"} 1
# EOF
`,
  );
});

Deno.test("Histogram collect hook runs before the snapshot", async () => {
  const registry = new Registry();
  const pending = [0.2, 3];
  new Histogram({
    name: "hook_histogram",
    help: "X.",
    buckets: [1],
    registry,
    async collect(histogram) {
      await Promise.resolve();
      for (const value of pending.splice(0)) histogram.observe(value);
    },
  });
  const [collected] = await registry.collect();
  assert.deepEqual(
    collected?.type === "histogram" &&
      [collected.points[0]?.counts, collected.points[0]?.count],
    [[1, 1], 2],
  );
});

Deno.test("Histogram rejects bad input with exact messages", async (t) => {
  const histogram = new Histogram({
    name: "bad_histogram",
    help: "X.",
    labelNames: ["k"] as const,
    buckets: [1],
    registry: null,
  });
  const declare = (buckets: unknown, labelNames: string[] = []) => () =>
    new Histogram({
      name: "lat",
      help: "X.",
      buckets: buckets as number[],
      labelNames,
      registry: null,
    });
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "reserved label le",
      declare([1], ["route", "le"]),
      TypeError,
      'Cannot declare metric "lat": label name "le" is reserved for this kind of metric',
    ],
    [
      "unsorted buckets",
      declare([0.5, 0.1, 1]),
      RangeError,
      'Cannot declare metric "lat": buckets must be sorted in increasing order, got 0.1 after 0.5',
    ],
    [
      "duplicate buckets",
      declare([0.1, 0.5, 0.5]),
      RangeError,
      'Cannot declare metric "lat": buckets must not repeat a bound, got 0.5 twice',
    ],
    [
      "a NaN bucket",
      declare([0.1, NaN]),
      RangeError,
      'Cannot declare metric "lat": buckets must be finite (+Inf is implicit), got NaN at position 1',
    ],
    [
      "-Inf bucket",
      declare([-Infinity, 1]),
      RangeError,
      'Cannot declare metric "lat": buckets must be finite (+Inf is implicit), got -Infinity at position 0',
    ],
    [
      "+Inf before the end",
      declare([1, Infinity, 2]),
      RangeError,
      'Cannot declare metric "lat": buckets must be finite (+Inf is implicit), got Infinity at position 1',
    ],
    [
      "no buckets",
      declare([]),
      RangeError,
      'Cannot declare metric "lat": buckets must hold at least one finite bound (+Inf is implicit), got []',
    ],
    [
      "only +Inf",
      declare([Infinity]),
      RangeError,
      'Cannot declare metric "lat": buckets must hold at least one finite bound (+Inf is implicit), got [Infinity]',
    ],
    [
      "a string bucket",
      declare([0.1, "1"]),
      TypeError,
      'Cannot declare metric "lat": buckets must be numbers, got "1" at position 1',
    ],
    [
      "buckets not an array",
      declare("0.1,1"),
      TypeError,
      'Cannot declare metric "lat": buckets must be an array of numbers, got "0.1,1"',
    ],
    [
      "a string observation",
      () => histogram.labels("a").observe("1" as unknown as number),
      TypeError,
      'Cannot observe histogram "bad_histogram": the value must be a number, got "1"',
    ],
    [
      "labels but no value",
      () => (histogram.observe as (l: unknown) => void)({ k: "a" }),
      TypeError,
      'Cannot observe histogram "bad_histogram": the value must be a number, got undefined',
    ],
    [
      "labels missing",
      () => histogram.observe(1),
      TypeError,
      'Cannot record to metric "bad_histogram": labels "k" are required',
    ],
    [
      "an undeclared label",
      () => histogram.observe({ k: "z", le: "1" } as { k: string }, 1),
      TypeError,
      'Cannot record to metric "bad_histogram": label "le" is not declared (declared: k)',
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

Deno.test("Histogram.observe(value, exemplar) keeps an exemplar on an unlabeled histogram", async () => {
  const clock = manualClock(20);
  const plain = new Histogram({
    name: "unlabeled_exemplar_seconds",
    help: "X.",
    buckets: [1],
    registry: null,
    clock,
  });
  plain.observe(0.5, { trace_id: "t1", span_id: "s1" });
  clock.t = 21;
  plain.observe(3, { trace_id: "t2" });
  plain.observe(0.25); // no exemplar: bucket 0 keeps t1's
  assert.deepEqual((await family(plain)).points, [{
    labels: {},
    counts: [2, 1],
    sum: 3.75,
    count: 3,
    created: 20,
    exemplars: [
      { labels: { trace_id: "t1", span_id: "s1" }, value: 0.5, timestamp: 20 },
      { labels: { trace_id: "t2" }, value: 3, timestamp: 21 },
    ],
  }]);
});
