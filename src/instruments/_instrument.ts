/**
 * What the instruments share around their series table, so each kind's file
 * holds only what makes it that kind: the table made from resolved options
 * with the lifecycle of the kind's per-series state, the family header, the
 * timers, and the gauge aggregation check. Nothing here is on a record path.
 *
 * @module
 */

import type { GaugeAggregation } from "../model.ts";
import type { Clock } from "../clock.ts";
import type { ResolvedOptions } from "./options.ts";
import { SeriesTable } from "./_series.ts";

/**
 * What an instrument keeps per series beside the table's numbers (exemplars,
 * quantile windows), and how the table tells it a series' life changed.
 */
export interface SeriesState {
  /** A series number was (re)allocated: start its state afresh. */
  init?: (index: number) => void;
  /** A series was removed: free its state now. */
  forget?: (index: number) => void;
  /** Every series was dropped: free all state. */
  clear?: () => void;
}

/**
 * The series table of an instrument declared with `resolved` options and
 * `stride` numbers per series; `init` starts a (re)allocated series' state.
 */
export function tableOf(
  metric: string,
  resolved: ResolvedOptions,
  stride: number,
  init?: (index: number) => void,
): SeriesTable {
  return new SeriesTable({
    metric,
    labelNames: resolved.labelNames,
    stride,
    maxSeries: resolved.maxSeries,
    clock: resolved.clock,
    init,
  });
}

/**
 * {@linkcode tableOf} with the instrument's per-series state hooked to the
 * table's series lifecycle (see {@linkcode Series}).
 */
export function seriesOf(
  metric: string,
  resolved: ResolvedOptions,
  stride: number,
  state: SeriesState = {},
): Series {
  return new Series(tableOf(metric, resolved, stride, state.init), state);
}

/**
 * A series table with the lifecycle of the instrument's own per-series
 * state: `remove` and `reset` as every instrument exposes them.
 */
export class Series {
  readonly table: SeriesTable;
  readonly #state: SeriesState;

  constructor(table: SeriesTable, state: SeriesState) {
    this.table = table;
    this.#state = state;
  }

  /** Forgets a series given as `remove(labelObject)` or `remove(...values)`. */
  remove(args: readonly unknown[]): void {
    const index = this.table.removeArgs(args);
    if (index >= 0) this.#state.forget?.(index);
  }

  /** Forgets every series (an unlabeled instrument restarts at zero). */
  reset(): void {
    this.#state.clear?.();
    this.table.reset();
  }
}

/**
 * A counter's family name (plain or observable): its name without `_total`, which must leave
 * something (`_total` alone would name the family "").
 */
export function counterFamilyName(name: string): string {
  const family = name.replace(/_total$/, "");
  if (family === "") {
    throw new TypeError(
      `Cannot declare counter "${name}": the name must not be empty once the _total suffix is removed, got ""`,
    );
  }
  return family;
}

/** The name, help and unit a family carries, as the snapshot spells them. */
export interface FamilyHeader {
  readonly name: string;
  readonly help: string;
  readonly unit?: string;
}

/** The header of an instrument's family: `unit` only when one is declared. */
export function headerOf(
  instrument: { name: string; help: string; unit: string | undefined },
): FamilyHeader {
  return instrument.unit === undefined
    ? { name: instrument.name, help: instrument.help }
    : { name: instrument.name, help: instrument.help, unit: instrument.unit };
}

/**
 * Starts a timer on the clock's monotonic time: the returned function
 * passes the elapsed seconds (and its own arguments, e.g. labels known only
 * at the end) to `record`, then returns the seconds.
 */
export function timer<A extends unknown[]>(
  clock: Clock,
  record: (seconds: number, ...args: A) => void,
): (...args: A) => number {
  const start = clock.monotonic();
  return (...args) => {
    const seconds = (clock.monotonic() - start) / 1000;
    record(seconds, ...args);
    return seconds;
  };
}

const AGGREGATIONS: readonly GaugeAggregation[] = ["sum", "max", "min", "all"];

/** Checks a gauge's `aggregation` option; returns it, `sum` when omitted. */
export function checkAggregation(
  metric: string,
  aggregation: GaugeAggregation | undefined,
): GaugeAggregation {
  if (aggregation === undefined) return "sum";
  if (!AGGREGATIONS.includes(aggregation)) {
    throw new TypeError(
      `Cannot declare metric "${metric}": aggregation must be one of ${
        AGGREGATIONS.map((a) => `"${a}"`).join(", ")
      }, got ${JSON.stringify(aggregation)}`,
    );
  }
  return aggregation;
}
