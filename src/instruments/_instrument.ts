/**
 * What the instruments share around their series table, so each kind's file
 * holds only what makes it that kind: the state an instrument shares with
 * its bound children, the family header, the timers, and the gauge
 * aggregation check. Nothing here is on a record path.
 *
 * @module
 */

import type { GaugeAggregation, LabelValues, MetricType } from "../model.ts";
import type { Clock } from "../clock.ts";
import { warnOnce } from "../_warn.ts";
import { describe } from "../names.ts";
import type { ResolvedOptions } from "./options.ts";
import { refuseBoxed, type SeriesOwner, SeriesTable } from "./_series.ts";

/** The name, help and unit a family carries, as the snapshot spells them. */
export interface FamilyHeader {
  readonly name: string;
  readonly help: string;
  readonly unit?: string;
}

/** A snapshot point under construction: optional fields are added last. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * What an instrument and its bound children share: the series table, the
 * clock, the kind and declared name for messages, and the family header. A
 * kind that keeps more per series (exemplars, quantile windows) overrides
 * `forget` and `clear`, which the table calls when series go away.
 */
export class InstrumentState implements SeriesOwner {
  /** The kind of family it collects. */
  readonly type: MetricType;
  /** The name as declared (a counter's with `_total`), for messages. */
  readonly metric: string;
  readonly clock: Clock;
  readonly table: SeriesTable;
  /** The name, help and unit every snapshot of the family starts with. */
  readonly header: FamilyHeader;

  /** @param stride Float64 slots per series. */
  constructor(resolved: ResolvedOptions, type: MetricType, stride: number) {
    this.type = type;
    this.metric = resolved.metric;
    this.clock = resolved.clock;
    this.table = new SeriesTable(resolved, stride, this);
    // `unit` only when one is declared: the snapshot has no `unit: undefined`.
    this.header = resolved.unit === undefined
      ? { name: resolved.name, help: resolved.help }
      : { name: resolved.name, help: resolved.help, unit: resolved.unit };
  }

  forget(_index: number): void {}

  clear(): void {}

  /**
   * Throws for a record of something that is not a number, e.g.
   * `Cannot increment counter "jobs_total": the amount must be a number, got "1"`.
   */
  reject(
    action: string,
    what: string,
    value: unknown,
    labels?: unknown,
  ): never {
    // `set(new Number(3))` reads the number as labels and finds no value.
    refuseBoxed(this.metric, labels);
    throw new TypeError(
      `Cannot ${action} ${this.type} "${this.metric}": the ${what} must be a number, got ${
        describe(value)
      }`,
    );
  }

  /**
   * Warns once per metric that a non-finite `what` (an increment, a
   * decrement, an observation) was ignored: NaN and ±Infinity are runtime
   * data, not programming errors, and once added to a total or a sum they
   * never leave it (Infinity - Infinity is NaN).
   */
  ignoreNonFinite(what: string, value: number): void {
    warnOnce(
      `non-finite:${this.metric}`,
      `ignored a non-finite ${what} of ${this.type} "${this.metric}", got ${value}: NaN and ±Infinity never enter a total or a sum (this warning is shown once per metric)`,
    );
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

/**
 * The timer of a gauge or histogram started with some labels: the function
 * that ends it takes the rest (or overrides), looks the series up then and
 * passes its number and the elapsed seconds to `record`.
 */
export function labeledTimer<L extends string>(
  state: InstrumentState,
  labels: Partial<LabelValues<L>> | undefined,
  record: (index: number, seconds: number) => void,
): (labels?: Partial<LabelValues<L>>) => number {
  return timer(state.clock, (seconds, more?: Partial<LabelValues<L>>) => {
    const all = more === undefined ? labels : { ...labels, ...more };
    record(state.table.indexOf(all as LabelValues<L>), seconds);
  });
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
      `Cannot declare metric "${metric}": aggregation must be one of "sum", "max", "min", "all", got ${
        describe(aggregation)
      }`,
    );
  }
  return aggregation;
}
