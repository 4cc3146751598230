/**
 * A snapshot as the flat series Prometheus remote write carries, shared by
 * the 1.0 and 2.0 encoders: every sample a scrape of the text format would
 * give, each with its complete, sorted label set (`__name__` included), the
 * `job` and `instance` labels a scrape would attach, its exemplar and its
 * family's metadata, and one native histogram series per point with native
 * buckets; then cut into batches of at most so many series.
 *
 * Private: `remote_write.ts` and `remote_write_v2.ts` are the public entry
 * points.
 *
 * @module
 */

import type {
  Exemplar,
  HistogramPoint,
  Labels,
  MetricFamily,
} from "../model.ts";
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

/**
 * One series with one sample. Its labels are `base` (shared by every
 * series of one point) with `__name__` set to `name`, and for a bucket or
 * quantile one more label inserted in its place: {@linkcode labelsOf}
 * writes them out.
 */
export interface FlatSeries {
  /** Name, value, name, value…, sorted by name (byte order), with a `__name__` slot. */
  readonly base: readonly string[];
  /** The value of `__name__`. */
  readonly name: string;
  /** `le` or `quantile`, or `""` for none. */
  readonly extraName: string;
  readonly extraValue: string;
  readonly value: number;
  readonly exemplar: Exemplar | undefined;
  readonly metadata: FlatMetadata;
  /** When the series started counting (counters, histograms, summaries), or 0. */
  readonly created: number;
  /**
   * A native histogram series (named after the family, no extra label):
   * the point whose count, sum and `native` buckets it carries instead of
   * a sample; `undefined` for a sample series.
   */
  readonly histogram?: HistogramPoint | undefined;
}

/**
 * Every series of the snapshot, flattened as a text scrape would expose
 * them: a counter's `<name>_total`, a gauge's `<name>`, a histogram's
 * cumulative `<name>_bucket{le}` (ending with `+Inf`), `_sum` and `_count`,
 * a summary's `<name>{quantile}`, `_sum` and `_count`. A histogram point
 * with native buckets is also one native histogram series under `<name>`,
 * as Prometheus sends it; a native-only one (no bounds) is only that.
 */
export function flattenSeries(
  families: readonly MetricFamily[],
  options: RemoteWriteEncodeOptions,
): FlatSeries[] {
  const out: FlatSeries[] = [];
  const target: [string, string][] = [];
  if (options.job) target.push(["job", options.job]);
  if (options.instance) target.push(["instance", options.instance]);
  const targetKey = `${options.job || ""}\u0000${options.instance || ""}`;
  for (const family of families) {
    const { name, help } = family;
    const unit = family.unit ?? "";
    switch (family.type) {
      case "counter": {
        const total = `${name}_total`;
        const metadata = {
          type: METRIC_TYPE.counter,
          family: total,
          help,
          unit,
        };
        for (const point of family.points) {
          const base = baseLabels(point.labels, target, targetKey);
          out.push(
            series(
              base,
              total,
              point.value,
              metadata,
              point.created,
              point.exemplar,
            ),
          );
        }
        break;
      }
      case "gauge":
      case "updowncounter": {
        // An up-down counter is a gauge to Prometheus.
        const metadata = { type: METRIC_TYPE.gauge, family: name, help, unit };
        for (const point of family.points) {
          const base = baseLabels(point.labels, target, targetKey);
          out.push(series(base, name, point.value, metadata, 0));
        }
        break;
      }
      case "histogram": {
        const metadata = {
          type: METRIC_TYPE.histogram,
          family: name,
          help,
          unit,
        };
        const [bucket, sum, count] = [
          `${name}_bucket`,
          `${name}_sum`,
          `${name}_count`,
        ];
        const les = family.bounds.map(formatCanonical);
        les.push("+Inf");
        for (const point of family.points) {
          const base = baseLabels(point.labels, target, targetKey);
          const { created } = point;
          if (point.native !== undefined) {
            out.push(nativeSeries(base, name, point, metadata, les.length));
            // Native only: no classic buckets, nor their _sum and _count.
            if (les.length === 1) continue;
          }
          let cumulative = 0;
          for (let i = 0; i < les.length; i++) {
            cumulative += point.counts[i] ?? 0;
            const exemplar = point.exemplars?.[i] ?? undefined;
            out.push(
              series(
                base,
                bucket,
                cumulative,
                metadata,
                created,
                exemplar,
                "le",
                les[i]!,
              ),
            );
          }
          out.push(series(base, sum, point.sum, metadata, created));
          out.push(series(base, count, point.count, metadata, created));
        }
        break;
      }
      case "summary": {
        const metadata = {
          type: METRIC_TYPE.summary,
          family: name,
          help,
          unit,
        };
        const [sum, count] = [`${name}_sum`, `${name}_count`];
        for (const point of family.points) {
          const base = baseLabels(point.labels, target, targetKey);
          const { created } = point;
          for (const q of point.quantiles) {
            const quantile = formatCanonical(q.quantile);
            out.push(
              series(
                base,
                name,
                q.value,
                metadata,
                created,
                undefined,
                "quantile",
                quantile,
              ),
            );
          }
          out.push(series(base, sum, point.sum, metadata, created));
          out.push(series(base, count, point.count, metadata, created));
        }
        break;
      }
    }
  }
  return out;
}

/** One flat series (the object literal in one place, so all have one shape). */
function series(
  base: readonly string[],
  name: string,
  value: number,
  metadata: FlatMetadata,
  created: number,
  exemplar?: Exemplar,
  extraName = "",
  extraValue = "",
): FlatSeries {
  return {
    base,
    name,
    extraName,
    extraValue,
    value,
    exemplar,
    metadata,
    created,
    histogram: undefined,
  };
}

/**
 * The native histogram series of a point, under the family name. A
 * native-only point's exemplars go with it (the latest one: a series
 * carries one exemplar per sample).
 */
function nativeSeries(
  base: readonly string[],
  name: string,
  point: HistogramPoint,
  metadata: FlatMetadata,
  buckets: number,
): FlatSeries {
  let exemplar: Exemplar | undefined;
  if (buckets === 1 && point.exemplars !== undefined) {
    for (const e of point.exemplars) {
      if (e && (exemplar === undefined || e.timestamp >= exemplar.timestamp)) {
        exemplar = e;
      }
    }
  }
  return {
    base,
    name,
    extraName: "",
    extraValue: "",
    value: point.count,
    exemplar,
    metadata,
    created: point.created,
    histogram: point,
  };
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
  targetKey: string,
): readonly string[] {
  const cached = Object.isFrozen(labels) ? baseCache.get(labels) : undefined;
  if (cached !== undefined && cached.targetKey === targetKey) {
    return cached.base;
  }
  const pairs: [string, string][] = [["__name__", ""]];
  for (const name in labels) {
    const value = labels[name]!;
    // Prometheus reads an empty value as no label at all.
    if (value === "") continue;
    const taken = target.some(([t]) => t === name);
    pairs.push([taken ? `exported_${name}` : name, value]);
  }
  for (const pair of target) pairs.push([pair[0], pair[1]]);
  const base = sortPairs(pairs);
  if (Object.isFrozen(labels)) baseCache.set(labels, { targetKey, base });
  return base;
}

/**
 * The sorted base labels of a series, kept per label object: the
 * instruments hand out the same frozen label object for a series at every
 * collection, and a frozen object cannot change, so the labels are sorted
 * once in a series' life rather than at every export (the encoders stay
 * pure functions of the snapshot). Entries are weak: they go with their
 * label objects. Not frozen (a hand-made snapshot): sorted every time.
 */
const baseCache = /* @__PURE__ */ new WeakMap<
  Labels,
  { readonly targetKey: string; readonly base: readonly string[] }
>();

/** Label pairs sorted by name in byte order (names are ASCII), flattened. */
export function sortPairs(pairs: [string, string][]): string[] {
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.flat();
}

/**
 * Writes the complete sorted labels of `series` into `out` (cleared
 * first) as name, value, name, value…, and returns it: one scratch array
 * serves every series of a request, so no array is made per series.
 */
export function labelsOf(series: FlatSeries, out: string[]): string[] {
  out.length = 0;
  const { base, extraName } = series;
  let pending = extraName !== "";
  for (let i = 0; i < base.length; i += 2) {
    const label = base[i]!;
    if (pending && extraName < label) {
      out.push(extraName, series.extraValue);
      pending = false;
    }
    // Names sit at even indices; a label value may be "__name__" too.
    out.push(label, label === "__name__" ? series.name : base[i + 1]!);
  }
  if (pending) out.push(extraName, series.extraValue);
  return out;
}

/**
 * How many series (each with one sample) {@linkcode flattenSeries} makes of
 * `families`, counted without making them.
 */
export function countSeries(families: readonly MetricFamily[]): number {
  let count = 0;
  for (const family of families) {
    switch (family.type) {
      case "counter":
      case "gauge":
      case "updowncounter":
        count += family.points.length;
        break;
      case "histogram":
        for (const point of family.points) {
          // a bucket per bound, +Inf, _sum and _count; one native series
          const native = point.native === undefined ? 0 : 1;
          count += family.bounds.length === 0 && native === 1
            ? 1
            : family.bounds.length + 3 + native;
        }
        break;
      case "summary":
        for (const point of family.points) count += point.quantiles.length + 2;
        break;
    }
  }
  return count;
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
