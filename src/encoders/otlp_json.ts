/**
 * OTLP/HTTP JSON encoder: a snapshot as an `ExportMetricsServiceRequest` in
 * the OTLP JSON encoding.
 *
 * @module
 */

import type { Labels, MetricFamily } from "../model.ts";
import {
  buildOtlpRequest,
  type OtlpAttributes,
  type OtlpExemplar,
  type OtlpMetric,
} from "./_otlp.ts";
import { LabelCache } from "./_text.ts";

/**
 * What an OTLP encoder needs besides the snapshot: the resource, the
 * instrumentation scope, the temporality and the collection time.
 *
 * @example Options for a short-lived job
 * ```ts
 * import type { OtlpEncodeOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: OtlpEncodeOptions = {
 *   resource: { "service.name": "order-job", "service.instance.id": "a1" },
 *   scope: { name: "@edgemetrics/edgemetrics", version: "0.1.0" },
 *   temporality: "cumulative",
 *   timeUnixMs: 1_700_000_000_000,
 * };
 * assert.equal(options.resource["service.name"], "order-job");
 * ```
 */
export interface OtlpEncodeOptions {
  /**
   * Resource attributes, e.g. service.name, service.instance.id,
   * deployment.environment. Strings become `stringValue`, booleans
   * `boolValue`, safe integers `intValue`, other numbers `doubleValue`.
   */
  resource: Readonly<Record<string, string | number | boolean>>;
  /** Instrumentation scope; left unset in the output when omitted. */
  scope?: { name: string; version?: string };
  /**
   * "cumulative" (default) or "delta": only sets aggregationTemporality; the
   * caller passes a delta snapshot whose `created` is the start of the
   * interval.
   */
  temporality?: "cumulative" | "delta";
  /**
   * The collection time, ms since epoch (timeUnixNano of every point).
   * Fractional milliseconds are rounded to whole microseconds.
   */
  timeUnixMs: number;
}

/**
 * The `Content-Type` of an OTLP/HTTP JSON request body.
 *
 * @example
 * ```ts
 * import { OTLP_JSON_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(OTLP_JSON_CONTENT_TYPE, "application/json");
 * ```
 */
export const OTLP_JSON_CONTENT_TYPE = "application/json";

/**
 * Encodes a snapshot as an OTLP/HTTP JSON `ExportMetricsServiceRequest`.
 *
 * One resource, one scope, one metric per family that has points (a family
 * with no series is left out). Counters become monotonic
 * `sum`s (the family name has no `_total`), gauges `gauge`s, histograms
 * explicit-bucket `histogram`s (per-bucket `bucketCounts`), summaries
 * `summary`s with `quantileValues`. `help` is the `description`; the
 * Prometheus unit word is translated to UCUM (`seconds` → `s`, `bytes` →
 * `By`, `milliseconds` → `ms`, `ratio` → `1`, `percent` → `%`,
 * `bytes_per_second` → `By/s`; unknown words pass through) and trimmed from
 * the end of the name, as the OTel Prometheus compatibility rules require
 * (`http_request_duration_seconds` → `http_request_duration` with unit `s`;
 * a backend translating back to Prometheus appends `_seconds` again, and
 * `_total` for counters). Labels become
 * `stringValue` attributes; exemplars carry `traceId`/`spanId` from their
 * `trace_id`/`span_id` labels and the rest as `filteredAttributes`.
 *
 * Follows the OTLP JSON rules: lowerCamelCase field names, 64-bit integers
 * (times, counts, `intValue`) as decimal strings, enums as integers
 * (`aggregationTemporality` 1 = delta, 2 = cumulative), trace and span ids
 * as lowercase hex (not base64), NaN and ±Infinity as the strings `"NaN"`,
 * `"Infinity"`, `"-Infinity"`. Times are nanoseconds: the milliseconds of the
 * snapshot rounded to whole microseconds, then exactly × 1000. Empty
 * attribute lists, empty descriptions and units and absent ids are omitted.
 *
 * A pure function of its arguments; it never throws on runtime values.
 *
 * @param families The snapshot, e.g. from `Registry#collect()`.
 * @param options Resource, scope, temporality and collection time.
 * @returns The request body for `POST /v1/metrics` with `Content-Type: application/json`.
 *
 * @example A counter as a monotonic sum
 * ```ts
 * import { encodeOtlpJson } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const body = encodeOtlpJson(
 *   [{
 *     type: "counter",
 *     name: "jobs_processed",
 *     help: "Jobs processed.",
 *     points: [{ labels: { queue: "emails" }, value: 3, created: 1_700_000_000_000 }],
 *   }],
 *   { resource: { "service.name": "order-job" }, timeUnixMs: 1_700_000_060_000 },
 * );
 * const metric = JSON.parse(body).resourceMetrics[0].scopeMetrics[0].metrics[0];
 * assert.equal(metric.name, "jobs_processed");
 * assert.equal(metric.sum.isMonotonic, true);
 * assert.equal(metric.sum.aggregationTemporality, 2);
 * assert.equal(metric.sum.dataPoints[0].startTimeUnixNano, "1700000000000000000");
 * assert.equal(metric.sum.dataPoints[0].asDouble, 3);
 * ```
 */
export function encodeOtlpJson(
  families: readonly MetricFamily[],
  options: OtlpEncodeOptions,
): string {
  // Built as one string of a few pieces per point (a rope the transport
  // flattens once when it encodes it), from per-series heads cached by
  // label object: a series' attributes are escaped once in its life.
  const request = buildOtlpRequest(families, options);
  let out = '{"resourceMetrics":[{"resource":{"attributes":' +
    anyAttributes(request.resource) + '},"scopeMetrics":[{';
  if (request.scope !== null) {
    out += '"scope":{"name":' + JSON.stringify(request.scope.name);
    if (request.scope.version !== "") {
      out += ',"version":' + JSON.stringify(request.scope.version);
    }
    out += "},";
  }
  out += '"metrics":[';
  const metrics = request.metrics;
  for (let i = 0; i < metrics.length; i++) {
    if (i > 0) out += ",";
    out = metric(out, metrics[i]!);
  }
  return out + "]}]}]}";
}

/**
 * A series' cached point head: `},{"attributes":[…],"startTimeUnixNano":"…",`
 * (each part only when set), for the start time it was made with. The
 * leading `},` closes the point before; the first point of a metric skips it.
 */
interface PointHead {
  startUs: number;
  text: string;
}

const HEADS = new LabelCache<PointHead>();

function attributesOf(point: { readonly attributes: Labels }): Labels {
  return point.attributes;
}

function anyHead(): boolean {
  return true;
}

function newHead(): PointHead {
  return { startUs: -1, text: "" };
}

/** The cached head of a point, remade when its series restarted (a new start time). */
function headOf(
  head: PointHead,
  point: { readonly attributes: Labels; readonly startUs: number },
): string {
  if (head.startUs !== point.startUs) {
    head.startUs = point.startUs;
    head.text = pointHead(point.attributes, point.startUs);
  }
  return head.text;
}

/** Makes a point head (see {@linkcode PointHead}), flat. */
function pointHead(attributes: Labels, startUs: number): string {
  const parts = ["},{"];
  const list = labels(attributes);
  if (list !== "") parts.push('"attributes":[', list, "],");
  if (startUs !== 0) parts.push('"startTimeUnixNano":"', nanos(startUs), '",');
  return parts.join("");
}

function metric(out: string, m: OtlpMetric): string {
  out += '{"name":' + JSON.stringify(m.name);
  if (m.description !== "") {
    out += ',"description":' + JSON.stringify(m.description);
  }
  if (m.unit !== "") out += ',"unit":' + JSON.stringify(m.unit);
  const points = m.points;
  const list = HEADS.lookup(points, attributesOf, anyHead, newHead);
  let time = -1;
  let mid = "";
  switch (m.kind) {
    case "gauge":
    case "sum": {
      out += m.kind === "sum"
        ? ',"sum":{"dataPoints":['
        : ',"gauge":{"dataPoints":[';
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        if (p.timeUs !== time) {
          time = p.timeUs;
          mid = '"timeUnixNano":"' + nanos(time) + '","asDouble":';
        }
        const head = headOf(list[i]!, p);
        out += (i === 0 ? head.slice(2) : head) + mid + double(p.value);
        if (p.exemplars.length > 0) out += exemplars(p.exemplars);
      }
      out += points.length > 0 ? "}]" : "]";
      if (m.kind === "sum") {
        out += ',"aggregationTemporality":' + m.temporality +
          (m.isMonotonic ? ',"isMonotonic":true' : ',"isMonotonic":false');
      }
      return out + "}}";
    }
    case "histogram": {
      out += ',"histogram":{"dataPoints":[';
      let bounds: readonly number[] | undefined;
      let boundsText = "";
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        if (p.timeUs !== time) {
          time = p.timeUs;
          mid = '"timeUnixNano":"' + nanos(time) + '","count":"';
        }
        if (p.explicitBounds !== bounds) {
          bounds = p.explicitBounds;
          boundsText = [
            '],"explicitBounds":[',
            bounds.map(double).join(","),
            "]",
          ]
            .join("");
        }
        const head = headOf(list[i]!, p);
        out += (i === 0 ? head.slice(2) : head) + mid + integer(p.count) +
          '","sum":' + double(p.sum) + ',"bucketCounts":[' +
          counts(p.bucketCounts) + boundsText;
        if (p.exemplars.length > 0) out += exemplars(p.exemplars);
      }
      out += points.length > 0 ? "}]" : "]";
      return out + ',"aggregationTemporality":' + m.temporality + "}}";
    }
    case "summary": {
      out += ',"summary":{"dataPoints":[';
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        if (p.timeUs !== time) {
          time = p.timeUs;
          mid = '"timeUnixNano":"' + nanos(time) + '","count":"';
        }
        const head = headOf(list[i]!, p);
        out += (i === 0 ? head.slice(2) : head) + mid + integer(p.count) +
          '","sum":' + double(p.sum) + ',"quantileValues":[';
        for (let q = 0; q < p.quantileValues.length; q++) {
          const v = p.quantileValues[q]!;
          out += (q > 0 ? ',{"quantile":' : '{"quantile":') +
            double(v.quantile) + ',"value":' + double(v.value) + "}";
        }
        out += "]";
      }
      return out + (points.length > 0 ? "}]}}" : "]}}");
    }
  }
}

/** Labels as JSON `KeyValue`s with `stringValue`, without brackets; `""` when empty. */
function labels(attributes: Labels): string {
  let out = "";
  for (const key in attributes) {
    out += (out === "" ? '{"key":' : ',{"key":') + JSON.stringify(key) +
      ',"value":{"stringValue":' + JSON.stringify(attributes[key]!) + "}}";
  }
  return out;
}

/** `,"exemplars":[…]`. */
function exemplars(list: readonly OtlpExemplar[]): string {
  let out = ',"exemplars":[';
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    out += i > 0 ? ",{" : "{";
    const filtered = labels(e.filteredAttributes);
    if (filtered !== "") out += '"filteredAttributes":[' + filtered + "],";
    out += '"timeUnixNano":"' + nanos(e.timeUs) + '","asDouble":' +
      double(e.value);
    if (e.spanId !== "") out += ',"spanId":"' + e.spanId + '"';
    if (e.traceId !== "") out += ',"traceId":"' + e.traceId + '"';
    out += "}";
  }
  return out + "]";
}

/** Resource attributes as a JSON `KeyValue` array with typed `AnyValue`s. */
function anyAttributes(attributes: OtlpAttributes): string {
  let out = "[";
  for (const key in attributes) {
    const value = attributes[key]!;
    out += (out === "[" ? '{"key":' : ',{"key":') + JSON.stringify(key);
    if (typeof value === "string") {
      out += ',"value":{"stringValue":' + JSON.stringify(value);
    } else if (typeof value === "boolean") {
      out += value
        ? ',"value":{"boolValue":true'
        : ',"value":{"boolValue":false';
    } else if (Number.isSafeInteger(value)) {
      out += ',"value":{"intValue":"' + integer(value) + '"';
    } else {
      out += ',"value":{"doubleValue":' + double(value);
    }
    out += "}}";
  }
  return out + "]";
}

/** Per-bucket counts, already valid fixed64 values, as JSON strings: `"1","0","2`. */
function counts(values: readonly number[]): string {
  if (values.length === 0) return "";
  for (let i = 0; i < values.length; i++) {
    if (!(values[i]! <= MAX_DIGITS)) {
      return '"' + values.map(integer).join('","') + '"';
    }
  }
  return '"' + values.join('","') + '"';
}

/** A double per the proto3 JSON mapping: non-finite values as strings, -0 kept. */
function double(value: number): string {
  if (value - value === 0) {
    return value === 0 && 1 / value < 0 ? "-0" : String(value);
  }
  return value > 0 ? '"Infinity"' : value < 0 ? '"-Infinity"' : '"NaN"';
}

/**
 * An integer's exact decimal digits: `String` up to 2^53, `BigInt` beyond
 * (where `String` rounds to the shortest form, "…847000").
 */
function integer(value: number): string {
  if (value >= 0 && value <= MAX_DIGITS) return String(value);
  return Number.isInteger(value) ? BigInt(value).toString() : String(value);
}

/** Whole microseconds as exact decimal nanoseconds: the digits, then `000`. */
function nanos(us: number): string {
  return us === 0 ? "0" : integer(us) + "000";
}

/** The largest integer whose `String` digits are exact. */
const MAX_DIGITS = Number.MAX_SAFE_INTEGER;
