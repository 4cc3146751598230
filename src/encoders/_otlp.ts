/**
 * The OTLP-shaped intermediate: a snapshot translated once into the shape of
 * an OTLP `ExportMetricsServiceRequest`, which `otlp_json.ts` and
 * `otlp_protobuf.ts` then only write out. All mapping decisions live here, so
 * the two encodings cannot disagree.
 *
 * The request and its metrics are built here; the data points are the
 * snapshot's own objects, not copies: what a point maps to beyond its labels
 * and values (start time, exemplars, fixed64 counts) is read through the
 * functions below, the same ones for both writers. So an encoding allocates
 * per family, not per series.
 *
 * Mapping (opentelemetry-proto `metrics/v1`, and the OTel specification's
 * Prometheus and OpenMetrics compatibility document):
 *
 * - counter → `Sum` with `isMonotonic: true` and the requested
 *   `aggregationTemporality`; the name has no `_total` (the snapshot already
 *   strips it); `startTimeUnixNano` = the point's `created`.
 * - updowncounter → `Sum` with `isMonotonic: false`, otherwise the same.
 * - gauge → `Gauge`; no start time.
 * - histogram → explicit-bucket `Histogram`: `explicitBounds` = bounds,
 *   `bucketCounts` = the per-bucket counts (one more than the bounds), `count`,
 *   `sum`, start time = `created`; no `min`/`max`. `sum` is always set: the
 *   proto asks to leave it out when negative values were recorded, but a
 *   snapshot cannot tell, and Prometheus histograms always carry a sum.
 * - histogram declared `native` → `ExponentialHistogram` (its native
 *   buckets; classic buckets it may also have are left out): `scale` = the
 *   schema, `positive`/`negative` with the snapshot's offsets, `zeroCount`,
 *   `zeroThreshold`, `min`/`max` when known (not in delta points).
 * - summary → `Summary` with `quantileValues`, `count`, `sum`, start time.
 * - `help` → `description`; `unit` → UCUM (see {@linkcode toUcumUnit}), and
 *   the unit suffix is trimmed from the name (`http_request_duration_seconds`
 *   with unit `seconds` → `http_request_duration`, unit `s`), as the
 *   compatibility document requires after trimming `_total`; its
 *   OTLP→Prometheus direction appends both again, so names round-trip.
 * - labels → attributes with `stringValue`; resource attributes keep their
 *   JavaScript type: string → `stringValue`, boolean → `boolValue`, safe
 *   integer → `intValue`, other numbers → `doubleValue`.
 * - exemplars → `exemplars` with `traceId`/`spanId` taken from the `trace_id`
 *   and `span_id` labels when they are valid hex of the right length (32 and
 *   16 digits, not all zero); every other label (and an invalid id) goes to
 *   `filteredAttributes`. Values are `asDouble`.
 * - every value is a double (`asDouble`): Prometheus values are float64.
 * - a family with no points is left out (no metric without data points).
 * - a family declared through a meter (`otel` set) keeps its OTel name and
 *   unit as declared, and goes into the `ScopeMetrics` of its meter; the
 *   others share the request's default scope, first. A point's typed
 *   `attributes` are written instead of its `labels` when it has them.
 * - the `target_info` family (`target` set) is left out: OTLP carries the
 *   resource itself.
 *
 * Times: the snapshot's milliseconds (possibly fractional, e.g. from
 * `performance.now()` offsets) are rounded to whole microseconds here, then
 * written as nanoseconds (`µs × 1000`) without floating-point rounding:
 * JSON appends `"000"` to the decimal microseconds, protobuf splits them into
 * exact 32-bit halves. Negative, non-finite or out-of-range times become 0
 * (unset).
 *
 * @module
 */

import type {
  AttributeValue,
  CounterPoint,
  Exemplar,
  GaugePoint,
  HistogramPoint,
  Labels,
  MetricFamily,
  NativeHistogram,
  SummaryPoint,
  UpDownCounterPoint,
} from "../model.ts";
import { otlpName, toUcumUnit } from "./_otlp_names.ts";

export { otlpName, toUcumUnit };

/** Attribute values as OTLP `AnyValue`s: string, bool, int (safe integer) or double. */
export type OtlpAttributes = Readonly<Record<string, AttributeValue>>;

/** `AggregationTemporality`: 1 = DELTA, 2 = CUMULATIVE. */
export type OtlpTemporality = 1 | 2;

/** An OTLP `Exemplar`. */
export interface OtlpExemplar {
  /** `filtered_attributes` (7): the exemplar's labels except valid trace/span ids. */
  readonly filteredAttributes: Labels;
  /** `time_unix_nano` (2), in whole microseconds. */
  readonly timeUs: number;
  /** `as_double` (3). */
  readonly value: number;
  /** `span_id` (4): 16 lowercase hex digits, or `""` when absent. */
  readonly spanId: string;
  /** `trace_id` (5): 32 lowercase hex digits, or `""` when absent. */
  readonly traceId: string;
}

interface OtlpMetricBase {
  /** `name` (1). */
  readonly name: string;
  /** `description` (2). */
  readonly description: string;
  /** `unit` (3), UCUM. */
  readonly unit: string;
}

/**
 * An OTLP `Metric` holding a `Gauge` (5) of `NumberDataPoint`s: per point,
 * `attributes` (7) = the labels, `as_double` (4) = the value, no start time.
 */
export interface OtlpGaugeMetric extends OtlpMetricBase {
  /** Which `data` oneof member is set. */
  readonly kind: "gauge";
  /** `Gauge.data_points` (1), as the snapshot holds them. */
  readonly points: readonly GaugePoint[];
}

/**
 * An OTLP `Metric` holding a `Sum` (7) of `NumberDataPoint`s: per
 * point, `attributes` (7) = the labels, `as_double` (4) = the value, start
 * time = `created`, `exemplars` (5) from the point's exemplar.
 */
export interface OtlpSumMetric extends OtlpMetricBase {
  /** Which `data` oneof member is set. */
  readonly kind: "sum";
  /** `Sum.aggregation_temporality` (2). */
  readonly temporality: OtlpTemporality;
  /** `Sum.is_monotonic` (3). */
  readonly isMonotonic: boolean;
  /** `Sum.data_points` (1), as the snapshot holds them. */
  readonly points: readonly (CounterPoint | UpDownCounterPoint)[];
}

/**
 * An OTLP `Metric` holding a `Histogram` (9) of `HistogramDataPoint`s: per
 * point, `attributes` (9) = the labels, `count` (4) and `bucket_counts` (6)
 * as fixed64 (see {@linkcode toCount}, {@linkcode toCounts}), `sum` (5,
 * proto3 optional: always present here), start time = `created`,
 * `exemplars` (8) from the point's bucket exemplars.
 */
export interface OtlpHistogramMetric extends OtlpMetricBase {
  /** Which `data` oneof member is set. */
  readonly kind: "histogram";
  /** `Histogram.aggregation_temporality` (2). */
  readonly temporality: OtlpTemporality;
  /** Every point's `explicit_bounds` (7, packed double). */
  readonly explicitBounds: readonly number[];
  /** `Histogram.data_points` (1), as the snapshot holds them. */
  readonly points: readonly HistogramPoint[];
}

/**
 * An OTLP `Metric` holding an `ExponentialHistogram` (10) of
 * `ExponentialHistogramDataPoint`s, from histograms declared `native`: per
 * point, `attributes` (1) = the labels, `count` (4), `sum` (5), `scale` (6)
 * = the schema, `zero_count` (7), `positive` (8) and `negative` (9) buckets
 * (`Buckets { offset = 1; bucket_counts = 2 }`, numbered alike), `min` (12)
 * and `max` (13) when known, `zero_threshold` (14), start time =
 * `created`, `exemplars` (11) from the point's bucket exemplars.
 */
export interface OtlpExponentialHistogramMetric extends OtlpMetricBase {
  /** Which `data` oneof member is set. */
  readonly kind: "exponentialHistogram";
  /** `ExponentialHistogram.aggregation_temporality` (2). */
  readonly temporality: OtlpTemporality;
  /** `ExponentialHistogram.data_points` (1): points that all have `native`. */
  readonly points: readonly HistogramPoint[];
}

/**
 * An OTLP `Metric` holding a `Summary` (11) of `SummaryDataPoint`s: per
 * point, `attributes` (7) = the labels, `count` (4) as fixed64, `sum` (5),
 * `quantile_values` (6) = the quantiles, start time = `created`.
 */
export interface OtlpSummaryMetric extends OtlpMetricBase {
  /** Which `data` oneof member is set. */
  readonly kind: "summary";
  /** `Summary.data_points` (1), as the snapshot holds them. */
  readonly points: readonly SummaryPoint[];
}

/**
 * An OTLP `Metric`, discriminated by its `data` oneof member. Its points are
 * the snapshot's own; what they map to is read through
 * {@linkcode startUsOf}, {@linkcode exemplarsOf}, {@linkcode toCount} and
 * {@linkcode toCounts}, the same functions for both writers.
 */
export type OtlpMetric =
  | OtlpGaugeMetric
  | OtlpSumMetric
  | OtlpHistogramMetric
  | OtlpExponentialHistogramMetric
  | OtlpSummaryMetric;

/** One `ScopeMetrics` (2 of `ResourceMetrics`). */
export interface OtlpScopeMetrics {
  /** `ScopeMetrics.scope` (1), or null to leave it unset. */
  readonly scope: { readonly name: string; readonly version: string } | null;
  /** `ScopeMetrics.metrics` (2), each with at least one point. */
  readonly metrics: readonly OtlpMetric[];
}

/**
 * An `ExportMetricsServiceRequest` with one `ResourceMetrics` (1) holding
 * one `ScopeMetrics` (2) per instrumentation scope, in order of first
 * appearance; none when no family has points.
 */
export interface OtlpRequest {
  /** `Resource.attributes` (1). */
  readonly resource: OtlpAttributes;
  /** Every point's `time_unix_nano` (the collection time), in whole microseconds. */
  readonly timeUs: number;
  /** `ResourceMetrics.scope_metrics` (2). */
  readonly scopes: readonly OtlpScopeMetrics[];
}

/** What the intermediate needs from the public options (a structural subset). */
export interface OtlpBuildOptions {
  /** Resource attributes. */
  readonly resource: OtlpAttributes;
  /** Instrumentation scope. */
  readonly scope?: { readonly name: string; readonly version?: string };
  /**
   * Aggregation temporality of counters and histograms (default cumulative);
   * up-down counters are always cumulative, as OTel's delta preference has
   * them.
   */
  readonly temporality?: "cumulative" | "delta";
  /** Collection time, milliseconds since the epoch. */
  readonly timeUnixMs: number;
}

/**
 * A guess of the protobuf size of a snapshot, to size a writer's first
 * buffer (about 100 bytes per point with three labels, plus 18 per bucket);
 * the JSON is about 2.5 times larger. A wrong guess costs one buffer copy.
 */
export function estimateProtobufSize(
  families: readonly MetricFamily[],
): number {
  let size = 1024;
  for (const family of families) {
    const perPoint = family.type === "histogram"
      ? 100 + 18 * (family.bounds.length + 1)
      : family.type === "summary"
      ? 100
      : 96;
    size += family.points.length * perPoint;
  }
  return size;
}

/** The largest double below 2^64: the top of fixed64. */
const MAX_UINT64 = 18_446_744_073_709_549_568;

/**
 * Milliseconds since the epoch → whole microseconds; negative, non-finite or
 * past fixed64 nanoseconds (year 2554) → 0, i.e. unset.
 */
export function msToUs(ms: number): number {
  if (!(ms > 0 && ms < MAX_UINT64 / 1e6)) return 0;
  return Math.round(ms * 1000);
}

/**
 * A count as a non-negative integer for fixed64: non-finite or negative → 0,
 * fractions rounded, at most the largest double below 2^64.
 */
export function toCount(value: number): number {
  if (!(value > 0)) return 0;
  return value >= MAX_UINT64 ? MAX_UINT64 : Math.round(value);
}

/**
 * The count and sum an OTLP ExponentialHistogramDataPoint may carry. Its
 * count must equal its zero count plus its bucket counts, and OTel keeps
 * NaN and ±Inf out of the sum; Prometheus' native rule counts them (in
 * count and sum, in no bucket). So a point that took non-finite values goes
 * out with the count of its buckets and no sum (an optional field).
 */
export function exponentialCountAndSum(
  point: { readonly count: number; readonly sum: number },
  native: NativeHistogram,
): { count: number; sum: number | undefined } {
  let count = toCount(native.zeroCount);
  for (const side of [native.positive.counts, native.negative.counts]) {
    for (let i = 0; i < side.length; i++) count += toCount(side[i]!);
  }
  const finite = Number.isFinite(point.sum) &&
    count === toCount(point.count);
  return { count, sum: finite ? point.sum : undefined };
}

/** Per-bucket counts as fixed64 values: the snapshot's own array when they already are (no copy). */
export function toCounts(counts: readonly number[]): readonly number[] {
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (!(c >= 0 && c < MAX_UINT64 && Math.floor(c) === c)) {
      return counts.map(toCount);
    }
  }
  return counts;
}

/** Hex digits, not all of them zero: a valid trace or span id of its length. */
const HEX_ID = /^(?!0+$)[0-9a-f]+$/i;
const NO_EXEMPLARS: readonly OtlpExemplar[] = [];

/** Maps a snapshot exemplar to an OTLP one (see the module doc for the id rules). */
function toOtlpExemplar(exemplar: Exemplar): OtlpExemplar {
  let traceId = "";
  let spanId = "";
  let filtered: Record<string, string> | null = null;
  const labels = exemplar.labels;
  for (const key in labels) {
    const value = labels[key]!;
    if (key === "trace_id" && value.length === 32 && HEX_ID.test(value)) {
      traceId = value.toLowerCase();
    } else if (
      key === "span_id" && value.length === 16 && HEX_ID.test(value)
    ) {
      spanId = value.toLowerCase();
    } else {
      (filtered ??= {})[key] = value;
    }
  }
  return {
    filteredAttributes: filtered ?? {},
    timeUs: msToUs(exemplar.timestamp),
    value: exemplar.value,
    spanId,
    traceId,
  };
}

/**
 * The `exemplars` of point `i` of `metric`: a counter's exemplar, a
 * histogram's bucket exemplars in bucket order; gauges and summaries have
 * none.
 */
export function exemplarsOf(
  metric: OtlpMetric,
  i: number,
): readonly OtlpExemplar[] {
  if (metric.kind === "sum") {
    const exemplar = (metric.points[i] as CounterPoint).exemplar;
    return exemplar === undefined ? NO_EXEMPLARS : [toOtlpExemplar(exemplar)];
  }
  const list = metric.kind === "histogram" ||
      metric.kind === "exponentialHistogram"
    ? metric.points[i]!.exemplars
    : undefined;
  if (list === undefined) return NO_EXEMPLARS;
  const out: OtlpExemplar[] = [];
  for (const exemplar of list) {
    if (exemplar) out.push(toOtlpExemplar(exemplar));
  }
  return out;
}

/**
 * The `start_time_unix_nano` of point `i` of `metric` in whole microseconds:
 * the point's `created`; 0 (unset) for gauges.
 */
export function startUsOf(metric: OtlpMetric, i: number): number {
  return metric.kind === "gauge" ? 0 : msToUs(metric.points[i]!.created);
}

/**
 * Translates a snapshot into the OTLP-shaped intermediate that both OTLP
 * writers serialise.
 */
export function buildOtlpRequest(
  families: readonly MetricFamily[],
  options: OtlpBuildOptions,
): OtlpRequest {
  const temporality: OtlpTemporality = options.temporality === "delta" ? 1 : 2;
  const scope = options.scope === undefined ? null : {
    name: options.scope.name,
    version: options.scope.version ?? "",
  };
  const scopes: { scope: OtlpScopeMetrics["scope"]; metrics: OtlpMetric[] }[] =
    [{ scope, metrics: [] }];
  let byScope: Map<string, OtlpMetric[]> | undefined;
  for (const family of families) {
    // A family without series (labelled, nothing recorded yet, or nothing
    // new in a delta) carries no data: OTLP metrics are sent with points.
    if (family.points.length === 0 || family.target === true) continue;
    const otel = family.otel;
    let metrics = scopes[0]!.metrics;
    if (otel !== undefined) {
      const version = otel.scope.version ?? "";
      const key = otel.scope.name + "\u0000" + version;
      const found = (byScope ??= new Map()).get(key);
      if (found === undefined) {
        metrics = [];
        byScope.set(key, metrics);
        scopes.push({ scope: { name: otel.scope.name, version }, metrics });
      } else {
        metrics = found;
      }
    }
    const base = otel === undefined
      ? {
        name: otlpName(family.name, family.unit),
        description: family.help,
        unit: toUcumUnit(family.unit),
      }
      : { name: otel.name, description: family.help, unit: otel.unit };
    switch (family.type) {
      case "counter":
      case "updowncounter":
        metrics.push({
          ...base,
          kind: "sum",
          temporality: family.type === "counter" ? temporality : 2,
          isMonotonic: family.type === "counter",
          points: family.points,
        });
        break;
      case "gauge":
        metrics.push({ ...base, kind: "gauge", points: family.points });
        break;
      case "histogram":
        // Native buckets go out as an ExponentialHistogram: the
        // resolution the user chose over the classic bounds.
        if (family.points.every((point) => point.native !== undefined)) {
          metrics.push({
            ...base,
            kind: "exponentialHistogram",
            temporality,
            points: family.points,
          });
          break;
        }
        metrics.push({
          ...base,
          kind: "histogram",
          temporality,
          explicitBounds: family.bounds,
          points: family.points,
        });
        break;
      case "summary":
        metrics.push({ ...base, kind: "summary", points: family.points });
        break;
    }
  }
  return {
    resource: options.resource,
    timeUs: msToUs(options.timeUnixMs),
    // The default scope stays when alone (an empty request keeps its one
    // ScopeMetrics, as before meters existed); beside meters' scopes, only
    // when it has metrics.
    scopes: scopes.length > 1 && scopes[0]!.metrics.length === 0
      ? scopes.slice(1)
      : scopes,
  };
}
