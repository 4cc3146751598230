/**
 * The OpenMetrics 1.0 text format: Prometheus exposition with units,
 * created timestamps and exemplars.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import { encodeText } from "./_text.ts";

/**
 * The `Content-Type` of OpenMetrics 1.0 text, as a scrape response carries it.
 *
 * @example
 * ```ts
 * import { OPENMETRICS_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   OPENMETRICS_CONTENT_TYPE,
 *   "application/openmetrics-text; version=1.0.0; charset=utf-8",
 * );
 * ```
 */
export const OPENMETRICS_CONTENT_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8" as const;

/**
 * Options of {@linkcode encodeOpenMetrics}.
 *
 * @example Leave out the `_created` samples
 * ```ts
 * import { encodeOpenMetrics, type OpenMetricsOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: OpenMetricsOptions = { created: false };
 * const text = encodeOpenMetrics([
 *   { type: "counter", name: "jobs", help: "", points: [{ labels: {}, value: 1, created: 0 }] },
 * ], options);
 * assert.equal(text, "# TYPE jobs counter\njobs_total 1\n# EOF\n");
 * ```
 */
export interface OpenMetricsOptions {
  /**
   * Whether counters, histograms and summaries carry a `_created` sample
   * (their start time, in seconds since the epoch). Default `true`.
   */
  readonly created?: boolean;
}

/**
 * Encodes a snapshot as OpenMetrics 1.0 text, ending with `# EOF`.
 *
 * Families come out in snapshot order, series in snapshot order. Each family
 * starts with `# TYPE`, then `# UNIT` when a unit is declared (and the
 * name ends with `_<unit>`, as the format requires), then `# HELP`
 * when the help is not empty (backslash, double quote and line feed
 * escaped), and keeps them even when it has no series yet. Counter families
 * keep their name (without `_total`) in the metadata and write
 * `<name>_total` samples. Histogram buckets are made cumulative and written
 * with an `le` label after the series' labels, ending with `le="+Inf"`, then
 * `_count` (the `+Inf` bucket, as the format requires) and `_sum`, except
 * that a histogram with a negative bucket bound has no `_sum` (the format
 * allows negative bounds only in a histogram without a sum); summaries
 * write one `quantile` sample per configured quantile, then `_count` and
 * `_sum`. A negative or NaN sum (from negative observations) is left out:
 * the format treats sums as counters. A histogram without its `_sum` has
 * no `_count` either (the format allows one if and only if the other; the
 * `+Inf` bucket still holds the count); a summary keeps its `_count`.
 * Counters, histograms and summaries end each series with
 * `<name>_created` in seconds since the epoch unless `options.created` is
 * `false`. Exemplars follow the counter's `_total` sample and the bucket they
 * belong to, as ` # {labels} value timestamp` (timestamp in seconds). An
 * exemplar is left out when its label names and values exceed the format's
 * 128 code points, or when a label value holds a NUL character (allowed by
 * the format, but Prometheus rejects the whole scrape over it).
 *
 * Numbers: `le` and `quantile` label values use the canonical form the
 * specification asks for (`0.1`, `1.0`, `1e-05`, `1e+06`, `+Inf`); sample
 * values are the shortest decimal that round-trips (`3`, `0.25`, `1e-7`), or
 * `+Inf`, `-Inf`, `NaN`. Gauge aggregation is a merge setting and is not
 * written.
 *
 * Each series' label text is cached per frozen label object (the
 * instruments hand out one per series for as long as it lives), so a
 * repeated encoding only formats the values; the cache is weak and costs
 * a few hundred bytes per live series. A label object that is not frozen
 * is rendered every time, so the output is always a function of the
 * snapshot alone.
 *
 * @param families The snapshot, e.g. from `Registry#collect()`.
 * @param options Whether to write `_created` samples.
 * @returns The exposition text.
 *
 * @example A histogram with an exemplar on the bucket it fell in
 * ```ts
 * import { encodeOpenMetrics } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const text = encodeOpenMetrics([{
 *   type: "histogram",
 *   name: "latency_seconds",
 *   help: "Latency.",
 *   unit: "seconds",
 *   bounds: [0.1, 1],
 *   points: [{
 *     labels: { route: "/orders/{id}" },
 *     counts: [0, 1, 0],
 *     sum: 0.27,
 *     count: 1,
 *     created: 1_700_000_000_000,
 *     exemplars: [null, { labels: { trace_id: "4bf92f35" }, value: 0.27, timestamp: 1_700_000_000_500 }, null],
 *   }],
 * }]);
 * assert.equal(text, [
 *   "# TYPE latency_seconds histogram",
 *   "# UNIT latency_seconds seconds",
 *   "# HELP latency_seconds Latency.",
 *   'latency_seconds_bucket{route="/orders/{id}",le="0.1"} 0',
 *   'latency_seconds_bucket{route="/orders/{id}",le="1.0"} 1 # {trace_id="4bf92f35"} 0.27 1700000000.5',
 *   'latency_seconds_bucket{route="/orders/{id}",le="+Inf"} 1',
 *   'latency_seconds_count{route="/orders/{id}"} 1',
 *   'latency_seconds_sum{route="/orders/{id}"} 0.27',
 *   'latency_seconds_created{route="/orders/{id}"} 1700000000',
 *   "# EOF",
 *   "",
 * ].join("\n"));
 * ```
 */
export function encodeOpenMetrics(
  families: readonly MetricFamily[],
  options: OpenMetricsOptions = {},
): string {
  return encodeText(families, true, options.created ?? true);
}
