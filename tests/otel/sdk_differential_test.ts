/**
 * The differential test: one seeded random sequence of API calls goes
 * through the real `@opentelemetry/api` 1.10 into the real OpenTelemetry JS
 * SDK (`@opentelemetry/sdk-metrics` 3.1.1, read by a `MetricReader`) and
 * into edgemetrics' `MeterProvider`; at checkpoints both outputs are put in
 * one form and compared point by point. edgemetrics' side is its OTLP
 * protobuf decoded by the official generated decoder; the SDK's side is its
 * `ResourceMetrics`, the data its OTLP exporters serialise.
 *
 * Compared: scope (name, version), metric name, description, unit, kind,
 * temporality, monotonicity, every point's typed attributes and value, or
 * bucket bounds, bucket counts, count and sum.
 *
 * Not compared, and why (each a documented difference):
 * - timestamps: two runs at different times; start times are checked
 *   elsewhere (tests/up_down_counter_test.ts, tests/otlp_*).
 * - histogram `min`/`max`: optional in the proto (`optional double min =
 *   11`), not kept by edgemetrics, whose histograms are also Prometheus
 *   histograms, which have no min or max.
 * - the last bits of floating-point sums: the SDK adds each collection
 *   interval's delta to the cumulative total it kept (two roundings per
 *   interval), edgemetrics adds each value to its running total; addition
 *   of doubles is not associative, so sums are compared to 12 significant
 *   digits (`round()` below), counts and bucket counts exactly.
 * - with delta temporality, series without measurements since the last
 *   collection: the JS SDK's delta reader leaves those of synchronous
 *   instruments out; edgemetrics' delta export (OtlpExporter's tracker)
 *   sends them, a sum or histogram as a zero delta (so each series' delta
 *   intervals stay contiguous, which tests/integration/otlp_faults_test.ts
 *   checks, and a consumer can tell "no change" from "export lost"), a gauge
 *   with its current value (the OTel data model gives a Gauge no
 *   temporality). I found no line of the specification that requires
 *   either; the test checks that every point the SDK sends is among
 *   edgemetrics' with the same values, and that every other point of
 *   edgemetrics' is a zero delta or a gauge's current value.
 * - `asInt` versus `asDouble` for `valueType: INT`: the SDK's exporter writes
 *   integers as `asInt`, edgemetrics writes every value as `asDouble`
 *   (Prometheus values are float64). The values are compared as numbers,
 *   and both truncate fractional values of an INT instrument.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  encodeOtlpProtobuf,
  MeterProvider,
  Registry,
  type View,
} from "@edgemetrics/edgemetrics";
import { decodeOtlpProtobuf } from "../_otlp_decode.ts";
import { requirePeer } from "../_npm.ts";
import { DeltaTracker } from "../../src/push/_delta.ts";
import { api, type ApiMeter, type ApiObservable } from "./_api.ts";

type Value = string | number | boolean | (string | number | boolean)[];
type Attrs = Record<string, Value>;

// deno-lint-ignore no-explicit-any
type Any = any;

const sdk = requirePeer<Any>("@opentelemetry/sdk-metrics");
const { metrics } = api;

/** A comparable point: sorted typed attributes, and the values. */
interface Point {
  attributes: [string, Value][];
  value?: number;
  count?: number;
  sum?: number;
  bounds?: number[];
  counts?: number[];
}

/** A comparable metric. */
interface Metric {
  scope: string;
  name: string;
  description: string;
  unit: string;
  kind: "sum" | "gauge" | "histogram";
  monotonic?: boolean;
  temporality?: "cumulative" | "delta";
  points: Point[];
}

/** A double to 12 significant digits (see the module doc). */
function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

function sortPoints(points: Point[]): Point[] {
  return points.sort((a, b) =>
    JSON.stringify(a.attributes) < JSON.stringify(b.attributes) ? -1 : 1
  );
}

function sortedAttributes(attrs: Record<string, Value>): [string, Value][] {
  return Object.keys(attrs).sort().map((k) => [k, attrs[k]!]);
}

/** The SDK's ResourceMetrics in the comparable form. */
function fromSdk(resourceMetrics: Any): Metric[] {
  const out: Metric[] = [];
  for (const scopeMetrics of resourceMetrics.scopeMetrics) {
    const scope = `${scopeMetrics.scope.name}@${
      scopeMetrics.scope.version ?? ""
    }`;
    for (const m of scopeMetrics.metrics) {
      const kind = m.dataPointType === sdk.DataPointType.SUM
        ? "sum"
        : m.dataPointType === sdk.DataPointType.GAUGE
        ? "gauge"
        : m.dataPointType === sdk.DataPointType.HISTOGRAM
        ? "histogram"
        : "unexpected";
      if (m.dataPoints.length === 0) continue; // OTLP sends metrics with points
      const metric: Metric = {
        scope,
        name: m.descriptor.name,
        description: m.descriptor.description,
        unit: m.descriptor.unit,
        kind: kind as Metric["kind"],
        points: sortPoints(m.dataPoints.map((p: Any) => {
          const point: Point = { attributes: sortedAttributes(p.attributes) };
          if (kind === "histogram") {
            point.count = p.value.count;
            point.sum = round(p.value.sum);
            point.bounds = [...p.value.buckets.boundaries];
            point.counts = [...p.value.buckets.counts];
          } else {
            point.value = round(p.value);
          }
          return point;
        })),
      };
      if (kind !== "gauge") {
        metric.temporality =
          m.aggregationTemporality === sdk.AggregationTemporality.CUMULATIVE
            ? "cumulative"
            : "delta";
      }
      if (kind === "sum") metric.monotonic = m.isMonotonic;
      out.push(metric);
    }
  }
  return out.sort(byIdentity);
}

function anyValue(v: Any): Value {
  if ("arrayValue" in v) {
    return (v.arrayValue.values ?? []).map(anyValue) as Value;
  }
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  return v.doubleValue;
}

/** edgemetrics' decoded OTLP request in the comparable form. */
function fromOtlp(request: Any): Metric[] {
  const out: Metric[] = [];
  for (const scopeMetrics of request.resourceMetrics[0].scopeMetrics ?? []) {
    const scope = `${scopeMetrics.scope?.name ?? ""}@${
      scopeMetrics.scope?.version ?? ""
    }`;
    for (const m of scopeMetrics.metrics) {
      const kind = m.sum ? "sum" : m.gauge ? "gauge" : "histogram";
      const data = m.sum ?? m.gauge ?? m.histogram;
      const metric: Metric = {
        scope,
        name: m.name,
        description: m.description ?? "",
        unit: m.unit ?? "",
        kind,
        points: sortPoints(data.dataPoints.map((p: Any) => {
          const attrs: Attrs = {};
          for (const kv of p.attributes ?? []) {
            attrs[kv.key] = anyValue(kv.value);
          }
          const point: Point = { attributes: sortedAttributes(attrs) };
          if (kind === "histogram") {
            point.count = Number(p.count ?? 0);
            point.sum = round(p.sum);
            point.bounds = p.explicitBounds ?? [];
            point.counts = (p.bucketCounts ?? []).map(Number);
          } else {
            point.value = round(p.asDouble ?? 0);
          }
          return point;
        })),
      };
      if (kind !== "gauge") {
        metric.temporality = data.aggregationTemporality === 2
          ? "cumulative"
          : "delta";
      }
      if (kind === "sum") metric.monotonic = data.isMonotonic === true;
      out.push(metric);
    }
  }
  return out.sort(byIdentity);
}

function byIdentity(a: Metric, b: Metric): number {
  const x = `${a.scope}/${a.name}`;
  const y = `${b.scope}/${b.name}`;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** mulberry32: a small seeded generator, the same sequence on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CALLS = 12_000;
const CHECKPOINTS = [1_000, 1_001, 5_000, CALLS];

/**
 * Runs the seeded sequence against whatever provider is registered in
 * `@opentelemetry/api`, calling `checkpoint` after the call counts in
 * CHECKPOINTS. Returns how many calls of each kind ran.
 */
async function runSequence(
  seed: number,
  checkpoint: (calls: number) => Promise<void>,
): Promise<Record<string, number>> {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]): T =>
    list[Math.floor(rand() * list.length)]!;
  const app = metrics.getMeter("app", "1.0.0");
  const db = metrics.getMeter("lib.db", "2.3.1");
  const http = metrics.getMeter("lib.http");
  const meters: ApiMeter[] = [app, db, http];

  const routes = ["/", "/cart", "/orders/{id}", "/health"];
  const methods = ["GET", "POST", "DELETE"];
  const codes = [200, 201, 404, 500];
  const systems = ["postgresql", "redis"];
  const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
  // Attributes of every type, keys with dots, several key orders.
  const httpAttrs = (): Attrs => {
    const route = pick(routes);
    const method = pick(methods);
    const code = pick(codes);
    switch (Math.floor(rand() * 3)) {
      case 0:
        return {
          "http.route": route,
          "http.request.method": method,
          "http.response.status_code": code,
        };
      case 1:
        return {
          "http.response.status_code": code,
          "http.route": route,
          "http.request.method": method,
        };
      default:
        return {
          "http.request.method": method,
          "http.route": route,
          "http.response.status_code": code,
          "error": code >= 500,
        };
    }
  };
  const dbAttrs = (): Attrs => ({
    "db.system": pick(systems),
    "db.statement": pick(["SELECT 1", "UPDATE t", "DELETE t"]),
    "db.pool.ratio": pick([0.25, 0.5, 1.5]),
  });
  // Array attributes, a fresh array at every call as callers write them;
  // [1] and ["1"] are different attribute sets.
  const tagSets: Value[][] = [["a"], ["a", "b"], [1, 2], ["1"], [1], []];
  const jobAttrs = (): Attrs => ({
    queue: pick(["mail", "sms"]),
    "user.id": pick(users),
    retry: rand() < 0.3,
    "job.tags": [...pick(tagSets)] as Value,
  });

  const requests = http.createCounter("http.server.requests", {
    unit: "{request}",
    description: "Requests served.",
  });
  const duration = http.createHistogram("http.server.duration", {
    unit: "s",
    valueType: api.ValueType.DOUBLE,
    description: "Request duration.",
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.05, 0.1, 0.5, 1] },
  });
  const bodySize = http.createHistogram("lib.payload.size", { unit: "By" });
  const queryDuration = db.createHistogram("db.query.duration", {
    unit: "ms",
  });
  const connections = db.createUpDownCounter("db.client.connections", {
    unit: "{connection}",
  });
  const rows = db.createCounter("db.rows", { valueType: api.ValueType.INT });
  const jobs = app.createCounter("app.jobs", { description: "Jobs." });
  const inflight = app.createUpDownCounter("app.inflight");
  const temperature = app.createGauge("app.temperature", { unit: "Cel" });
  const debug = app.createCounter("app.debug");
  const latencyDefault = app.createHistogram("app.latency");

  // Observables read state the sequence changes; one batch callback.
  const state = {
    cpu: new Map<string, number>(),
    queue: new Map<string, number>(),
    heap: 0,
  };
  const cpu = app.createObservableCounter("process.cpu.time", { unit: "s" });
  cpu.addCallback((result) => {
    for (const [mode, value] of state.cpu) {
      result.observe(value, { "cpu.mode": mode });
    }
  });
  const queueSize = app.createObservableUpDownCounter("app.queue.size");
  const heap = app.createObservableGauge("app.heap.used", { unit: "By" });
  const open = db.createObservableGauge("db.pool.open");
  app.addBatchObservableCallback((result) => {
    for (const [queue, value] of state.queue) {
      result.observe(queueSize, value, { queue });
    }
    result.observe(heap, state.heap);
  }, [queueSize, heap] as ApiObservable[]);
  open.addCallback((result) =>
    result.observe(state.queue.size, { "db.system": "postgresql" })
  );

  const counts: Record<string, number> = {};
  const count = (kind: string) => counts[kind] = (counts[kind] ?? 0) + 1;
  let next = 0;
  for (let call = 1; call <= CALLS; call++) {
    const r = rand();
    if (r < 0.16) {
      requests.add(pick([1, 1, 1, 2]), httpAttrs());
      count("counter");
    } else if (r < 0.30) {
      // Some values exactly on bounds; some negative (dropped by both).
      const v = rand() < 0.1
        ? pick([0.005, 0.01, 0.1, 1])
        : rand() < 0.02
        ? -1
        : rand() * rand() * 2;
      duration.record(v, httpAttrs());
      count("histogram");
    } else if (r < 0.36) {
      bodySize.record(Math.floor(rand() * 20_000), {
        "http.route": pick(routes),
      });
      count("histogram");
    } else if (r < 0.44) {
      queryDuration.record(rand() * 300, dbAttrs());
      count("histogram");
    } else if (r < 0.52) {
      connections.add(pick([1, -1, 2, -2]), { "db.system": pick(systems) });
      count("updowncounter");
    } else if (r < 0.57) {
      // Fractional adds to an INT counter: both truncate them.
      rows.add(rand() * 50, { "db.system": pick(systems) });
      count("counter");
    } else if (r < 0.66) {
      // A negative amount now and then: both drop it.
      jobs.add(rand() < 0.03 ? -3 : rand() * 5, jobAttrs());
      count("counter");
    } else if (r < 0.72) {
      inflight.add(rand() < 0.5 ? 1 : -1, { kind: pick(["a", "b"]) });
      count("updowncounter");
    } else if (r < 0.78) {
      temperature.record(rand() * 80 - 20, { "sensor.id": pick([1, 2, 3]) });
      count("gauge");
    } else if (r < 0.80) {
      debug.add(1);
      count("counter");
    } else if (r < 0.84) {
      latencyDefault.record(rand() * 12_000, { tier: pick(["x", "y"]) });
      count("histogram");
    } else if (r < 0.90) {
      const mode = pick(["user", "system", "idle"]);
      state.cpu.set(mode, (state.cpu.get(mode) ?? 0) + rand());
      count("observablecounter");
    } else if (r < 0.96) {
      const queue = pick(["mail", "sms", "push"]);
      state.queue.set(queue, (state.queue.get(queue) ?? 0) + pick([1, -1]));
      count("observableupdowncounter");
    } else {
      state.heap = Math.floor(rand() * 1e6);
      count("observablegauge");
    }
    if (call === CHECKPOINTS[next]) {
      next++;
      await checkpoint(call);
    }
  }
  void meters;
  return counts;
}

/** Views in edgemetrics' form and in the SDK's: rename, filter keys, buckets, drop. */
const VIEWS: View[] = [
  {
    instrument: "http.server.duration",
    name: "http.server.latency",
    description: "Latency, renamed by a view.",
  },
  { instrument: "db.query.duration", attributeKeys: { keep: ["db.system"] } },
  { instrument: "app.jobs", attributeKeys: { exclude: ["user.id"] } },
  {
    instrument: "lib.payload.*",
    meter: "lib.http",
    buckets: [100, 1_000, 10_000],
  },
  { instrument: "app.debug", drop: true },
];

function sdkViews(): Any[] {
  return [
    {
      instrumentName: "http.server.duration",
      name: "http.server.latency",
      description: "Latency, renamed by a view.",
    },
    {
      instrumentName: "db.query.duration",
      attributesProcessors: [
        sdk.createAllowListAttributesProcessor(["db.system"]),
      ],
    },
    {
      instrumentName: "app.jobs",
      attributesProcessors: [sdk.createDenyListAttributesProcessor([
        "user.id",
      ])],
    },
    {
      instrumentName: "lib.payload.*",
      meterName: "lib.http",
      aggregation: {
        type: sdk.AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
        options: { boundaries: [100, 1_000, 10_000] },
      },
    },
    {
      instrumentName: "app.debug",
      aggregation: { type: sdk.AggregationType.DROP },
    },
  ];
}

class Reader extends sdk.MetricReader {
  constructor(options: Any) {
    super(options);
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Runs the sequence through both, reading at every checkpoint with the
 * given temporality, and returns both sides' metrics per checkpoint and the
 * calls made per kind.
 */
async function runBoth(temporality: "cumulative" | "delta", seed: number) {
  const sdkOut = new Map<number, Metric[]>();
  const ourOut = new Map<number, Metric[]>();

  // 1. The OTel SDK, through the API.
  metrics.disable();
  const reader = new Reader({
    // The OTel spec's delta preference (the OTLP exporter's "delta"):
    // up-down counters stay cumulative.
    aggregationTemporalitySelector: (type: string) =>
      temporality === "delta" && !type.includes("UP_DOWN_COUNTER")
        ? sdk.AggregationTemporality.DELTA
        : sdk.AggregationTemporality.CUMULATIVE,
  });
  const sdkProvider = new sdk.MeterProvider({
    readers: [reader],
    views: sdkViews(),
  });
  assert.equal(metrics.setGlobalMeterProvider(sdkProvider), true);
  const sdkCounts = await runSequence(seed, async (calls) => {
    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, []);
    sdkOut.set(calls, fromSdk(resourceMetrics));
  });
  await sdkProvider.shutdown();
  metrics.disable();

  // 2. edgemetrics, through the same API and the same sequence.
  const registry = new Registry();
  const provider = new MeterProvider({
    registry,
    views: VIEWS,
    resource: { "service.name": "diff" },
  });
  assert.equal(metrics.setGlobalMeterProvider(provider), true);
  let ourCounts: Record<string, number> = {};
  // Delta as OtlpExporter makes it: its tracker, committed per export.
  const tracker = new DeltaTracker({ upDownCounters: "cumulative" });
  {
    const warn = console.warn;
    console.warn = () => {}; // negative amounts warn once each; checked elsewhere
    try {
      ourCounts = await runSequence(seed, async (calls) => {
        const now = Date.now();
        let families = await registry.collect();
        let commit = () => {};
        if (temporality === "delta") {
          const batch = tracker.prepare(families, now);
          families = batch.families;
          commit = batch.commit;
        }
        const bytes = encodeOtlpProtobuf(families, {
          resource: provider.resource,
          timeUnixMs: now,
          temporality,
        });
        commit();
        ourOut.set(calls, fromOtlp(decodeOtlpProtobuf(bytes)));
      });
    } finally {
      console.warn = warn;
    }
  }
  metrics.disable();
  return { sdkOut, ourOut, sdkCounts, ourCounts };
}

/** Whether a delta point says "no change": a sum of 0, an empty histogram. */
function isZeroDelta(point: Point): boolean {
  return point.counts !== undefined
    ? point.count === 0 && point.sum === 0 && point.counts.every((c) => c === 0)
    : point.value === 0;
}

/** Compares both sides at every checkpoint, metric by metric. */
function compare(
  sdkOut: Map<number, Metric[]>,
  ourOut: Map<number, Metric[]>,
  temporality: "cumulative" | "delta" = "cumulative",
): void {
  for (const calls of CHECKPOINTS) {
    const theirs = sdkOut.get(calls)!;
    let ours = ourOut.get(calls)!;
    if (temporality === "delta") {
      // See the module doc: keep of ours what the SDK sent, after checking
      // that the rest is zero deltas or a gauge's current values.
      const kept: Metric[] = [];
      for (const mine of ours) {
        const match = theirs.find((m) =>
          m.scope === mine.scope && m.name === mine.name
        );
        const points = mine.points.filter((point) => {
          const sent = match?.points.some((p) => isDeepStrictEqual(p, point));
          if (!sent) {
            assert.ok(
              mine.kind === "gauge" || isZeroDelta(point),
              `${mine.name} at ${calls} calls: ${
                JSON.stringify(point)
              } is sent by edgemetrics only, and is not a zero delta`,
            );
          }
          return sent;
        });
        if (match !== undefined) kept.push({ ...mine, points });
      }
      ours = kept;
    }
    assert.deepEqual(
      ours.map((m) => `${m.scope}/${m.name}`),
      theirs.map((m) => `${m.scope}/${m.name}`),
      `metrics at ${calls} calls`,
    );
    for (let i = 0; i < theirs.length; i++) {
      assert.deepEqual(
        ours[i],
        theirs[i],
        `${theirs[i]!.scope}/${theirs[i]!.name} at ${calls} calls`,
      );
    }
  }
}

Deno.test("MeterProvider matches @opentelemetry/sdk-metrics 3.1.1 point by point over 12,000 seeded API calls", async () => {
  const { sdkOut, ourOut, sdkCounts, ourCounts } = await runBoth(
    "cumulative",
    20_261_201,
  );

  // The sequence covered all seven kinds, the same way in both runs.
  assert.deepEqual(ourCounts, sdkCounts);
  assert.deepEqual(Object.keys(ourCounts).sort(), [
    "counter",
    "gauge",
    "histogram",
    "observablecounter",
    "observablegauge",
    "observableupdowncounter",
    "updowncounter",
  ]);
  assert.equal(
    Object.values(ourCounts).reduce((a, b) => a + b, 0),
    CALLS,
  );

  compare(sdkOut, ourOut);
  // Both had plenty to compare: every instrument but the dropped one, from
  // three meters, with hundreds of points.
  const last = ourOut.get(CALLS)!;
  assert.deepEqual(
    [...new Set(last.map((m) => m.scope))].sort(),
    ["app@1.0.0", "lib.db@2.3.1", "lib.http@"],
  );
  assert.equal(last.length, 14);
  const points = last.reduce((n, m) => n + m.points.length, 0);
  assert.ok(points > 200, `${points} points`);
  // The views did their work in both.
  const names = last.map((m) => m.name);
  assert.ok(names.includes("http.server.latency"));
  assert.ok(!names.includes("http.server.duration"));
  assert.ok(!names.includes("app.debug"));
  const query = last.find((m) => m.name === "db.query.duration")!;
  assert.deepEqual(
    query.points.map((p) => p.attributes.map(([k]) => k)),
    [["db.system"], ["db.system"]],
  );
  const payload = last.find((m) => m.name === "lib.payload.size")!;
  assert.deepEqual(payload.points[0]!.bounds, [100, 1_000, 10_000]);
});

Deno.test("MeterProvider with delta temporality (OtlpExporter's tracker) matches @opentelemetry/sdk-metrics 3.1.1 with a delta reader", async () => {
  const { sdkOut, ourOut, sdkCounts, ourCounts } = await runBoth(
    "delta",
    7_340_033,
  );
  assert.deepEqual(ourCounts, sdkCounts);
  compare(sdkOut, ourOut, "delta");
  const last = ourOut.get(CALLS)!;
  assert.ok(
    last.every((m) =>
      m.kind === "gauge" ||
      m.temporality === (m.monotonic === false ? "cumulative" : "delta")
    ),
  );
  // One call between the first two checkpoints: edgemetrics sends zero
  // deltas for the series that call did not touch.
  const quiet = ourOut.get(1_001)!.filter((m) => m.temporality === "delta");
  const changed = quiet.flatMap((m) => m.points).filter((p) => !isZeroDelta(p));
  assert.ok(changed.length <= 4, `${changed.length} changed points`);
  assert.ok(quiet.flatMap((m) => m.points).length > 100);
});
