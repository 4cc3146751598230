import assert from "node:assert/strict";
import {
  type Clock,
  DuplicateMetricError,
  Registry,
  Summary,
} from "@edgemetrics/edgemetrics";
import { captureWarnings } from "./_warnings.ts";
import { QuantileSketch, SKETCH_K } from "../src/instruments/_quantiles.ts";
import { promtoolCheckMetrics } from "./_peers.ts";

function fixedClock(t = 1_000): Clock & { t: number } {
  const clock = { t, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

/** A tiny seeded generator (xorshift32) giving uniform numbers in [0, 1). */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** A standard normal value from two uniforms (Box–Muller). */
function normal(random: () => number): number {
  const u = 1 - random(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The documented rank error bound for a window of `n` observations. */
function rankErrorBound(n: number, k = SKETCH_K): number {
  return n < k ? 0 : (n / k) * (1 + Math.floor(Math.log2(n / k)));
}

/**
 * How far `q * n` lies from the true rank interval of `value` in `sorted`:
 * [number of values < value, number of values <= value].
 */
function rankError(sorted: Float64Array, q: number, value: number): number {
  const target = q * sorted.length;
  const below = lowerBound(sorted, value, false);
  const atOrBelow = lowerBound(sorted, value, true);
  if (target < below) return below - target;
  if (target > atOrBelow) return target - atOrBelow;
  return 0;
}

/** The number of values < x (or <= x when `inclusive`). */
function lowerBound(
  sorted: Float64Array,
  x: number,
  inclusive: boolean,
): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (inclusive ? sorted[mid]! <= x : sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const RANKS = [
  0,
  0.001,
  0.01,
  0.05,
  0.1,
  0.25,
  0.5,
  0.75,
  0.9,
  0.95,
  0.99,
  0.999,
  1,
];

Deno.test("Summary.observe() keeps only count and sum when no percentiles are configured", async () => {
  const clock = fixedClock(5_000);
  const registry = new Registry({ clock });
  const sizes = new Summary({
    name: "payload_bytes",
    help: "Payload sizes.",
    registry,
  });
  assert.deepEqual(await registry.collect(), [{
    type: "summary",
    name: "payload_bytes",
    help: "Payload sizes.",
    points: [{ labels: {}, count: 0, sum: 0, created: 5_000, quantiles: [] }],
  }]);
  sizes.observe(512);
  sizes.observe(0.5);
  assert.deepEqual(sizes.percentiles, []);
  assert.equal(sizes.maxAgeSeconds, 600);
  assert.equal(sizes.ageBuckets, 5);
  assert.deepEqual(await sizes.collect(), {
    type: "summary",
    name: "payload_bytes",
    help: "Payload sizes.",
    points: [{
      labels: {},
      count: 2,
      sum: 512.5,
      created: 5_000,
      quantiles: [],
    }],
  });
});

Deno.test("Summary.observe(labels) reports exact quantiles below 2048 observations, one series per label set", async () => {
  const clock = fixedClock();
  const latency = new Summary({
    name: "job_duration_seconds",
    help: "Job duration.",
    labelNames: ["queue"] as const,
    percentiles: [0, 0.25, 0.5, 0.9, 1],
    registry: null,
    clock,
  });
  // 10, 9, ..., 1 in "emails"; a single 7 in "reports"
  for (let i = 10; i >= 1; i--) latency.observe({ queue: "emails" }, i);
  clock.t = 2_000;
  latency.observe({ queue: "reports" }, 7);
  assert.deepEqual((await latency.collect()).points, [
    {
      labels: { queue: "emails" },
      count: 10,
      sum: 55,
      created: 1_000,
      quantiles: [
        { quantile: 0, value: 1 },
        { quantile: 0.25, value: 3 },
        { quantile: 0.5, value: 5 },
        { quantile: 0.9, value: 9 },
        { quantile: 1, value: 10 },
      ],
    },
    {
      labels: { queue: "reports" },
      count: 1,
      sum: 7,
      created: 2_000,
      quantiles: [
        { quantile: 0, value: 7 },
        { quantile: 0.25, value: 7 },
        { quantile: 0.5, value: 7 },
        { quantile: 0.9, value: 7 },
        { quantile: 1, value: 7 },
      ],
    },
  ]);
});

Deno.test("Summary.observe() reports quantiles within the documented rank error on 1,000,000 values", async (t) => {
  const n = 1_000_000;
  const bound = rankErrorBound(n);
  // The documented figures: at most 0.44% at a million, below the promised 1%.
  assert.ok(bound <= 0.0044 * n, `bound ${bound}`);
  const distributions: [string, (random: () => number, i: number) => number][] =
    [
      ["uniform", (random) => random()],
      ["exponential", (random) => -Math.log(1 - random())],
      ["lognormal", (random) => Math.exp(normal(random))],
      [
        "bimodal",
        (random) =>
          random() < 0.7
            ? 0.05 + 0.01 * normal(random)
            : 2 + 0.5 * normal(random),
      ],
      ["ascending", (_random, i) => i],
      ["descending", (_random, i) => n - i],
      ["few distinct values", (random) => Math.floor(random() * 10)],
      ["negative and signed", (random) => (random() - 0.5) * 1e6],
    ];
  let seed = 1;
  for (const [name, draw] of distributions) {
    await t.step(name, async () => {
      const random = seeded(seed++ * 0x9e3779b9);
      const clock = fixedClock(0);
      const summary = new Summary({
        name: "rank_error_seconds",
        help: "X.",
        percentiles: RANKS,
        registry: null,
        clock,
      });
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const value = draw(random, i);
        values[i] = value;
        summary.observe(value);
      }
      values.sort();
      const [point] = (await summary.collect()).points;
      assert.equal(point?.count, n);
      assert.equal(point?.quantiles.length, RANKS.length);
      for (const { quantile, value } of point!.quantiles) {
        const error = rankError(values, quantile, value);
        assert.ok(
          error <= bound,
          `${name}: rank ${quantile} answered ${value}, off by ${error} ranks (bound ${bound})`,
        );
      }
      // Ranks 0 and 1 are the exact minimum and maximum.
      assert.equal(point!.quantiles[0]?.value, values[0]);
      assert.equal(point!.quantiles.at(-1)?.value, values[n - 1]);
    });
  }
});

Deno.test("Summary.observe() keeps the rank error bound over a window spread across every age bucket", async () => {
  const n = 1_000_000;
  const random = seeded(42);
  const clock = fixedClock(0);
  const summary = new Summary({
    name: "spread_seconds",
    help: "X.",
    percentiles: RANKS,
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registry: null,
    clock,
  });
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    clock.t = Math.floor((i / n) * 599_000); // 0 s .. 599 s: all five slices
    // The distribution drifts over time, so each slice differs.
    const value = Math.exp(normal(random)) * (1 + i / n);
    values[i] = value;
    summary.observe(value);
  }
  values.sort();
  const [point] = (await summary.collect()).points;
  const bound = rankErrorBound(n);
  for (const { quantile, value } of point!.quantiles) {
    const error = rankError(values, quantile, value);
    assert.ok(
      error <= bound,
      `rank ${quantile}: off by ${error} ranks (bound ${bound})`,
    );
  }
});

Deno.test("QuantileSketch certifies its rank error and stays within its memory bound after 1,000,000 values", () => {
  const n = 1_000_000;
  const random = seeded(7);
  const sketch = new QuantileSketch();
  const values = new Float64Array(n);
  let maxCapacity = 0;
  for (let i = 0; i < n; i++) {
    const value = random() < 0.5 ? random() : 10 + random() * 1e3;
    values[i] = value;
    sketch.add(value);
    if ((i & 0xffff) === 0) {
      maxCapacity = Math.max(maxCapacity, sketch.capacity);
    }
  }
  values.sort();
  const bound = rankErrorBound(n);
  assert.ok(
    sketch.errorBound <= bound,
    `certified ${sketch.errorBound} > ${bound}`,
  );
  // Memory: at most k * (2 + floor(log2(n / k))) values, 20,480 at a million.
  const memoryBound = SKETCH_K * (2 + Math.floor(Math.log2(n / SKETCH_K)));
  assert.equal(memoryBound, 20_480);
  assert.ok(sketch.capacity <= memoryBound, `capacity ${sketch.capacity}`);
  assert.ok(maxCapacity <= memoryBound, `capacity ${maxCapacity}`);
  // Every rank from 0 to 1 in steps of 0.001 is within the certified bound.
  const ranks = Array.from({ length: 1001 }, (_, i) => i / 1000);
  const out: number[] = [];
  QuantileSketch.query([sketch], ranks, out);
  for (let i = 0; i < ranks.length; i++) {
    const error = rankError(values, ranks[i]!, out[i]!);
    assert.ok(error <= sketch.errorBound, `rank ${ranks[i]}: off by ${error}`);
  }
});

Deno.test("QuantileSketch is exact below k values and holds a quiet series in a small buffer", () => {
  const sketch = new QuantileSketch();
  for (let i = 100; i >= 1; i--) sketch.add(i);
  assert.equal(sketch.errorBound, 0);
  assert.equal(sketch.capacity, 128);
  const out: number[] = [];
  QuantileSketch.query([sketch], [0, 0.01, 0.5, 0.995, 1], out);
  assert.deepEqual(out, [1, 1, 50, 100, 100]);
  sketch.clear();
  const empty: number[] = [];
  QuantileSketch.query([sketch], [0, 0.5, 1], empty);
  assert.deepEqual(empty, [NaN, NaN, NaN]);
  assert.equal(sketch.capacity, 128); // buffers are kept for reuse
});

Deno.test("Summary.observe() drops observations older than maxAgeSeconds from the quantiles; count and sum stay", async () => {
  const clock = fixedClock(0);
  const summary = new Summary({
    name: "window_seconds",
    help: "X.",
    percentiles: [0.5, 1],
    maxAgeSeconds: 60,
    ageBuckets: 3, // slices of 20 s
    registry: null,
    clock,
  });
  const quantiles = async () => {
    const [point] = (await summary.collect()).points;
    return [point?.count, point?.sum, point?.quantiles.map((q) => q.value)];
  };
  summary.observe(100); // slice [0 s, 20 s)
  clock.t = 25_000;
  summary.observe(1); // slice [20 s, 40 s)
  summary.observe(2);
  assert.deepEqual(await quantiles(), [3, 103, [2, 100]]);
  clock.t = 59_999; // the first slice is still in the window
  assert.deepEqual(await quantiles(), [3, 103, [2, 100]]);
  clock.t = 60_000; // 60 s after the first slice began: it expires
  assert.deepEqual(await quantiles(), [3, 103, [1, 2]]);
  clock.t = 65_000;
  summary.observe(50); // reuses the first slice's place in the ring
  assert.deepEqual(await quantiles(), [4, 153, [2, 50]]);
  clock.t = 80_000; // [20 s, 40 s) expires
  assert.deepEqual(await quantiles(), [4, 153, [50, 50]]);
  clock.t = 140_000; // everything expired: NaN quantiles, count and sum remain
  assert.deepEqual(await quantiles(), [4, 153, [NaN, NaN]]);
});

Deno.test("Summary.observe() keeps recent observations when an injected clock goes backwards", async () => {
  const clock = fixedClock(100_000);
  const summary = new Summary({
    name: "backwards_seconds",
    help: "X.",
    percentiles: [0, 1],
    maxAgeSeconds: 10,
    ageBuckets: 2,
    registry: null,
    clock,
  });
  summary.observe(1);
  clock.t = 90_000; // back by two slices: same ring slot, older epoch
  summary.observe(2);
  assert.deepEqual((await summary.collect()).points[0]?.quantiles, [
    { quantile: 0, value: 1 },
    { quantile: 1, value: 2 },
  ]);
  clock.t = 110_000; // forward again: both are 10 s old and expire
  assert.deepEqual((await summary.collect()).points[0]?.quantiles, [
    { quantile: 0, value: NaN },
    { quantile: 1, value: NaN },
  ]);
});

Deno.test("Summary with maxAgeSeconds Infinity never expires an observation", async () => {
  const clock = fixedClock(0);
  const summary = new Summary({
    name: "forever_seconds",
    help: "X.",
    percentiles: [0.5],
    maxAgeSeconds: Infinity,
    registry: null,
    clock,
  });
  summary.observe(3);
  clock.t = 1e12;
  summary.observe(4);
  summary.observe(5);
  assert.deepEqual((await summary.collect()).points[0]?.quantiles, [
    { quantile: 0.5, value: 4 },
  ]);
});

Deno.test("Summary.collect() reports NaN quantiles while the window is empty", async () => {
  const summary = new Summary({
    name: "empty_seconds",
    help: "X.",
    percentiles: [0.5, 0.99],
    registry: null,
    clock: fixedClock(3),
  });
  assert.deepEqual(await summary.collect(), {
    type: "summary",
    name: "empty_seconds",
    help: "X.",
    points: [{
      labels: {},
      count: 0,
      sum: 0,
      created: 3,
      quantiles: [{ quantile: 0.5, value: NaN }, {
        quantile: 0.99,
        value: NaN,
      }],
    }],
  });
});

Deno.test("Summary.observe() ignores NaN and ±Infinity with one warning and orders negative values", async () => {
  const summary = new Summary({
    name: "signed_nan_values",
    help: "X.",
    percentiles: [0, 0.5, 0.75, 1],
    registry: null,
    clock: fixedClock(0),
  });
  const warnings = captureWarnings(() => {
    summary.observe(NaN);
    summary.observe(-5);
    summary.observe(Infinity);
    summary.observe(NaN);
    summary.observe(-Infinity);
    summary.observe(3);
  });
  assert.deepEqual(warnings, [
    'edgemetrics: ignored a non-finite observation of summary "signed_nan_values", got NaN: NaN and ±Infinity never enter a total or a sum (this warning is shown once per metric)',
  ]);
  assert.deepEqual((await summary.collect()).points, [{
    labels: {},
    count: 2,
    sum: -2,
    created: 0,
    quantiles: [
      { quantile: 0, value: -5 },
      { quantile: 0.5, value: -5 },
      { quantile: 0.75, value: 3 },
      { quantile: 1, value: 3 },
    ],
  }]);
});

Deno.test("Summary.labels() returns the same cached child for positional and object forms", async () => {
  const summary = new Summary({
    name: "child_bytes",
    help: "X.",
    labelNames: ["route", "status"] as const,
    percentiles: [0.5],
    registry: null,
    clock: fixedClock(9),
  });
  const child = summary.labels("/a", 200);
  assert.equal(summary.labels({ route: "/a", status: "200" }), child);
  assert.equal(summary.labels("/a", "200"), child);
  child.observe(10);
  child.observe(30);
  summary.observe({ route: "/a", status: 200 }, 20);
  assert.deepEqual((await summary.collect()).points, [{
    labels: { route: "/a", status: "200" },
    count: 3,
    sum: 60,
    created: 9,
    quantiles: [{ quantile: 0.5, value: 20 }],
  }]);
});

Deno.test("Summary.startTimer() observes the elapsed monotonic seconds once", async () => {
  const clock = fixedClock(1_000);
  const summary = new Summary({
    name: "timer_seconds",
    help: "X.",
    labelNames: ["op"] as const,
    percentiles: [1],
    registry: null,
    clock,
  });
  const end = summary.startTimer({ op: "read" });
  const child = summary.labels("write");
  const endChild = child.startTimer();
  clock.t = 1_250;
  assert.equal(end(), 0.25);
  assert.equal(end(), 0.25); // a second call does not observe again
  clock.t = 3_000;
  assert.equal(endChild(), 2);
  // "write" was created by labels() at 1,000; "read" when its timer ended.
  assert.deepEqual((await summary.collect()).points, [
    {
      labels: { op: "write" },
      count: 1,
      sum: 2,
      created: 1_000,
      quantiles: [{ quantile: 1, value: 2 }],
    },
    {
      labels: { op: "read" },
      count: 1,
      sum: 0.25,
      created: 1_250,
      quantiles: [{ quantile: 1, value: 0.25 }],
    },
  ]);
});

Deno.test("Summary.startTimer() takes labels at the end too, completing or overriding the start's, as prom-client's end(labels)", async () => {
  const clock = fixedClock(0);
  const summary = new Summary({
    name: "route_seconds",
    help: "X.",
    labelNames: ["route", "status"] as const,
    registry: null,
    clock,
  });
  const none = summary.startTimer();
  const some = summary.startTimer({ route: "/a" });
  const overridden = summary.startTimer({ route: "/a", status: "200" });
  const incomplete = summary.startTimer({ route: "/a" });
  clock.t = 500;
  assert.equal(none({ route: "/b", status: "200" }), 0.5);
  assert.equal(some({ status: "500" }), 0.5);
  assert.equal(overridden({ status: "503" }), 0.5);
  assert.throws(() => incomplete(), /status/);
  assert.deepEqual(
    (await summary.collect()).points.map((p) => [p.labels, p.count]),
    [
      [{ route: "/b", status: "200" }, 1],
      [{ route: "/a", status: "500" }, 1],
      [{ route: "/a", status: "503" }, 1],
    ],
  );
});

Deno.test("Summary.startTimer() without labels times the unlabeled series", async () => {
  const clock = fixedClock(0);
  const summary = new Summary({
    name: "plain_timer_seconds",
    help: "X.",
    registry: null,
    clock,
  });
  const end = summary.startTimer();
  clock.t = 500;
  assert.equal(end(), 0.5);
  assert.deepEqual((await summary.collect()).points, [
    { labels: {}, count: 1, sum: 0.5, created: 0, quantiles: [] },
  ]);
});

Deno.test("Summary.remove() forgets a series and its window; its bound child starts over", async () => {
  const clock = fixedClock(1);
  const summary = new Summary({
    name: "removed_seconds",
    help: "X.",
    labelNames: ["route"] as const,
    percentiles: [0.5],
    registry: null,
    clock,
  });
  const a = summary.labels("/a");
  a.observe(100);
  summary.observe({ route: "/b" }, 5);
  summary.remove({ route: "/a" });
  summary.remove({ route: "/missing" }); // no such series: nothing happens
  assert.deepEqual((await summary.collect()).points, [
    {
      labels: { route: "/b" },
      count: 1,
      sum: 5,
      created: 1,
      quantiles: [{ quantile: 0.5, value: 5 }],
    },
  ]);
  clock.t = 2;
  a.observe(7);
  assert.deepEqual((await summary.collect()).points, [
    {
      labels: { route: "/b" },
      count: 1,
      sum: 5,
      created: 1,
      quantiles: [{ quantile: 0.5, value: 5 }],
    },
    {
      labels: { route: "/a" },
      count: 1,
      sum: 7,
      created: 2,
      quantiles: [{ quantile: 0.5, value: 7 }],
    },
  ]);
});

Deno.test("Summary.remove(...values) forgets a series given positionally, window included", async () => {
  const summary = new Summary({
    name: "removed_positional_seconds",
    help: "X.",
    labelNames: ["method", "route"] as const,
    percentiles: [0.5],
    registry: null,
    clock: fixedClock(1),
  });
  summary.observe({ method: "GET", route: "/a" }, 100);
  summary.observe({ method: "GET", route: "/b" }, 5);
  summary.remove("GET", "/a");
  summary.remove("GET", "/missing"); // no such series: nothing happens
  assert.throws(() => summary.remove("GET"), {
    name: "TypeError",
    message:
      'Cannot remove from metric "removed_positional_seconds": expected 2 label values (method, route), got 1',
  });
  summary.observe({ method: "GET", route: "/a" }, 7);
  assert.deepEqual((await summary.collect()).points, [
    {
      labels: { method: "GET", route: "/b" },
      count: 1,
      sum: 5,
      created: 1,
      quantiles: [{ quantile: 0.5, value: 5 }],
    },
    {
      labels: { method: "GET", route: "/a" },
      count: 1,
      sum: 7,
      created: 1,
      quantiles: [{ quantile: 0.5, value: 7 }],
    },
  ]);
});

Deno.test("Summary.reset() forgets every series and window; children stay valid", async () => {
  const clock = fixedClock(1);
  const unlabeled = new Summary({
    name: "reset_plain_seconds",
    help: "X.",
    percentiles: [0.5],
    registry: null,
    clock,
  });
  unlabeled.observe(8);
  const labeled = new Summary({
    name: "reset_labeled_seconds",
    help: "X.",
    labelNames: ["k"] as const,
    percentiles: [0.5],
    registry: null,
    clock,
  });
  const child = labeled.labels("x");
  child.observe(3);
  clock.t = 4;
  unlabeled.reset();
  labeled.reset();
  assert.deepEqual((await unlabeled.collect()).points, [
    {
      labels: {},
      count: 0,
      sum: 0,
      created: 4,
      quantiles: [{ quantile: 0.5, value: NaN }],
    },
  ]);
  assert.deepEqual((await labeled.collect()).points, []);
  child.observe(6);
  assert.deepEqual((await labeled.collect()).points, [
    {
      labels: { k: "x" },
      count: 1,
      sum: 6,
      created: 4,
      quantiles: [{ quantile: 0.5, value: 6 }],
    },
  ]);
});

Deno.test("Summary folds label sets past maxSeries into the overflow series, quantiles included", async () => {
  const summary = new Summary({
    name: "overflow_seconds",
    help: "X.",
    labelNames: ["user"] as const,
    percentiles: [1],
    maxSeries: 1,
    registry: null,
    clock: fixedClock(0),
  });
  summary.observe({ user: "a" }, 1);
  summary.observe({ user: "b" }, 2);
  summary.observe({ user: "c" }, 3);
  assert.equal(summary.droppedLabelSets, 2);
  assert.deepEqual((await summary.collect()).points, [
    {
      labels: { user: "a" },
      count: 1,
      sum: 1,
      created: 0,
      quantiles: [{ quantile: 1, value: 1 }],
    },
    {
      labels: { otel_metric_overflow: "true" },
      count: 2,
      sum: 5,
      created: 0,
      quantiles: [{ quantile: 1, value: 3 }],
    },
  ]);
});

Deno.test("Summary keeps a unit in its family", async () => {
  const summary = new Summary({
    name: "upload_bytes",
    help: "Upload sizes.",
    unit: "bytes",
    registry: null,
    clock: fixedClock(0),
  });
  assert.deepEqual(await summary.collect(), {
    type: "summary",
    name: "upload_bytes",
    help: "Upload sizes.",
    unit: "bytes",
    points: [{ labels: {}, count: 0, sum: 0, created: 0, quantiles: [] }],
  });
});

Deno.test("Summary collect hook runs before each snapshot, sync or async", async () => {
  const sync = new Summary({
    name: "hook_sync_seconds",
    help: "X.",
    registry: null,
    clock: fixedClock(0),
    collect() {
      this.observe(2);
    },
  });
  assert.deepEqual((await sync.collect()).points[0], {
    labels: {},
    count: 1,
    sum: 2,
    created: 0,
    quantiles: [],
  });
  const pending = new Summary({
    name: "hook_async_seconds",
    help: "X.",
    registry: null,
    clock: fixedClock(0),
    collect: async (summary) => {
      await Promise.resolve();
      summary.observe(5);
    },
  });
  const result = pending.collect();
  assert.ok(result instanceof Promise);
  assert.equal((await result).points[0]?.sum, 5);
});

Deno.test("Summary registers with its registry and refuses a duplicate name", async () => {
  const registry = new Registry({ clock: fixedClock(0) });
  const summary = new Summary({ name: "dup_seconds", help: "X.", registry });
  assert.equal(registry.get("dup_seconds"), summary);
  assert.throws(
    () => new Summary({ name: "dup_seconds", help: "Y.", registry }),
    DuplicateMetricError,
  );
  assert.equal((await registry.collect()).length, 1);
});

Deno.test("Summary rejects bad input with exact messages", async (t) => {
  const base = { name: "bad_seconds", help: "X.", registry: null };
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "percentiles not an array",
      () => new Summary({ ...base, percentiles: 0.5 as unknown as number[] }),
      TypeError,
      'Cannot declare summary "bad_seconds": percentiles must be an array of numbers, got 0.5',
    ],
    [
      "a percentile not a number",
      () =>
        new Summary({ ...base, percentiles: ["0.5"] as unknown as number[] }),
      TypeError,
      'Cannot declare summary "bad_seconds": a percentile must be a number, got "0.5"',
    ],
    [
      "a percentile above 1",
      () => new Summary({ ...base, percentiles: [0.5, 99] }),
      RangeError,
      'Cannot declare summary "bad_seconds": a percentile must be between 0 and 1, got 99',
    ],
    [
      "a negative percentile",
      () => new Summary({ ...base, percentiles: [-0.1] }),
      RangeError,
      'Cannot declare summary "bad_seconds": a percentile must be between 0 and 1, got -0.1',
    ],
    [
      "a NaN percentile",
      () => new Summary({ ...base, percentiles: [NaN] }),
      RangeError,
      'Cannot declare summary "bad_seconds": a percentile must be between 0 and 1, got NaN',
    ],
    [
      "percentiles out of order",
      () => new Summary({ ...base, percentiles: [0.5, 0.99, 0.9] }),
      RangeError,
      'Cannot declare summary "bad_seconds": percentiles must be strictly increasing, got 0.9 after 0.99',
    ],
    [
      "a repeated percentile",
      () => new Summary({ ...base, percentiles: [0.5, 0.5] }),
      RangeError,
      'Cannot declare summary "bad_seconds": percentiles must be strictly increasing, got 0.5 after 0.5',
    ],
    [
      "maxAgeSeconds of 0",
      () => new Summary({ ...base, maxAgeSeconds: 0 }),
      RangeError,
      'Cannot declare summary "bad_seconds": maxAgeSeconds must be greater than 0, got 0',
    ],
    [
      "maxAgeSeconds NaN",
      () => new Summary({ ...base, maxAgeSeconds: NaN }),
      RangeError,
      'Cannot declare summary "bad_seconds": maxAgeSeconds must be greater than 0, got NaN',
    ],
    [
      "maxAgeSeconds a string",
      () => new Summary({ ...base, maxAgeSeconds: "600" as unknown as number }),
      TypeError,
      'Cannot declare summary "bad_seconds": maxAgeSeconds must be a number, got "600"',
    ],
    [
      "ageBuckets of 0",
      () => new Summary({ ...base, ageBuckets: 0 }),
      RangeError,
      'Cannot declare summary "bad_seconds": ageBuckets must be an integer from 1 to 60, got 0',
    ],
    [
      "ageBuckets fractional",
      () => new Summary({ ...base, ageBuckets: 2.5 }),
      RangeError,
      'Cannot declare summary "bad_seconds": ageBuckets must be an integer from 1 to 60, got 2.5',
    ],
    [
      "ageBuckets a string",
      () => new Summary({ ...base, ageBuckets: "5" as unknown as number }),
      TypeError,
      'Cannot declare summary "bad_seconds": ageBuckets must be a number, got "5"',
    ],
    [
      "the reserved label quantile",
      () => new Summary({ ...base, labelNames: ["quantile"] }),
      TypeError,
      'Cannot declare metric "bad_seconds": label name "quantile" is reserved for this kind of metric',
    ],
    [
      "an observed string",
      () => new Summary(base).observe("1" as unknown as number),
      TypeError,
      'Cannot observe summary "bad_seconds": the value must be a number, got "1"',
    ],
    [
      "an observed string on a child",
      () =>
        new Summary({ ...base, labelNames: ["a"] }).labels("x").observe(
          undefined as unknown as number,
        ),
      TypeError,
      'Cannot observe summary "bad_seconds": the value must be a number, got undefined',
    ],
  ];
  for (const [name, act, type, message] of cases) {
    await t.step(name, () => {
      assert.throws(act, (error: unknown) => {
        assert.ok(error instanceof type, `${name}: ${error}`);
        assert.equal((error as Error).message, message);
        return true;
      });
    });
  }
});

Deno.test("Summary exposition passes promtool check metrics, NaN quantiles included", async () => {
  const registry = new Registry({ clock: fixedClock(0) });
  const rpc = new Summary({
    name: "rpc_duration_seconds",
    help: "RPC duration.",
    labelNames: ["method"] as const,
    percentiles: [0.5, 0.99],
    registry,
  });
  rpc.observe({ method: "get" }, 0.25);
  rpc.observe({ method: "get" }, 1);
  new Summary({
    name: "idle_seconds",
    help: "Never observed.",
    percentiles: [0.5],
    registry,
  });
  const text = await registry.metrics();
  assert.equal(
    text,
    [
      "# HELP rpc_duration_seconds RPC duration.",
      "# TYPE rpc_duration_seconds summary",
      'rpc_duration_seconds{method="get",quantile="0.5"} 0.25',
      'rpc_duration_seconds{method="get",quantile="0.99"} 1',
      'rpc_duration_seconds_sum{method="get"} 1.25',
      'rpc_duration_seconds_count{method="get"} 2',
      "# HELP idle_seconds Never observed.",
      "# TYPE idle_seconds summary",
      'idle_seconds{quantile="0.5"} NaN',
      "idle_seconds_sum 0",
      "idle_seconds_count 0",
      "",
    ].join("\n"),
  );
  assert.deepEqual(await promtoolCheckMetrics(text), { code: 0, output: "" });
});

Deno.test("Summary with percentiles keeps at most 100 series by default; without them, or with maxSeries set, the usual limit", async () => {
  const clock = fixedClock(0);
  const declare = (
    name: string,
    options: { percentiles?: number[]; maxSeries?: number },
    registry: Registry | null = null,
  ) => {
    const summary = new Summary({
      name,
      help: "X.",
      labelNames: ["user"] as const,
      registry,
      clock,
      ...options,
    });
    for (let i = 0; i < 150; i++) summary.observe({ user: `u${i}` }, i);
    return summary;
  };
  const shape = async (summary: Summary<"user">) => {
    const points = (await summary.collect()).points;
    return [points.length, points.at(-1)?.labels, summary.droppedLabelSets];
  };
  const overflow = { otel_metric_overflow: "true" };
  // 100 series and the overflow series, which took the other 50 label sets.
  assert.deepEqual(
    await shape(declare("busy_seconds", { percentiles: [0.5, 0.99] })),
    [101, overflow, 50],
  );
  assert.deepEqual(await shape(declare("plain_seconds", {})), [
    150,
    { user: "u149" },
    0,
  ]);
  assert.deepEqual(
    await shape(
      declare("raised_seconds", { percentiles: [0.5], maxSeries: 200 }),
    ),
    [150, { user: "u149" }, 0],
  );
  // A registry limit below 100 still applies.
  assert.deepEqual(
    await shape(
      declare(
        "small_seconds",
        { percentiles: [0.5] },
        new Registry({ maxSeries: 10 }),
      ),
    ),
    [11, overflow, 140],
  );
});
