/**
 * UpDownCounter: a total that goes up and down by what is added.
 *
 * @module
 */

import type {
  LabelValue,
  LabelValues,
  UpDownCounterFamily,
  UpDownCounterPoint,
} from "../model.ts";
import {
  type CollectHook,
  joinRegistries,
  type MetricOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.ts";
import { SeriesCursor } from "./_series.ts";
import { InstrumentState } from "./_instrument.ts";
import { Metric } from "./metric.ts";

/**
 * Options of an {@linkcode UpDownCounter}: the options every metric takes,
 * plus an optional `collect` hook.
 *
 * @example
 * ```ts
 * import { UpDownCounter, type UpDownCounterOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: UpDownCounterOptions<"pool"> = {
 *   name: "db_connections_open",
 *   help: "Open connections.",
 *   labelNames: ["pool"],
 *   registry: null,
 * };
 * assert.equal(new UpDownCounter(options).type, "updowncounter");
 * ```
 */
export interface UpDownCounterOptions<L extends string>
  extends MetricOptions<L> {
  /**
   * Called with the up-down counter (also as `this`) before each
   * collection, sync or async. If it throws or rejects, the registry
   * reports it and leaves this metric out of that collection.
   */
  collect?: CollectHook<UpDownCounter<L>>;
}

/** What the up-down counter and its bound children share. */
class UpDownCounterState extends InstrumentState {
  constructor(resolved: ResolvedOptions) {
    super(resolved, "updowncounter", 1);
  }

  // Each record checks its value before the label lookup (the callers
  // below), so a record that throws never creates its series.

  /**
   * Judges an amount that is not a finite number: throws for a non-number,
   * returns false (skip it, warned once) for NaN and ±Infinity, which would
   * stay in the total for good.
   */
  accept(value: unknown, labels?: unknown): boolean {
    if (typeof value !== "number") {
      this.reject("add to", "amount", value, labels);
    }
    this.ignoreNonFinite("addition", value);
    return false;
  }

  child(values: readonly LabelValue[], index: number): UpDownCounterChild {
    return new BoundUpDownCounter(this, values, index);
  }

  snapshot(): UpDownCounterFamily {
    const table = this.table;
    const order = table.order();
    const { labels, data, created } = table;
    const points: UpDownCounterPoint[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const index = order[i]!;
      points[i] = {
        labels: labels[index]!,
        value: data[index]!,
        created: created[index]!,
      };
    }
    return { type: "updowncounter", ...this.header, points };
  }
}

/**
 * An up-down counter bound to one label set by
 * {@linkcode UpDownCounter.labels}: records without a label lookup.
 *
 * @example
 * ```ts
 * import { UpDownCounter } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const open = new UpDownCounter({ name: "sessions_open", help: "Sessions.", labelNames: ["app"], registry: null });
 * const web = open.labels("web");
 * web.add(3);
 * web.add(-1);
 * assert.equal((await open.collect()).points[0]?.value, 2);
 * ```
 */
export interface UpDownCounterChild {
  /**
   * Adds to the series' total; a negative amount takes away.
   *
   * @param value How much to add (default 1); NaN and ±Infinity are ignored with one warning.
   * @throws {TypeError} When `value` is not a number.
   */
  add(value?: number): void;
}

class BoundUpDownCounter extends SeriesCursor<UpDownCounterState>
  implements UpDownCounterChild {
  add(value = 1): void {
    if (typeof value !== "number" || value - value !== 0) {
      if (!this.state().accept(value)) return;
    }
    this.data()[this.base()]! += value;
  }
}

/**
 * An up-down counter: a total changed by what is added and taken away, such
 * as items in a queue or open connections, when you count the changes rather
 * than read the current value (for that, use a {@linkcode Gauge}). It is
 * OpenTelemetry's UpDownCounter: Prometheus sees a gauge, OTLP a
 * non-monotonic `Sum` with a start time (cumulative or delta), and the
 * values of several workers merge by addition.
 *
 * @typeParam L The label names (declare them `as const` to type label objects).
 *
 * @example Count jobs in a queue as they come and go
 * ```ts
 * import { Registry, UpDownCounter } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const queued = new UpDownCounter({
 *   name: "jobs_queued",
 *   help: "Jobs waiting.",
 *   labelNames: ["queue"] as const,
 *   registry,
 * });
 * queued.add({ queue: "mail" }, 5);
 * queued.add({ queue: "mail" }, -2);
 * assert.equal(
 *   await registry.metrics(),
 *   '# HELP jobs_queued Jobs waiting.\n# TYPE jobs_queued gauge\njobs_queued{queue="mail"} 3\n',
 * );
 * ```
 */
export class UpDownCounter<L extends string = never>
  extends Metric<L, UpDownCounterChild, UpDownCounterFamily> {
  #state: UpDownCounterState;

  /**
   * Declares an up-down counter and registers it (with the default registry
   * unless `registry` says otherwise).
   *
   * @param options Name, help, label names, limits and an optional `collect` hook.
   * @throws {TypeError} When a name or label name is invalid or reserved, or `collect` is not a function.
   * @throws {RangeError} When `maxSeries` is not a whole number of at least 1 or `Infinity`.
   * @throws {DuplicateMetricError} When the registry already has this name.
   */
  constructor(options: UpDownCounterOptions<L>) {
    const resolved = resolveOptions(
      options,
      [],
      undefined,
      "updowncounter",
    );
    const state = new UpDownCounterState(resolved);
    super(resolved, options.collect, state);
    this.#state = state;
    joinRegistries(resolved, this);
  }

  /**
   * Adds to the unlabeled series; a negative amount takes away.
   *
   * @param value How much to add (default 1); NaN and ±Infinity are ignored with one warning.
   * @throws {TypeError} When the metric has labels, or the amount is not a number.
   */
  add(value?: number): void;
  /**
   * Adds to the series of a label set; a negative amount takes away.
   *
   * @param labels One value per declared label, checked when the series is created.
   * @param value How much to add (default 1); NaN and ±Infinity are ignored with one warning.
   * @throws {TypeError} When labels are missing, undeclared or of the wrong
   * type (checked when the series is created), or the amount is not a number.
   */
  add(labels: LabelValues<L>, value?: number): void;
  add(labelsOrValue?: LabelValues<L> | number, value = 1): void {
    const state = this.#state;
    if (typeof labelsOrValue === "object" && labelsOrValue !== null) {
      if (typeof value !== "number" || value - value !== 0) {
        if (!state.accept(value, labelsOrValue)) return;
      }
      // The lookup first: creating a series may replace `data`.
      const index = state.table.indexOf(labelsOrValue);
      state.table.data[index]! += value;
    } else {
      const amount = labelsOrValue === undefined ? 1 : labelsOrValue;
      if (typeof amount !== "number" || amount - amount !== 0) {
        if (!state.accept(amount)) return;
      }
      const index = state.table.indexOf(undefined);
      state.table.data[index]! += amount;
    }
  }
}
