/**
 * OTLP/HTTP protobuf encoder: a snapshot as a binary
 * `opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest`,
 * hand-written, with no dependency.
 *
 * The writer fills its buffer back to front (see `_protobuf.ts`), so every
 * message below writes its fields in descending field-number order and its
 * repeated fields last element first; the bytes come out in ascending order.
 *
 * @module
 */

import type { Labels, MetricFamily } from "../model.ts";
import {
  buildOtlpRequest,
  estimateProtobufSize,
  type OtlpAttributes,
  type OtlpExemplar,
  type OtlpHistogramPoint,
  type OtlpMetric,
  type OtlpNumberPoint,
  type OtlpSummaryPoint,
} from "./_otlp.ts";
import { ProtoWriter, WIRE_FIXED64, WIRE_VARINT } from "./_protobuf.ts";
import type { OtlpEncodeOptions } from "./otlp_json.ts";

/**
 * The `Content-Type` of an OTLP/HTTP protobuf request body.
 *
 * @example
 * ```ts
 * import { OTLP_PROTOBUF_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(OTLP_PROTOBUF_CONTENT_TYPE, "application/x-protobuf");
 * ```
 */
export const OTLP_PROTOBUF_CONTENT_TYPE = "application/x-protobuf";

/**
 * Encodes a snapshot as an OTLP/HTTP protobuf `ExportMetricsServiceRequest`.
 *
 * The same mapping as {@linkcode encodeOtlpJson} (both write one shared
 * OTLP-shaped intermediate, so they cannot disagree): counters → monotonic
 * `Sum`, gauges → `Gauge`, histograms → explicit-bucket `Histogram`,
 * summaries → `Summary`, UCUM units, labels → string attributes, exemplars
 * with binary trace/span ids. Doubles are IEEE 754 `fixed64`, so NaN and
 * ±Infinity pass unchanged; times are `fixed64` nanoseconds (milliseconds
 * rounded to whole microseconds, then exactly × 1000); counts are `fixed64`.
 * Fields holding their default value are left out, as proto3 does, except
 * the oneof/optional values (`asDouble`, histogram `sum`) which are always
 * written.
 *
 * A pure function of its arguments; it never throws on runtime values. The
 * result may be a view on a larger buffer (`byteOffset` can be non-zero):
 * pass it as a `fetch` body as is, or `slice()` it to own a compact copy.
 *
 * @param families The snapshot, e.g. from `Registry#collect()`.
 * @param options Resource, scope, temporality and collection time.
 * @returns The request body for `POST /v1/metrics` with `Content-Type: application/x-protobuf`.
 *
 * @example A gauge as protobuf bytes
 * ```ts
 * import { encodeOtlpProtobuf } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeOtlpProtobuf(
 *   [{ type: "gauge", name: "up", help: "", aggregation: "max", points: [{ labels: {}, value: 1 }] }],
 *   { resource: { "service.name": "job" }, timeUnixMs: 1_700_000_000_000 },
 * );
 * assert.equal(bytes[0], 0x0a); // field 1 (resource_metrics), wire type 2
 * assert.ok(new TextDecoder().decode(bytes).includes("service.name"));
 * ```
 */
export function encodeOtlpProtobuf(
  families: readonly MetricFamily[],
  options: OtlpEncodeOptions,
): Uint8Array {
  const request = buildOtlpRequest(families, options);
  const w = new ProtoWriter(estimateProtobufSize(families));

  // ExportMetricsServiceRequest.resource_metrics = 1 (ResourceMetrics)
  const resourceMetrics = w.mark();
  {
    // ResourceMetrics.scope_metrics = 2 (ScopeMetrics)
    const scopeMetrics = w.mark();
    const metrics = request.metrics;
    // ScopeMetrics.metrics = 2 (repeated Metric)
    for (let i = metrics.length - 1; i >= 0; i--) writeMetric(w, metrics[i]!);
    if (request.scope !== null) {
      // ScopeMetrics.scope = 1 (InstrumentationScope)
      const scope = w.mark();
      // InstrumentationScope.version = 2, name = 1 (string)
      if (request.scope.version !== "") w.string(2, request.scope.version);
      w.string(1, request.scope.name);
      w.endLen(1, scope);
    }
    w.endLen(2, scopeMetrics);
    // ResourceMetrics.resource = 1 (Resource)
    const resource = w.mark();
    // Resource.attributes = 1 (repeated KeyValue)
    writeAnyAttributes(w, 1, request.resource);
    w.endLen(1, resource);
  }
  w.endLen(1, resourceMetrics);
  return w.finish();
}

const TWO_32 = 4294967296;

/** Prepends a fixed64 holding `us × 1000` nanoseconds, exactly. */
function nanos(w: ProtoWriter, us: number): void {
  const low = (us >>> 0) * 1000; // < 2^42: exact
  const hi = Math.floor(us / TWO_32) * 1000 + Math.floor(low / TWO_32);
  w.fixed64Parts(low >>> 0, hi >>> 0);
}

/** Writes `Metric` (ScopeMetrics field 2). */
function writeMetric(w: ProtoWriter, m: OtlpMetric): void {
  const metric = w.mark();
  switch (m.kind) {
    case "gauge": {
      // Metric.gauge = 5 (Gauge { data_points = 1 })
      const data = w.mark();
      for (let i = m.points.length - 1; i >= 0; i--) {
        writeNumberPoint(w, m.points[i]!);
      }
      w.endLen(5, data);
      break;
    }
    case "sum": {
      // Metric.sum = 7 (Sum { data_points = 1; aggregation_temporality = 2; is_monotonic = 3 })
      const data = w.mark();
      if (m.isMonotonic) {
        w.varint(1);
        w.tag(3, WIRE_VARINT);
      }
      w.varint(m.temporality);
      w.tag(2, WIRE_VARINT);
      for (let i = m.points.length - 1; i >= 0; i--) {
        writeNumberPoint(w, m.points[i]!);
      }
      w.endLen(7, data);
      break;
    }
    case "histogram": {
      // Metric.histogram = 9 (Histogram { data_points = 1; aggregation_temporality = 2 })
      const data = w.mark();
      w.varint(m.temporality);
      w.tag(2, WIRE_VARINT);
      for (let i = m.points.length - 1; i >= 0; i--) {
        writeHistogramPoint(w, m.points[i]!);
      }
      w.endLen(9, data);
      break;
    }
    case "summary": {
      // Metric.summary = 11 (Summary { data_points = 1 })
      const data = w.mark();
      for (let i = m.points.length - 1; i >= 0; i--) {
        writeSummaryPoint(w, m.points[i]!);
      }
      w.endLen(11, data);
      break;
    }
  }
  // Metric.unit = 3, description = 2, name = 1 (string)
  if (m.unit !== "") w.string(3, m.unit);
  if (m.description !== "") w.string(2, m.description);
  w.string(1, m.name);
  w.endLen(2, metric);
}

/** Writes `NumberDataPoint` as field 1 of Gauge/Sum. */
function writeNumberPoint(w: ProtoWriter, p: OtlpNumberPoint): void {
  const point = w.mark();
  // attributes = 7 (repeated KeyValue)
  writeLabels(w, 7, p.attributes);
  // exemplars = 5 (repeated Exemplar)
  for (let i = p.exemplars.length - 1; i >= 0; i--) {
    writeExemplar(w, 5, p.exemplars[i]!);
  }
  // as_double = 4 (double, oneof value: always written)
  w.double(p.value);
  w.tag(4, WIRE_FIXED64);
  // time_unix_nano = 3, start_time_unix_nano = 2 (fixed64)
  if (p.timeUs !== 0) {
    nanos(w, p.timeUs);
    w.tag(3, WIRE_FIXED64);
  }
  if (p.startUs !== 0) {
    nanos(w, p.startUs);
    w.tag(2, WIRE_FIXED64);
  }
  w.endLen(1, point);
}

/** Writes `HistogramDataPoint` as field 1 of Histogram. */
function writeHistogramPoint(w: ProtoWriter, p: OtlpHistogramPoint): void {
  const point = w.mark();
  // attributes = 9 (repeated KeyValue)
  writeLabels(w, 9, p.attributes);
  // exemplars = 8 (repeated Exemplar)
  for (let i = p.exemplars.length - 1; i >= 0; i--) {
    writeExemplar(w, 8, p.exemplars[i]!);
  }
  // explicit_bounds = 7 (packed repeated double)
  const bounds = p.explicitBounds;
  if (bounds.length > 0) {
    const packed = w.mark();
    for (let i = bounds.length - 1; i >= 0; i--) w.double(bounds[i]!);
    w.endLen(7, packed);
  }
  // bucket_counts = 6 (packed repeated fixed64)
  const counts = p.bucketCounts;
  if (counts.length > 0) {
    const packed = w.mark();
    for (let i = counts.length - 1; i >= 0; i--) w.fixed64(counts[i]!);
    w.endLen(6, packed);
  }
  writeSumCountTimes(w, p);
  w.endLen(1, point);
}

/** Writes `SummaryDataPoint` as field 1 of Summary. */
function writeSummaryPoint(w: ProtoWriter, p: OtlpSummaryPoint): void {
  const point = w.mark();
  // attributes = 7 (repeated KeyValue)
  writeLabels(w, 7, p.attributes);
  // quantile_values = 6 (repeated ValueAtQuantile { quantile = 1; value = 2 } doubles)
  const quantiles = p.quantileValues;
  for (let i = quantiles.length - 1; i >= 0; i--) {
    const q = quantiles[i]!;
    const vq = w.mark();
    w.double(q.value);
    w.tag(2, WIRE_FIXED64);
    w.double(q.quantile);
    w.tag(1, WIRE_FIXED64);
    w.endLen(6, vq);
  }
  writeSumCountTimes(w, p);
  w.endLen(1, point);
}

/**
 * Writes the fields HistogramDataPoint and SummaryDataPoint share, with the
 * same numbers in both: sum = 5 (double, always written, like the JSON),
 * count = 4, time_unix_nano = 3, start_time_unix_nano = 2 (fixed64).
 */
function writeSumCountTimes(
  w: ProtoWriter,
  p: { sum: number; count: number; timeUs: number; startUs: number },
): void {
  w.double(p.sum);
  w.tag(5, WIRE_FIXED64);
  if (p.count !== 0) {
    w.fixed64(p.count);
    w.tag(4, WIRE_FIXED64);
  }
  if (p.timeUs !== 0) {
    nanos(w, p.timeUs);
    w.tag(3, WIRE_FIXED64);
  }
  if (p.startUs !== 0) {
    nanos(w, p.startUs);
    w.tag(2, WIRE_FIXED64);
  }
}

/** Writes `Exemplar` as `field` of a data point. */
function writeExemplar(w: ProtoWriter, field: number, e: OtlpExemplar): void {
  const exemplar = w.mark();
  // filtered_attributes = 7 (repeated KeyValue)
  writeLabels(w, 7, e.filteredAttributes);
  // trace_id = 5, span_id = 4 (bytes: 16 and 8)
  if (e.traceId !== "") {
    w.hex(e.traceId);
    w.varint(16);
    w.tag(5, 2);
  }
  if (e.spanId !== "") {
    w.hex(e.spanId);
    w.varint(8);
    w.tag(4, 2);
  }
  // as_double = 3 (double, oneof value: always written)
  w.double(e.value);
  w.tag(3, WIRE_FIXED64);
  // time_unix_nano = 2 (fixed64)
  if (e.timeUs !== 0) {
    nanos(w, e.timeUs);
    w.tag(2, WIRE_FIXED64);
  }
  w.endLen(field, exemplar);
}

/** Reused key list, so reversing a label set allocates nothing. */
const keys: string[] = [];

/** Writes labels as repeated `KeyValue { key = 1; value = 2 (AnyValue { string_value = 1 }) }`. */
function writeLabels(w: ProtoWriter, field: number, labels: Labels): void {
  let n = 0;
  for (const key in labels) keys[n++] = key;
  for (let i = n - 1; i >= 0; i--) {
    const key = keys[i]!;
    const kv = w.mark();
    const value = w.mark();
    w.string(1, labels[key]!);
    w.endLen(2, value);
    w.string(1, key);
    w.endLen(field, kv);
  }
}

/**
 * Writes resource attributes as repeated `KeyValue` with typed `AnyValue`:
 * string_value = 1 (string), bool_value = 2 (varint), int_value = 3 (int64
 * varint, two's complement), double_value = 4 (double).
 */
function writeAnyAttributes(
  w: ProtoWriter,
  field: number,
  attributes: OtlpAttributes,
): void {
  const list = Object.keys(attributes);
  for (let i = list.length - 1; i >= 0; i--) {
    const key = list[i]!;
    const v = attributes[key]!;
    const kv = w.mark();
    const value = w.mark();
    if (typeof v === "string") {
      w.string(1, v);
    } else if (typeof v === "boolean") {
      w.varint(v ? 1 : 0);
      w.tag(2, WIRE_VARINT);
    } else if (Number.isSafeInteger(v)) {
      writeInt64(w, v);
      w.tag(3, WIRE_VARINT);
    } else {
      w.double(v);
      w.tag(4, WIRE_FIXED64);
    }
    w.endLen(2, value);
    w.string(1, key);
    w.endLen(field, kv);
  }
}

/** Prepends a safe integer as an int64 varint (negative: 10 bytes, two's complement). */
function writeInt64(w: ProtoWriter, v: number): void {
  if (v >= 0) {
    w.varint(v);
    return;
  }
  const hi = Math.floor(v / TWO_32);
  const lo = v - hi * TWO_32;
  w.varint64(lo >>> 0, hi >>> 0);
}
