/**
 * The Prometheus protobuf exposition: a snapshot as length-delimited
 * `io.prometheus.client.MetricFamily` messages (prometheus/client_model
 * `metrics.proto`), the one format that carries native histograms to
 * Prometheus. Hand-written, with no dependency.
 *
 * The writer fills its buffer back to front (see `_protobuf.ts`), so every
 * message below writes its fields in descending field-number order and its
 * repeated fields last element first; the bytes come out in ascending order.
 *
 * @module
 */

import type {
  Exemplar,
  HistogramFamily,
  Labels,
  MetricFamily,
} from "../model.ts";
import { downscale, MAX_PROMETHEUS_SCHEMA } from "../_native.ts";
import { ProtoWriter, WIRE_FIXED64, WIRE_VARINT } from "./_protobuf.ts";
import { LabelCache, labelsOfPoint } from "../_label_cache.ts";
import {
  EXPOSITION_FIELDS,
  writeNative,
  writeUvarint,
} from "./_native_protobuf.ts";

/**
 * What a series' labels and start time encode to, made once in its life
 * (see {@linkcode LabelCache}): its `Metric.label` fields, `length` bytes
 * at `offset` in `arena`, and its created timestamp field, `createdLength`
 * bytes at `createdOffset`, for the `createdMs` and field number it was
 * made with. The series encoded in one exposition of a family share one
 * arena.
 */
interface SeriesBytes {
  arena: Uint8Array;
  offset: number;
  length: number;
  createdMs: number;
  createdField: number;
  createdOffset: number;
  createdLength: number;
}

const SERIES_BYTES = /* @__PURE__ */ new LabelCache<SeriesBytes>();
const NO_BYTES = /* @__PURE__ */ new Uint8Array(0);

function anyBytes(): boolean {
  return true;
}

function newBytes(): SeriesBytes {
  return {
    arena: NO_BYTES,
    offset: 0,
    length: -1,
    createdMs: 0,
    createdField: 0,
    createdOffset: 0,
    createdLength: 0,
  };
}

/**
 * The encoded labels and created timestamps (field `createdField` of the
 * kind's message; 0 for none) of each point of a family, from the cache;
 * the ones not made yet, or made for another start time, are made now, all
 * into one new arena.
 */
function seriesBytes(
  points: readonly { readonly labels: Labels; readonly created?: number }[],
  createdField: number,
): readonly SeriesBytes[] {
  const cached = SERIES_BYTES.lookup(points, labelsOfPoint, anyBytes, newBytes);
  let w: ProtoWriter | undefined;
  const fresh: number[] = [];
  const marks: number[] = [];
  // Written back to front: the last fresh series' bytes come first.
  for (let i = cached.length - 1; i >= 0; i--) {
    const bytes = cached[i]!;
    const created = createdField === 0 ? 0 : points[i]!.created ?? 0;
    if (
      bytes.length >= 0 && bytes.createdField === createdField &&
      bytes.createdMs === created
    ) {
      continue;
    }
    w ??= new ProtoWriter(64 * (i + 1));
    const start = w.mark();
    writeLabels(w, 1, points[i]!.labels);
    const middle = w.mark();
    if (createdField !== 0) writeTimestamp(w, createdField, created);
    bytes.createdMs = created;
    bytes.createdField = createdField;
    fresh.push(i);
    marks.push(start, middle, w.mark());
  }
  if (w === undefined) return cached;
  const arena = w.finish().slice();
  const total = arena.length;
  for (let k = 0; k < fresh.length; k++) {
    const bytes = cached[fresh[k]!]!;
    const start = marks[3 * k]!;
    const middle = marks[3 * k + 1]!;
    const end = marks[3 * k + 2]!;
    // A mark counts bytes from the end: content written later lies before.
    bytes.arena = arena;
    bytes.createdOffset = total - end;
    bytes.createdLength = end - middle;
    bytes.offset = total - middle;
    bytes.length = middle - start;
  }
  return cached;
}

/** Prepends a series' cached created timestamp field. */
function writeCreated(w: ProtoWriter, bytes: SeriesBytes): void {
  w.raw(bytes.arena, bytes.createdOffset, bytes.createdLength);
}

/**
 * The `Content-Type` of the Prometheus protobuf exposition.
 *
 * @example
 * ```ts
 * import { PROMETHEUS_PROTOBUF_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.match(PROMETHEUS_PROTOBUF_CONTENT_TYPE, /proto=io\.prometheus\.client\.MetricFamily/);
 * ```
 */
export const PROMETHEUS_PROTOBUF_CONTENT_TYPE =
  "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/**
 * The field of the created timestamp in each kind's message: Counter = 3,
 * Summary = 4, Histogram = 15; gauges have none.
 */
const CREATED_FIELDS = {
  counter: 3,
  gauge: 0,
  updowncounter: 0,
  summary: 4,
  histogram: 15,
};

/**
 * `MetricType`: COUNTER = 0, GAUGE = 1, SUMMARY = 2, HISTOGRAM = 4; an
 * up-down counter is a gauge to Prometheus.
 */
const TYPES = {
  counter: 0,
  gauge: 1,
  updowncounter: 1,
  summary: 2,
  histogram: 4,
} as const;

/**
 * Encodes a snapshot as the Prometheus protobuf exposition: one
 * `MetricFamily` per family, each preceded by its length as a varint
 * (`encoding=delimited`).
 *
 * Every kind is carried: counters (named with `_total`, as in text 0.0.4,
 * with their exemplar and created timestamp), gauges, summaries (count,
 * sum, quantiles, created timestamp), and histograms with their classic
 * buckets (cumulative, `+Inf` left implicit unless it holds an exemplar)
 * and their native buckets: schema, zero threshold and count, and
 * positive and negative spans with delta-encoded counts (Prometheus numbers
 * bucket `k` of the snapshot `k + 1`). A native histogram finer than
 * schema 8 (an OTel scale up to 20) is shown at schema 8, the finest
 * Prometheus accepts, exactly. A native histogram with no bucket yet carries
 * the empty span that tells Prometheus it is native. A family's unit is
 * written when its name ends with `_<unit>`.
 *
 * A pure function of the snapshot; it never throws on runtime values (NaN
 * and ±Infinity are doubles on the wire). The result may be a view on a
 * larger buffer.
 *
 * @param families The snapshot, e.g. from `Registry#collect()`.
 * @returns The body to serve with {@linkcode PROMETHEUS_PROTOBUF_CONTENT_TYPE}.
 *
 * @example A native histogram for Prometheus
 * ```ts
 * import { encodePrometheusProtobuf, Histogram } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const latency = new Histogram({ name: "rpc_seconds", help: "RPC latency.", native: true, registry: null });
 * latency.observe(0.25);
 * const bytes = encodePrometheusProtobuf([await latency.collect()]);
 * assert.equal(bytes[0], bytes.length - 1); // one delimited MetricFamily
 * assert.equal(bytes[1], 0x0a); // field 1 (name), wire type 2
 * ```
 */
export function encodePrometheusProtobuf(
  families: readonly MetricFamily[],
): Uint8Array {
  const w = new ProtoWriter(estimateSize(families));
  for (let f = families.length - 1; f >= 0; f--) {
    const family = families[f]!;
    const start = w.mark();
    writeFamily(w, family);
    // encoding=delimited: the message's length, as a varint, before it.
    w.varint(w.mark() - start);
  }
  return w.finish();
}

/**
 * A guess of the size, to size the writer's first buffer: about 90 bytes
 * per series (three labels and a created timestamp) plus 14 per classic
 * bucket and 160 for native buckets. A wrong guess costs one copy.
 */
function estimateSize(families: readonly MetricFamily[]): number {
  let size = 256;
  for (const family of families) {
    const perPoint = family.type === "histogram"
      ? 90 + 14 * family.bounds.length +
        (family.points[0]?.native === undefined ? 0 : 160)
      : 90;
    size += family.points.length * perPoint;
  }
  return size;
}

/** Writes `MetricFamily { name = 1; help = 2; type = 3; metric = 4; unit = 5 }`. */
function writeFamily(w: ProtoWriter, family: MetricFamily): void {
  const name = family.type === "counter" ? family.name + "_total" : family.name;
  const unit = family.unit;
  if (unit !== undefined && unit !== "" && name.endsWith("_" + unit)) {
    w.string(5, unit);
  }
  // metric = 4 (repeated Metric)
  const series = seriesBytes(family.points, CREATED_FIELDS[family.type]);
  for (let i = family.points.length - 1; i >= 0; i--) {
    const metric = w.mark();
    switch (family.type) {
      case "counter": {
        // Metric.counter = 3: Counter { value = 1; exemplar = 2; created_timestamp = 3 }
        const p = family.points[i]!;
        const counter = w.mark();
        writeCreated(w, series[i]!);
        if (p.exemplar !== undefined) writeExemplar(w, 2, p.exemplar);
        writeDouble(w, 1, p.value);
        w.endLen(3, counter);
        break;
      }
      case "gauge":
      case "updowncounter": {
        // Metric.gauge = 2: Gauge { value = 1 }
        const gauge = w.mark();
        writeDouble(w, 1, family.points[i]!.value);
        w.endLen(2, gauge);
        break;
      }
      case "summary": {
        // Metric.summary = 4: Summary { sample_count = 1; sample_sum = 2;
        // quantile = 3 (Quantile { quantile = 1; value = 2 }); created_timestamp = 4 }
        const p = family.points[i]!;
        const summary = w.mark();
        writeCreated(w, series[i]!);
        for (let q = p.quantiles.length - 1; q >= 0; q--) {
          const quantile = w.mark();
          writeDouble(w, 2, p.quantiles[q]!.value);
          writeDouble(w, 1, p.quantiles[q]!.quantile);
          w.endLen(3, quantile);
        }
        writeDouble(w, 2, p.sum);
        writeUvarint(w, 1, p.count);
        w.endLen(4, summary);
        break;
      }
      case "histogram":
        writeHistogram(w, family, i, series[i]!);
        break;
    }
    // Metric.label = 1 (repeated LabelPair), encoded once per series
    const bytes = series[i]!;
    w.raw(bytes.arena, bytes.offset, bytes.length);
    w.endLen(4, metric);
  }
  writeVarintField(w, 3, TYPES[family.type]);
  if (family.help !== "") w.string(2, family.help);
  w.string(1, name);
}

/**
 * Writes `Metric.histogram = 7`: Histogram { sample_count = 1;
 * sample_sum = 2; bucket = 3; schema = 5 (sint32); zero_threshold = 6;
 * zero_count = 7; negative_span = 9; negative_delta = 10 (sint64);
 * positive_span = 12; positive_delta = 13 (sint64); created_timestamp = 15;
 * exemplars = 16 }.
 */
function writeHistogram(
  w: ProtoWriter,
  family: HistogramFamily,
  i: number,
  bytes: SeriesBytes,
): void {
  const p = family.points[i]!;
  const histogram = w.mark();
  const native = p.native === undefined
    ? undefined
    : downscale(p.native, MAX_PROMETHEUS_SCHEMA);
  const bounds = family.bounds;
  if (native !== undefined && bounds.length === 0 && p.exemplars) {
    // Native only: the exemplars go with the native histogram (they carry timestamps).
    for (let e = p.exemplars.length - 1; e >= 0; e--) {
      const exemplar = p.exemplars[e];
      if (exemplar) writeExemplar(w, 16, exemplar);
    }
  }
  writeCreated(w, bytes);
  if (native !== undefined) {
    writeNative(w, native, EXPOSITION_FIELDS, true);
  }
  // bucket = 3: Bucket { cumulative_count = 1; upper_bound = 2; exemplar = 3 }
  const counts = p.counts;
  let total = 0;
  for (let b = 0; b < counts.length; b++) total += counts[b]!;
  let cumulative = total;
  const infExemplar = bounds.length > 0 ? p.exemplars?.[bounds.length] : null;
  for (let b = bounds.length; b >= 0; b--) {
    const bound = b === bounds.length ? Infinity : bounds[b]!;
    const exemplar = p.exemplars?.[b] ?? null;
    if (b < bounds.length || infExemplar) {
      const bucket = w.mark();
      if (exemplar !== null) writeExemplar(w, 3, exemplar);
      writeDouble(w, 2, bound);
      writeUvarint(w, 1, cumulative);
      w.endLen(3, bucket);
    }
    cumulative -= counts[b] ?? 0;
  }
  writeDouble(w, 2, p.sum);
  writeUvarint(w, 1, p.count);
  w.endLen(7, histogram);
}

function writeVarintField(w: ProtoWriter, field: number, value: number): void {
  w.varint(value);
  w.tag(field, WIRE_VARINT);
}

function writeDouble(w: ProtoWriter, field: number, value: number): void {
  w.double(value);
  w.tag(field, WIRE_FIXED64);
}

/**
 * Writes a `google.protobuf.Timestamp { seconds = 1 (int64); nanos = 2
 * (int32) }` from milliseconds since the epoch; none for 0 or less.
 */
function writeTimestamp(w: ProtoWriter, field: number, ms: number): void {
  if (!(ms > 0 && ms < 8.64e15)) return;
  const timestamp = w.mark();
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos > 0) writeVarintField(w, 2, Math.min(nanos, 999_999_999));
  writeVarintField(w, 1, seconds);
  w.endLen(field, timestamp);
}

/** Writes `Exemplar { label = 1; value = 2; timestamp = 3 }`. */
function writeExemplar(w: ProtoWriter, field: number, e: Exemplar): void {
  const exemplar = w.mark();
  writeTimestamp(w, 3, e.timestamp);
  writeDouble(w, 2, e.value);
  writeLabels(w, 1, e.labels);
  w.endLen(field, exemplar);
}

/** Reused key list, so reversing a label set allocates nothing. */
const keys: string[] = [];

/** Writes repeated `LabelPair { name = 1; value = 2 }`. */
function writeLabels(w: ProtoWriter, field: number, labels: Labels): void {
  let n = 0;
  for (const key in labels) keys[n++] = key;
  for (let i = n - 1; i >= 0; i--) {
    const pair = w.mark();
    w.string(2, labels[keys[i]!]!);
    w.string(1, keys[i]!);
    w.endLen(field, pair);
  }
}
