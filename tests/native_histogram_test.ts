/**
 * Native (exponential) histograms: the aggregation against the OpenTelemetry
 * JS SDK's `ExponentialHistogram` (a real peer, same seeded observations),
 * the bad-input rules, bounded memory, and the snapshot arithmetic.
 */
import assert from "node:assert/strict";
import { Histogram } from "../src/instruments/histogram.ts";
import type { MetricFamily, NativeHistogram } from "../src/model.ts";
import { requirePeer } from "./_npm.ts";
import { addNative, downscale, subtractNative } from "../src/_native.ts";
import { Registry } from "../src/registry.ts";
import { encodePrometheusText } from "../src/encoders/prometheus_text.ts";
import { encodeOpenMetrics } from "../src/encoders/openmetrics.ts";
import { mergeSnapshots } from "../src/workers/merge.ts";
import { DeltaTracker } from "../src/push/_delta.ts";
import { captureWarnings } from "./_warnings.ts";
import { logNormal, seeded } from "./_seeded.ts";

interface SdkPoint {
  scale: number;
  zeroCount: number;
  count: number;
  sum: number | undefined;
  min: number;
  max: number;
  positive: { offset: number; bucketCounts: number[] };
  negative: { offset: number; bucketCounts: number[] };
}

interface SdkMetrics {
  MeterProvider: new (options: unknown) => {
    getMeter(name: string): {
      createHistogram(name: string): { record(value: number): void };
      createGauge(name: string): { record(value: number): void };
    };
  };
  MetricReader: new () => {
    collect(): Promise<{
      resourceMetrics: {
        scopeMetrics: { metrics: { dataPoints: { value: SdkPoint }[] }[] }[];
      };
    }>;
  };
}

/** `AggregationType.EXPONENTIAL_HISTOGRAM`: a const enum, absent at run time. */
const EXPONENTIAL_HISTOGRAM = 5;

/**
 * What the OTel SDK 3.1.1 aggregates for `values` with `maxSize` buckets.
 * Its histogram instrument drops negative values, so values with negatives
 * go through a gauge with the same aggregation, for which it reports no sum.
 */
async function sdkAggregate(
  values: readonly number[],
  maxSize: number,
): Promise<SdkPoint> {
  const sdk = requirePeer<SdkMetrics>("@opentelemetry/sdk-metrics");
  class Reader extends sdk.MetricReader {
    onShutdown(): Promise<void> {
      return Promise.resolve();
    }
    onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
  }
  const reader = new Reader();
  const provider = new sdk.MeterProvider({
    readers: [reader],
    views: [{
      instrumentName: "x",
      aggregation: {
        type: EXPONENTIAL_HISTOGRAM,
        options: { maxSize, recordMinMax: true },
      },
    }],
  });
  const meter = provider.getMeter("test");
  const instrument = values.some((value) => value < 0)
    ? meter.createGauge("x")
    : meter.createHistogram("x");
  for (const value of values) instrument.record(value);
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.value;
}

/** What edgemetrics records for `values` at scale 20 (the SDK's start) with `maxBuckets`. */
async function ours(values: readonly number[], maxBuckets: number) {
  const histogram = new Histogram({
    name: "x",
    help: "x",
    // The SDK has no zero threshold: only exact zeros are in its zero bucket.
    native: { scale: 20, maxBuckets, zeroThreshold: 0 },
    registry: null,
  });
  for (const value of values) histogram.observe(value);
  const point = (await histogram.collect()).points[0]!;
  return { point, native: point.native! };
}

const CASES: [string, number, () => number[]][] = [
  ["log-normal latencies (downscales from 20)", 160, () => {
    const random = seeded(42);
    return Array.from({ length: 5000 }, () => logNormal(random, 0.2, 1.2));
  }],
  [
    "both signs, zeros, powers of two, 1e-300..1e300 (down to scale -4)",
    160,
    () => {
      const random = seeded(7);
      const values = [0, 0, 1, 2, 0.5, 1024, -4, -0.25, 1e-300, 1e300, -1e300];
      for (let i = 0; i < 3000; i++) {
        const magnitude = 10 ** (random() * 600 - 300);
        values.push(random() < 0.3 ? -magnitude : magnitude);
      }
      return values;
    },
  ],
  ["a small limit: 12 buckets over six decades", 12, () => {
    const random = seeded(99);
    return Array.from({ length: 2000 }, () => 10 ** (random() * 6 - 3));
  }],
  ["integers 1..1000 (exact powers of two included)", 160, () => {
    return Array.from({ length: 1000 }, (_, i) => i + 1);
  }],
];

for (const [name, maxBuckets, make] of CASES) {
  Deno.test(`Histogram native buckets equal the OTel SDK's ExponentialHistogram: ${name}`, async () => {
    const values = make();
    const sdk = await sdkAggregate(values, maxBuckets);
    const { point, native } = await ours(values, maxBuckets);
    assert.ok(sdk.scale < 20, "the data forced the SDK to downscale");
    assert.ok(sdk.scale >= -4, "the case stays within Prometheus schemas");
    assert.equal(native.schema, sdk.scale);
    assert.deepEqual(native.positive, {
      offset: sdk.positive.offset,
      counts: sdk.positive.bucketCounts,
    });
    assert.deepEqual(native.negative, {
      offset: sdk.negative.bucketCounts.length === 0 ? 0 : sdk.negative.offset,
      counts: sdk.negative.bucketCounts,
    });
    assert.equal(native.zeroCount, sdk.zeroCount);
    assert.equal(point.count, sdk.count);
    // The gauge reports no sum: the sum of the values in order, as both add them.
    assert.equal(point.sum, sdk.sum ?? values.reduce((a, b) => a + b, 0));
    assert.equal(native.min, sdk.min);
    assert.equal(native.max, sdk.max);
    const inBuckets = native.zeroCount +
      native.positive.counts.reduce((a, b) => a + b, 0) +
      native.negative.counts.reduce((a, b) => a + b, 0);
    assert.equal(inBuckets, values.length);
  });
}

/** Sum of a bucket list. */
function total(counts: readonly number[]): number {
  return counts.reduce((a, b) => a + b, 0);
}

/** The doubles either side of `value` (positive, finite). */
function neighbours(value: number): [number, number] {
  const bits = new BigUint64Array(new Float64Array([value]).buffer);
  const at = (word: bigint) =>
    new Float64Array(new BigUint64Array([word]).buffer)[0]!;
  return [at(bits[0]! - 1n), at(bits[0]! + 1n)];
}

/**
 * Latency-like values (from 0.7 ms) spanning 150 buckets at `scale`, so the
 * SDK settles there (300 at the next scale exceed its 160): the extremes
 * first, then every bucket boundary in between with the doubles either
 * side of it, the powers of two, and seeded values. After the extremes,
 * each value is within the minimum and maximum seen at a scale with an
 * octave table: the bound child's common path, boundary cells included.
 */
function atBoundaries(scale: number): number[] {
  const low = 0.0007;
  const high = low * 2 ** (150 / 2 ** scale);
  const values = [low, high];
  const perOctave = 2 ** scale;
  const first = Math.ceil(Math.log2(low) * perOctave);
  const last = Math.floor(Math.log2(high) * perOctave);
  for (let k = first; k <= last; k++) {
    const bound = 2 ** (k / perOctave);
    if (bound <= low || bound >= high) continue;
    values.push(bound, ...neighbours(bound));
  }
  const random = seeded(scale);
  for (let i = 0; i < 2000; i++) values.push(low + (high - low) * random());
  return values;
}

for (let scale = 1; scale <= 8; scale++) {
  Deno.test(`Histogram.labels().observe() equals the OTel SDK at every bucket boundary of scale ${scale}`, async () => {
    const values = atBoundaries(scale);
    const sdk = await sdkAggregate(values, 160);
    assert.equal(sdk.scale, scale, "the values settle the SDK at this scale");
    const histogram = new Histogram({
      name: "x",
      help: "x",
      native: { scale: 20, maxBuckets: 160, zeroThreshold: 0 },
      registry: null,
    });
    const child = histogram.labels();
    for (const value of values) child.observe(value);
    const point = (await histogram.collect()).points[0]!;
    const native = point.native!;
    assert.equal(native.schema, sdk.scale);
    assert.deepEqual(native.positive, {
      offset: sdk.positive.offset,
      counts: sdk.positive.bucketCounts,
    });
    assert.equal(native.zeroCount, sdk.zeroCount);
    assert.equal(point.count, sdk.count);
    assert.equal(point.counts[0], sdk.count, "the +Inf bucket is the count");
    assert.equal(native.min, sdk.min);
    assert.equal(native.max, sdk.max);
  });
}

Deno.test("Histogram native: NaN and ±Infinity count in count and sum and in no native bucket", async () => {
  const histogram = new Histogram({
    name: "x",
    help: "x",
    native: true,
    buckets: [1],
    registry: null,
  });
  const warnings = captureWarnings(() => {
    histogram.observe(0.5);
    histogram.observe(NaN);
    histogram.labels().observe(NaN);
    histogram.observe(Infinity);
    histogram.observe(-Infinity);
  });
  const point = (await histogram.collect()).points[0]!;
  assert.deepEqual(warnings, [], "NaN is recorded, not warned about");
  assert.equal(point.count, 5);
  assert.ok(Number.isNaN(point.sum));
  const native = point.native!;
  assert.equal(native.zeroCount + total(native.positive.counts), 1);
  assert.deepEqual(native.negative.counts, []);
  assert.equal(native.min, 0.5);
  assert.equal(native.max, 0.5);
  // Classic buckets as client_golang: NaN and +Inf in +Inf, -Inf in the first.
  assert.deepEqual(point.counts, [2, 3]);
});

Deno.test("Histogram native: NaN and ±Infinity by label object count too, classic ones are still ignored", async () => {
  const native = new Histogram({
    name: "x",
    help: "x",
    labelNames: ["route"] as const,
    native: true,
    registry: null,
  });
  const classic = new Histogram({
    name: "y",
    help: "y",
    labelNames: ["route"] as const,
    registry: null,
  });
  const warnings = captureWarnings(() => {
    for (const v of [NaN, Infinity, -Infinity, 2]) {
      native.observe({ route: "/a" }, v);
      classic.observe({ route: "/a" }, v);
    }
  });
  const point = (await native.collect()).points[0]!;
  assert.equal(point.count, 4);
  assert.ok(Number.isNaN(point.sum));
  assert.equal(total(point.native!.positive.counts), 1);
  assert.equal((await classic.collect()).points[0]!.count, 1);
  assert.equal(warnings.length, 1, "one warning, for the classic histogram");
  assert.match(warnings[0]!, /"y"/);
});

Deno.test("Histogram native: values within the zero threshold go to the zero bucket", async () => {
  const histogram = new Histogram({
    name: "x",
    help: "x",
    native: { zeroThreshold: 0.001 },
    registry: null,
  });
  for (const v of [0, -0, 0.001, -0.0005, 0.0011]) histogram.observe(v);
  const native = (await histogram.collect()).points[0]!.native!;
  assert.equal(native.zeroThreshold, 0.001);
  assert.equal(native.zeroCount, 4);
  assert.equal(total(native.positive.counts), 1);
});

Deno.test("Histogram native: memory stays bounded for values spanning 1e-300..1e300, every limit kept", async () => {
  for (const maxBuckets of [1, 2, 10, 160]) {
    const histogram = new Histogram({
      name: "x",
      help: "x",
      // Threshold 0: even 1e-300 needs a bucket of its own.
      native: { maxBuckets, zeroThreshold: 0 },
      registry: null,
    });
    const random = seeded(maxBuckets);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const magnitude = 10 ** (random() * 600 - 300);
      histogram.observe(random() < 0.5 ? magnitude : -magnitude);
    }
    const point = (await histogram.collect()).points[0]!;
    const native = point.native!;
    assert.ok(native.positive.counts.length <= maxBuckets, `${maxBuckets}`);
    assert.ok(native.negative.counts.length <= maxBuckets, `${maxBuckets}`);
    assert.ok(native.schema >= -4, `schema ${native.schema}`);
    // Nothing lost: every value is in a bucket or the zero bucket.
    assert.equal(
      native.zeroCount + total(native.positive.counts) +
        total(native.negative.counts),
      n,
    );
    if (maxBuckets < 132) {
      // Past scale -4, the zero bucket widened over the lowest buckets.
      assert.ok(native.zeroThreshold > 0, `${maxBuckets}`);
      assert.ok(native.positive.counts.length === maxBuckets);
    } else {
      assert.equal(native.schema, -4);
      assert.equal(native.zeroThreshold, 0);
    }
  }
});

Deno.test("Histogram native: a bad option throws a RangeError or TypeError naming the metric", () => {
  const cases: [unknown, typeof RangeError | typeof TypeError, RegExp][] = [
    [
      { scale: 21 },
      RangeError,
      /"bad": native.scale must be a whole number from -4 to 20, got 21/,
    ],
    [{ scale: -5 }, RangeError, /native.scale .* got -5/],
    [{ scale: 2.5 }, RangeError, /native.scale .* got 2.5/],
    [
      { zeroThreshold: -1 },
      RangeError,
      /"bad": native.zeroThreshold must be a finite number of at least 0, got -1/,
    ],
    [
      { maxBuckets: 0 },
      RangeError,
      /"bad": native.maxBuckets must be a whole number of at least 1, got 0/,
    ],
    [
      { maxBuckets: "9" },
      TypeError,
      /"bad": native.maxBuckets must be a number, got "9"/,
    ],
    [
      "yes",
      TypeError,
      /"bad": native must be true, false or an object, got "yes"/,
    ],
  ];
  for (const [native, type, message] of cases) {
    assert.throws(
      () =>
        new Histogram({
          name: "bad",
          help: "x",
          native: native as boolean,
          registry: null,
        }),
      (error: Error) => error instanceof type && message.test(error.message),
      JSON.stringify(native),
    );
  }
});

Deno.test("Histogram native only: text and OpenMetrics show _count, _sum and the +Inf bucket", async () => {
  const registry = new Registry();
  const histogram = new Histogram({
    name: "rpc_seconds",
    help: "RPC.",
    native: true,
    registry,
  });
  histogram.observe(0.25);
  histogram.observe(3);
  const families = await registry.collect();
  assert.equal(
    encodePrometheusText(families),
    "# HELP rpc_seconds RPC.\n# TYPE rpc_seconds histogram\n" +
      'rpc_seconds_bucket{le="+Inf"} 2\nrpc_seconds_sum 3.25\nrpc_seconds_count 2\n',
  );
  assert.match(
    encodeOpenMetrics(families),
    /^rpc_seconds_bucket\{le="\+Inf"\} 2\nrpc_seconds_count 2\nrpc_seconds_sum 3.25$/m,
  );
});

/** A native histogram literal at `schema` with positive buckets. */
function nh(
  schema: number,
  offset: number,
  counts: number[],
  extra: Partial<NativeHistogram> = {},
): NativeHistogram {
  return {
    schema,
    zeroThreshold: 0,
    zeroCount: 0,
    positive: { offset, counts },
    negative: { offset: 0, counts: [] },
    ...extra,
  };
}

Deno.test("downscale() merges pairs of buckets exactly, negative indexes included", () => {
  // schema 1 buckets -3..2 → schema 0: -3>>1=-2, -2>>1=-1, -1>>1=-1, 0, 1>>1=0, 2>>1=1
  assert.deepEqual(
    downscale(nh(1, -3, [1, 2, 3, 4, 5, 6]), 0).positive,
    { offset: -2, counts: [1, 5, 9, 6] },
  );
});

Deno.test("addNative() adds at the coarser schema and keeps min and max of both", () => {
  const sum = addNative(
    nh(2, 4, [1, 1], { min: 1.5, max: 2, zeroCount: 1 }),
    nh(1, 2, [3], { min: 1.2, max: 1.9 }),
  );
  assert.equal(sum.schema, 1);
  // schema 2 buckets 4, 5 → schema 1 buckets 2, 2
  assert.deepEqual(sum.positive, { offset: 2, counts: [5] });
  assert.equal(sum.zeroCount, 1);
  assert.equal(sum.min, 1.2);
  assert.equal(sum.max, 2);
});

Deno.test("subtractNative() gives the buckets added since, or undefined after a restart", () => {
  const base = nh(3, 0, [1, 2]);
  const now = nh(2, 0, [5, 1]);
  // base at schema 2: buckets 0,1 → 0 : [3]; now - base = [2, 1]
  assert.deepEqual(subtractNative(now, base)?.positive, {
    offset: 0,
    counts: [2, 1],
  });
  assert.equal(subtractNative(nh(3, 0, [1]), nh(3, 0, [2])), undefined);
});

/** A one-series native histogram family from a histogram fed `values`. */
async function family(
  values: readonly number[],
  native: { scale: number; maxBuckets?: number },
): Promise<MetricFamily> {
  const histogram = new Histogram({
    name: "x",
    help: "x",
    native,
    registry: null,
  });
  for (const v of values) histogram.observe(v);
  return await histogram.collect();
}

Deno.test("mergeSnapshots() merges native histograms of different scales at the coarsest, as one histogram of all values", async () => {
  const random = seeded(5);
  const a = Array.from({ length: 500 }, () => logNormal(random, 1, 0.3));
  const b = Array.from({ length: 500 }, () => logNormal(random, 50, 2));
  const one = await family(a, { scale: 8 });
  const two = await family(b, { scale: 8 });
  const both = await family([...a, ...b], { scale: 8 });
  const n1 = one.type === "histogram" && one.points[0]!.native!;
  const n2 = two.type === "histogram" && two.points[0]!.native!;
  assert.ok(n1 && n2 && n1.schema > n2.schema, "the workers' scales differ");
  const { families, conflicts } = mergeSnapshots([
    { worker: "w1", families: [one] },
    { worker: "w2", families: [two] },
  ]);
  assert.deepEqual(conflicts, []);
  const merged = families[0]!.type === "histogram" &&
    families[0]!.points[0]!;
  const expected = both.type === "histogram" && both.points[0]!;
  assert.ok(merged && expected);
  assert.deepEqual(merged.native, expected.native);
  assert.equal(merged.count, 1000);
});

Deno.test("DeltaTracker: native buckets go out as the change since the acknowledged export, nothing lost", async () => {
  const histogram = new Histogram({
    name: "x",
    help: "x",
    native: { scale: 4 },
    registry: null,
  });
  const tracker = new DeltaTracker();
  for (const v of [1, 1.1, 1.2]) histogram.observe(v);
  const first = tracker.prepare([await histogram.collect()], 1000);
  first.commit();
  for (const v of [1.1, 1000]) histogram.observe(v); // 1000 forces a downscale
  const failed = tracker.prepare([await histogram.collect()], 2000);
  void failed; // not acknowledged: its data must come again
  histogram.observe(1.2);
  const batch = tracker.prepare([await histogram.collect()], 3000);
  const point = batch.families[0]!.type === "histogram" &&
    batch.families[0]!.points[0]!;
  assert.ok(point && point.native);
  assert.equal(point.count, 3);
  assert.equal(total(point.native.positive.counts), 3);
  assert.equal(point.native.min, undefined);
  assert.equal(point.created, 1000);
  const now = (await histogram.collect()).points[0]!.native!;
  assert.equal(point.native.schema, now.schema);
});

Deno.test("WorkerAggregator.collect() merges native histograms of workers at different scales, packed answers included", async () => {
  const { WorkerAggregator } = await import("../src/workers/aggregator.ts");
  const channel = `native-test-${crypto.randomUUID()}`;
  const random = seeded(11);
  // Worker b's values span far more: its scale comes down further. Many
  // series make its answer big enough to travel gzipped.
  const narrow = Array.from({ length: 300 }, () => logNormal(random, 1, 0.2));
  const wide = Array.from({ length: 300 }, () => logNormal(random, 1, 3));
  const registries = [narrow, wide].map((values) => {
    const registry = new Registry();
    const histogram = new Histogram({
      name: "x_seconds",
      help: "x",
      labelNames: ["shard"] as const,
      native: true,
      registry,
    });
    for (let shard = 0; shard < 60; shard++) {
      for (const v of values) histogram.observe({ shard: String(shard) }, v);
    }
    return registry;
  });
  const { packFamilies } = await import("../src/workers/_messages.ts");
  assert.ok(
    await packFamilies(await registries[1]!.collect()),
    "worker b's answer is big enough to travel gzipped",
  );
  using a = new WorkerAggregator({
    registry: registries[0]!,
    channel,
    worker: "a",
  });
  using b = new WorkerAggregator({
    registry: registries[1]!,
    channel,
    worker: "b",
  });
  a.start();
  b.start();
  const all = await family([...narrow, ...wide], { scale: 8 });
  const expected = all.type === "histogram" && all.points[0]!.native!;
  assert.ok(expected);
  await waitForMerged(async () => {
    const families = await a.collect();
    const merged = families.find((f) => f.name === "x_seconds");
    if (merged?.type !== "histogram") return false;
    assert.equal(merged.points.length, 60);
    for (const point of merged.points) {
      assert.equal(point.count, 600);
      assert.deepEqual(point.native, expected);
    }
    return true;
  });
});

async function waitForMerged(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the workers' native histograms were never merged");
}
