/**
 * Observable instruments: values read by a callback at collection time,
 * for things you can look up but not count as they happen (open
 * connections, bytes a runtime reports, totals kept by another library).
 *
 * @module
 */

import type {
  CounterFamily,
  GaugeAggregation,
  GaugeFamily,
  LabelValues,
} from "../model.ts";
import { declareName } from "../_declared.ts";
import {
  joinRegistries,
  type MetricOptions,
  resolveOptions,
} from "./options.ts";
import { checkAggregation, counterFamilyName } from "./_instrument.ts";
import { Observations } from "./_observations.ts";

/**
 * What an observe callback records into: one absolute value per label set,
 * for this collection only. Observing the same label set twice keeps the
 * last value.
 *
 * @typeParam L The instrument's label names.
 *
 * @example
 * ```ts
 * import { ObservableGauge, type ObservableResult, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const pools = { db: 4, cache: 2 };
 * const gauge = new ObservableGauge({
 *   name: "pool_connections",
 *   help: "Open connections per pool.",
 *   labelNames: ["pool"] as const,
 *   registry: new Registry(),
 *   observe(result: ObservableResult<"pool">) {
 *     for (const [pool, open] of Object.entries(pools)) result.observe(open, { pool });
 *   },
 * });
 * assert.deepEqual((await gauge.collect()).points, [
 *   { labels: { pool: "db" }, value: 4 },
 *   { labels: { pool: "cache" }, value: 2 },
 * ]);
 * ```
 */
export interface ObservableResult<L extends string> {
  /**
   * Records the current value of one series.
   *
   * @param value The absolute value (a counter's total, a gauge's level).
   * @param labels One value per declared label; omit on an unlabeled instrument.
   * Labels are checked when a series is created; later calls look up only
   * the declared names, so an undeclared extra key on the label set of an
   * existing series is ignored, not rejected.
   * @throws {TypeError} When `value` is not a number, or the labels are
   * missing, undeclared or of the wrong type (checked when the series is created).
   */
  observe(value: number, labels?: LabelValues<L>): void;
}

/**
 * The callback of an observable instrument: called at every collection,
 * sync or async, with a fresh {@linkcode ObservableResult}. If it throws or
 * rejects, or takes longer than the registry's `collectTimeoutMs`, the
 * registry reports it to `onError` and serves the other metrics.
 *
 * @typeParam L The instrument's label names.
 *
 * @example
 * ```ts
 * import type { ObserveCallback } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const seen: number[] = [];
 * const callback: ObserveCallback<never> = (result) => result.observe(1);
 * callback({ observe: (value) => seen.push(value) });
 * assert.deepEqual(seen, [1]);
 * ```
 */
export type ObserveCallback<L extends string> = (
  result: ObservableResult<L>,
) => void | Promise<void>;

/**
 * Options of an {@linkcode ObservableCounter}: the options every metric
 * takes, plus the `observe` callback.
 *
 * @example
 * ```ts
 * import { ObservableCounter, type ObservableCounterOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: ObservableCounterOptions<never> = {
 *   name: "gc_runs_total",
 *   help: "Garbage collections.",
 *   registry: null,
 *   observe: (result) => result.observe(12),
 * };
 * assert.equal(new ObservableCounter(options).name, "gc_runs");
 * ```
 */
export interface ObservableCounterOptions<L extends string>
  extends MetricOptions<L> {
  /** Reports each series' total since its start; called at every collection. */
  observe: ObserveCallback<L>;
  /**
   * Milliseconds a collection's values are served again before `observe`
   * runs anew (default 0: every collection). Past the window the last
   * values are served while a new call runs, so a slow source never holds
   * up a scrape once it answered once. One call runs at a time. A call
   * that fails, or still runs past the window (and at least 5 s), is
   * reported at the next collection, which then leaves the metric out; the
   * collection after calls `observe` anew.
   */
  cacheMs?: number;
}

/**
 * Options of an {@linkcode ObservableGauge}: the options every metric
 * takes, the `observe` callback and how values from several workers combine.
 *
 * @example
 * ```ts
 * import { ObservableGauge, type ObservableGaugeOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: ObservableGaugeOptions<never> = {
 *   name: "config_version",
 *   help: "Loaded configuration version.",
 *   aggregation: "max",
 *   registry: null,
 *   observe: (result) => result.observe(7),
 * };
 * assert.equal(new ObservableGauge(options).aggregation, "max");
 * ```
 */
export interface ObservableGaugeOptions<L extends string>
  extends MetricOptions<L> {
  /** Reports each series' current value; called at every collection. */
  observe: ObserveCallback<L>;
  /**
   * Milliseconds a collection's values are served again before `observe`
   * runs anew (default 0: every collection). Past the window the last
   * values are served while a new call runs, so a slow source never holds
   * up a scrape once it answered once. One call runs at a time. A call
   * that fails, or still runs past the window (and at least 5 s), is
   * reported at the next collection, which then leaves the metric out; the
   * collection after calls `observe` anew.
   */
  cacheMs?: number;
  /** How values from several workers combine: `sum` (default), `max`, `min` or `all`. */
  aggregation?: GaugeAggregation;
}

/**
 * A counter whose totals are read by a callback at collection time, e.g.
 * from a library or the runtime that keeps its own count. The callback
 * reports absolute totals; a series it stops reporting disappears from the
 * output, and starts again (with a new `created`) when reported again.
 * A negative or NaN total is runtime data: it is left out with one warning.
 *
 * @typeParam L The label names (declare them `as const` to type label objects).
 *
 * @example Expose a total another module keeps
 * ```ts
 * import { ObservableCounter, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const stats = { hits: 10, misses: 3 };
 * const registry = new Registry();
 * new ObservableCounter({
 *   name: "cache_lookups_total",
 *   help: "Cache lookups by outcome.",
 *   labelNames: ["outcome"] as const,
 *   registry,
 *   observe(result) {
 *     result.observe(stats.hits, { outcome: "hit" });
 *     result.observe(stats.misses, { outcome: "miss" });
 *   },
 * });
 * assert.match(await registry.metrics(), /^cache_lookups_total\{outcome="hit"\} 10$/m);
 * ```
 */
export class ObservableCounter<L extends string = never> {
  /** The family name, without `_total`. */
  readonly name: string;
  /** What it measures. */
  readonly help: string;
  /** The unit, when declared. */
  readonly unit: string | undefined;
  /** The label names. */
  readonly labelNames: readonly L[];
  /** The kind of family it collects. */
  readonly type: "counter" = "counter";
  #observations: Observations<CounterFamily>;

  /**
   * Declares an observable counter and registers it (with the default
   * registry unless `registry` says otherwise).
   *
   * @param options Name, help, label names, limits and the `observe` callback.
   * @throws {TypeError} When a name or label name is invalid or reserved, the
   * name is `_total` alone (no family name left), or `observe` is not a function.
   * @throws {RangeError} When `maxSeries` is not a whole number of at least
   * 1 or `Infinity`, or `cacheMs` is negative or not finite.
   * @throws {DuplicateMetricError} When the registry already has this name.
   */
  constructor(options: ObservableCounterOptions<L>) {
    const resolved = resolveOptions(
      options,
      [],
      counterFamilyName,
      "observablecounter",
    );
    this.#observations = new Observations(
      resolved,
      "counter",
      options.observe as ObserveCallback<string>,
      options.cacheMs,
    );
    this.name = resolved.name;
    this.help = resolved.help;
    this.unit = resolved.unit;
    this.labelNames = resolved.labelNames as readonly L[];
    declareName(this, resolved.metric);
    joinRegistries(resolved, this);
  }

  /** Label sets folded into the overflow series because the series limit was reached. */
  get droppedLabelSets(): number {
    return this.#observations.table.droppedLabelSets;
  }

  /**
   * Runs the callback and returns what it observed as a snapshot family (a
   * promise when the callback returns one).
   *
   * @param signal Aborted when the caller stops waiting (the registry does
   * after `collectTimeoutMs`): the collection ends there, and what the
   * callback observes afterwards is ignored.
   * @returns The family; series the callback did not report are left out.
   * @throws {TypeError} When the callback records a non-number or bad labels
   * (the registry reports it and serves the other metrics).
   */
  collect(signal?: AbortSignal): CounterFamily | Promise<CounterFamily> {
    return this.#observations.collect(signal);
  }
}

/**
 * A gauge whose values are read by a callback at collection time, e.g.
 * queue depths, open connections or memory in use. NaN and ±Infinity are
 * recorded as they are.
 *
 * @typeParam L The label names (declare them `as const` to type label objects).
 *
 * @example Report memory at scrape time
 * ```ts
 * import { ObservableGauge, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * new ObservableGauge({
 *   name: "queue_depth",
 *   help: "Jobs waiting.",
 *   registry,
 *   async observe(result) {
 *     result.observe(await Promise.resolve(3));
 *   },
 * });
 * assert.equal(
 *   await registry.metrics(),
 *   "# HELP queue_depth Jobs waiting.\n# TYPE queue_depth gauge\nqueue_depth 3\n",
 * );
 * ```
 */
export class ObservableGauge<L extends string = never> {
  /** The family name. */
  readonly name: string;
  /** What it measures. */
  readonly help: string;
  /** The unit, when declared. */
  readonly unit: string | undefined;
  /** The label names. */
  readonly labelNames: readonly L[];
  /** How values from several workers combine. */
  readonly aggregation: GaugeAggregation;
  /** The kind of family it collects. */
  readonly type: "gauge" = "gauge";
  #observations: Observations<GaugeFamily>;

  /**
   * Declares an observable gauge and registers it (with the default
   * registry unless `registry` says otherwise).
   *
   * @param options Name, help, label names, limits, aggregation and the `observe` callback.
   * @throws {TypeError} When a name or label name is invalid or reserved,
   * `aggregation` is unknown, or `observe` is not a function.
   * @throws {RangeError} When `maxSeries` is not a whole number of at least
   * 1 or `Infinity`, or `cacheMs` is negative or not finite.
   * @throws {DuplicateMetricError} When the registry already has this name.
   */
  constructor(options: ObservableGaugeOptions<L>) {
    const resolved = resolveOptions(options, [], undefined, "observablegauge");
    const aggregation = checkAggregation(options.name, options.aggregation);
    this.#observations = new Observations(
      resolved,
      "gauge",
      options.observe as ObserveCallback<string>,
      options.cacheMs,
      aggregation,
    );
    this.name = resolved.name;
    this.help = resolved.help;
    this.unit = resolved.unit;
    this.labelNames = resolved.labelNames as readonly L[];
    this.aggregation = aggregation;
    joinRegistries(resolved, this);
  }

  /** Label sets folded into the overflow series because the series limit was reached. */
  get droppedLabelSets(): number {
    return this.#observations.table.droppedLabelSets;
  }

  /**
   * Runs the callback and returns what it observed as a snapshot family (a
   * promise when the callback returns one).
   *
   * @param signal Aborted when the caller stops waiting (the registry does
   * after `collectTimeoutMs`): the collection ends there, and what the
   * callback observes afterwards is ignored.
   * @returns The family; series the callback did not report are left out.
   * @throws {TypeError} When the callback records a non-number or bad labels
   * (the registry reports it and serves the other metrics).
   */
  collect(signal?: AbortSignal): GaugeFamily | Promise<GaugeFamily> {
    return this.#observations.collect(signal);
  }
}
