/**
 * The OTLP JSON writer behind `encodeOtlpJson`, and a variant that hands
 * out the UTF-8 bytes without decoding them to a string (for the exporter,
 * which sends bytes).
 *
 * @module
 */

import type { HistogramPoint, Labels, MetricFamily } from "../model.ts";
import {
  buildOtlpRequest,
  estimateProtobufSize,
  exemplarsOf,
  type OtlpAttributes,
  type OtlpBuildOptions,
  type OtlpExemplar,
  type OtlpMetric,
  startUsOf,
  toCount,
  toCounts,
} from "./_otlp.ts";
import { LabelCache } from "../_label_cache.ts";
import { double, integer, JsonWriter } from "./_json_writer.ts";

export { JsonWriter };

/**
 * Writes a snapshot as OTLP JSON into a {@linkcode JsonWriter}; the caller
 * takes the text ({@linkcode JsonWriter.finish}) or the bytes
 * ({@linkcode JsonWriter.finishBytes}).
 */
export function writeOtlpJson(
  families: readonly MetricFamily[],
  options: OtlpBuildOptions,
): JsonWriter {
  // UTF-8 bytes in one buffer, decoded once: each point is a copy of its
  // series' cached head bytes (attributes and start time, escaped once in
  // the series' life), the request's time bytes, and its numbers' digits.
  // No rope of pieces for the garbage collector to trace and to flatten.
  const request = buildOtlpRequest(families, options);
  const w = new JsonWriter(Math.ceil(estimateProtobufSize(families) * 2.5));
  w.text(
    '{"resourceMetrics":[{"resource":{"attributes":[' +
      keyValues(request.resource) + ']},"scopeMetrics":[',
  );
  // Every point has the request's time: its text is made once.
  const time = '"timeUnixNano":"' + nanos(request.timeUs) + '",';
  for (let s = 0; s < request.scopes.length; s++) {
    const { scope, metrics } = request.scopes[s]!;
    let text = s > 0 ? ",{" : "{";
    if (scope !== null) {
      text += '"scope":{"name":' + jsonString(scope.name);
      if (scope.version !== "") {
        text += ',"version":' + jsonString(scope.version);
      }
      text += "},";
    }
    w.text(text + '"metrics":[');
    for (let i = 0; i < metrics.length; i++) {
      if (i > 0) w.byte(COMMA);
      metric(w, metrics[i]!, time);
    }
    w.text("]}");
  }
  w.text("]}]}");
  return w;
}

/**
 * `encodeOtlpJson` as UTF-8 bytes: the same bytes as
 * `new TextEncoder().encode(encodeOtlpJson(families, options))`, without
 * the string in between. The array is the caller's.
 */
export function encodeOtlpJsonBytes(
  families: readonly MetricFamily[],
  options: OtlpBuildOptions,
): Uint8Array {
  return writeOtlpJson(families, options).finishBytes();
}

const COMMA = 44;
const QUOTE = 34;
const utf8 = /* @__PURE__ */ new TextEncoder();

/**
 * A series' cached point head: the UTF-8 bytes of
 * `},{"attributes":[…],"startTimeUnixNano":"…",` (each part only when set),
 * for the start time it was made with, at `offset` in `arena`. The leading
 * `},` closes the point before; the first point of a metric skips it.
 *
 * The heads made in one encoding of a metric share one exactly sized
 * arena, so a series holds a small object of numbers instead of its own
 * `Uint8Array` and `ArrayBuffer` (about 200 bytes less per series, measured
 * in W5). An arena lives as long as any series that points into it.
 */
interface PointHead {
  startUs: number;
  arena: Uint8Array;
  offset: number;
  length: number;
}

const HEADS = /* @__PURE__ */ new LabelCache<PointHead>();
const NO_BYTES = /* @__PURE__ */ new Uint8Array(0);

function labelsOf(point: { readonly labels: Labels }): Labels {
  return point.labels;
}

function anyHead(): boolean {
  return true;
}

function newHead(): PointHead {
  return { startUs: -1, arena: NO_BYTES, offset: 0, length: 0 };
}

/**
 * Remakes the heads of series that are new or restarted (a new start time),
 * all into one new arena.
 */
function refreshHeads(heads: readonly PointHead[], m: OtlpMetric): void {
  const stale: PointHead[] = [];
  const texts: string[] = [];
  let chars = 0;
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i]!;
    const startUs = startUsOf(m, i);
    if (head.startUs === startUs) continue;
    const point = m.points[i]!;
    const text = pointHead(
      "attributes" in point && point.attributes !== undefined
        ? point.attributes
        : point.labels,
      startUs,
    );
    head.startUs = startUs;
    stale.push(head);
    texts.push(text);
    chars += text.length;
  }
  if (stale.length === 0) return;
  // At most 3 UTF-8 bytes per UTF-16 unit; copied to an exact size after.
  const scratch = new Uint8Array(chars * 3);
  const offsets: number[] = [];
  let end = 0;
  for (const text of texts) {
    offsets.push(end);
    end += utf8.encodeInto(text, scratch.subarray(end)).written;
  }
  offsets.push(end);
  const arena = scratch.slice(0, end);
  for (let k = 0; k < stale.length; k++) {
    const head = stale[k]!;
    head.arena = arena;
    head.offset = offsets[k]!;
    head.length = offsets[k + 1]! - offsets[k]!;
  }
}

/** Makes a point head (see {@linkcode PointHead}) as text. */
function pointHead(attributes: OtlpAttributes, startUs: number): string {
  let out = "},{";
  const list = keyValues(attributes);
  if (list !== "") out += '"attributes":[' + list + "],";
  if (startUs !== 0) out += '"startTimeUnixNano":"' + nanos(startUs) + '",';
  return out;
}

/** Writes one `Metric`; `time` is the points' `"timeUnixNano":"…",`. */
function metric(w: JsonWriter, m: OtlpMetric, time: string): void {
  let text = '{"name":' + jsonString(m.name);
  if (m.description !== "") {
    text += ',"description":' + jsonString(m.description);
  }
  if (m.unit !== "") text += ',"unit":' + jsonString(m.unit);
  // The kinds are named as their fields: "sum", "gauge", "histogram", "summary".
  w.text(text + ',"' + m.kind + '":{"dataPoints":[');
  const points: readonly { readonly labels: Labels }[] = m.points;
  const heads = HEADS.lookup(points, labelsOf, anyHead, newHead);
  refreshHeads(heads, m);
  const number = m.kind === "sum" || m.kind === "gauge";
  const mid = utf8.encode(time + (number ? '"asDouble":' : '"count":"'));
  const bounds = m.kind === "histogram"
    ? utf8.encode(
      '],"explicitBounds":[' + m.explicitBounds.map(double).join(",") + "]",
    )
    : NO_BYTES;
  for (let i = 0; i < points.length; i++) {
    // Each point: its head, the time, then its numbers.
    const head = heads[i]!;
    const skip = i === 0 ? 2 : 0; // the first point has no point to close
    w.range(head.arena, head.offset + skip, head.length - skip);
    w.range(mid, 0, mid.length);
    if (m.kind === "sum" || m.kind === "gauge") {
      w.double(m.points[i]!.value);
    } else if (m.kind === "exponentialHistogram") {
      exponential(w, m.points[i]!);
    } else {
      const p = m.points[i]!;
      w.integer(toCount(p.count));
      w.text('","sum":');
      w.double(p.sum);
      if (m.kind === "histogram") {
        w.text(',"bucketCounts":[');
        const counts = toCounts(m.points[i]!.counts);
        for (let b = 0; b < counts.length; b++) {
          if (b > 0) w.byte(COMMA);
          w.byte(QUOTE);
          w.integer(counts[b]!);
          w.byte(QUOTE);
        }
        w.range(bounds, 0, bounds.length);
      } else {
        const quantiles = m.points[i]!.quantiles;
        let text = ',"quantileValues":[';
        for (let q = 0; q < quantiles.length; q++) {
          text += (q > 0 ? ',{"quantile":' : '{"quantile":') +
            double(quantiles[q]!.quantile) + ',"value":' +
            double(quantiles[q]!.value) + "}";
        }
        w.text(text + "]");
      }
    }
    const list = exemplarsOf(m, i);
    if (list.length > 0) w.text(exemplars(list));
  }
  let tail = points.length > 0 ? "}]" : "]";
  if (m.kind !== "gauge" && m.kind !== "summary") {
    tail += ',"aggregationTemporality":' + m.temporality;
  }
  if (m.kind === "sum") tail += ',"isMonotonic":' + m.isMonotonic;
  w.text(tail + "}}");
}

/**
 * Writes the fields of an `ExponentialHistogramDataPoint` after `"count":"`:
 * the count, sum, scale, zero count, positive and negative buckets, min and
 * max when known, and the zero threshold when not 0.
 */
function exponential(w: JsonWriter, p: HistogramPoint): void {
  const native = p.native!;
  w.integer(toCount(p.count));
  w.text('","sum":');
  w.double(p.sum);
  let text = ',"scale":' + native.schema + ',"zeroCount":"' +
    integer(toCount(native.zeroCount)) + '"';
  for (
    const [name, buckets] of [
      ["positive", native.positive],
      ["negative", native.negative],
    ] as const
  ) {
    if (buckets.counts.length === 0) continue;
    text += ',"' + name + '":{"offset":' + buckets.offset +
      ',"bucketCounts":[' +
      toCounts(buckets.counts).map((c) => '"' + integer(c) + '"').join(",") +
      "]}";
  }
  if (native.min !== undefined) text += ',"min":' + double(native.min);
  if (native.max !== undefined) text += ',"max":' + double(native.max);
  if (native.zeroThreshold !== 0) {
    text += ',"zeroThreshold":' + double(native.zeroThreshold);
  }
  w.text(text);
}

/**
 * Attributes as JSON `KeyValue`s, without brackets (`""` when empty):
 * strings as `stringValue` (every label), booleans as `boolValue`, safe
 * integers as `intValue`, other numbers as `doubleValue`.
 */
function keyValues(attributes: OtlpAttributes): string {
  let out = "";
  for (const key in attributes) {
    const value = attributes[key]!;
    out += (out === "" ? '{"key":' : ',{"key":') + jsonString(key) +
      ',"value":{' +
      (typeof value === "string"
        ? '"stringValue":' + jsonString(value)
        : typeof value === "boolean"
        ? '"boolValue":' + value
        : Number.isSafeInteger(value)
        ? '"intValue":"' + integer(value) + '"'
        : '"doubleValue":' + double(value)) +
      "}}";
  }
  return out;
}

/** `,"exemplars":[…]`. */
function exemplars(list: readonly OtlpExemplar[]): string {
  let out = ',"exemplars":[';
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    out += i > 0 ? ",{" : "{";
    const filtered = keyValues(e.filteredAttributes);
    if (filtered !== "") out += '"filteredAttributes":[' + filtered + "],";
    out += '"timeUnixNano":"' + nanos(e.timeUs) + '","asDouble":' +
      double(e.value);
    if (e.spanId !== "") out += ',"spanId":"' + e.spanId + '"';
    if (e.traceId !== "") out += ',"traceId":"' + e.traceId + '"';
    out += "}";
  }
  return out + "]";
}

/**
 * A string as a JSON string, each lone surrogate replaced by U+FFFD first,
 * as UTF-8 encoding replaces it (the protobuf encoder, `TextEncoder`): the
 * two OTLP encodings carry the same text. `JSON.stringify` alone would write
 * an escape (`"\\ud800"`) that a receiver decodes back to a lone surrogate.
 */
function jsonString(value: string): string {
  return JSON.stringify(value.isWellFormed() ? value : value.toWellFormed());
}

/** Whole microseconds as exact decimal nanoseconds: the digits, then `000`. */
function nanos(us: number): string {
  return us === 0 ? "0" : integer(us) + "000";
}
