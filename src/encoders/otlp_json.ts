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
 * `bytes_per_second` → `By/s`; unknown words pass through). Labels become
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
    out += metric(metrics[i]!);
  }
  return out + "]}]}]}";
}

function metric(m: OtlpMetric): string {
  let out = '{"name":' + JSON.stringify(m.name);
  if (m.description !== "") {
    out += ',"description":' + JSON.stringify(m.description);
  }
  if (m.unit !== "") out += ',"unit":' + JSON.stringify(m.unit);
  switch (m.kind) {
    case "gauge":
    case "sum": {
      out += m.kind === "sum"
        ? ',"sum":{"dataPoints":['
        : ',"gauge":{"dataPoints":[';
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        if (i > 0) out += ",";
        out += "{" + pointHead(p.attributes, p.startUs, p.timeUs) +
          ',"asDouble":' + double(p.value);
        if (p.exemplars.length > 0) out += exemplars(p.exemplars);
        out += "}";
      }
      out += "]";
      if (m.kind === "sum") {
        out += ',"aggregationTemporality":' + m.temporality +
          ',"isMonotonic":' + m.isMonotonic;
      }
      return out + "}}";
    }
    case "histogram": {
      out += ',"histogram":{"dataPoints":[';
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        if (i > 0) out += ",";
        out += "{" + pointHead(p.attributes, p.startUs, p.timeUs) +
          ',"count":"' + p.count + '","sum":' + double(p.sum) +
          ',"bucketCounts":[';
        for (let b = 0; b < p.bucketCounts.length; b++) {
          out += (b > 0 ? ',"' : '"') + p.bucketCounts[b] + '"';
        }
        out += '],"explicitBounds":[';
        for (let b = 0; b < p.explicitBounds.length; b++) {
          out += (b > 0 ? "," : "") + double(p.explicitBounds[b]!);
        }
        out += "]";
        if (p.exemplars.length > 0) out += exemplars(p.exemplars);
        out += "}";
      }
      return out + '],"aggregationTemporality":' + m.temporality + "}}";
    }
    case "summary": {
      out += ',"summary":{"dataPoints":[';
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        if (i > 0) out += ",";
        out += "{" + pointHead(p.attributes, p.startUs, p.timeUs) +
          ',"count":"' + p.count + '","sum":' + double(p.sum) +
          ',"quantileValues":[';
        for (let q = 0; q < p.quantileValues.length; q++) {
          const v = p.quantileValues[q]!;
          out += (q > 0 ? "," : "") + '{"quantile":' + double(v.quantile) +
            ',"value":' + double(v.value) + "}";
        }
        out += "]}";
      }
      return out + "]}}";
    }
  }
}

/** `attributes`, `startTimeUnixNano` (unless 0) and `timeUnixNano`, without braces. */
function pointHead(
  attributes: Labels,
  startUs: number,
  timeUs: number,
): string {
  let out = "";
  let first = true;
  for (const key in attributes) {
    out += (first ? '"attributes":[' : ",") + '{"key":' + JSON.stringify(key) +
      ',"value":{"stringValue":' + JSON.stringify(attributes[key]) + "}}";
    first = false;
  }
  if (!first) out += "],";
  if (startUs !== 0) out += '"startTimeUnixNano":"' + nanos(startUs) + '",';
  return out + '"timeUnixNano":"' + nanos(timeUs) + '"';
}

function exemplars(list: readonly OtlpExemplar[]): string {
  let out = ',"exemplars":[';
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    out += i > 0 ? ",{" : "{";
    let first = true;
    for (const key in e.filteredAttributes) {
      out += (first ? '"filteredAttributes":[' : ",") + '{"key":' +
        JSON.stringify(key) + ',"value":{"stringValue":' +
        JSON.stringify(e.filteredAttributes[key]) + "}}";
      first = false;
    }
    if (!first) out += "],";
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
  let first = true;
  for (const key in attributes) {
    const value = attributes[key]!;
    out += (first ? "" : ",") + '{"key":' + JSON.stringify(key) + ',"value":{';
    if (typeof value === "string") {
      out += '"stringValue":' + JSON.stringify(value);
    } else if (typeof value === "boolean") {
      out += '"boolValue":' + value;
    } else if (Number.isSafeInteger(value)) {
      out += '"intValue":"' + value + '"';
    } else {
      out += '"doubleValue":' + double(value);
    }
    out += "}}";
    first = false;
  }
  return out + "]";
}

/** Whole microseconds as exact decimal nanoseconds. */
function nanos(us: number): string {
  return us === 0 ? "0" : us + "000";
}

/** A double per the proto3 JSON mapping: non-finite values as strings. */
function double(value: number): string {
  if (Number.isFinite(value)) {
    return Object.is(value, -0) ? "-0" : String(value);
  }
  return value > 0 ? '"Infinity"' : value < 0 ? '"-Infinity"' : '"NaN"';
}
