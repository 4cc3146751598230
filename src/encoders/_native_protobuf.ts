/**
 * Native histograms in protobuf, shared by the Prometheus exposition
 * (`io.prometheus.client.Histogram`, `prometheus_protobuf.ts`) and remote
 * write 1.0 and 2.0 (`prometheus.Histogram` and
 * `io.prometheus.write.v2.Histogram`, `remote_write.ts` and
 * `remote_write_v2.ts`): the schema, zero bucket, and positive and negative
 * buckets as spans with delta-encoded counts. The two messages carry the
 * same fields in the same order under different numbers, which
 * {@linkcode NativeFields} names.
 *
 * Written back to front (see `_protobuf.ts`): fields in descending order.
 *
 * Private to the encoders.
 *
 * @module
 */

import type { HistogramPoint, NativeHistogram } from "../model.ts";
import { downscale, MAX_PROMETHEUS_SCHEMA } from "../_native.ts";
import { type ProtoWriter, WIRE_FIXED64, WIRE_VARINT } from "./_protobuf.ts";

const TWO_32 = 4294967296;

/** The field numbers of the native part of one histogram message. */
export interface NativeFields {
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly negativeSpans: number;
  readonly negativeDeltas: number;
  readonly positiveSpans: number;
  readonly positiveDeltas: number;
}

/**
 * `io.prometheus.client.Histogram` (client_model `metrics.proto`):
 * schema = 5 (sint32), zero_threshold = 6, zero_count = 7, negative_span = 9,
 * negative_delta = 10, positive_span = 12, positive_delta = 13.
 */
export const EXPOSITION_FIELDS: NativeFields = {
  schema: 5,
  zeroThreshold: 6,
  zeroCount: 7,
  negativeSpans: 9,
  negativeDeltas: 10,
  positiveSpans: 12,
  positiveDeltas: 13,
};

/**
 * `prometheus.Histogram` (prompb `types.proto`), the same message as
 * `io.prometheus.write.v2.Histogram`: schema = 4 (sint32),
 * zero_threshold = 5, zero_count_int = 6, negative_spans = 8,
 * negative_deltas = 9, positive_spans = 11, positive_deltas = 12.
 */
export const REMOTE_WRITE_FIELDS: NativeFields = {
  schema: 4,
  zeroThreshold: 5,
  zeroCount: 6,
  negativeSpans: 8,
  negativeDeltas: 9,
  positiveSpans: 11,
  positiveDeltas: 12,
};

/**
 * Writes the native fields of a histogram message: schema, zero threshold
 * and count, and each sign's spans and deltas (Prometheus numbers snapshot
 * bucket `k` as `k + 1`, after its upper bound). With `markEmpty`, a
 * histogram with no bucket and no zero bucket gets one empty positive span,
 * the exposition's sign that it is native at all.
 */
export function writeNative(
  w: ProtoWriter,
  native: NativeHistogram,
  fields: NativeFields,
  markEmpty: boolean,
): void {
  const positive = native.positive;
  const negative = native.negative;
  writeBuckets(
    w,
    fields.positiveSpans,
    fields.positiveDeltas,
    positive.offset + 1,
    positive.counts,
  );
  if (
    markEmpty && positive.counts.length === 0 &&
    negative.counts.length === 0 &&
    native.zeroThreshold === 0 && native.zeroCount === 0
  ) {
    const span = w.mark();
    w.endLen(fields.positiveSpans, span);
  }
  writeBuckets(
    w,
    fields.negativeSpans,
    fields.negativeDeltas,
    negative.offset + 1,
    negative.counts,
  );
  writeUvarint(w, fields.zeroCount, native.zeroCount);
  w.double(native.zeroThreshold);
  w.tag(fields.zeroThreshold, WIRE_FIXED64);
  w.varint(zigzag32(native.schema));
  w.tag(fields.schema, WIRE_VARINT);
}

/**
 * Writes the content of a remote write `Histogram` message (1.0's
 * `prometheus.Histogram`, 2.0's `io.prometheus.write.v2.Histogram`, the
 * same fields): count_int = 1 (uint64), sum = 3 (double), the native fields
 * 4 to 12 (see {@linkcode REMOTE_WRITE_FIELDS}), reset_hint = 14 left
 * UNKNOWN (Prometheus detects resets itself), timestamp = 15 (int64 ms).
 * A schema finer than 8 is written at 8, exactly.
 */
export function writeRemoteHistogram(
  w: ProtoWriter,
  point: HistogramPoint,
  native: NativeHistogram,
  timestampMs: number,
): void {
  w.varint(timestampMs);
  w.tag(15, WIRE_VARINT);
  writeNative(
    w,
    downscale(native, MAX_PROMETHEUS_SCHEMA),
    REMOTE_WRITE_FIELDS,
    false,
  );
  w.double(point.sum);
  w.tag(3, WIRE_FIXED64);
  writeUvarint(w, 1, point.count);
}

/**
 * Writes one sign's buckets: spans (`BucketSpan { offset = 1 (sint32);
 * length = 2 }`, the first offset absolute, the next ones the gap after the
 * previous span) at `spanField`, and the counts as packed sint64 deltas
 * (each count minus the previous one) at `deltaField`. A run of more than
 * two empty buckets starts a new span; shorter runs are sent as zeros.
 */
function writeBuckets(
  w: ProtoWriter,
  spanField: number,
  deltaField: number,
  offset: number,
  counts: readonly number[],
): void {
  const n = counts.length;
  if (n === 0) return;
  // Spans as [start, end) index pairs into counts, over runs of buckets.
  const spans: number[] = [];
  let start = 0;
  while (start < n) {
    let end = start + 1;
    for (;;) {
      let gap = end;
      while (gap < n && counts[gap] === 0) gap++;
      if (gap >= n || gap - end > 2) break;
      end = gap + 1;
    }
    spans.push(start, end);
    start = end;
    while (start < n && counts[start] === 0) start++;
  }
  // Deltas over the buckets in the spans, written last first.
  const deltas = w.mark();
  for (let s = spans.length - 2; s >= 0; s -= 2) {
    for (let b = spans[s + 1]! - 1; b >= spans[s]!; b--) {
      const previous = b === spans[s]!
        ? previousCount(counts, spans, s)
        : counts[b - 1]!;
      writeZigzag64(w, toCount(counts[b]!) - toCount(previous));
    }
  }
  w.endLen(deltaField, deltas);
  for (let s = spans.length - 2; s >= 0; s -= 2) {
    const span = w.mark();
    w.varint(spans[s + 1]! - spans[s]!);
    w.tag(2, WIRE_VARINT);
    const gap = s === 0 ? offset : spans[s]! - spans[s - 1]!;
    w.varint(zigzag32(gap));
    w.tag(1, WIRE_VARINT);
    w.endLen(spanField, span);
  }
}

/** The count before the first bucket of span `s`: the last of the span before, or 0. */
function previousCount(
  counts: readonly number[],
  spans: readonly number[],
  s: number,
): number {
  return s === 0 ? 0 : counts[spans[s - 1]! - 1]!;
}

/** A count as a non-negative integer: non-finite or negative → 0, fractions rounded. */
function toCount(value: number): number {
  return value > 0 ? Math.min(Math.round(value), 2 ** 64 - 2 ** 11) : 0;
}

function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

/** Prepends a sint64 (zigzag) varint for an integer of magnitude below 2^63. */
function writeZigzag64(w: ProtoWriter, n: number): void {
  const z = n >= 0 ? 2 * n : -2 * n - 1;
  w.varint64(z % TWO_32 >>> 0, Math.floor(z / TWO_32) >>> 0);
}

/** Prepends a uint64 field from a count (rounded; negative or not finite → 0). */
export function writeUvarint(
  w: ProtoWriter,
  field: number,
  value: number,
): void {
  const n = toCount(value);
  if (n < 2 ** 53) w.varint(n);
  else w.varint64(n % TWO_32 >>> 0, Math.floor(n / TWO_32) >>> 0);
  w.tag(field, WIRE_VARINT);
}
