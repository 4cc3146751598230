/**
 * Counter: a total that only goes up.
 *
 * @module
 */

import type { CounterFamily, CounterPoint, Exemplar, Labels } from "../model.ts";
import type { Clock } from "../clock.ts";
import { warnOnce } from "../_warn.ts";
import { toExemplar } from "./_exemplar.ts";
import { type MetricOptions, resolveOptions } from "./options.ts";
import {
  ChildCache,
  type LabelValue,
  type LabelValues,
  type SeriesBinding,
  SeriesTable,
} from "./_series.ts";

/**
 * Options of a {@linkcode Counter}.
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
export type CounterOptions<L extends string> = MetricOptions<L>;

/** What the counter and its bound children share. */
class CounterState {
  readonly table: SeriesTable;
  readonly exemplars = new Map<number, Exemplar>();

  constructor(readonly metric: string, readonly clock: Clock, table: SeriesTable) {
    this.table = table;
  }

  add(index: number, value: number, exemplar: Labels | undefined): void {
    if (typeof value !== "number" || !(value >= 0)) {
      if (!this.#accept(value)) return;
    }
    this.table.data[index]! += value;
    if (exemplar !== undefined) {
      const kept = toExemplar(this.metric, exemplar, value, this.clock.now());
      if (kept !== undefined) this.exemplars.set(index, kept);
    }
  }

  #accept(value: unknown): boolean {
    if (typeof value !== "number") {
      throw new TypeError(
        `Cannot increment counter "${this.metric}": the amount must be a number, got ${
          JSON.stringify(value)
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
 * assert.equal(hits.collect().points[0]?.value, 3);
 * ```
 */
export class CounterChild {
  #state: CounterState;
  #binding: SeriesBinding;

  /** Use {@linkcode Counter.labels} to get one. */
  constructor(state: CounterState, binding: SeriesBinding) {
    this.#state = state;
    this.#binding = binding;
  }

  /**
   * Adds to the series' total.
   *
   * @param value How much to add (default 1); NaN is ignored with a warning.
   * @param exemplar Labels of an exemplar to keep with this record, e.g. `{ trace_id }`.
   * @throws {RangeError} When `value` is negative.
   */
  inc(value = 1, exemplar?: Labels): void {
    this.#state.add(this.#binding.index, value, exemplar);
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
 * assert.match(
 *   await registry.metrics(),
 *   /^http_requests_total\{method="GET",route="\/orders\/\{id\}",status="200"\} 3$/m,
 * );
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
  readonly type = "counter" as const;
  #state: CounterState;
  #children: ChildCache<CounterChild>;

  /**
   * @param options Name, help, label names and limits.
   * @throws {TypeError} When a name or label name is invalid.
   * @throws {DuplicateMetricError} When the registry already has this name.
   */
  constructor(options: CounterOptions<L>) {
    const resolved = resolveOptions(
      options,
      [],
      (name) => name.replace(/_total$/, ""),
    );
    this.name = resolved.name;
    this.help = resolved.help;
    this.unit = resolved.unit;
    this.labelNames = resolved.labelNames as readonly L[];
    const clock = resolved.clock;
    const table: SeriesTable = new SeriesTable({
      metric: options.name,
      labelNames: resolved.labelNames,
      stride: 1,
      maxSeries: resolved.maxSeries,
      init: (index) => {
        table.created[index] = clock.now();
        this.#state?.exemplars.delete(index);
      },
    });
    const state = new CounterState(options.name, clock, table);
    this.#state = state;
    this.#children = new ChildCache(
      table,
      (binding) => new CounterChild(state, binding),
    );
    resolved.registry?.register(this);
  }

  /** Records folded into the overflow series because the series limit was reached. */
  get droppedLabelSets(): number {
    return this.#state.table.droppedLabelSets;
  }

  /**
   * Adds to a series' total: `inc()`, `inc(5)` on an unlabeled counter,
   * `inc(labels)`, `inc(labels, 5)`, or `inc(labels, 5, { trace_id })` to keep
   * an exemplar.
   *
   * @throws {RangeError} When the amount is negative.
   * @throws {TypeError} When labels are missing, undeclared or of the wrong type.
   */
  inc(value?: number): void;
  inc(labels: LabelValues<L>, value?: number, exemplar?: Labels): void;
  inc(
    labelsOrValue?: LabelValues<L> | number,
    value = 1,
    exemplar?: Labels,
  ): void {
    const state = this.#state;
    if (typeof labelsOrValue === "object") {
      state.add(state.table.indexOf(labelsOrValue), value, exemplar);
    } else {
      const index = state.table.indexOf(undefined);
      state.add(index, labelsOrValue === undefined ? 1 : labelsOrValue, undefined);
    }
  }

  /**
   * Returns the child bound to one label set, cached: the same object for the
   * same values. Takes the values in `labelNames` order or a label object.
   *
   * @throws {TypeError} When the values do not match the declared labels.
   */
  labels(...values: LabelValue[]): CounterChild;
  labels(labels: LabelValues<L>): CounterChild;
  labels(...args: unknown[]): CounterChild {
    return this.#children.get(args);
  }

  /**
   * Forgets one series; bound children of it start it again on their next record.
   *
   * @param labels The series' label set.
   */
  remove(labels: LabelValues<L>): void {
    const index = this.#state.table.remove(labels);
    if (index >= 0) this.#state.exemplars.delete(index);
  }

  /** Forgets every series (an unlabeled counter restarts at 0). */
  reset(): void {
    this.#state.exemplars.clear();
    this.#state.table.reset();
  }

  /** Returns the counter's current state as a snapshot family. */
  collect(): CounterFamily {
    const { table, exemplars } = this.#state;
    const points: CounterPoint[] = [];
    table.forEach((labels, index) => {
      const exemplar = exemplars.get(index);
      points.push(
        exemplar === undefined
          ? { labels, value: table.data[index]!, created: table.created[index]! }
          : {
            labels,
            value: table.data[index]!,
            created: table.created[index]!,
            exemplar,
          },
      );
    });
    return this.unit === undefined
      ? { type: "counter", name: this.name, help: this.help, points }
      : {
        type: "counter",
        name: this.name,
        help: this.help,
        unit: this.unit,
        points,
      };
  }
}
