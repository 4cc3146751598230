/**
 * OTLP/HTTP JSON encoder: a snapshot as an `ExportMetricsServiceRequest` in
 * the OTLP JSON encoding.
 *
 * @module
 */

import type { Attributes, MetricFamily } from "../model.ts";
import { writeOtlpJson } from "./_otlp_json.ts";

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
   * `boolValue`, safe integers `intValue`, other numbers `doubleValue`,
   * arrays `arrayValue`.
   */
  resource: Attributes;
  /** Instrumentation scope; left unset in the output when omitted. */
  scope?: { name: string; version?: string };
  /**
   * "cumulative" (default) or "delta": only sets aggregationTemporality of
   * counters and histograms; the caller passes a delta snapshot whose
   * `created` is the start of the interval. Up-down counters are always
   * cumulative, as OTel's delta temporality preference has them.
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
 * Strings are written as UTF-8, so a lone surrogate (not valid UTF-8)
 * becomes U+FFFD, as in the protobuf encoding and the text formats.
 *
 * A pure function of its arguments; it never throws on runtime values.
 *
 * Each series' encoded attributes are cached per frozen label object (the
 * instruments hand out one per series for as long as it lives), so a
 * repeated encoding only formats the values; the cache is weak and costs
 * a few hundred bytes per live series. A label object that is not frozen
 * is rendered every time, so the output is always a function of the
 * snapshot alone.
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
  return writeOtlpJson(families, options).finish();
}
