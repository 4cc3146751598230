/**
 * Counter: a total that only goes up.
 *
 * @module
 */

import type {
  CounterFamily,
  CounterPoint,
  Exemplar,
  Labels,
  LabelValue,
  LabelValues,
} from "../model.ts";
import type { Clock } from "../clock.ts";
import { warnOnce } from "../_warn.ts";
import { toExemplar } from "./_exemplar.ts";
import {
  checkCallback,
  type CollectHook,
  collectWithHook,
  type MetricOptions,
  resolveOptions,
} from "./options.ts";
import { ChildCache, SeriesCursor, type SeriesTable } from "./_series.ts";
import {
  counterFamilyName,
  headerOf,
  type Series,
  seriesOf,
} from "./_instrument.ts";

// Public from here: options.ts, where it is declared, is not re-exported whole.
export type { CollectHook };

/**
 * Options of a {@linkcode Counter}: the options every metric takes, plus an
 * optional `collect` hook.
 *
 * @example
 * ```ts
 * import { Counter, type CounterOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: CounterOptions<"status"> = {
 *   name: "jobs_total",
 *   help: "Jobs by outcome.",
 *   labelNames: ["status"],
 *   registry: null,
 * };
 * assert.equal(new Counter(options).name, "jobs");
 * ```
 */
export interface CounterOptions<L extends string> extends MetricOptions<L> {
  /**
   * Called with the counter (also as `this`) before each collection, sync or
   * async, e.g. to `inc` by what an external source counted since the last
   * scrape. If it throws or rejects, the registry reports it and leaves this
   * counter out of that collection.
   */
  collect?: CollectHook<Counter<L>>;
}

/** What the counter and its bound children share. */
class CounterState {
  readonly metric: string;
  readonly clock: Clock;
  readonly table: SeriesTable;
  /** The latest exemplar per series number. */
  readonly exemplars: Map<number, Exemplar>;

  constructor(
    metric: string,
    clock: Clock,
    table: SeriesTable,
    exemplars: Map<number, Exemplar>,
  ) {
    this.metric = metric;
    this.clock = clock;
    this.table = table;
    this.exemplars = exemplars;
  }

  /** Adds to series `index`, found by a label lookup just now. */
  add(index: number, value: number, exemplar: Labels | undefined): void {
    if (typeof value !== "number" || !(value >= 0)) {
      if (!this.accept(value)) return;
    }
    this.table.data[index]! += value;
    if (exemplar !== undefined) this.keep(index, value, exemplar);
  }

  /** Keeps an exemplar as the latest of series `index`. */
  keep(index: number, value: number, exemplar: Labels): void {
    const kept = toExemplar(this.metric, exemplar, value, this.clock.now());
    if (kept !== undefined) this.exemplars.set(index, kept);
  }

  /**
   * Judges an amount that is not a number of at least 0: throws for a
   * negative amount or a non-number, returns false (skip it) for NaN.
   */
  accept(value: unknown): boolean {
    if (typeof value !== "number") {
      throw new TypeError(
        `Cannot increment counter "${this.metric}": the amount must be a number, got ${
          JSON.stringify(value) ?? typeof value
        }`,
      );
    }
    if (value < 0) {
      throw new RangeError(
        `Cannot increment counter "${this.metric}": a counter only goes up, got ${value}`,
      );
    }
    // NaN is runtime data, not a programming error: keep the total usable.
    warnOnce(
      `nan:${this.metric}`,
      `ignored a NaN increment of counter "${this.metric}"`,
    );
    return false;
  }
}

/**
 * A counter bound to one label set by {@linkcode Counter.labels}: records
 * without a label lookup. It stays valid after `remove` or `reset`, and then
 * starts the series again on its next record.
 *
 * @example
 * ```ts
 * import { Counter } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const hits = new Counter({ name: "hits_total", help: "Hits.", labelNames: ["route"], registry: null });
 * const home = hits.labels("/");
 * home.inc();
 * home.inc(2);
 * assert.equal((await hits.collect()).points[0]?.value, 3);
 * ```
 */
export interface CounterChild {
  /**
   * Adds to the series' total.
   *
   * @param value How much to add (default 1); NaN is ignored with a warning.
   * @param exemplar Labels of an exemplar to keep with this record, e.g. `{ trace_id }`.
   * @throws {RangeError} When `value` is negative.
   * @throws {TypeError} When `value` is not a number.
   */
  inc(value?: number, exemplar?: Labels): void;
}

class BoundCounter extends SeriesCursor implements CounterChild {
  readonly #state: CounterState;

  constructor(
    state: CounterState,
    values: readonly LabelValue[],
    index: number,
  ) {
    super(state.table, values, index);
    this.#state = state;
  }

  inc(value = 1, exemplar?: Labels): void {
    if (typeof value !== "number" || !(value >= 0)) {
      if (!this.#state.accept(value)) return;
    }
    this.data()[this.base()]! += value;
    if (exemplar !== undefined) this.#state.keep(this.index(), value, exemplar);
  }
}

/**
 * The one series of an unlabeled counter. Its total is an object field, not
 * a slot of the table: V8 keeps a field in a register across a loop of
 * `inc()` calls, which it does not do for a typed-array slot (measured:
 * ~1 ns against ~8.5 ns per call). Every record of the unlabeled series
 * comes here, so the table's slot stays 0 and the total is read from here.
 */
class UnlabeledCounter implements CounterChild {
  readonly #state: CounterState;
  #total = 0;

  constructor(state: CounterState) {
    this.#state = state;
  }

  get total(): number {
    return this.#total;
  }

  inc(value = 1, exemplar?: Labels): void {
    if (typeof value !== "number" || !(value >= 0)) {
      if (!this.#state.accept(value)) return;
    }
    this.#total += value;
    if (exemplar !== undefined) this.#state.keep(0, value, exemplar);
  }

  reset(): void {
    this.#total = 0;
  }
}

/**
 * A counter: a total that only goes up, such as requests served or errors
 * raised. Series are created on first use; an unlabeled counter starts at 0.
 *
 * The snapshot names the family without `_total` and the encoders add it to
 * the samples, so `http_requests_total` and `http_requests` declare the same
 * metric and expose `http_requests_total` in every format.
 *
 * A label object is checked against the declared names when its series is
 * created (missing, undeclared or mistyped labels throw); recording to an
 * existing series costs one `Map.get` per label and checks nothing more.
 *
 * @typeParam L The label names (declare them `as const` to type label objects).
 *
 * @example Count requests by method, route and status
 * ```ts
 * import { Counter, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const requests = new Counter({
 *   name: "http_requests_total",
 *   help: "Total HTTP requests.",
 *   labelNames: ["method", "route", "status"] as const,
 *   registry,
 * });
 * requests.inc({ method: "GET", route: "/orders/{id}", status: "200" });
 * requests.labels("GET", "/orders/{id}", "200").inc(2);
 * const [family] = await registry.collect();
 * assert.deepEqual(family?.points.map((p) => [p.labels, "value" in p && p.value]), [
 *   [{ method: "GET", route: "/orders/{id}", status: "200" }, 3],
 * ]);
 * ```
 */
export class Counter<L extends string = never> {
  /** The family name, without `_total`. */
  readonly name: string;
  /** What it measures. */
  readonly help: string;
  /** The unit, when declared. */
  readonly unit: string | undefined;
  /** The label names, in positional order. */
  readonly labelNames: readonly L[];
  /** The kind of family it collects. */
  readonly type: "counter" = "counter";
  #state: CounterState;
  #series: Series;
  #children: ChildCache<CounterChild>;
  #hook: CollectHook<Counter<L>> | undefined;
  /** The one series of an unlabeled counter; undefined when it has labels. */
  #self: UnlabeledCounter | undefined;

  /**
   * Declares a counter and registers it (with the default registry unless
   * `registry` says otherwise).
   *
   * @param options Name, help, label names, limits and an optional `collect` hook.
   * @throws {TypeError} When a name or label name is invalid or reserved, the
   * name is `_total` alone (no family name left), or `collect` is not a function.
   * @throws {RangeError} When `maxSeries` is not a whole number of at least 1 or `Infinity`.
   * @throws {DuplicateMetricError} When the registry already has this name.
   */
  constructor(options: CounterOptions<L>) {
    const resolved = resolveOptions(options, [], counterFamilyName);
    checkCallback(options.name, "collect", options.collect, false);
    this.name = resolved.name;
    this.help = resolved.help;
    this.unit = resolved.unit;
    this.labelNames = resolved.labelNames as readonly L[];
    this.#hook = options.collect;
    const exemplars = new Map<number, Exemplar>();
    const series = seriesOf(options.name, resolved, 1, {
      init: (index) => exemplars.delete(index),
      forget: (index) => exemplars.delete(index),
      clear: () => {
        exemplars.clear();
        this.#self?.reset();
      },
    });
    const table = series.table;
    this.#series = series;
    const state = new CounterState(
      options.name,
      resolved.clock,
      table,
      exemplars,
    );
    this.#state = state;
    const self = resolved.labelNames.length === 0
      ? new UnlabeledCounter(state)
      : undefined;
    this.#self = self;
    this.#children = new ChildCache<CounterChild>(
      table,
      (values, index) => self ?? new BoundCounter(state, values, index),
    );
    resolved.registry?.register(this);
  }

  /** Records folded into the overflow series because the series limit was reached. */
  get droppedLabelSets(): number {
    return this.#series.table.droppedLabelSets;
  }

  /**
   * Adds to the unlabeled series: `inc()` adds 1, `inc(5)` adds 5, and
   * `inc(5, { trace_id })` keeps an exemplar with the record.
   *
   * @param value How much to add (default 1); NaN is ignored with a warning.
   * @param exemplar Labels of an exemplar, at most 128 code points in all
   * (longer ones are dropped with one warning).
   * @throws {RangeError} When the amount is negative.
   * @throws {TypeError} When the counter has labels, or the amount is not a number.
   */
  inc(value?: number, exemplar?: Labels): void;
  /**
   * Adds to the series of a label set: `inc(labels)`, `inc(labels, 5)`, or
   * `inc(labels, 5, { trace_id })` to keep an exemplar with the record.
   *
   * @param labels One value per declared label (`{}` on an unlabeled counter).
   * Labels are checked when a series is created; later calls look up only
   * the declared names, so an undeclared extra key on the label set of an
   * existing series is ignored, not rejected.
   * @param value How much to add (default 1); NaN is ignored with a warning.
   * @param exemplar Labels of an exemplar, at most 128 code points in all
   * (longer ones are dropped with one warning).
   * @throws {RangeError} When the amount is negative.
   * @throws {TypeError} When labels are missing, undeclared or of the wrong
   * type (checked when the series is created), or the amount is not a number.
   */
  inc(labels: LabelValues<L>, value?: number, exemplar?: Labels): void;
  inc(
    labelsOrValue?: LabelValues<L> | number,
    valueOrExemplar?: number | Labels,
    exemplar?: Labels,
  ): void {
    if (typeof labelsOrValue === "object" && labelsOrValue !== null) {
      const state = this.#state;
      const index = state.table.indexOf(labelsOrValue);
      const value = valueOrExemplar === undefined
        ? 1
        : valueOrExemplar as number;
      if (this.#self === undefined) state.add(index, value, exemplar);
      else this.#self.inc(value, exemplar);
    } else if (this.#self !== undefined) {
      this.#self.inc(labelsOrValue, valueOrExemplar as Labels | undefined);
    } else {
      this.#state.table.indexOf(undefined); // throws: labels are required
    }
  }

  /**
   * Returns the child bound to one label set, given as values in
   * `labelNames` order; cached, so the same values give the same child.
   * Past the series limit a new label set gets a new child on each call,
   * bound to its own values: it records into the overflow series while the
   * metric is full and into its own series once a removal or reset made room.
   *
   * @param values One value per declared label, in declaration order.
   * @returns The bound child.
   * @throws {TypeError} When the number or type of values is wrong.
   */
  labels(...values: LabelValue[]): CounterChild;
  /**
   * Returns the child bound to one label set, given as an object; cached,
   * so the same label set gives the same child (past the series limit, a
   * new child each call, as for the positional form).
   *
   * @param labels One value per declared label.
   * @returns The bound child.
   * @throws {TypeError} When a label is missing, undeclared or of the wrong type.
   */
  labels(labels: LabelValues<L>): CounterChild;
  labels(...args: unknown[]): CounterChild {
    return this.#children.get(args);
  }

  /**
   * Forgets one series; bound children of it stay valid and start it again
   * (from 0, with a new `created`) on their next record.
   *
   * @param labels The series' label set.
   * @throws {TypeError} When the label set does not match the declared labels.
   */
  remove(labels: LabelValues<L>): void;
  /**
   * Forgets one series given by its label values in `labelNames` order,
   * like `labels(...values)`; bound children of it stay valid.
   *
   * @param values One value per declared label, in declaration order.
   * @throws {TypeError} When the number or type of values is wrong.
   */
  remove(...values: LabelValue[]): void;
  remove(...args: unknown[]): void {
    this.#series.remove(args);
  }

  /**
   * Forgets every series (an unlabeled counter restarts at 0); bound
   * children stay valid.
   */
  reset(): void {
    this.#series.reset();
  }

  /**
   * Returns the counter's current state as a snapshot family, after running
   * the `collect` hook (a promise when the hook returns one).
   *
   * @returns The family; points in series creation order.
   */
  collect(): CounterFamily | Promise<CounterFamily> {
    return collectWithHook(this, this.#hook, () => this.#snapshot());
  }

  #snapshot(): CounterFamily {
    const { table, exemplars } = this.#state;
    const order = table.order();
    const { labels, data, created } = table;
    const self = this.#self;
    const points: CounterPoint[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const index = order[i]!;
      const value = self === undefined ? data[index]! : self.total;
      const exemplar = exemplars.size === 0 ? undefined : exemplars.get(index);
      points[i] = exemplar === undefined
        ? { labels: labels[index]!, value, created: created[index]! }
        : { labels: labels[index]!, value, created: created[index]!, exemplar };
    }
    return { type: "counter", ...headerOf(this), points };
  }
}
