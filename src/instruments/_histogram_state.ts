/**
 * What a histogram and its bound children share: the bucket bounds, the
 * series' slots (classic buckets, sum, count, then the native buckets),
 * the exemplars, recording by series number and the snapshot; and the
 * classic bound child. The public {@linkcode Histogram} is in
 * `histogram.ts`, the native bound child in `_native_child.ts`.
 *
 * @module
 */

import type {
  Exemplar,
  HistogramFamily,
  HistogramPoint,
  Labels,
  LabelValue,
} from "../model.ts";
import type { HistogramChild } from "./histogram.ts";
import { toExemplar } from "./_exemplar.ts";
import type { ResolvedOptions } from "./options.ts";
import { SeriesCursor } from "./_series.ts";
import { InstrumentState, timer, type Writable } from "./_instrument.ts";
import type { NativeLayout } from "./_exponential.ts";
import { bucketOf } from "./_bucket_of.ts";
import { BoundNativeHistogram } from "./_native_child.ts";

/** What the histogram and its bound children share. */
export class HistogramState extends InstrumentState {
  /** The finite bucket bounds. */
  readonly bounds: readonly number[];
  /** The finite upper bounds, padded for {@linkcode bucketOf}. */
  readonly search: Float64Array;
  /** Halvings {@linkcode bucketOf} takes over `search`. */
  readonly steps: number;
  /** The latest exemplar of bucket `b` of series `i` at `i * buckets + b`. */
  exemplars: (Exemplar | undefined)[] = [];
  /** How many slots series use before the sum: one per bucket, `+Inf` included. */
  readonly buckets: number;
  /** Slots per series. */
  readonly stride: number;
  /** The native buckets, after the count; `undefined` when not native. */
  readonly native: NativeLayout | undefined;

  constructor(
    resolved: ResolvedOptions,
    bounds: readonly number[],
    native: NativeLayout | undefined,
  ) {
    // Per series: one count per bucket, then the sum and the count, then
    // the native buckets.
    const stride = bounds.length + 3 + (native?.stride ?? 0);
    super(resolved, "histogram", stride);
    this.stride = stride;
    this.native = native;
    this.bounds = bounds;
    let steps = 1;
    while ((1 << steps) - 1 < bounds.length) steps++;
    this.search = new Float64Array((1 << steps) - 1).fill(Infinity);
    this.search.set(bounds);
    this.steps = steps;
    this.buckets = bounds.length + 1;
  }

  /** Observes into series `index`, found by a label lookup just now. */
  observe(index: number, value: number, exemplar: Labels | undefined): void {
    // `value - value` is 0 for a finite number only: one subtraction.
    if (typeof value !== "number" || value - value !== 0) {
      if (this.native !== undefined && typeof value === "number") {
        this.nonFinite(index, value);
      } else this.skip(value);
      return;
    }
    this.record(index, value, exemplar);
  }

  /**
   * Observes a checked value into series `index`. A labeled record checks
   * its value before the lookup, so one that throws never creates its series.
   */
  record(index: number, value: number, exemplar: Labels | undefined): void {
    const bucket = bucketOf(this.search, this.steps, value);
    const buckets = this.buckets;
    const data = this.table.data;
    const base = index * this.stride;
    // Native only: the `+Inf` bucket is the count, filled in by the snapshot.
    if (buckets !== 1) data[base + bucket]!++;
    data[base + buckets]! += value;
    data[base + buckets + 1]!++;
    this.native?.observe(data, base + buckets + 2, value);
    if (exemplar !== undefined) this.keep(index, bucket, value, exemplar);
  }

  /** Keeps an exemplar as the latest of one bucket of series `index`. */
  keep(index: number, bucket: number, value: number, exemplar: Labels): void {
    const kept = toExemplar(this.metric, exemplar, value, this.clock.now());
    if (kept !== undefined) {
      this.exemplars[index * this.buckets + bucket] = kept;
    }
  }

  /** Throws for a value that is not a number; warns once for NaN and ±Infinity. */
  skip(value: unknown, labels?: unknown): void {
    if (typeof value !== "number") {
      this.reject("observe", "value", value, labels);
    }
    this.ignoreNonFinite("observation", value);
  }

  /**
   * Records NaN or ±Infinity on a native histogram, by the Prometheus
   * native-histogram rule: in `count` and `sum`, in no native bucket; in
   * the classic buckets as client_golang does (NaN and +Inf in `+Inf`,
   * -Inf in the first).
   */
  nonFinite(index: number, value: number): void {
    const buckets = this.buckets;
    const bucket = value !== value
      ? buckets - 1
      : bucketOf(this.search, this.steps, value);
    const data = this.table.data;
    const base = index * this.stride;
    if (buckets !== 1) data[base + bucket]!++;
    data[base + buckets]! += value;
    data[base + buckets + 1]!++;
  }

  override forget(index: number): void {
    const start = index * this.buckets;
    if (start < this.exemplars.length) {
      this.exemplars.fill(undefined, start, start + this.buckets);
    }
  }

  override clear(): void {
    this.exemplars = [];
  }

  child(values: readonly LabelValue[], index: number): HistogramChild {
    return this.native === undefined
      ? new BoundHistogram(this, values, index)
      : new BoundNativeHistogram(this, values, index);
  }

  snapshot(): HistogramFamily {
    const { table, exemplars, buckets } = this;
    const order = table.order();
    const { labels, data, created } = table;
    const { stride, native } = this;
    const points: HistogramPoint[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const index = order[i]!;
      const base = index * stride;
      // A plain loop into a preallocated array: measured ~30x faster here
      // than Array.from(subarray) or slice over the Float64Array.
      const counts: number[] = new Array(buckets);
      for (let b = 0; b < buckets; b++) counts[b] = data[base + b]!;
      // Native only: the one bucket, `+Inf`, is not written when recording.
      if (buckets === 1) counts[0] = data[base + 2]!;
      const point: Writable<HistogramPoint> = {
        labels: labels[index]!,
        counts,
        sum: data[base + buckets]!,
        count: data[base + buckets + 1]!,
        created: created[index]!,
      };
      if (native !== undefined) {
        point.native = native.read(data, base + buckets + 2);
      }
      let kept: (Exemplar | null)[] | undefined;
      const first = index * buckets;
      for (let b = 0; b < buckets && first < exemplars.length; b++) {
        const exemplar = exemplars[first + b];
        if (exemplar === undefined) continue;
        if (kept === undefined) {
          kept = new Array<Exemplar | null>(buckets).fill(null);
          point.exemplars = kept;
        }
        kept[b] = exemplar;
      }
      points[i] = point;
    }
    return {
      type: "histogram",
      ...this.header,
      bounds: this.bounds,
      points,
    };
  }
}

/** The bound child of a classic histogram. */
class BoundHistogram extends SeriesCursor<HistogramState>
  implements HistogramChild {
  // Copies of the state's constants: one load each instead of two.
  readonly #search: Float64Array;
  readonly #steps: number;
  readonly #buckets: number;

  constructor(
    state: HistogramState,
    values: readonly LabelValue[],
    index: number,
  ) {
    super(state, values, index);
    this.#search = state.search;
    this.#steps = state.steps;
    this.#buckets = state.buckets;
  }

  observe(value: number, exemplar?: Labels): void {
    if (typeof value !== "number" || value - value !== 0) {
      this.state().skip(value);
      return;
    }
    const bucket = bucketOf(this.#search, this.#steps, value);
    const buckets = this.#buckets;
    const data = this.data();
    const base = this.base();
    data[base + bucket]!++;
    data[base + buckets]! += value;
    data[base + buckets + 1]!++;
    if (exemplar !== undefined) {
      this.state().keep(this.index(), bucket, value, exemplar);
    }
  }

  startTimer(): () => number {
    return timer(this.state().clock, (seconds) => this.observe(seconds));
  }
}
