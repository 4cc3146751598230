/**
 * The Prometheus text exposition format, version 0.0.4: what every
 * Prometheus server and most scrapers read.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import { encodeText } from "./_text.ts";

/**
 * The `Content-Type` of Prometheus text 0.0.4, as a scrape response carries it.
 *
 * @example
 * ```ts
 * import { PROMETHEUS_TEXT_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const response = new Response("", {
 *   headers: { "Content-Type": PROMETHEUS_TEXT_CONTENT_TYPE },
 * });
 * assert.equal(
 *   response.headers.get("Content-Type"),
 *   "text/plain; version=0.0.4; charset=utf-8",
 * );
 * ```
 */
export const PROMETHEUS_TEXT_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8" as const;

/**
 * Encodes a snapshot as Prometheus text 0.0.4.
 *
 * Families come out in snapshot order, series in snapshot order, each family
 * with a `# HELP` line (backslash and line feed escaped; left out when the
 * help is empty) and a `# TYPE` line, even when it has no series yet.
 * Counter samples and their HELP/TYPE lines are named `<name>_total`.
 * Histogram buckets are made cumulative and written as `<name>_bucket` with
 * an `le` label after the series' labels, ending with `le="+Inf"`, followed
 * by `_sum` and `_count` (the `+Inf` bucket's value); summaries write one
 * `quantile` sample per configured quantile, then `_sum` and `_count`.
 * Label values escape `\`, `"` and line feed, so no value can start a new
 * line. Values are the shortest decimal that round-trips (`3`, `0.1`,
 * `1e-7`), or `+Inf`, `-Inf`, `NaN`; `le` and `quantile` use the
 * OpenMetrics canonical form (`le="1.0"`), so a series keeps the same labels
 * whichever format a scrape negotiates. This format has no exemplars, units
 * or created timestamps: they are left out. Nor native histogram buckets:
 * a native-only histogram (no bounds) is written as its `+Inf` bucket,
 * `_sum` and `_count`, as client_golang does; `encodePrometheusProtobuf`
 * carries the rest. The output ends with a line feed (or is empty for an
 * empty snapshot).
 *
 * Each series' label text is cached per frozen label object (the
 * instruments hand out one per series for as long as it lives), so a
 * repeated encoding only formats the values; the cache is weak and costs
 * a few hundred bytes per live series. A label object that is not frozen
 * is rendered every time, so the output is always a function of the
 * snapshot alone.
 *
 * @param families The snapshot, e.g. from `Registry#collect()`.
 * @returns The exposition text.
 *
 * @example Encode a counter and a histogram
 * ```ts
 * import { encodePrometheusText } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const text = encodePrometheusText([
 *   {
 *     type: "counter",
 *     name: "jobs",
 *     help: "Jobs done.",
 *     points: [{ labels: { queue: "emails" }, value: 3, created: 0 }],
 *   },
 *   {
 *     type: "histogram",
 *     name: "latency_seconds",
 *     help: "Latency.",
 *     bounds: [0.1, 1],
 *     points: [{ labels: {}, counts: [1, 2, 0], sum: 0.9, count: 3, created: 0 }],
 *   },
 * ]);
 * assert.equal(text, [
 *   "# HELP jobs_total Jobs done.",
 *   "# TYPE jobs_total counter",
 *   'jobs_total{queue="emails"} 3',
 *   "# HELP latency_seconds Latency.",
 *   "# TYPE latency_seconds histogram",
 *   'latency_seconds_bucket{le="0.1"} 1',
 *   'latency_seconds_bucket{le="1.0"} 3',
 *   'latency_seconds_bucket{le="+Inf"} 3',
 *   "latency_seconds_sum 0.9",
 *   "latency_seconds_count 3",
 *   "",
 * ].join("\n"));
 * ```
 */
export function encodePrometheusText(
  families: readonly MetricFamily[],
): string {
  return encodeText(families, false, false);
}
