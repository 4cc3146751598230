/**
 * The Prometheus text exposition format, version 0.0.4: what every
 * Prometheus server and most scrapers read.
 *
 * @module
 */

import type {
  CounterFamily,
  GaugeFamily,
  HistogramFamily,
  MetricFamily,
  SummaryFamily,
} from "../model.ts";
import {
  escapeHelp004,
  formatCanonical,
  labelPairs,
  TextWriter,
} from "./_text.ts";

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
 * or created timestamps: they are left out. The output ends with a line feed
 * (or is empty for an empty snapshot).
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
  const w = new TextWriter(estimateSize(families));
  for (const family of families) {
    switch (family.type) {
      case "counter":
        simple(w, family, family.name + "_total");
        break;
      case "gauge":
        simple(w, family, family.name);
        break;
      case "histogram":
        histogram(w, family);
        break;
      case "summary":
        summary(w, family);
        break;
    }
  }
  return w.finish();
}

/** A guess of the output size, so the buffer rarely grows (growing costs a copy). */
function estimateSize(families: readonly MetricFamily[]): number {
  let size = 0;
  for (const family of families) {
    const line = family.name.length + 64;
    const lines = family.type === "histogram"
      ? family.bounds.length + 3
      : family.type === "summary"
      ? 4
      : 1;
    size += 256 + family.points.length * lines * line;
  }
  return size;
}

function header(w: TextWriter, name: string, help: string, type: string) {
  if (help !== "") {
    w.text("# HELP " + name + " ");
    w.text(escapeHelp004(help));
    w.byte(NL);
  }
  w.text("# TYPE " + name + " " + type + "\n");
}

const NL = 10;
const SPACE = 32;
const OPEN = 123; // {
const CLOSE = 125; // }
const COMMA = 44;

/** Counters and gauges: one sample per series. */
function simple(
  w: TextWriter,
  family: CounterFamily | GaugeFamily,
  name: string,
): void {
  header(w, name, family.help, family.type);
  for (const point of family.points) {
    const pairs = labelPairs(point.labels);
    w.text(name);
    if (pairs !== "") {
      w.byte(OPEN);
      w.text(pairs);
      w.byte(CLOSE);
    }
    w.byte(SPACE);
    w.number(point.value);
    w.byte(NL);
  }
}

/** `name{pairs} ` or `name ` when there are no labels. */
function sampleName(w: TextWriter, name: string, pairs: string): void {
  w.text(name);
  if (pairs !== "") {
    w.byte(OPEN);
    w.text(pairs);
    w.byte(CLOSE);
  }
  w.byte(SPACE);
}

function histogram(w: TextWriter, family: HistogramFamily): void {
  const name = family.name;
  header(w, name, family.help, "histogram");
  const bounds = family.bounds;
  // `le="…"} ` per bucket, rendered once per family.
  const les: string[] = [];
  for (const bound of bounds) les.push('le="' + formatCanonical(bound) + '"} ');
  les.push('le="+Inf"} ');
  const bucket = name + "_bucket{";
  const sum = name + "_sum";
  const count = name + "_count";
  for (const point of family.points) {
    const pairs = labelPairs(point.labels);
    const counts = point.counts;
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += counts[i] ?? 0;
      w.text(bucket);
      if (pairs !== "") {
        w.text(pairs);
        w.byte(COMMA);
      }
      w.text(les[i]!);
      w.number(cumulative);
      w.byte(NL);
    }
    sampleName(w, sum, pairs);
    w.number(point.sum);
    w.byte(NL);
    sampleName(w, count, pairs);
    w.number(cumulative);
    w.byte(NL);
  }
}

function summary(w: TextWriter, family: SummaryFamily): void {
  const name = family.name;
  header(w, name, family.help, "summary");
  const sum = name + "_sum";
  const count = name + "_count";
  for (const point of family.points) {
    const pairs = labelPairs(point.labels);
    for (const q of point.quantiles) {
      w.text(name);
      w.byte(OPEN);
      if (pairs !== "") {
        w.text(pairs);
        w.byte(COMMA);
      }
      w.text('quantile="' + formatCanonical(q.quantile) + '"} ');
      w.number(q.value);
      w.byte(NL);
    }
    sampleName(w, sum, pairs);
    w.number(point.sum);
    w.byte(NL);
    sampleName(w, count, pairs);
    w.number(point.count);
    w.byte(NL);
  }
}
