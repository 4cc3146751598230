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

import type { ExponentialBuckets, Labels, MetricFamily } from "../model.ts";
import {
  buildOtlpRequest,
  estimateProtobufSize,
  exemplarsOf,
  exponentialCountAndSum,
  type OtlpAttributes,
  type OtlpExemplar,
  type OtlpExponentialHistogramMetric,
  type OtlpMetric,
  startUsOf,
  toCount,
  toCounts,
} from "./_otlp.ts";
import { ProtoWriter, WIRE_FIXED64, WIRE_VARINT } from "./_protobuf.ts";
import { LabelCache } from "../_label_cache.ts";
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
 * Each series' encoded attributes are cached per frozen label object (the
 * instruments hand out one per series for as long as it lives), so a
 * repeated encoding copies them instead of writing every key and value; the
 * cache is weak and costs about 150 bytes per live series (3 labels). A
 * label object that is not frozen is encoded every time.
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
    // ResourceMetrics.scope_metrics = 2 (repeated ScopeMetrics)
    for (let s = request.scopes.length - 1; s >= 0; s--) {
      const { scope, metrics } = request.scopes[s]!;
      const scopeMetrics = w.mark();
      // ScopeMetrics.metrics = 2 (repeated Metric)
      for (let i = metrics.length - 1; i >= 0; i--) {
        writeMetric(w, metrics[i]!, request.timeUs);
      }
      if (scope !== null) {
        // ScopeMetrics.scope = 1 (InstrumentationScope)
        const mark = w.mark();
        // InstrumentationScope.version = 2, name = 1 (string)
        if (scope.version !== "") w.string(2, scope.version);
        w.string(1, scope.name);
        w.endLen(1, mark);
      }
      w.endLen(2, scopeMetrics);
    }
    // ResourceMetrics.resource = 1 (Resource)
    const resource = w.mark();
    // Resource.attributes = 1 (repeated KeyValue)
    writeAttributes(w, 1, request.resource);
    w.endLen(1, resource);
  }
  w.endLen(1, resourceMetrics);
  return w.finish();
}

const TWO_32 = 4294967296;

/** Prepends a fixed64 field holding `us × 1000` nanoseconds, exactly; none for 0 (unset). */
function writeNanos(w: ProtoWriter, field: number, us: number): void {
  if (us === 0) return;
  const low = (us >>> 0) * 1000; // < 2^42: exact
  const hi = Math.floor(us / TWO_32) * 1000 + Math.floor(low / TWO_32);
  w.fixed64Parts(low >>> 0, hi >>> 0);
  w.tag(field, WIRE_FIXED64);
}

/** Prepends a double field (wire type 1). */
function writeDouble(w: ProtoWriter, field: number, value: number): void {
  w.double(value);
  w.tag(field, WIRE_FIXED64);
}

/** Prepends a varint field (wire type 0). */
function writeVarint(w: ProtoWriter, field: number, value: number): void {
  w.varint(value);
  w.tag(field, WIRE_VARINT);
}

/**
 * The `Metric` field holding each kind's data: gauge = 5 (Gauge), sum = 7
 * (Sum), histogram = 9 (Histogram), exponential_histogram = 10
 * (ExponentialHistogram), summary = 11 (Summary); in each, data_points = 1.
 */
const DATA_FIELDS = {
  gauge: 5,
  sum: 7,
  histogram: 9,
  exponentialHistogram: 10,
  summary: 11,
} as const;

/**
 * A series' attributes as encoded point fields (repeated `KeyValue` under
 * `field`, 7 or 9): `length` bytes at `offset` in `arena`. Made once in a
 * series' life and copied at every encoding after, instead of writing each
 * key and value again (they were a third of the encoding's time). The
 * attributes made in one encoding of a metric share one exactly sized
 * arena, as the JSON encoder's point heads do, for the same memory reason.
 */
interface AttributeBytes {
  field: number;
  arena: Uint8Array;
  offset: number;
  length: number;
}

const ATTRIBUTES = /* @__PURE__ */ new LabelCache<AttributeBytes>();
const NO_BYTES = /* @__PURE__ */ new Uint8Array(0);

function labelsOf(point: { readonly labels: Labels }): Labels {
  return point.labels;
}

function anyAttributes(): boolean {
  return true;
}

function newAttributes(): AttributeBytes {
  return { field: -1, arena: NO_BYTES, offset: 0, length: 0 };
}

/** The encoded attributes of each point of `m` under `field`, made where missing. */
function attributesOf(
  m: OtlpMetric,
  field: number,
): readonly AttributeBytes[] {
  const points: readonly { readonly labels: Labels }[] = m.points;
  const cached = ATTRIBUTES.lookup(
    points,
    labelsOf,
    anyAttributes,
    newAttributes,
  );
  let stale: ProtoWriter | undefined;
  const made: AttributeBytes[] = [];
  const ends: number[] = [];
  for (let i = 0; i < cached.length; i++) {
    const entry = cached[i]!;
    if (entry.field === field) continue;
    stale ??= new ProtoWriter(256);
    const start = stale.mark();
    // A meter's series carries typed attributes beside its labels.
    const point = m.points[i]!;
    writeAttributes(
      stale,
      field,
      "attributes" in point && point.attributes !== undefined
        ? point.attributes
        : point.labels,
    );
    entry.field = field;
    entry.length = stale.mark() - start;
    made.push(entry);
    ends.push(start);
  }
  if (stale !== undefined) {
    // Written back to front: an entry written from mark `start` ends
    // `start` bytes before the end of what was written.
    const arena = stale.finish().slice();
    for (let k = 0; k < made.length; k++) {
      const entry = made[k]!;
      entry.arena = arena;
      entry.offset = arena.length - ends[k]! - entry.length;
    }
  }
  return cached;
}

/** Writes `Metric` (ScopeMetrics field 2). */
function writeMetric(w: ProtoWriter, m: OtlpMetric, timeUs: number): void {
  const metric = w.mark();
  const data = w.mark();
  // Sum.is_monotonic = 3 (bool), Sum/Histogram.aggregation_temporality = 2 (enum)
  if (m.kind === "sum" && m.isMonotonic) writeVarint(w, 3, 1);
  if (m.kind !== "gauge" && m.kind !== "summary") {
    writeVarint(w, 2, m.temporality);
  }
  if (m.kind === "exponentialHistogram") {
    for (let i = m.points.length - 1; i >= 0; i--) {
      writeExponentialPoint(w, m, i, timeUs);
    }
  } else {
    const attributes = attributesOf(m, m.kind === "histogram" ? 9 : 7);
    for (let i = m.points.length - 1; i >= 0; i--) {
      writePoint(w, m, i, timeUs, attributes[i]!);
    }
  }
  w.endLen(DATA_FIELDS[m.kind], data);
  // Metric.unit = 3, description = 2, name = 1 (string)
  if (m.unit !== "") w.string(3, m.unit);
  if (m.description !== "") w.string(2, m.description);
  w.string(1, m.name);
  w.endLen(2, metric);
}

/**
 * Writes point `i` of `m` as field 1 of its Gauge, Sum, Histogram or
 * Summary. The three point messages number their shared fields alike:
 * start_time_unix_nano = 2, time_unix_nano = 3 (fixed64) in all;
 * NumberDataPoint { as_double = 4; exemplars = 5; attributes = 7 },
 * HistogramDataPoint { count = 4; sum = 5; bucket_counts = 6;
 * explicit_bounds = 7; exemplars = 8; attributes = 9 },
 * SummaryDataPoint { count = 4; sum = 5; quantile_values = 6; attributes = 7 }.
 */
function writePoint(
  w: ProtoWriter,
  m: Exclude<OtlpMetric, OtlpExponentialHistogramMetric>,
  i: number,
  timeUs: number,
  attributes: AttributeBytes,
): void {
  const point = w.mark();
  const histogram = m.kind === "histogram";
  w.raw(attributes.arena, attributes.offset, attributes.length);
  const exemplars = exemplarsOf(m, i);
  for (let e = exemplars.length - 1; e >= 0; e--) {
    writeExemplar(w, histogram ? 8 : 5, exemplars[e]!);
  }
  if (m.kind === "sum" || m.kind === "gauge") {
    // as_double (double, oneof value: always written)
    writeDouble(w, 4, m.points[i]!.value);
  } else {
    if (m.kind === "histogram") {
      // explicit_bounds (packed double), bucket_counts (packed fixed64)
      const bounds = m.explicitBounds;
      if (bounds.length > 0) {
        const packed = w.mark();
        for (let b = bounds.length - 1; b >= 0; b--) w.double(bounds[b]!);
        w.endLen(7, packed);
      }
      const counts = toCounts(m.points[i]!.counts);
      if (counts.length > 0) {
        const packed = w.mark();
        for (let b = counts.length - 1; b >= 0; b--) w.fixed64(counts[b]!);
        w.endLen(6, packed);
      }
    } else {
      // quantile_values (repeated ValueAtQuantile { quantile = 1; value = 2 } doubles)
      const quantiles = m.points[i]!.quantiles;
      for (let q = quantiles.length - 1; q >= 0; q--) {
        const vq = w.mark();
        writeDouble(w, 2, quantiles[q]!.value);
        writeDouble(w, 1, quantiles[q]!.quantile);
        w.endLen(6, vq);
      }
    }
    const totals = m.points[i]!;
    // sum (double, always written, like the JSON), count (fixed64)
    writeDouble(w, 5, totals.sum);
    const count = toCount(totals.count);
    if (count !== 0) {
      w.fixed64(count);
      w.tag(4, WIRE_FIXED64);
    }
  }
  writeNanos(w, 3, timeUs);
  writeNanos(w, 2, startUsOf(m, i));
  w.endLen(1, point);
}

/**
 * Writes point `i` of an exponential histogram as field 1 of its
 * ExponentialHistogram: ExponentialHistogramDataPoint { attributes = 1;
 * start_time_unix_nano = 2; time_unix_nano = 3; count = 4 (fixed64);
 * sum = 5 (optional double); scale = 6 (sint32); zero_count = 7 (fixed64);
 * positive = 8, negative = 9 (Buckets { offset = 1 (sint32);
 * bucket_counts = 2 (packed uint64) }); exemplars = 11; min = 12,
 * max = 13 (optional double); zero_threshold = 14 (double) }.
 */
function writeExponentialPoint(
  w: ProtoWriter,
  m: OtlpExponentialHistogramMetric,
  i: number,
  timeUs: number,
): void {
  const point = w.mark();
  const p = m.points[i]!;
  const native = p.native!;
  if (native.zeroThreshold !== 0) writeDouble(w, 14, native.zeroThreshold);
  if (native.max !== undefined) writeDouble(w, 13, native.max);
  if (native.min !== undefined) writeDouble(w, 12, native.min);
  const exemplars = exemplarsOf(m, i);
  for (let e = exemplars.length - 1; e >= 0; e--) {
    writeExemplar(w, 11, exemplars[e]!);
  }
  writeExponentialBuckets(w, 9, native.negative);
  writeExponentialBuckets(w, 8, native.positive);
  const zeroCount = toCount(native.zeroCount);
  if (zeroCount !== 0) {
    w.fixed64(zeroCount);
    w.tag(7, WIRE_FIXED64);
  }
  if (native.schema !== 0) {
    w.varint(((native.schema << 1) ^ (native.schema >> 31)) >>> 0);
    w.tag(6, WIRE_VARINT);
  }
  const { count, sum } = exponentialCountAndSum(p, native);
  if (sum !== undefined) writeDouble(w, 5, sum);
  if (count !== 0) {
    w.fixed64(count);
    w.tag(4, WIRE_FIXED64);
  }
  writeNanos(w, 3, timeUs);
  writeNanos(w, 2, startUsOf(m, i));
  writeAttributes(w, 1, p.labels);
  w.endLen(1, point);
}

/** Writes `Buckets { offset = 1 (sint32); bucket_counts = 2 (packed uint64) }`; none when empty. */
function writeExponentialBuckets(
  w: ProtoWriter,
  field: number,
  buckets: ExponentialBuckets,
): void {
  if (buckets.counts.length === 0) return;
  const message = w.mark();
  const counts = toCounts(buckets.counts);
  const packed = w.mark();
  for (let b = counts.length - 1; b >= 0; b--) {
    const c = counts[b]!;
    w.varint64(c % TWO_32 >>> 0, Math.floor(c / TWO_32) >>> 0);
  }
  w.endLen(2, packed);
  if (buckets.offset !== 0) {
    w.varint(((buckets.offset << 1) ^ (buckets.offset >> 31)) >>> 0);
    w.tag(1, WIRE_VARINT);
  }
  w.endLen(field, message);
}

/** Writes `Exemplar` as `field` of a data point. */
function writeExemplar(w: ProtoWriter, field: number, e: OtlpExemplar): void {
  const exemplar = w.mark();
  // filtered_attributes = 7 (repeated KeyValue)
  writeAttributes(w, 7, e.filteredAttributes);
  // trace_id = 5, span_id = 4 (bytes: 16 and 8)
  writeId(w, 5, e.traceId);
  writeId(w, 4, e.spanId);
  // as_double = 3 (double, oneof value: always written)
  writeDouble(w, 3, e.value);
  // time_unix_nano = 2 (fixed64)
  writeNanos(w, 2, e.timeUs);
  w.endLen(field, exemplar);
}

/** Writes a trace or span id given in hex as a bytes field; none for `""`. */
function writeId(w: ProtoWriter, field: number, hex: string): void {
  if (hex === "") return;
  const id = w.mark();
  w.hex(hex);
  w.endLen(field, id);
}

/** Reused key list, so reversing a label set allocates nothing. */
const keys: string[] = [];

/**
 * Writes attributes as repeated `KeyValue { key = 1; value = 2 (AnyValue) }`
 * with typed `AnyValue`s: string_value = 1 (string, every label),
 * bool_value = 2 (varint), int_value = 3 (int64 varint, two's complement),
 * double_value = 4 (double).
 */
function writeAttributes(
  w: ProtoWriter,
  field: number,
  attributes: OtlpAttributes,
): void {
  let n = 0;
  for (const key in attributes) keys[n++] = key;
  for (let i = n - 1; i >= 0; i--) {
    const key = keys[i]!;
    const v = attributes[key]!;
    const kv = w.mark();
    const value = w.mark();
    if (typeof v === "object") {
      // array_value = 5: ArrayValue { values = 1 (repeated AnyValue) }.
      const array = w.mark();
      for (let j = v.length - 1; j >= 0; j--) {
        const item = w.mark();
        writeScalarValue(w, v[j]!);
        w.endLen(1, item);
      }
      w.endLen(5, array);
    } else {
      writeScalarValue(w, v);
    }
    w.endLen(2, value);
    w.string(1, key);
    w.endLen(field, kv);
  }
}

/**
 * The field of one scalar AnyValue: string_value = 1, bool_value = 2,
 * int_value = 3 (a safe integer), double_value = 4 (any other number).
 */
function writeScalarValue(w: ProtoWriter, v: string | number | boolean): void {
  if (typeof v === "string") {
    w.string(1, v);
  } else if (typeof v === "boolean") {
    writeVarint(w, 2, v ? 1 : 0);
  } else if (Number.isSafeInteger(v)) {
    // Negative: the 64-bit two's complement, as two unsigned halves.
    const hi = Math.floor(v / TWO_32);
    w.varint64((v - hi * TWO_32) >>> 0, hi >>> 0);
    w.tag(3, WIRE_VARINT);
  } else {
    writeDouble(w, 4, v);
  }
}
