/**
 * A snapshot as the flat series Prometheus remote write carries, shared by
 * the 1.0 and 2.0 encoders: every sample a scrape of the text format would
 * give, each with its complete, sorted label set (`__name__` included), the
 * `job` and `instance` labels a scrape would attach, its exemplar and its
 * family's metadata; then cut into batches of at most so many series.
 *
 * Private: `remote_write.ts` and `remote_write_v2.ts` are the public entry
 * points.
 *
 * @module
 */

import type { Exemplar, Labels, MetricFamily } from "../model.ts";
import { formatCanonical } from "./_text.ts";

/**
 * Options of the remote write encoders.
 *
 * @example
 * ```ts
 * import type { RemoteWriteEncodeOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: RemoteWriteEncodeOptions = {
 *   timestampMs: 1_700_000_000_000,
 *   job: "nightly_import",
 *   instance: "worker-1",
 *   maxSeriesPerRequest: 500,
 * };
 * assert.equal(options.job, "nightly_import");
 * ```
 */
export interface RemoteWriteEncodeOptions {
  /** The timestamp of every sample, in milliseconds since the epoch. */
  readonly timestampMs: number;
  /**
   * The `job` label of every series, as a scrape config would set it; a
   * series' own `job` label is then kept as `exported_job`, as a scrape
   * without `honor_labels` does.
   */
  readonly job?: string | undefined;
  /** The `instance` label of every series (own ones become `exported_instance`). */
  readonly instance?: string | undefined;
  /** The most series per request (default 2,000); more are split over requests. */
  readonly maxSeriesPerRequest?: number | undefined;
}

/** The default of {@linkcode RemoteWriteEncodeOptions.maxSeriesPerRequest}. */
export const DEFAULT_MAX_SERIES_PER_REQUEST = 2000;

/** Metric types as both protocol versions number them. */
export const METRIC_TYPE = {
  counter: 1,
  gauge: 2,
  histogram: 3,
  summary: 5,
} as const;

/** What a family tells about itself: 1.0's MetricMetadata, 2.0's inline Metadata. */
export interface FlatMetadata {
  /** 1 counter, 2 gauge, 3 histogram, 5 summary. */
  readonly type: number;
  /** The family name as text 0.0.4 declares it (`<name>_total` for counters). */
  readonly family: string;
  readonly help: string;
  readonly unit: string;
}

/** One series with one sample. */
export interface FlatSeries {
  /** Name, value, name, value…, sorted by name (byte order), `__name__` included. */
  readonly labels: readonly string[];
  readonly value: number;
  readonly exemplar: Exemplar | undefined;
  readonly metadata: FlatMetadata;
  /** When the series started counting (counters, histograms, summaries), or 0. */
  readonly created: number;
}

/**
 * Every series of the snapshot, flattened as a text scrape would expose
 * them: a counter's `<name>_total`, a gauge's `<name>`, a histogram's
 * cumulative `<name>_bucket{le}` (ending with `+Inf`), `_sum` and `_count`,
 * a summary's `<name>{quantile}`, `_sum` and `_count`.
 */
export function flattenSeries(
  families: readonly MetricFamily[],
  options: RemoteWriteEncodeOptions,
): FlatSeries[] {
  const out: FlatSeries[] = [];
  const target: [string, string][] = [];
  if (options.job) target.push(["job", options.job]);
  if (options.instance) target.push(["instance", options.instance]);
  for (const family of families) {
    const { name } = family;
    const unit = family.unit ?? "";
    switch (family.type) {
      case "counter": {
        const metadata = {
          type: METRIC_TYPE.counter,
          family: `${name}_total`,
          help: family.help,
          unit,
        };
        for (const point of family.points) {
          const base = baseLabels(point.labels, target);
          out.push({
            labels: withName(base, `${name}_total`),
            value: point.value,
            exemplar: point.exemplar,
            metadata,
            created: point.created,
          });
        }
        break;
      }
      case "gauge": {
        const metadata = {
          type: METRIC_TYPE.gauge,
          family: name,
          help: family.help,
          unit,
        };
        for (const point of family.points) {
          out.push({
            labels: withName(baseLabels(point.labels, target), name),
            value: point.value,
            exemplar: undefined,
            metadata,
            created: 0,
          });
        }
        break;
      }
      case "histogram": {
        const metadata = {
          type: METRIC_TYPE.histogram,
          family: name,
          help: family.help,
          unit,
        };
        const les = family.bounds.map(formatCanonical);
        les.push("+Inf");
        for (const point of family.points) {
          const base = baseLabels(point.labels, target);
          const bucket = withName(base, `${name}_bucket`);
          let cumulative = 0;
          for (let i = 0; i < les.length; i++) {
            cumulative += point.counts[i] ?? 0;
            out.push({
              labels: withLabel(bucket, "le", les[i]!),
              value: cumulative,
              exemplar: point.exemplars?.[i] ?? undefined,
              metadata,
              created: point.created,
            });
          }
          out.push({
            labels: withName(base, `${name}_sum`),
            value: point.sum,
            exemplar: undefined,
            metadata,
            created: point.created,
          });
          out.push({
            labels: withName(base, `${name}_count`),
            value: point.count,
            exemplar: undefined,
            metadata,
            created: point.created,
          });
        }
        break;
      }
      case "summary": {
        const metadata = {
          type: METRIC_TYPE.summary,
          family: name,
          help: family.help,
          unit,
        };
        for (const point of family.points) {
          const base = baseLabels(point.labels, target);
          const quantile = withName(base, name);
          for (const q of point.quantiles) {
            out.push({
              labels: withLabel(
                quantile,
                "quantile",
                formatCanonical(q.quantile),
              ),
              value: q.value,
              exemplar: undefined,
              metadata,
              created: point.created,
            });
          }
          out.push({
            labels: withName(base, `${name}_sum`),
            value: point.sum,
            exemplar: undefined,
            metadata,
            created: point.created,
          });
          out.push({
            labels: withName(base, `${name}_count`),
            value: point.count,
            exemplar: undefined,
            metadata,
            created: point.created,
          });
        }
        break;
      }
    }
  }
  return out;
}

/**
 * A series' labels and the target labels, sorted by name, with a `__name__`
 * slot (value empty) in its place. A series label that a target label
 * takes is renamed `exported_<name>`; labels with an empty value are left
 * out, since Prometheus treats them as absent.
 */
function baseLabels(
  labels: Labels,
  target: readonly (readonly [string, string])[],
): string[] {
  const pairs: [string, string][] = [["__name__", ""]];
  for (const name in labels) {
    const value = labels[name]!;
    // Prometheus reads an empty value as no label at all.
    if (value === "") continue;
    const taken = target.some(([t]) => t === name);
    pairs.push([taken ? `exported_${name}` : name, value]);
  }
  for (const pair of target) pairs.push([pair[0], pair[1]]);
  return sortPairs(pairs);
}

/** Label pairs sorted by name in byte order (names are ASCII), flattened. */
export function sortPairs(pairs: [string, string][]): string[] {
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.flat();
}

/** `base` with the `__name__` slot filled in. */
function withName(base: readonly string[], name: string): string[] {
  const labels = base.slice();
  // Names sit at even indices; a label value may be "__name__" too.
  let at = 0;
  while (labels[at] !== "__name__") at += 2;
  labels[at + 1] = name;
  return labels;
}

/** Sorted `labels` with one more label inserted in its place. */
function withLabel(
  labels: readonly string[],
  name: string,
  value: string,
): string[] {
  let at = 0;
  while (at < labels.length && labels[at]! < name) at += 2;
  const out = labels.slice();
  out.splice(at, 0, name, value);
  return out;
}

/**
 * Cuts `series` into batches of at most `max`.
 *
 * @throws {RangeError} When `max` is not a whole number of at least 1.
 */
export function batches<T>(series: readonly T[], max: number): T[][] {
  if (!Number.isInteger(max) || max < 1) {
    throw new RangeError(
      `Cannot encode remote write: maxSeriesPerRequest must be a whole number of at least 1, got ${max}`,
    );
  }
  const out: T[][] = [];
  for (let i = 0; i < series.length; i += max) {
    out.push(series.slice(i, i + max));
  }
  return out;
}

/** A timestamp as the whole milliseconds an int64 carries. */
export function wholeMs(ms: number): number {
  return Math.max(0, Math.floor(ms));
}
