/**
 * Gauge: a value that goes up and down.
 *
 * @module
 */

import type {
  GaugeAggregation,
  GaugeFamily,
  GaugePoint,
  LabelValue,
  LabelValues,
} from "../model.ts";
import {
  type CollectHook,
  joinRegistries,
  type MetricOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.ts";
import { SeriesCursor } from "./_series.ts";
import {
  checkAggregation,
  InstrumentState,
  labeledTimer,
  timer,
} from "./_instrument.ts";
import { Metric } from "./metric.ts";
import { timeArguments, timeCall } from "./_time.ts";

/**
 * Options of a {@linkcode Gauge}: the options every metric takes, how values
 * from several workers combine, and an optional `collect` hook.
 *
 * @example A gauge read from its source at every scrape
 * ```ts
 * import { Gauge, type GaugeOptions, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const queue: string[] = ["a", "b"];
 * const options: GaugeOptions<never> = {
 *   name: "queue_depth",
 *   help: "Jobs waiting.",
 *   aggregation: "max",
 *   registry: new Registry(),
 *   collect(gauge) {
 *     gauge.set(queue.length);
 *   },
 * };
 * const depth = new Gauge(options);
 * assert.deepEqual((await depth.collect()).points, [{ labels: {}, value: 2 }]);
 * ```
 */
export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /**
   * How values of this gauge from several workers combine into one when
   * snapshots are merged: `sum` (the default), `max`, `min`, or `all` (kept
   * apart with a worker label).
   */
  aggregation?: GaugeAggregation;
  /**
   * Called with the gauge (also as `this`) before each collection, sync or
   * async, e.g. to `set` it from a source read at scrape time. If it throws
   * or rejects, the registry reports it and leaves this gauge out of that
   * collection.
   */
  collect?: CollectHook<Gauge<L>>;
}

/**
 * Ends a timer started by `startTimer`: sets the gauge to the seconds
 * elapsed since the start and returns them.
 *
 * @typeParam L The gauge's label names; extra labels passed here complete
 * the ones given to `startTimer`.
 *
 * @example
 * ```ts
 * import { type Clock, Gauge, type GaugeTimerEnd } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * let t = 0;
 * const clock: Clock = { now: () => t, monotonic: () => t };
 * const gauge = new Gauge({ name: "last_run_seconds", help: "Last run.", registry: null, clock });
 * const end: GaugeTimerEnd<never> = gauge.startTimer();
 * t = 1_500;
 * assert.equal(end(), 1.5);
 * ```
 */
export type GaugeTimerEnd<L extends string> = (
  labels?: Partial<LabelValues<L>>,
) => number;

/** What the gauge and its bound children share. */
class GaugeState extends InstrumentState {
  readonly aggregation: GaugeAggregation;

  constructor(resolved: ResolvedOptions, aggregation: GaugeAggregation) {
    super(resolved, "gauge", 1);
    this.aggregation = aggregation;
  }

  // Each record checks its value before the label lookup (the callers
  // below), so a record that throws never creates its series.

  /**
   * Judges an amount that is not a finite number: throws for a non-number,
   * returns false (skip it, warned once) for NaN and ±Infinity.
   */
  accept(
    action: "increment" | "decrement",
    value: unknown,
    labels?: unknown,
  ): boolean {
    if (typeof value !== "number") this.reject(action, "amount", value, labels);
    this.ignoreNonFinite(action, value);
    return false;
  }

  add(index: number, value: number): void {
    this.table.data[index]! += value;
  }

  sub(index: number, value: number): void {
    this.table.data[index]! -= value;
  }

  set(index: number, value: number): void {
    this.table.data[index] = value;
  }

  child(values: readonly LabelValue[], index: number): GaugeChild {
    return new BoundGauge(this, values, index);
  }

  snapshot(): GaugeFamily {
    const table = this.table;
    const order = table.order();
    const { labels, data } = table;
    const points: GaugePoint[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const index = order[i]!;
      points[i] = { labels: labels[index]!, value: data[index]! };
    }
    return {
      type: "gauge",
      ...this.header,
      aggregation: this.aggregation,
      points,
    };
  }
}

/**
 * A gauge bound to one label set by {@linkcode Gauge.labels}: records
 * without a label lookup. It stays valid after `remove` or `reset`, and then
 * starts the series again on its next record.
 *
 * @example
 * ```ts
 * import { Gauge } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const inFlight = new Gauge({ name: "in_flight", help: "Requests in flight.", labelNames: ["route"], registry: null });
 * const home = inFlight.labels("/");
 * home.inc();
 * home.inc();
 * home.dec();
 * assert.deepEqual((await inFlight.collect()).points, [{ labels: { route: "/" }, value: 1 }]);
 * ```
 */
export interface GaugeChild {
  /**
   * Adds to the series' value.
   *
   * @param value How much to add (default 1); NaN and ±Infinity are ignored with one warning.
   * @throws {TypeError} When `value` is not a number.
   */
  inc(value?: number): void;
  /**
   * Subtracts from the series' value.
   *
   * @param value How much to subtract (default 1).
   * @throws {TypeError} When `value` is not a number.
   */
  dec(value?: number): void;
  /**
   * Sets the series' value.
   *
   * @param value The new value; NaN and ±Infinity are recorded as they are.
   * @throws {TypeError} When `value` is not a number.
   */
  set(value: number): void;
  /** Sets the series' value to the clock's current time in seconds since the epoch. */
  setToCurrentTime(): void;
  /**
   * Starts a timer on the clock's monotonic time.
   *
   * @returns A function that sets the series to the elapsed seconds and returns them.
   */
  startTimer(): () => number;
}

class BoundGauge extends SeriesCursor<GaugeState> implements GaugeChild {
  inc(value = 1): void {
    // `value - value` is 0 for a finite number only.
    if (typeof value !== "number" || value - value !== 0) {
      if (!this.state().accept("increment", value)) return;
    }
    this.data()[this.base()]! += value;
  }

  dec(value = 1): void {
    if (typeof value !== "number" || value - value !== 0) {
      if (!this.state().accept("decrement", value)) return;
    }
    this.data()[this.base()]! -= value;
  }

  set(value: number): void {
    if (typeof value !== "number") this.state().reject("set", "value", value);
    this.data()[this.base()] = value;
  }

  setToCurrentTime(): void {
    this.set(this.state().clock.now() / 1000);
  }

  startTimer(): () => number {
    return timer(this.state().clock, (seconds) => this.set(seconds));
  }
}

/**
 * A gauge: a value that goes up and down, such as requests in flight, queue
 * depth or temperature. Series are created on first use; an unlabeled gauge
 * starts at 0. NaN and ±Infinity are runtime data: `set()` records them and
 * the formats spell them (`NaN`, `+Inf`, `-Inf`) until the next `set()`;
 * `inc()` and `dec()` ignore them with one warning, since a running value
 * they reached would never come back.
 *
 * A label object is checked against the declared names when its series is
 * created; recording to an existing series costs one `Map.get` per label.
 *
 * @typeParam L The label names (declare them `as const` to type label objects).
 *
 * @example Track requests in flight per route
 * ```ts
 * import { Gauge, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const inFlight = new Gauge({
 *   name: "http_requests_in_flight",
 *   help: "Requests being served.",
 *   labelNames: ["route"] as const,
 *   registry,
 * });
 * inFlight.inc({ route: "/orders/{id}" });
 * inFlight.inc({ route: "/orders/{id}" }, 2);
 * inFlight.dec({ route: "/orders/{id}" });
 * inFlight.set({ route: "/health" }, 0);
 * assert.equal(
 *   await registry.metrics(),
 *   "# HELP http_requests_in_flight Requests being served.\n" +
 *     "# TYPE http_requests_in_flight gauge\n" +
 *     'http_requests_in_flight{route="/orders/{id}"} 2\n' +
 *     'http_requests_in_flight{route="/health"} 0\n',
 * );
 * ```
 */
export class Gauge<L extends string = never>
  extends Metric<L, GaugeChild, GaugeFamily> {
  /** How values from several workers combine. */
  readonly aggregation: GaugeAggregation;
  #state: GaugeState;

  /**
   * Declares a gauge and registers it (with the default registry unless
   * `registry` says otherwise).
   *
   * @param options Name, help, label names, limits, aggregation and an optional `collect` hook.
   * @throws {TypeError} When a name or label name is invalid or reserved, `aggregation` is unknown, or `collect` is not a function.
   * @throws {RangeError} When `maxSeries` is not a whole number of at least 1 or `Infinity`.
   * @throws {DuplicateMetricError} When the registry already has this name.
   */
  constructor(options: GaugeOptions<L>) {
    const resolved = resolveOptions(options, [], undefined, "gauge");
    const aggregation = checkAggregation(options.name, options.aggregation);
    const state = new GaugeState(resolved, aggregation);
    super(resolved, options.collect, state);
    this.aggregation = aggregation;
    this.#state = state;
    joinRegistries(resolved, this);
  }

  /**
   * Adds to the unlabeled series.
   *
   * @param value How much to add (default 1).
   * @throws {TypeError} When the gauge has labels, or the amount is not a number.
   */
  inc(value?: number): void;
  /**
   * Adds to the series of a label set.
   *
   * @param labels One value per declared label.
   * Labels are checked when a series is created; later calls look up only
   * the declared names, so an undeclared extra key on the label set of an
   * existing series is ignored, not rejected.
   * @param value How much to add (default 1).
   * @throws {TypeError} When labels are missing, undeclared or of the wrong type
   * (checked when the series is created), or the amount is not a number.
   */
  inc(labels: LabelValues<L>, value?: number): void;
  inc(labelsOrValue?: LabelValues<L> | number, value = 1): void {
    const state = this.#state;
    if (typeof labelsOrValue === "object" && labelsOrValue !== null) {
      if (typeof value !== "number" || value - value !== 0) {
        if (!state.accept("increment", value, labelsOrValue)) return;
      }
      state.add(state.table.indexOf(labelsOrValue), value);
    } else {
      const amount = labelsOrValue === undefined ? 1 : labelsOrValue;
      if (typeof amount !== "number" || amount - amount !== 0) {
        if (!state.accept("increment", amount)) return;
      }
      state.add(state.table.indexOf(undefined), amount);
    }
  }

  /**
   * Subtracts from the unlabeled series.
   *
   * @param value How much to subtract (default 1).
   * @throws {TypeError} When the gauge has labels, or the amount is not a number.
   */
  dec(value?: number): void;
  /**
   * Subtracts from the series of a label set.
   *
   * @param labels One value per declared label.
   * Labels are checked when a series is created; later calls look up only
   * the declared names, so an undeclared extra key on the label set of an
   * existing series is ignored, not rejected.
   * @param value How much to subtract (default 1).
   * @throws {TypeError} When labels are missing, undeclared or of the wrong type
   * (checked when the series is created), or the amount is not a number.
   */
  dec(labels: LabelValues<L>, value?: number): void;
  dec(labelsOrValue?: LabelValues<L> | number, value = 1): void {
    const state = this.#state;
    if (typeof labelsOrValue === "object" && labelsOrValue !== null) {
      if (typeof value !== "number" || value - value !== 0) {
        if (!state.accept("decrement", value, labelsOrValue)) return;
      }
      state.sub(state.table.indexOf(labelsOrValue), value);
    } else {
      const amount = labelsOrValue === undefined ? 1 : labelsOrValue;
      if (typeof amount !== "number" || amount - amount !== 0) {
        if (!state.accept("decrement", amount)) return;
      }
      state.sub(state.table.indexOf(undefined), amount);
    }
  }

  /**
   * Sets the unlabeled series.
   *
   * @param value The new value; NaN and ±Infinity are recorded as they are.
   * @throws {TypeError} When the gauge has labels, or the value is not a number.
   */
  set(value: number): void;
  /**
   * Sets the series of a label set.
   *
   * @param labels One value per declared label.
   * Labels are checked when a series is created; later calls look up only
   * the declared names, so an undeclared extra key on the label set of an
   * existing series is ignored, not rejected.
   * @param value The new value; NaN and ±Infinity are recorded as they are.
   * @throws {TypeError} When labels are missing, undeclared or of the wrong type
   * (checked when the series is created), or the value is not a number.
   */
  set(labels: LabelValues<L>, value: number): void;
  set(labelsOrValue: LabelValues<L> | number, value?: number): void {
    const state = this.#state;
    if (typeof labelsOrValue === "object" && labelsOrValue !== null) {
      if (typeof value !== "number") {
        state.reject("set", "value", value, labelsOrValue);
      }
      state.set(state.table.indexOf(labelsOrValue), value as number);
    } else {
      if (typeof labelsOrValue !== "number") {
        state.reject("set", "value", labelsOrValue);
      }
      state.set(state.table.indexOf(undefined), labelsOrValue);
    }
  }

  /**
   * Sets a series to the clock's current time in seconds since the epoch,
   * e.g. for "last success" timestamps.
   *
   * @param labels The series' label set; omit on an unlabeled gauge.
   * Labels are checked when a series is created; later calls look up only
   * the declared names, so an undeclared extra key on the label set of an
   * existing series is ignored, not rejected.
   * @throws {TypeError} When labels are missing, undeclared or of the wrong
   * type (checked when the series is created).
   */
  setToCurrentTime(labels?: LabelValues<L>): void {
    const state = this.#state;
    state.set(state.table.indexOf(labels), state.clock.now() / 1000);
  }

  /**
   * Starts a timer on the clock's monotonic time. The returned function sets
   * the series to the elapsed seconds and returns them; labels given to it
   * complete (or override) the ones given here.
   *
   * @param labels The series' labels, or some of them; omit on an unlabeled gauge.
   * @returns The function that ends the timer.
   * @throws {TypeError} From the end function, when the labels are then
   * incomplete, undeclared or of the wrong type.
   */
  startTimer(labels?: Partial<LabelValues<L>>): GaugeTimerEnd<L> {
    const state = this.#state;
    return labeledTimer(state, labels, (index, s) => state.set(index, s));
  }
  /**
   * Times a function: sets it to the seconds it took (the clock's monotonic
   * time) when it returns or throws, or, when it returns a promise, when
   * that settles. Returns what it returned and rethrows what it threw.
   *
   * @param fn The function to time, sync or async.
   * @returns What `fn` returned (its promise, for an async function).
   * @throws {TypeError} When the metric has labels (they are required).
   *
   * @example
   * ```ts
   * import { Gauge, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const last = new Gauge({ name: "last_run_seconds", help: "Last run time.", registry: new Registry() });
   * assert.equal(last.time(() => "done"), "done");
   * const value = (await last.collect()).points[0]?.value ?? -1;
   * assert.ok(value >= 0 && value < 1);
   * ```
   */
  time<T>(fn: () => T): T;
  /**
   * Times a function into one series: sets it to the seconds it took when it
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
