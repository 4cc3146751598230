/**
 * Histogram: observations counted into buckets, with their sum and count.
 *
 * @module
 */

import type { HistogramFamily, Labels, LabelValues } from "../model.ts";
import { DEFAULT_BUCKETS } from "./buckets.ts";
import {
  type CollectHook,
  joinRegistries,
  type MetricOptions,
  resolveOptions,
} from "./options.ts";
import { describe } from "../names.ts";
import { labeledTimer } from "./_instrument.ts";
import { Metric } from "./metric.ts";
import {
  checkNative,
  type NativeHistogramOptions,
  NativeLayout,
} from "./_exponential.ts";
import { timeArguments, timeCall } from "./_time.ts";
import { HistogramState } from "./_histogram_state.ts";

export type { NativeHistogramOptions };

/**
 * Options of a {@linkcode Histogram}: the options every metric takes, the
 * bucket bounds, and an optional `collect` hook.
 *
 * @example Buckets around a 300 ms objective
 * ```ts
 * import { Histogram, type HistogramOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: HistogramOptions<"route"> = {
 *   name: "http_request_duration_seconds",
 *   help: "Request latency.",
 *   labelNames: ["route"],
 *   buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5],
 *   registry: null,
 * };
 * assert.deepEqual(new Histogram(options).bounds, [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5]);
 * ```
 */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /**
   * Upper bounds of the buckets: finite, strictly increasing, from 1 to 1,000 of them.
   * The `+Inf` bucket is implicit (a trailing `Infinity` is accepted and
   * dropped). Default: {@linkcode DEFAULT_BUCKETS}.
   */
  buckets?: readonly number[];
  /**
   * Native (exponential) buckets as well, or instead: `true` for the
   * defaults (scale 8, up to 160 buckets per sign, zero threshold 2^-128), or
   * {@linkcode NativeHistogramOptions}. Without `buckets`, the histogram is
   * native only: text formats then show only its `_count`, `_sum` and `+Inf`
   * bucket; with `buckets`, it keeps both, as client_golang does.
   */
  native?: boolean | NativeHistogramOptions;
  /**
   * Called with the histogram (also as `this`) before each collection, sync
   * or async. If it throws or rejects, the registry reports it and leaves
   * this histogram out of that collection.
   */
  collect?: CollectHook<Histogram<L>>;
}

/**
 * Ends a timer started by {@linkcode Histogram.startTimer}: observes the
 * seconds elapsed since the start and returns them.
 *
 * @typeParam L The histogram's label names; labels passed here complete
 * (or override) the ones given to `startTimer`, e.g. a status known only at
 * the end.
 *
 * @example
 * ```ts
 * import { type Clock, Histogram, type HistogramTimerEnd } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * let t = 0;
 * const clock: Clock = { now: () => t, monotonic: () => t };
 * const latency = new Histogram({
 *   name: "job_seconds", help: "Job time.", labelNames: ["outcome"] as const, registry: null, clock,
 * });
 * const end: HistogramTimerEnd<"outcome"> = latency.startTimer();
 * t = 120;
 * assert.equal(end({ outcome: "ok" }), 0.12);
 * ```
 */
export type HistogramTimerEnd<L extends string> = (
  labels?: Partial<LabelValues<L>>,
) => number;

/**
 * A histogram bound to one label set by {@linkcode Histogram.labels}:
 * observes without a label lookup. It stays valid after `remove` or `reset`,
 * and then starts the series again on its next observation.
 *
 * @example
 * ```ts
 * import { Histogram } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const sizes = new Histogram({
 *   name: "payload_bytes", help: "Sizes.", labelNames: ["route"], buckets: [100, 1000], registry: null,
 * });
 * const upload = sizes.labels("/upload");
 * upload.observe(50);
 * upload.observe(5000);
 * const point = (await sizes.collect()).points[0];
 * assert.deepEqual(point?.counts, [1, 0, 1]);
 * assert.equal(point?.sum, 5050);
 * ```
 */
export interface HistogramChild {
  /**
   * Records one observation in its bucket, the sum and the count.
   *
   * @param value The observed value; NaN and ±Infinity are ignored with one
   * warning (a native histogram counts them in `count` and `sum`, in no native bucket).
   * @param exemplar Labels of an exemplar to keep as the bucket's latest,
   * e.g. `{ trace_id, span_id }`; over 128 code points it is dropped with one warning.
   * @throws {TypeError} When `value` is not a number.
   */
  observe(value: number, exemplar?: Labels): void;
  /**
   * Starts a timer on the clock's monotonic time.
   *
   * @returns A function that observes the elapsed seconds and returns them.
   */
  startTimer(): () => number;
}

/**
 * A histogram: counts observations (latencies, sizes) into buckets, with
 * their sum and count, so quantiles can be estimated across a whole fleet.
 *
 * A value equal to a bound is counted in that bound's bucket (`le` means
 * "less than or equal"); values above the last bound go to the implicit
 * `+Inf` bucket. The snapshot keeps per-bucket counts (not cumulative) and
 * the encoders make them cumulative. NaN and ±Infinity observations are
 * ignored with one warning, since they would poison the sum for good;
 * negative values are recorded. The label `le` is reserved.
 *
 * With `native`, the histogram also keeps native (exponential) buckets,
 * chosen automatically at a resolution that adapts to the data: one series
 * for the whole distribution, with no bounds to guess (see
 * {@linkcode NativeHistogramOptions}). Prometheus reads them from the
 * protobuf exposition, OTLP as an `ExponentialHistogram`. There, NaN and
 * ±Infinity follow the Prometheus native-histogram rule: counted in `count`
 * and `sum`, in no native bucket.
 *
 * @typeParam L The label names (declare them `as const` to type label objects).
 *
 * @example Time requests around a 300 ms objective
 * ```ts
 * import { Histogram, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const latency = new Histogram({
 *   name: "http_request_duration_seconds",
 *   help: "Request latency.",
 *   labelNames: ["route"] as const,
 *   buckets: [0.1, 0.3, 1],
 *   registry,
 * });
 * latency.observe({ route: "/orders/{id}" }, 0.25);
 * latency.labels("/orders/{id}").observe(0.3);
 * latency.observe({ route: "/orders/{id}" }, 2, { trace_id: "4bf92f3577b34da6" });
 * const [family] = await registry.collect();
 * assert.deepEqual(family?.type === "histogram" && family.points[0]?.counts, [0, 2, 0, 1]);
 * ```
 *
 * @example A native histogram: buckets chosen for you
 * ```ts
 * import { Histogram } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const latency = new Histogram({
 *   name: "rpc_duration_seconds", help: "RPC latency.", native: true, registry: null,
 * });
 * latency.observe(0.25);
 * latency.observe(0.3);
 * const native = (await latency.collect()).points[0]?.native;
 * assert.equal(native?.schema, 8); // 256 buckets per power of two
 * assert.equal(native?.positive.counts.reduce((a, b) => a + b), 2);
 * ```
 */
export class Histogram<L extends string = never>
  extends Metric<L, HistogramChild, HistogramFamily> {
  /** The finite bucket bounds, strictly increasing; `+Inf` is implicit. */
  readonly bounds: readonly number[];
  #state: HistogramState;

  /**
   * Declares a histogram and registers it (with the default registry unless
   * `registry` says otherwise).
   *
   * @param options Name, help, label names, buckets, limits and an optional `collect` hook.
   * @throws {TypeError} When a name or label name is invalid or reserved
   * (`le`), a bucket is not a number, `native` is not a boolean or an
   * object, or `collect` is not a function.
   * @throws {RangeError} When the buckets are empty, not finite, unsorted,
   * repeated or more than 1,000, the name is longer than 255 characters,
   * `maxSeries` is not a whole number of at least 1 or `Infinity`, or a
   * native option is out of range (a scale outside -4..20, fewer than 1
   * bucket, a negative zero threshold).
   * @throws {DuplicateMetricError} When the registry already has this name.
   */
  constructor(options: HistogramOptions<L>) {
    const resolved = resolveOptions(options, ["le"], undefined, "histogram");
    const native = checkNative(options.name, options.native);
    // A view's buckets replace the declared ones.
    const buckets = resolved.view?.buckets ?? options.buckets;
    // Native only: no finite bound, the `+Inf` bucket counts everything.
    const bounds = native !== undefined && buckets === undefined
      ? NO_BOUNDS
      : checkBuckets(options.name, buckets);
    const state = new HistogramState(
      resolved,
      bounds,
      native && new NativeLayout(native),
    );
    super(resolved, options.collect, state);
    this.bounds = bounds;
    this.#state = state;
    joinRegistries(resolved, this);
  }

  /**
   * Observes a value on the unlabeled series, optionally keeping an
   * exemplar as the latest of the value's bucket: `observe(0.2)`,
   * `observe(0.2, { trace_id, span_id })`.
   *
   * @param value The observed value; NaN and ±Infinity are ignored with one
   * warning (a native histogram counts them in `count` and `sum`, in no native bucket).
   * @param exemplar Labels of an exemplar, e.g. `{ trace_id, span_id }`; over
   * 128 code points it is dropped with one warning.
   * @throws {TypeError} When the histogram has labels, or the value is not a number.
   */
  observe(value: number, exemplar?: Labels): void;
  /**
   * Observes a value on the series of a label set, optionally keeping an
   * exemplar as the latest of the value's bucket.
   *
   * @param labels One value per declared label (`{}` on an unlabeled histogram).
   * Labels are checked when a series is created; later calls look up only
   * the declared names, so an undeclared extra key on the label set of an
   * existing series is ignored, not rejected.
   * @param value The observed value; NaN and ±Infinity are ignored with one
   * warning (a native histogram counts them in `count` and `sum`, in no native bucket).
   * @param exemplar Labels of an exemplar, e.g. `{ trace_id, span_id }`; over
   * 128 code points it is dropped with one warning.
   * @throws {TypeError} When labels are missing, undeclared or of the wrong
   * type (checked when the series is created), or the value is not a number.
   */
  observe(labels: LabelValues<L>, value: number, exemplar?: Labels): void;
  observe(
    labelsOrValue: LabelValues<L> | number,
    valueOrExemplar?: number | Labels,
    exemplar?: Labels,
  ): void {
    const state = this.#state;
    if (typeof labelsOrValue === "object" && labelsOrValue !== null) {
      const value = valueOrExemplar as number;
      if (typeof value !== "number" || value - value !== 0) {
        if (state.native !== undefined && typeof value === "number") {
          state.nonFinite(state.table.indexOf(labelsOrValue), value);
        } else state.skip(value, labelsOrValue);
        return;
      }
      state.record(state.table.indexOf(labelsOrValue), value, exemplar);
    } else {
      state.observe(
        state.table.indexOf(undefined),
        labelsOrValue,
        valueOrExemplar as Labels | undefined,
      );
    }
  }

  /**
   * Starts a timer on the clock's monotonic time. The returned function
   * observes the elapsed seconds and returns them; labels given to it
   * complete (or override) the ones given here.
   *
   * @param labels The series' labels, or some of them; omit on an unlabeled histogram.
   * @returns The function that ends the timer.
   * @throws {TypeError} From the end function, when the labels are then
   * incomplete, undeclared or of the wrong type.
   */
  startTimer(labels?: Partial<LabelValues<L>>): HistogramTimerEnd<L> {
    const state = this.#state;
    return labeledTimer(
      state,
      labels,
      (index, seconds) => state.observe(index, seconds, undefined),
    );
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
   * import { Histogram, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const latency = new Histogram({
   *   name: "job_seconds",
   *   help: "Job time.",
   *   labelNames: ["job"] as const,
   *   buckets: [0.1, 1],
   *   registry: new Registry(),
   * });
   * const sum = latency.time({ job: "sum" }, () => 1 + 2);
   * const fetched = await latency.time({ job: "load" }, () => Promise.resolve("rows"));
   * assert.throws(() => latency.time({ job: "fail" }, () => { throw new Error("no"); }));
   * assert.deepEqual([sum, fetched], [3, "rows"]);
   * const counts = (await latency.collect()).points.map((p) => [p.labels.job, p.count]);
   * assert.deepEqual(counts, [["sum", 1], ["load", 1], ["fail", 1]]);
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

const NO_BOUNDS: readonly number[] = Object.freeze([]);

/**
 * The most finite bounds a histogram may declare: a series keeps one
 * 8-byte count per bucket, so 1,000 bounds already cost 8 KB per series
 * (16 MB at the default 2,000 series).
 */
const MAX_BUCKETS = 1000;

/** Checks bucket bounds; returns them frozen, a trailing `+Inf` dropped. */
function checkBuckets(
  metric: string,
  buckets: readonly number[] | undefined,
): readonly number[] {
  if (buckets === undefined) return DEFAULT_BUCKETS;
  const what = `Cannot declare metric "${metric}"`;
  if (!Array.isArray(buckets)) {
    throw new TypeError(
      `${what}: buckets must be an array of numbers, got ${describe(buckets)}`,
    );
  }
  const bounds = buckets.at(-1) === Infinity ? buckets.slice(0, -1) : buckets;
  if (bounds.length > MAX_BUCKETS) {
    throw new RangeError(
      `${what}: buckets must hold at most ${MAX_BUCKETS} bounds (each series keeps a count per bucket), got ${bounds.length}`,
    );
  }
  if (bounds.length === 0) {
    // `buckets` is `[]` or `[Infinity]` here.
    throw new RangeError(
      `${what}: buckets must hold at least one finite bound (+Inf is implicit), got [${
        buckets.join(", ")
      }]`,
    );
  }
  for (let i = 0; i < bounds.length; i++) {
    const bound: unknown = bounds[i];
    if (typeof bound !== "number") {
      throw new TypeError(
        `${what}: buckets must be numbers, got ${
          describe(bound)
        } at position ${i}`,
      );
    }
    if (!Number.isFinite(bound)) {
      throw new RangeError(
        `${what}: buckets must be finite (+Inf is implicit), got ${bound} at position ${i}`,
      );
    }
    if (i === 0) continue;
    const previous = bounds[i - 1]!;
    if (bound === previous) {
      throw new RangeError(
        `${what}: buckets must not repeat a bound, got ${bound} twice`,
      );
    }
    if (bound < previous) {
      throw new RangeError(
        `${what}: buckets must be sorted in increasing order, got ${bound} after ${previous}`,
      );
    }
  }
  return Object.freeze([...bounds]);
}
