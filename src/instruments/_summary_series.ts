/**
 * A summary's series: per series a count, a sum and a sliding window of
 * quantile sketches (`SummaryState`), and the bound child that records into
 * one series without a label lookup (`BoundSummary`).
 *
 * @module
 */

import type {
  LabelValue,
  Quantile,
  SummaryFamily,
  SummaryPoint,
} from "../model.ts";
import type { ResolvedOptions } from "./options.ts";
import { SeriesCursor } from "./_series.ts";
import { InstrumentState } from "./_instrument.ts";
import { SlidingQuantiles } from "./_quantiles.ts";
import type { SummaryChild } from "./summary.ts";

/** Float64 slots per series: count, sum. */
const STRIDE = 2;

/** What the summary and its bound children share. */
export class SummaryState extends InstrumentState {
  readonly percentiles: readonly number[];
  readonly windowMs: number;
  readonly ageBuckets: number;
  /** The quantile window of each series, by series number; empty without percentiles. */
  windows: (SlidingQuantiles | undefined)[] = [];

  constructor(
    resolved: ResolvedOptions,
    percentiles: readonly number[],
    maxAgeSeconds: number,
    ageBuckets: number,
  ) {
    super(resolved, "summary", STRIDE);
    this.percentiles = percentiles;
    this.windowMs = maxAgeSeconds * 1000;
    this.ageBuckets = ageBuckets;
  }

  observe(index: number, value: number): void {
    if (this.skip(value)) return;
    this.record(index, value);
  }

  /**
   * Throws for a value that is not a number; true (skip it, warned once)
   * for NaN and ±Infinity.
   */
  skip(value: unknown, labels?: unknown): boolean {
    if (typeof value !== "number") {
      this.reject("observe", "value", value, labels);
    }
    if (value - value !== 0) {
      this.ignoreNonFinite("observation", value);
      return true;
    }
    return false;
  }

  /**
   * Observes a checked value into series `index`. A labeled record checks
   * its value before the lookup, so one that throws never creates its series.
   */
  record(index: number, value: number): void {
    const data = this.table.data;
    data[index * STRIDE]! += 1;
    data[index * STRIDE + 1]! += value;
    if (this.percentiles.length > 0) {
      const window = this.windows[index] ??= new SlidingQuantiles(
        this.windowMs,
        this.ageBuckets,
      );
      window.add(value, this.clock.monotonic());
    }
  }

  timer(index: () => number): () => number {
    const start = this.clock.monotonic();
    let seconds = -1;
    return () => {
      if (seconds < 0) {
        seconds = Math.max(0, (this.clock.monotonic() - start) / 1000);
        this.observe(index(), seconds);
      }
      return seconds;
    };
  }

  // Free the window's buffers: removed label sets must not hold memory.
  override forget(index: number): void {
    this.windows[index] = undefined;
  }

  override clear(): void {
    this.windows = [];
  }

  child(values: readonly LabelValue[], index: number): SummaryChild {
    return new BoundSummary(this, values, index);
  }

  snapshot(): SummaryFamily {
    const { table, windows, percentiles, clock } = this;
    const now = clock.monotonic();
    const values: number[] = new Array(percentiles.length).fill(NaN);
    const order = table.order();
    const { labels, data, created } = table;
    const points: SummaryPoint[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const index = order[i]!;
      let quantiles: Quantile[] = [];
      if (percentiles.length > 0) {
        const window = windows[index];
        if (window === undefined) values.fill(NaN);
        else window.query(percentiles, now, values);
        quantiles = percentiles.map((quantile, q) => ({
          quantile,
          value: values[q]!,
        }));
      }
      points[i] = {
        labels: labels[index]!,
        count: data[index * STRIDE]!,
        sum: data[index * STRIDE + 1]!,
        created: created[index]!,
        quantiles,
      };
    }
    return { type: "summary", ...this.header, points };
  }
}

export class BoundSummary extends SeriesCursor<SummaryState>
  implements SummaryChild {
  readonly #index: () => number;

  constructor(
    state: SummaryState,
    values: readonly LabelValue[],
    index: number,
  ) {
    super(state, values, index);
    this.#index = () => {
      this.data(); // looks the series up again if the table changed
      return this.index();
    };
  }

  observe(value: number): void {
    this.state().observe(this.#index(), value);
  }

  startTimer(): () => number {
    return this.state().timer(this.#index);
  }
}
