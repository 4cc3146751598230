/**
 * Summary: a count and a sum of observations, and optionally quantiles
 * computed in the process over a sliding time window.
 *
 * @module
 */

import type { LabelValues, SummaryFamily } from "../model.ts";
import { type MetricOptions, resolveOptions } from "./options.ts";
import { describe } from "../names.ts";
import { Metric } from "./metric.ts";
import { timeArguments, timeCall } from "./_time.ts";
import { SummaryState } from "./_summary_series.ts";

/**
 * Options of a {@linkcode Summary}.
 *
 * `percentiles` are the ranks to report, each between 0 and 1, strictly
 * increasing; none by default, as the Prometheus client-library guidelines
 * require, and then the summary keeps only its count and sum. Quantiles are
 * computed over a sliding window of `maxAgeSeconds` (default 600) cut into
 * `ageBuckets` slices (default 5): an observation stops counting between
 * `maxAgeSeconds * (1 - 1 / ageBuckets)` and `maxAgeSeconds` after it was
 * made. `maxAgeSeconds: Infinity` keeps every observation.
 *
 * @example
 * ```ts
 * import { Summary, type SummaryOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: SummaryOptions<"route"> = {
 *   name: "request_duration_seconds",
 *   help: "Request duration.",
 *   labelNames: ["route"],
 *   percentiles: [0.5, 0.9, 0.99],
 *   maxAgeSeconds: 120,
 *   ageBuckets: 4,
 *   registry: null,
 * };
 * assert.deepEqual(new Summary(options).percentiles, [0.5, 0.9, 0.99]);
 * ```
 */
export interface SummaryOptions<L extends string> extends MetricOptions<L> {
  /**
   * Ranks to report, each in [0, 1], strictly increasing; none by default.
   * With any, `maxSeries` defaults to 100 (or the registry's limit when
   * lower): each busy series keeps a quantile window of up to hundreds of
   * KiB (see {@linkcode Summary}).
   */
  percentiles?: readonly number[];
  /** How long an observation counts towards the quantiles, in seconds (default 600). */
  maxAgeSeconds?: number;
  /** Slices the window is cut into, an integer from 1 to 60 (default 5). */
  ageBuckets?: number;
  /**
   * Called with the summary (also as `this`) before each collection, sync or
   * async, e.g. to `observe` values gathered elsewhere. If it throws or
   * rejects, the registry reports it and leaves this summary out of that
   * collection.
   */
  collect?: (this: Summary<L>, summary: Summary<L>) => void | Promise<void>;
}

/**
 * The default series limit of a summary with percentiles: a busy series'
 * quantile window takes hundreds of KiB (see {@linkcode Summary}).
 */
const QUANTILE_MAX_SERIES = 100;

/**
 * A summary bound to one label set by {@linkcode Summary.labels}: records
 * without a label lookup. It stays valid after `remove` or `reset`, and then
 * starts the series again on its next record.
 *
 * @example
 * ```ts
 * import { Summary } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const sizes = new Summary({
 *   name: "payload_bytes",
 *   help: "Payload sizes.",
 *   labelNames: ["route"],
 *   registry: null,
 * });
 * const upload = sizes.labels("/upload");
 * upload.observe(512);
 * upload.observe(1024);
 * const point = (await sizes.collect()).points[0];
 * assert.equal(point?.count, 2);
 * assert.equal(point?.sum, 1536);
 * ```
 */
export interface SummaryChild {
  /**
   * Records one observation.
   *
   * @param value The observed value; NaN and ±Infinity are ignored with one
   *   warning, negative values are recorded.
   * @throws {TypeError} When `value` is not a number.
   */
  observe(value: number): void;
  /**
   * Starts timing; the returned function observes the seconds elapsed since
   * (read from the clock's `monotonic()`) on its first call and returns them,
   * and returns the same number without observing again on later calls.
   *
   * @returns The function that ends the timing.
   */
  startTimer(): () => number;
}

/**
 * A summary: the count and sum of observations such as request durations or
 * payload sizes, and, when `percentiles` are configured, their quantiles over
 * a sliding time window, computed in the process.
 *
 * Count and sum are cumulative since the series was created; the quantiles
 * cover only the window (see {@linkcode SummaryOptions}) and are `NaN` while
 * it holds no observation, as the Prometheus clients report them. Quantiles
 * of several processes cannot be combined: for a fleet-wide quantile or an
 * SLO, use a histogram.
 *
 * Accuracy: the value reported for rank `q` over a window holding `N`
 * observations has a true rank (the number of observations below it, up to
 * the number at or below it) within `ε * N` of `q * N`, with
 * `ε = (1 + floor(log2(N / 2048))) / 2048` once `N >= 2048` and `ε = 0`
 * below: at most 0.44% at 1,000,000 observations and at most 1% for any
 * window of fewer than 2^31 observations. Ranks 0 and 1 are the exact
 * minimum and maximum. The guarantee is deterministic, whatever the order and
 * distribution of the values.
 *
 * Memory: a series without percentiles takes two numbers (16 bytes). With
 * percentiles, each of the `ageBuckets` slices that took observations adds
 * a sketch of 8-byte numbers. For `n`, the most observations a slice took
 * in one stretch of `maxAgeSeconds / ageBuckets` (a slice keeps its buffers
 * when it is reused, so memory follows the busiest stretch, never the total
 * count), a slice holds at most:
 *
 * - `8 * max(32, n rounded up to a power of 2)` bytes while `n < 2048`
 *   (256 bytes for a quiet series, 16 KiB just below 2048);
 * - `8 * 2048 * (2 + floor(log2(n / 2048)))` bytes from `n = 2048` on:
 *   16 KiB per level, e.g. 96 KiB at 50,000 and 160 KiB at 1,000,000.
 *
 * A busy series takes up to `ageBuckets` times that: with the default 5
 * slices of 2 minutes, 480 KiB at 50,000 observations per slice (~420 a
 * second) and 800 KiB at 1,000,000. Hence a summary with percentiles keeps
 * at most 100 series unless its own `maxSeries` says otherwise (the
 * registry's limit applies when it is lower): 100 busy series at 480 KiB
 * take ~47 MiB, where the usual 2,000 would take ~940 MiB, past the 128 MB
 * a Cloudflare Worker may use. Without percentiles the registry's limit
 * (2,000 by default) applies. `observe` is amortised O(log 2048) and
 * allocates only when a buffer grows.
 *
 * NaN and ±Infinity observations are ignored (with one warning per
 * summary), since they would poison the sum for good; negative values are
 * recorded and ordered as numbers.
 *
 * @example Response sizes with quantiles over the last ten minutes
 * ```ts
 * import { type Clock, Registry, Summary } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * let t = 0;
 * const clock: Clock = { now: () => t, monotonic: () => t };
 * const registry = new Registry({ clock });
 * const sizes = new Summary({
 *   name: "response_size_bytes",
 *   help: "Response body sizes.",
 *   labelNames: ["route"] as const,
 *   percentiles: [0.5, 0.99],
 *   registry,
 * });
 * for (let i = 1; i <= 100; i++) sizes.observe({ route: "/" }, i * 100);
 *
 * const [family] = await registry.collect();
 * assert.deepEqual(family, {
 *   type: "summary",
 *   name: "response_size_bytes",
 *   help: "Response body sizes.",
 *   points: [{
 *     labels: { route: "/" },
 *     count: 100,
 *     sum: 505_000,
 *     created: 0,
 *     quantiles: [{ quantile: 0.5, value: 5_000 }, { quantile: 0.99, value: 9_900 }],
 *   }],
 * });
 *
 * t = 600_000; // ten minutes later the window is empty; count and sum remain
 * const point = (await sizes.collect()).points[0];
 * assert.equal(point?.count, 100);
 * assert.ok(Number.isNaN(point?.quantiles[0]?.value));
 * ```
 */
export class Summary<L extends string = never>
  extends Metric<L, SummaryChild, SummaryFamily> {
  /** The ranks it reports, ascending; empty when it keeps only count and sum. */
  readonly percentiles: readonly number[];
  /** How long an observation counts towards the quantiles, in seconds. */
  readonly maxAgeSeconds: number;
  /** Slices the quantile window is cut into. */
  readonly ageBuckets: number;
  #state: SummaryState;

  /**
   * Declares a summary and registers it (with the default registry unless
   * `registry` says otherwise).
   *
   * @param options Name, help, label names, percentiles, window, limits and
   *   an optional `collect` hook.
   * @throws {TypeError} When a name or label name is invalid or reserved
   *   (`quantile`), or an option has the wrong type.
   * @throws {RangeError} When a percentile is outside [0, 1] or out of order,
   *   `maxAgeSeconds` is not above 0, `ageBuckets` is not an integer from 1 to 60, or
   *   `maxSeries` is not a whole number of at least 1 or `Infinity`.
   * @throws {DuplicateMetricError} When the registry already has this name.
   */
  constructor(options: SummaryOptions<L>) {
    const resolved = resolveOptions(options, ["quantile"]);
    const what = `Cannot declare summary "${options.name}"`;
    const percentiles = checkPercentiles(what, options.percentiles);
    const maxAgeSeconds = checkNumber(
      what,
      "maxAgeSeconds",
      options.maxAgeSeconds,
      600,
      (seconds) => seconds > 0,
      "greater than 0",
    );
    const ageBuckets = checkNumber(
      what,
      "ageBuckets",
      options.ageBuckets,
      5,
      (count) =>
        Number.isInteger(count) && count >= 1 && count <= MAX_AGE_BUCKETS,
      `an integer from 1 to ${MAX_AGE_BUCKETS}`,
    );
    if (percentiles.length > 0 && options.maxSeries === undefined) {
      // Quantile windows are large (see the class doc): cap the default.
      resolved.maxSeries = Math.min(resolved.maxSeries, QUANTILE_MAX_SERIES);
    }
    const state = new SummaryState(
      resolved,
      percentiles,
      maxAgeSeconds,
      ageBuckets,
    );
    super(resolved, options.collect, state);
    this.percentiles = percentiles;
    this.maxAgeSeconds = maxAgeSeconds;
    this.ageBuckets = ageBuckets;
    this.#state = state;
    resolved.registry?.register(this);
  }

  /**
   * Records one observation in the unlabeled series.
   *
   * @param value The observed value; NaN and ±Infinity are ignored with one
   *   warning, negative values are recorded.
   * @throws {TypeError} When the summary has labels, or the value is not a number.
   */
  observe(value: number): void;
  /**
   * Records one observation in the series of a label set.
   *
   * @param labels One value per declared label (`{}` on an unlabeled summary).
   * Labels are checked when a series is created; later calls look up only
   * the declared names, so an undeclared extra key on the label set of an
   * existing series is ignored, not rejected.
   * @param value The observed value; NaN and ±Infinity are ignored with one
   *   warning, negative values are recorded.
   * @throws {TypeError} When labels are missing, undeclared or of the wrong
   *   type (checked when the series is created), or the value is not a number.
   */
  observe(labels: LabelValues<L>, value: number): void;
  observe(labelsOrValue: LabelValues<L> | number, value?: number): void {
    const state = this.#state;
    if (typeof labelsOrValue === "object") {
      if (state.skip(value, labelsOrValue)) return;
      state.record(state.table.indexOf(labelsOrValue), value as number);
    } else {
      state.observe(state.table.indexOf(undefined), labelsOrValue);
    }
  }

  /**
   * Starts timing; the returned function observes the seconds elapsed since
   * (read from the clock's `monotonic()`) on its first call and returns them,
   * and returns the same number without observing again on later calls.
   *
   * @param labels The series to observe into; omit on an unlabeled summary.
   * @returns The function that ends the timing.
   * @throws {TypeError} When labels are missing, undeclared or of the wrong type.
   */
  startTimer(labels?: LabelValues<L>): () => number {
    const table = this.#state.table;
    let index = table.indexOf(labels);
    let generation = table.generation;
    return this.#state.timer(() => {
      // A series removed in the meantime is looked up (and started) again.
      if (generation !== table.generation) {
        index = table.indexOf(labels);
        generation = table.generation;
      }
      return index;
    });
  }
  /**
   * Times a function: observes the seconds it took (the clock's monotonic
   * time) when it returns or throws, or, when it returns a promise, when
   * that settles. Returns what it returned and rethrows what it threw.
   *
   * @param fn The function to time, sync or async.
   * @returns What `fn` returned (its promise, for an async function).
   * @throws {TypeError} When the metric has labels (they are required).
   *
   * @example
   * ```ts
   * import { Registry, Summary } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const jobs = new Summary({ name: "job_seconds", help: "Job time.", registry: new Registry() });
   * await jobs.time(() => new Promise((resolve) => setTimeout(resolve, 5)));
   * const [point] = (await jobs.collect()).points;
   * assert.equal(point?.count, 1);
   * assert.ok(point!.sum >= 0.004);
   * ```
   */
  time<T>(fn: () => T): T;
  /**
   * Times a function into one series: observes the seconds it took when it
   * returns or throws, or, when it returns a promise, when that settles.
   *
   * @param labels The series' labels, checked before `fn` runs.
   * @param fn The function to time, sync or async.
   * @returns What `fn` returned (its promise, for an async function).
   * @throws {TypeError} When the labels are missing, undeclared or of the
   * wrong type, or `fn` is not a function.
   */
  time<T>(labels: LabelValues<L>, fn: () => T): T;
  time<T>(labelsOrFn: LabelValues<L> | (() => T), fn?: () => T): T {
    const args = timeArguments(this.name, labelsOrFn, fn);
    const child = args.labels === undefined
      ? this.labels()
      : this.labels(args.labels);
    return timeCall(child.startTimer(), args.fn);
  }
}

/** Checks the ranks; `what` starts the messages. */
function checkPercentiles(
  what: string,
  percentiles: readonly number[] | undefined,
): readonly number[] {
  if (percentiles === undefined) return Object.freeze([]);
  if (!Array.isArray(percentiles)) {
    throw new TypeError(
      `${what}: percentiles must be an array of numbers, got ${
        describe(percentiles)
      }`,
    );
  }
  let previous = -Infinity;
  for (const p of percentiles as readonly unknown[]) {
    if (typeof p !== "number") {
      throw new TypeError(
        `${what}: a percentile must be a number, got ${describe(p)}`,
      );
    }
    if (!(p >= 0 && p <= 1)) {
      throw new RangeError(
        `${what}: a percentile must be between 0 and 1, got ${p}`,
      );
    }
    if (p <= previous) {
      throw new RangeError(
        `${what}: percentiles must be strictly increasing, got ${p} after ${previous}`,
      );
    }
    previous = p;
  }
  return Object.freeze([...percentiles]);
}

/**
 * The most age buckets a summary may declare: each one keeps its own
 * sketch per series, so a window cut finer than one slice a minute for an
 * hour costs memory without making quantiles any better.
 */
const MAX_AGE_BUCKETS = 60;

/**
 * Checks a numeric option of a summary: `fallback` when omitted, a
 * TypeError for a non-number, a RangeError when `valid` rejects it; `what`
 * starts the messages.
 */
function checkNumber(
  what: string,
  option: string,
  value: number | undefined,
  fallback: number,
  valid: (value: number) => boolean,
  rule: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `${what}: ${option} must be a number, got ${describe(value)}`,
    );
  }
  if (!valid(value)) {
    throw new RangeError(
      `${what}: ${option} must be ${rule}, got ${value}`,
    );
  }
  return value;
}
