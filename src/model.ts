/**
 * The snapshot: plain data that instruments are collected into and that every
 * encoder, exporter and cross-worker merge consumes.
 *
 * Everything here is a plain object, array, string or number, so a snapshot
 * survives `structuredClone`, `postMessage`, a `BroadcastChannel` and
 * `JSON.stringify` unchanged (except that JSON turns non-finite numbers into
 * `null`). This file imports nothing on purpose.
 *
 * Times are milliseconds since the Unix epoch, as `Date.now()` gives them.
 *
 * @module
 */

/**
 * A label set: label name to label value.
 *
 * @example Labels of one HTTP series
 * ```ts
 * import type { Labels } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const labels: Labels = { method: "GET", route: "/orders/{id}" };
 * assert.equal(labels.route, "/orders/{id}");
 * ```
 */
export type Labels = Readonly<Record<string, string>>;

/**
 * A label value as callers may pass it when recording; numbers are turned
 * into strings (`200` → `"200"`).
 *
 * @example
 * ```ts
 * import type { LabelValue } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const status: LabelValue = 200;
 * assert.equal(String(status), "200");
 * ```
 */
export type LabelValue = string | number;

/**
 * The label object a metric with label names `L` takes when recording: one
 * value per declared name, no other keys.
 *
 * @example
 * ```ts
 * import type { LabelValues } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const labels: LabelValues<"method" | "status"> = { method: "GET", status: 200 };
 * assert.equal(labels.status, 200);
 * ```
 */
export type LabelValues<L extends string> = { readonly [K in L]: LabelValue };

/**
 * A sampled measurement that links a series to a trace: the labels usually
 * carry `trace_id` and `span_id`.
 *
 * @example An exemplar on a latency bucket
 * ```ts
 * import type { Exemplar } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const exemplar: Exemplar = {
 *   labels: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" },
 *   value: 0.27,
 *   timestamp: 1_700_000_000_000,
 * };
 * assert.equal(exemplar.value, 0.27);
 * ```
 */
export interface Exemplar {
  /** The exemplar's own labels, e.g. `trace_id` and `span_id`. */
  readonly labels: Labels;
  /** The value that was recorded. */
  readonly value: number;
  /** When it was recorded, in milliseconds since the epoch. */
  readonly timestamp: number;
}

/**
 * One OpenTelemetry attribute value: a string, number or boolean, or an
 * array of one of them (the OTel API's homogeneous arrays).
 *
 * @example
 * ```ts
 * import type { AttributeValue } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const methods: AttributeValue = ["GET", "HEAD"];
 * assert.ok(Array.isArray(methods));
 * ```
 */
export type AttributeValue =
  | string
  | number
  | boolean
  | readonly string[]
  | readonly number[]
  | readonly boolean[];

/**
 * OpenTelemetry attributes as a meter records them: {@linkcode AttributeValue}s
 * under OTel keys (`http.route`). A point carries them in `attributes` when
 * they differ from its Prometheus `labels`.
 *
 * @example
 * ```ts
 * import type { Attributes } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const attributes: Attributes = { "http.route": "/orders/{id}", "http.response.status_code": 200 };
 * assert.equal(attributes["http.response.status_code"], 200);
 * ```
 */
export type Attributes = Readonly<Record<string, AttributeValue>>;

/**
 * An OpenTelemetry instrumentation scope: the meter's name and version.
 *
 * @example
 * ```ts
 * import type { InstrumentationScope } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const scope: InstrumentationScope = { name: "@acme/db", version: "2.1.0" };
 * assert.equal(scope.name, "@acme/db");
 * ```
 */
export interface InstrumentationScope {
  /** The meter's name, e.g. a library's package name. */
  readonly name: string;
  /** The meter's version; `""` or absent when none. */
  readonly version?: string;
}

/**
 * The OpenTelemetry identity of a family declared through a meter: OTLP
 * carries this name, unit and scope as they are, while the family's `name`
 * and `unit` are their Prometheus translation.
 *
 * @example
 * ```ts
 * import type { OtelIdentity } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const otel: OtelIdentity = {
 *   name: "http.server.request.duration",
 *   unit: "s",
 *   scope: { name: "my-service" },
 * };
 * assert.equal(otel.unit, "s");
 * ```
 */
export interface OtelIdentity {
  /** The instrument name as declared (after views), e.g. `http.server.request.duration`. */
  readonly name: string;
  /** The UCUM unit as declared, e.g. `s`, `By`, `{request}`, `1`; `""` when none. */
  readonly unit: string;
  /** The meter that declared it. */
  readonly scope: InstrumentationScope;
}

/**
 * One series of a counter: a monotonic total since `created`.
 *
 * @example
 * ```ts
 * import type { CounterPoint } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const point: CounterPoint = { labels: {}, value: 3, created: 0 };
 * assert.equal(point.value, 3);
 * ```
 */
export interface CounterPoint {
  /** The series' labels. */
  readonly labels: Labels;
  /** The OTel attributes, when they differ from `labels` (see {@linkcode Attributes}). */
  readonly attributes?: Attributes;
  /** The total since `created`. */
  readonly value: number;
  /** When the series started counting from zero (milliseconds since the epoch). */
  readonly created: number;
  /** The latest exemplar, when one was recorded. */
  readonly exemplar?: Exemplar;
}

/**
 * One series of a gauge: a current value.
 *
 * @example
 * ```ts
 * import type { GaugePoint } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const point: GaugePoint = { labels: { queue: "emails" }, value: 12 };
 * assert.equal(point.labels.queue, "emails");
 * ```
 */
export interface GaugePoint {
  /** The series' labels. */
  readonly labels: Labels;
  /** The OTel attributes, when they differ from `labels` (see {@linkcode Attributes}). */
  readonly attributes?: Attributes;
  /** The current value. */
  readonly value: number;
}

/**
 * One series of a histogram.
 *
 * `counts` are per bucket, not cumulative: `counts[i]` is the number of
 * observations `v` with `bounds[i-1] < v <= bounds[i]`, and the last entry
 * (index `bounds.length`) counts the observations above the last bound, the
 * `+Inf` bucket. Per-bucket counts add up across workers and map one-to-one
 * onto OTLP's `bucketCounts`; the Prometheus encoders make them cumulative.
 *
 * @example
 * ```ts
 * import type { HistogramPoint } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * // bounds [0.1, 0.3]: one observation of 0.2, one of 5
 * const point: HistogramPoint = {
 *   labels: {},
 *   counts: [0, 1, 1],
 *   sum: 5.2,
 *   count: 2,
 *   created: 0,
 * };
 * assert.equal(point.counts.length, 3);
 * ```
 */
export interface HistogramPoint {
  /** The series' labels. */
  readonly labels: Labels;
  /** The OTel attributes, when they differ from `labels` (see {@linkcode Attributes}). */
  readonly attributes?: Attributes;
  /** Observations per bucket; one more entry than the family's bounds. */
  readonly counts: readonly number[];
  /** The sum of all observations. */
  readonly sum: number;
  /** The number of observations. */
  readonly count: number;
  /** When the series started (milliseconds since the epoch). */
  readonly created: number;
  /** The latest exemplar per bucket, aligned with `counts`; `null` where none. */
  readonly exemplars?: readonly (Exemplar | null)[];
  /**
   * The native (exponential) buckets, on a histogram declared `native`. A
   * native-only histogram's family has no bounds: `counts` is then `[count]`,
   * its one `+Inf` bucket, which is all that text formats can show of it.
   */
  readonly native?: NativeHistogram;
}

/**
 * The buckets of one sign of a native histogram: `counts[i]` counts the
 * observations whose absolute value lies in bucket `offset + i`.
 *
 * Buckets are numbered as in OTLP: bucket `k` holds the values `v` with
 * `base ** k < |v| <= base ** (k + 1)`, where `base = 2 ** (2 ** -schema)`.
 * (Prometheus numbers the same bucket `k + 1`, after its upper bound.)
 *
 * @example Two buckets at schema 0 (base 2): (1, 2] and (2, 4]
 * ```ts
 * import type { ExponentialBuckets } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const positive: ExponentialBuckets = { offset: 0, counts: [3, 1] };
 * assert.equal(positive.counts.length, 2);
 * ```
 */
export interface ExponentialBuckets {
  /** The index of the first bucket (may be negative). */
  readonly offset: number;
  /** Observations per bucket, from `offset` on; edge buckets are not empty. */
  readonly counts: readonly number[];
}

/**
 * The native (exponential) buckets of a histogram point, as Prometheus
 * native histograms and OTLP `ExponentialHistogram` carry them: base-2
 * exponential buckets at a resolution `schema` (OTel's "scale"), a zero
 * bucket for values whose absolute value is at most `zeroThreshold`, and
 * positive and negative buckets.
 *
 * The point's `count` and `sum` are shared with the classic buckets. NaN
 * and ±Infinity observations are counted in `count` and `sum` and in no
 * native bucket (the Prometheus rule), so `count` may exceed the zero count
 * plus the bucket counts.
 *
 * @example Three observations: 0, 1.5 and -3
 * ```ts
 * import type { NativeHistogram } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const native: NativeHistogram = {
 *   schema: 0,
 *   zeroThreshold: 0,
 *   zeroCount: 1,
 *   positive: { offset: 0, counts: [1] }, // (1, 2]
 *   negative: { offset: 1, counts: [1] }, // (2, 4] for -3
 *   min: -3,
 *   max: 1.5,
 * };
 * assert.equal(native.zeroCount + native.positive.counts[0]! + native.negative.counts[0]!, 3);
 * ```
 */
export interface NativeHistogram {
  /** The resolution: each power of two is split into `2 ** schema` buckets; -4 to 8 for Prometheus, up to 20 in OTLP. */
  readonly schema: number;
  /** Values with `|v| <= zeroThreshold` are counted in the zero bucket. */
  readonly zeroThreshold: number;
  /** Observations in the zero bucket. */
  readonly zeroCount: number;
  /** Buckets of positive values. */
  readonly positive: ExponentialBuckets;
  /** Buckets of negative values, by absolute value. */
  readonly negative: ExponentialBuckets;
  /** The smallest finite observation, when known (absent in delta points). */
  readonly min?: number;
  /** The largest finite observation, when known (absent in delta points). */
  readonly max?: number;
}

/**
 * One quantile of a summary.
 *
 * @example
 * ```ts
 * import type { Quantile } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const p99: Quantile = { quantile: 0.99, value: 0.42 };
 * assert.equal(p99.quantile, 0.99);
 * ```
 */
export interface Quantile {
  /** The rank, between 0 and 1. */
  readonly quantile: number;
  /** The estimated value at that rank over the summary's window. */
  readonly value: number;
}

/**
 * One series of a summary: count and sum since `created`, quantiles over a
 * sliding window.
 *
 * @example
 * ```ts
 * import type { SummaryPoint } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const point: SummaryPoint = {
 *   labels: {},
 *   count: 2,
 *   sum: 0.5,
 *   created: 0,
 *   quantiles: [{ quantile: 0.5, value: 0.2 }],
 * };
 * assert.equal(point.quantiles.length, 1);
 * ```
 */
export interface SummaryPoint {
  /** The series' labels. */
  readonly labels: Labels;
  /** The number of observations. */
  readonly count: number;
  /** The sum of all observations. */
  readonly sum: number;
  /** When the series started (milliseconds since the epoch). */
  readonly created: number;
  /** The configured quantiles over the window; empty when none are configured. */
  readonly quantiles: readonly Quantile[];
}

/**
 * How a gauge's values from several workers combine into one: add them,
 * keep the largest or smallest, or keep them `all` apart with a worker label.
 *
 * @example
 * ```ts
 * import type { GaugeAggregation } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const mode: GaugeAggregation = "max";
 * assert.equal(mode, "max");
 * ```
 */
export type GaugeAggregation = "sum" | "max" | "min" | "all";

/**
 * What every metric family has, whatever its kind.
 *
 * @example
 * ```ts
 * import type { FamilyBase } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const base: FamilyBase = { name: "queue_depth", help: "Jobs waiting." };
 * assert.equal(base.name, "queue_depth");
 * ```
 */
export interface FamilyBase {
  /**
   * The family name. For counters it has no `_total` suffix: encoders add it
   * to the samples (`http_requests` → `http_requests_total`), as OpenMetrics
   * and the OTLP translation rules expect.
   */
  readonly name: string;
  /** One line that says what the metric measures. */
  readonly help: string;
  /** The unit, e.g. `seconds` or `bytes`; the name ends with `_<unit>`. */
  readonly unit?: string;
  /** The OpenTelemetry name, unit and scope of a family declared through a meter. */
  readonly otel?: OtelIdentity;
  /**
   * Set on the `target_info` family a `MeterProvider` makes of its resource:
   * Prometheus reads it as a metric, OTLP carries it as the resource instead.
   */
  readonly target?: true;
}

/**
 * A counter family: monotonic totals.
 *
 * @example
 * ```ts
 * import type { CounterFamily } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const family: CounterFamily = {
 *   type: "counter",
 *   name: "jobs_processed",
 *   help: "Jobs processed.",
 *   points: [{ labels: {}, value: 3, created: 0 }],
 * };
 * assert.equal(family.points[0]?.value, 3);
 * ```
 */
export interface CounterFamily extends FamilyBase {
  /** The kind of family. */
  readonly type: "counter";
  /** One point per series. */
  readonly points: readonly CounterPoint[];
}

/**
 * One series of an up-down counter: a total since `created` that goes up
 * and down (OTel's non-monotonic sum).
 *
 * @example
 * ```ts
 * import type { UpDownCounterPoint } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const point: UpDownCounterPoint = { labels: { pool: "db" }, value: -2, created: 0 };
 * assert.equal(point.value, -2);
 * ```
 */
export interface UpDownCounterPoint {
  /** The series' labels. */
  readonly labels: Labels;
  /** The OTel attributes, when they differ from `labels` (see {@linkcode Attributes}). */
  readonly attributes?: Attributes;
  /** The sum of everything added since `created`, negative amounts included. */
  readonly value: number;
  /** When the series started from zero (milliseconds since the epoch). */
  readonly created: number;
}

/**
 * An up-down counter family: totals that go up and down, such as items in
 * a queue or open connections, counted by what was added and taken away.
 * Prometheus sees a gauge, OTLP a non-monotonic `Sum`, and workers' values
 * merge by addition.
 *
 * @example
 * ```ts
 * import type { UpDownCounterFamily } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const family: UpDownCounterFamily = {
 *   type: "updowncounter",
 *   name: "db_connections_open",
 *   help: "Open connections.",
 *   points: [{ labels: {}, value: 4, created: 0 }],
 * };
 * assert.equal(family.type, "updowncounter");
 * ```
 */
export interface UpDownCounterFamily extends FamilyBase {
  /** The kind of family. */
  readonly type: "updowncounter";
  /** One point per series. */
  readonly points: readonly UpDownCounterPoint[];
}

/**
 * A gauge family: current values.
 *
 * @example
 * ```ts
 * import type { GaugeFamily } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const family: GaugeFamily = {
 *   type: "gauge",
 *   name: "queue_depth",
 *   help: "Jobs waiting.",
 *   aggregation: "sum",
 *   points: [{ labels: {}, value: 7 }],
 * };
 * assert.equal(family.aggregation, "sum");
 * ```
 */
export interface GaugeFamily extends FamilyBase {
  /** The kind of family. */
  readonly type: "gauge";
  /** How values from several workers combine. */
  readonly aggregation: GaugeAggregation;
  /** One point per series. */
  readonly points: readonly GaugePoint[];
}

/**
 * A histogram family: explicit bucket bounds shared by every series.
 *
 * @example
 * ```ts
 * import type { HistogramFamily } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const family: HistogramFamily = {
 *   type: "histogram",
 *   name: "latency_seconds",
 *   help: "Latency.",
 *   bounds: [0.1, 0.3],
 *   points: [{ labels: {}, counts: [1, 0, 0], sum: 0.05, count: 1, created: 0 }],
 * };
 * assert.equal(family.bounds.length + 1, family.points[0]?.counts.length);
 * ```
 */
export interface HistogramFamily extends FamilyBase {
  /** The kind of family. */
  readonly type: "histogram";
  /** Upper bounds of the buckets, strictly increasing, without `+Inf`; empty on a native-only histogram. */
  readonly bounds: readonly number[];
  /** One point per series. */
  readonly points: readonly HistogramPoint[];
}

/**
 * A summary family.
 *
 * @example
 * ```ts
 * import type { SummaryFamily } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const family: SummaryFamily = {
 *   type: "summary",
 *   name: "payload_bytes",
 *   help: "Payload sizes.",
 *   points: [{ labels: {}, count: 1, sum: 512, created: 0, quantiles: [] }],
 * };
 * assert.equal(family.type, "summary");
 * ```
 */
export interface SummaryFamily extends FamilyBase {
  /** The kind of family. */
  readonly type: "summary";
  /** One point per series. */
  readonly points: readonly SummaryPoint[];
}

/**
 * One metric family of a snapshot, discriminated by `type`.
 *
 * @example Switch on the kind
 * ```ts
 * import type { MetricFamily } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * function seriesCount(family: MetricFamily): number {
 *   return family.points.length;
 * }
 * assert.equal(
 *   seriesCount({ type: "gauge", name: "up", help: "", aggregation: "max", points: [] }),
 *   0,
 * );
 * ```
 */
export type MetricFamily =
  | CounterFamily
  | UpDownCounterFamily
  | GaugeFamily
  | HistogramFamily
  | SummaryFamily;

/**
 * The kinds of metric family.
 *
 * @example
 * ```ts
 * import type { MetricType } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const kind: MetricType = "histogram";
 * assert.equal(kind, "histogram");
 * ```
 */
export type MetricType = MetricFamily["type"];
