/**
 * Delta temporality from cumulative snapshots: what changed since the last
 * export the collector acknowledged.
 *
 * Instruments keep cumulative totals; the exporter remembers, per series, the
 * totals and the time of the last acknowledged export. A delta point is the
 * current total minus that baseline, and its start time (`created` in the
 * snapshot, which the OTLP encoders write as `startTimeUnixNano`) is the
 * acknowledged export's time, or the series' own start when it was never
 * acknowledged or has restarted since. The baseline only moves when the
 * collector acknowledges a batch, so a failed export leaves its increments
 * to the next one: nothing lost, nothing counted twice.
 *
 * @module
 */

import type {
  CounterPoint,
  HistogramPoint,
  Labels,
  MetricFamily,
  NativeHistogram,
  SummaryPoint,
  UpDownCounterPoint,
} from "../model.ts";
import { subtractNative } from "../_native.ts";

/** The acknowledged cumulative state of one series. */
interface Baseline {
  /** The series' own start time; a different one means it restarted. */
  readonly created: number;
  /** When the acknowledged export was collected: the next interval's start. */
  readonly time: number;
  readonly value: number;
  readonly count: number;
  readonly counts: readonly number[] | undefined;
  /** A native histogram's buckets. */
  readonly native?: NativeHistogram;
  /** Acknowledged exports in a row that did not hold the series. */
  readonly absent: number;
}

/**
 * How many acknowledged exports in a row a series may be missing from (a
 * collector that failed or timed out, an observable callback that skipped a
 * label set) before its baseline is forgotten. Within this window a series
 * that comes back with the same start continues from its baseline instead of
 * resending its whole total; memory for series that are really gone is held
 * for at most this many exports.
 */
const ABSENT_EXPORTS_KEPT = 10;

/** A delta batch and the step that records it as acknowledged. */
export interface DeltaBatch {
  /** Families whose counter and histogram points hold deltas since the baseline. */
  readonly families: MetricFamily[];
  /** Call once the collector acknowledged `families`. */
  commit(): void;
}

/**
 * Turns cumulative snapshots into delta batches against the last acknowledged
 * export. Gauges pass through unchanged; so do up-down counters when asked,
 * and summaries (OTLP summaries
 * carry no temporality and stay cumulative) unless `summaries` is set, when
 * their count and sum become deltas and their quantiles are dropped (the
 * aggregator adds counts and sums up, and quantiles do not add).
 */
export class DeltaTracker {
  #acked = new Map<string, Baseline>();
  #summaries: boolean;
  #upDownDeltas: boolean;

  /**
   * `summaries`: turn summaries into deltas too. `upDownCounters`:
   * `"cumulative"` passes up-down counters through unchanged, as OTel's
   * delta temporality preference has them (their current value is what a
   * backend needs); the default `"delta"` is for adding isolates up.
   */
  constructor(
    options: {
      readonly summaries?: boolean;
      readonly upDownCounters?: "delta" | "cumulative";
    } = {},
  ) {
    this.#summaries = options.summaries ?? false;
    this.#upDownDeltas = options.upDownCounters !== "cumulative";
  }

  /**
   * Computes the deltas of `families`, collected at `time` (milliseconds since
   * the epoch), against the acknowledged baselines. Nothing changes until
   * `commit()` is called.
   */
  prepare(families: readonly MetricFamily[], time: number): DeltaBatch {
    const next = new Map<string, Baseline>();
    const out: MetricFamily[] = [];
    for (const family of families) {
      if (family.type === "counter") {
        out.push({
          ...family,
          points: family.points.map((point) =>
            this.#counter(family.name, point, time, next)
          ),
        });
      } else if (family.type === "updowncounter" && this.#upDownDeltas) {
        out.push({
          ...family,
          points: family.points.map((point) =>
            this.#upDown(family.name, point, time, next)
          ),
        });
      } else if (family.type === "histogram") {
        out.push({
          ...family,
          points: family.points.map((point) =>
            this.#histogram(family.name, point, time, next)
          ),
        });
      } else if (family.type === "summary" && this.#summaries) {
        out.push({
          ...family,
          points: family.points.map((point) =>
            this.#summary(family.name, point, time, next)
          ),
        });
      } else {
        out.push(family);
      }
    }
    return {
      families: out,
      commit: () => {
        // A series missing from this snapshot may only have missed it (a
        // failed collector): keep its baseline for a bounded number of
        // exports, then forget it, so the bookkeeping stays bounded.
        for (const [key, base] of this.#acked) {
          if (!next.has(key) && base.absent < ABSENT_EXPORTS_KEPT) {
            next.set(key, { ...base, absent: base.absent + 1 });
          }
        }
        this.#acked = next;
      },
    };
  }

  #counter(
    name: string,
    point: CounterPoint,
    time: number,
    next: Map<string, Baseline>,
  ): CounterPoint {
    const key = seriesKey("counter", name, point.labels);
    next.set(key, baseline(point.created, time, point.value));
    const base = this.#acked.get(key);
    if (
      base === undefined || base.created !== point.created ||
      !(point.value >= base.value)
    ) {
      return point;
    }
    const { exemplar, ...rest } = point;
    const delta: CounterPoint = {
      ...rest,
      value: point.value - base.value,
      created: base.time,
    };
    return exemplar !== undefined && exemplar.timestamp >= base.time
      ? { ...delta, exemplar }
      : delta;
  }

  /** An up-down counter's change since the baseline; it may be negative. */
  #upDown(
    name: string,
    point: UpDownCounterPoint,
    time: number,
    next: Map<string, Baseline>,
  ): UpDownCounterPoint {
    const key = seriesKey("updowncounter", name, point.labels);
    next.set(key, baseline(point.created, time, point.value));
    const base = this.#acked.get(key);
    if (base === undefined || base.created !== point.created) return point;
    return { ...point, value: point.value - base.value, created: base.time };
  }

  #histogram(
    name: string,
    point: HistogramPoint,
    time: number,
    next: Map<string, Baseline>,
  ): HistogramPoint {
    const key = seriesKey("histogram", name, point.labels);
    next.set(
      key,
      baseline(
        point.created,
        time,
        point.sum,
        point.count,
        point.counts,
        point.native,
      ),
    );
    const base = this.#acked.get(key);
    // Native buckets: the current ones minus the acknowledged ones, on the
    // coarser scale; buckets that went down mean the series restarted.
    const native = point.native === undefined || base?.native === undefined
      ? undefined
      : subtractNative(point.native, base.native);
    if (point.native !== undefined && native === undefined) return point;
    if (
      base === undefined || base.created !== point.created ||
      base.counts === undefined || base.counts.length !== point.counts.length ||
      !(point.count >= base.count) ||
      point.counts.some((count, i) => !(count >= base.counts![i]!))
    ) {
      return point;
    }
    const counts = point.counts.map((count, i) => count - base.counts![i]!);
    const { exemplars: _, ...rest } = point;
    const delta: HistogramPoint = {
      ...rest,
      counts,
      sum: point.sum - base.value,
      count: point.count - base.count,
      created: base.time,
      ...(native === undefined ? {} : { native }),
    };
    if (point.exemplars === undefined) return delta;
    return {
      ...delta,
      exemplars: point.exemplars.map((exemplar) =>
        exemplar !== null && exemplar.timestamp >= base.time ? exemplar : null
      ),
    };
  }

  #summary(
    name: string,
    point: SummaryPoint,
    time: number,
    next: Map<string, Baseline>,
  ): SummaryPoint {
    const key = seriesKey("summary", name, point.labels);
    next.set(key, baseline(point.created, time, point.sum, point.count));
    const base = this.#acked.get(key);
    if (
      base === undefined || base.created !== point.created ||
      !(point.count >= base.count)
    ) {
      return { ...point, quantiles: [] };
    }
    return {
      labels: point.labels,
      count: point.count - base.count,
      sum: point.sum - base.value,
      created: base.time,
      quantiles: [],
    };
  }
}

/** A series' state as an export saw it, kept as the next delta's start. */
function baseline(
  created: number,
  time: number,
  value: number,
  count = 0,
  counts?: readonly number[],
  native?: NativeHistogram,
): Baseline {
  return native === undefined
    ? { created, time, value, count, counts, absent: 0 }
    : { created, time, value, count, counts, native, absent: 0 };
}

/** A key naming one series: kind, family name and sorted labels. */
function seriesKey(type: string, name: string, labels: Labels): string {
  const names = Object.keys(labels).sort();
  let key = `${type}\u0000${name}`;
  for (const label of names) key += `\u0000${label}\u0001${labels[label]}`;
  return key;
}
