/**
 * The OTLP JSON writer behind `encodeOtlpJson`, and a variant that hands
 * out the UTF-8 bytes without decoding them to a string (for the exporter,
 * which sends bytes).
 *
 * @module
 */

import type {
  CounterPoint,
  GaugePoint,
  HistogramPoint,
  Labels,
  MetricFamily,
} from "../model.ts";
import {
  buildOtlpRequest,
  estimateProtobufSize,
  exemplarsOf,
  exponentialCountAndSum,
  type OtlpAttributes,
  type OtlpBuildOptions,
  type OtlpGaugeMetric,
  type OtlpHistogramMetric,
  type OtlpMetric,
  type OtlpSumMetric,
  startUsOf,
  toCount,
  toCounts,
} from "./_otlp.ts";
import { LabelCache } from "../_label_cache.ts";
import { double, integer, JsonWriter } from "./_json_writer.ts";
import { exemplars, jsonString, keyValues, nanos } from "./_otlp_json_text.ts";

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
const utf8 = /* @__PURE__ */ new TextEncoder();

/**
 * A series' cached point head: the UTF-8 bytes of
 * `},{"attributes":[…],"startTimeUnixNano":"…",` (each part only when set),
 * for the `created` it was made with. The leading `},` closes the point
 * before; the first point of a metric skips it.
 *
 * The heads made in one encoding of a metric are views into one exactly
 * sized arena, so a series holds a view instead of its own `ArrayBuffer`
 * (about 200 bytes less per series, measured in W5); an arena lives as long
 * as any series that points into it. A view, not an offset into the arena:
 * copying a whole array is one `set`, and a view made at every encoding
 * would be an allocation per point.
 */
interface PointHead {
  /** The `created` it was made for (see {@linkcode createdOf}). */
  created: number;
  bytes: Uint8Array;
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
  // NaN equals nothing: a new head is made before its first use.
  return { created: NaN, bytes: NO_BYTES };
}

/**
 * What a point's head depends on besides its series: its `created`, of
 * which the start time is a function ({@linkcode startUsOf}); 0 for gauges,
 * which have no start time. Compared as is, it costs no rounding per point.
 */
function createdOf(m: OtlpMetric, i: number): number {
  return m.kind === "gauge" ? 0 : m.points[i]!.created;
}

/**
 * Remakes the heads of series from point `from` on that are new or
 * restarted (a new `created`), all into one new arena. The writers call it
 * at the first stale head they meet, so an encoding where every head is
 * current checks each once, inline, and makes no pass of its own.
 */
function refreshHeads(
  heads: readonly PointHead[],
  m: OtlpMetric,
  from: number,
): void {
  let stale: PointHead[] | undefined;
  let texts: string[] | undefined;
  let chars = 0;
  for (let i = from; i < heads.length; i++) {
    const head = heads[i]!;
    const created = createdOf(m, i);
    if (head.created === created) continue;
    const point = m.points[i]!;
    const text = pointHead(
      "attributes" in point && point.attributes !== undefined
        ? point.attributes
        : point.labels,
      startUsOf(m, i),
    );
    head.created = created;
    (stale ??= []).push(head);
    (texts ??= []).push(text);
    chars += text.length;
  }
  if (stale === undefined || texts === undefined) return;
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
    stale[k]!.bytes = arena.subarray(offsets[k]!, offsets[k + 1]!);
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
  // Each point: its head, the time, then its numbers, by a loop per kind.
  if (m.kind === "sum" || m.kind === "gauge") {
    numberPoints(w, m, heads, utf8.encode(time + '"asDouble":'));
  } else if (m.kind === "histogram") {
    histogramPoints(w, m, heads, utf8.encode(time + '"count":"'));
  } else {
    const mid = utf8.encode(time + '"count":"');
    for (let i = 0; i < points.length; i++) {
      writeHead(w, heads, m, i, createdOf(m, i));
      w.bytes(mid);
      if (m.kind === "exponentialHistogram") {
        exponential(w, m.points[i]!);
      } else {
        const p = m.points[i]!;
        w.integer(toCount(p.count));
        w.text('","sum":');
        w.double(p.sum);
        const quantiles = p.quantiles;
        let text = ',"quantileValues":[';
        for (let q = 0; q < quantiles.length; q++) {
          text += (q > 0 ? ',{"quantile":' : '{"quantile":') +
            double(quantiles[q]!.quantile) + ',"value":' +
            double(quantiles[q]!.value) + "}";
        }
        w.text(text + "]");
      }
      const list = exemplarsOf(m, i);
      if (list.length > 0) w.text(exemplars(list));
    }
  }
  let tail = points.length > 0 ? "}]" : "]";
  if (m.kind !== "gauge" && m.kind !== "summary") {
    tail += ',"aggregationTemporality":' + m.temporality;
  }
  if (m.kind === "sum") tail += ',"isMonotonic":' + m.isMonotonic;
  w.text(tail + "}}");
}

/**
 * Writes point `i`'s head, remade first when stale (`created` is
 * {@linkcode createdOf} the point); the first point of a metric has none
 * to close.
 */
function writeHead(
  w: JsonWriter,
  heads: readonly PointHead[],
  m: OtlpMetric,
  i: number,
  created: number,
): void {
  let head = heads[i]!;
  if (head.created !== created) {
    refreshHeads(heads, m, i);
    head = heads[i]!;
  }
  if (i > 0) w.bytes(head.bytes);
  else w.range(head.bytes, 2, head.bytes.length - 2);
}

/** Writes the points of a sum or gauge; `mid` is the time and `"asDouble":`. */
function numberPoints(
  w: JsonWriter,
  m: OtlpSumMetric | OtlpGaugeMetric,
  heads: readonly PointHead[],
  mid: Uint8Array,
): void {
  const points: readonly (GaugePoint | CounterPoint)[] = m.points;
  const gauge = m.kind === "gauge";
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    writeHead(w, heads, m, i, gauge ? 0 : (p as CounterPoint).created);
    w.bytes(mid);
    w.double(p.value);
    // Only a counter's point has an exemplar: the rest skip the mapping.
    if ("exemplar" in p && p.exemplar !== undefined) {
      const list = exemplarsOf(m, i);
      if (list.length > 0) w.text(exemplars(list));
    }
  }
}

/**
 * Writes the points of an explicit-bucket histogram; `mid` is the time and
 * `"count":"`.
 */
function histogramPoints(
  w: JsonWriter,
  m: OtlpHistogramMetric,
  heads: readonly PointHead[],
  mid: Uint8Array,
): void {
  const bounds = utf8.encode(
    '],"explicitBounds":[' + m.explicitBounds.map(double).join(",") + "]",
  );
  const points = m.points;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    writeHead(w, heads, m, i, p.created);
    w.bytes(mid);
    w.integer(toCount(p.count));
    w.text('","sum":');
    w.double(p.sum);
    w.text(',"bucketCounts":[');
    w.quotedIntegers(toCounts(p.counts));
    w.bytes(bounds);
    if (p.exemplars !== undefined) {
      const list = exemplarsOf(m, i);
      if (list.length > 0) w.text(exemplars(list));
    }
  }
}

/**
 * Writes the fields of an `ExponentialHistogramDataPoint` after `"count":"`:
 * the count, sum, scale, zero count, positive and negative buckets, min and
 * max when known, and the zero threshold when not 0.
 */
function exponential(w: JsonWriter, p: HistogramPoint): void {
  const native = p.native!;
  const { count, sum } = exponentialCountAndSum(p, native);
  w.integer(count);
  if (sum === undefined) w.text('"');
  else {
    w.text('","sum":');
    w.double(sum);
  }
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
