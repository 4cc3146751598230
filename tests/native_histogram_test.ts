/**
 * Native (exponential) histograms: the aggregation against the OpenTelemetry
 * JS SDK's `ExponentialHistogram` (a real peer, same seeded observations),
 * the bad-input rules, bounded memory, and the snapshot arithmetic.
 */
import assert from "node:assert/strict";
import { Histogram } from "../src/instruments/histogram.ts";
import type { NativeHistogram } from "../src/model.ts";
import { requirePeer } from "./_npm.ts";
import { addNative, downscale, subtractNative } from "../src/_native.ts";

/** A seeded generator (mulberry32): the same values on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal sample around `median`, spread by `sigma` (natural log units). */
export function logNormal(random: () => number, median: number, sigma: number) {
  const u = Math.max(random(), 1e-12);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(sigma * z);
}

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
    native: { scale: 20, maxBuckets },
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
