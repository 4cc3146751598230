/**
 * The bound child of a native histogram: the classic buckets (or, native
 * only, just the sum and count), then the native ones. A class of its own,
 * so the classic child's code never sees a native histogram and stays as
 * small as before, and a call site serving one kind stays monomorphic.
 *
 * @module
 */

import type { Labels, LabelValue } from "../model.ts";
import type { Clock } from "../clock.ts";
import { SeriesCursor, type SeriesTable } from "./_series.ts";
import { timer } from "./_instrument.ts";
import { bucketOf } from "./_bucket_of.ts";
import type { NativeLayout } from "./_exponential.ts";

/** What the child reads from its histogram's state. */
export interface NativeChildState {
  readonly table: SeriesTable;
  readonly clock: Clock;
  /** The finite upper bounds, padded for {@linkcode bucketOf}. */
  readonly search: Float64Array;
  /** Halvings {@linkcode bucketOf} takes over `search`. */
  readonly steps: number;
  /** Slots before the sum: one per bucket, `+Inf` included (1: native only). */
  readonly buckets: number;
  readonly native: NativeLayout | undefined;
  /** Records NaN or ±Infinity into series `index`. */
  nonFinite(index: number, value: number): void;
  /** Throws for a value that is not a number. */
  skip(value: unknown): void;
  /** Keeps an exemplar as the latest of one bucket of series `index`. */
  keep(index: number, bucket: number, value: number, exemplar: Labels): void;
}

/**
 * A bound child of a native histogram. Native only, the `+Inf` bucket is
 * the one classic bucket and always equals the count: it is not written
 * here, the snapshot fills it in.
 */
export class BoundNativeHistogram extends SeriesCursor<NativeChildState> {
  readonly #search: Float64Array;
  readonly #steps: number;
  readonly #buckets: number;
  readonly #native: NativeLayout;

  constructor(
    state: NativeChildState,
    values: readonly LabelValue[],
    index: number,
  ) {
    super(state, values, index);
    this.#search = state.search;
    this.#steps = state.steps;
    this.#buckets = state.buckets;
    this.#native = state.native!;
  }

  /** See `HistogramChild.observe`. */
  observe(value: number, exemplar?: Labels): void {
    if (typeof value !== "number" || value - value !== 0) {
      if (typeof value === "number") {
        this.data(); // the index is current after it
        this.state().nonFinite(this.index(), value);
      } else this.state().skip(value);
      return;
    }
    const buckets = this.#buckets;
    const data = this.data();
    const base = this.base();
    let bucket = 0;
    if (buckets !== 1) {
      bucket = bucketOf(this.#search, this.#steps, value);
      data[base + bucket]!++;
    }
    data[base + buckets]! += value;
    data[base + buckets + 1]!++;
    this.#native.observe(data, base + buckets + 2, value);
    if (exemplar !== undefined) {
      this.state().keep(this.index(), bucket, value, exemplar);
    }
  }

  /** See `HistogramChild.startTimer`. */
  startTimer(): () => number {
    return timer(this.state().clock, (seconds) => this.observe(seconds));
  }
}
