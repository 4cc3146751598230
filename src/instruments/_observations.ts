/**
 * The series table of an observable instrument and the collections that
 * record into it: what one callback run observed, kept only until the next.
 *
 * @module
 */

import type {
  CounterFamily,
  CounterPoint,
  GaugeAggregation,
  GaugeFamily,
  GaugePoint,
  LabelValues,
} from "../model.ts";
import { warnOnce } from "../_warn.ts";
import { cached, checkCacheMs } from "./_cached.ts";
import { checkCallback, isPromise, type ResolvedOptions } from "./options.ts";
import { InstrumentState } from "./_instrument.ts";
import type { ObservableResult, ObserveCallback } from "./observable.ts";

/** One collection's observations: series number → value. */
type Observed = Map<number, number>;

/**
 * The series table of an observable instrument, and the collections that
 * record into it. Series not observed by a collection are forgotten after
 * it, so the table holds what the callback reports now, never more than
 * the series limit.
 */
export class Observations<F extends CounterFamily | GaugeFamily>
  extends InstrumentState {
  readonly #callback: ObserveCallback<string>;
  readonly #aggregation: GaugeAggregation | undefined;
  #inFlight = 0;
  /** Runs the callback, or serves its last result within `cacheMs`. */
  readonly collect: (signal?: AbortSignal) => F | Promise<F>;

  /** @param aggregation A gauge's; undefined for a counter. */
  constructor(
    resolved: ResolvedOptions,
    type: F["type"],
    callback: ObserveCallback<string>,
    cacheMs: unknown,
    aggregation?: GaugeAggregation,
  ) {
    super(resolved, type, 0);
    checkCallback(resolved.metric, "observe", callback, true);
    this.#callback = callback;
    this.#aggregation = aggregation;
    const windowMs = checkCacheMs(resolved.metric, cacheMs);
    const run = (signal?: AbortSignal) => this.#run(signal);
    this.collect = windowMs === 0
      ? run
      : cached(run, windowMs, () => resolved.clock.monotonic());
  }

  /**
   * Runs the callback and returns what it observed as a family. Series are
   * pruned only when no other collection is running, since a running one
   * holds series numbers that pruning could free and reuse. A collection
   * whose `signal` aborts (the registry gave up on it) ends there: it stops
   * holding pruning back, ignores what the callback observes later, and
   * rejects with the abort reason if the callback ever settles.
   */
  #run(signal?: AbortSignal): F | Promise<F> {
    signal?.throwIfAborted();
    const observed: Observed = new Map();
    let open = true;
    const result: ObservableResult<string> = {
      observe: (value, labels) => {
        if (open) this.#record(observed, value, labels);
      },
    };
    // Ends the collection once; later observations are ignored.
    const close = (): void => {
      if (!open) return;
      open = false;
      this.#inFlight--;
      signal?.removeEventListener("abort", close);
    };
    const fail = (error: unknown): never => {
      close();
      throw error;
    };
    const done = (): F => {
      // Abandoned: its series numbers may since have been freed and reused.
      if (!open) throw signal?.reason;
      close();
      if (this.#inFlight === 0) this.#prune(observed);
      return this.#family(observed);
    };
    this.#inFlight++;
    let pending: void | Promise<void>;
    try {
      pending = this.#callback(result);
    } catch (error) {
      return fail(error);
    }
    if (!isPromise(pending)) return done();
    signal?.addEventListener("abort", close, { once: true });
    return pending.then(done, fail);
  }

  #record(
    observed: Observed,
    value: number,
    labels: LabelValues<string> | undefined,
  ): void {
    if (typeof value !== "number") this.reject("observe", "value", value);
    if (this.type === "counter" && !(value >= 0 && value < Infinity)) {
      // Runtime data from a callback: report once and leave the series out.
      warnOnce(
        `observable-counter:${this.metric}`,
        `ignored a value of observable counter "${this.metric}" that is not a finite non-negative number: ${value}`,
      );
      return;
    }
    const table = this.table;
    const index = table.indexOf(labels);
    if (index === table.overflowIndex) {
      // Past the series limit: label sets fold into the overflow series, summed.
      observed.set(index, (observed.get(index) ?? 0) + value);
      return;
    }
    observed.set(index, value);
  }

  /** Forgets the series this collection did not observe. */
  #prune(observed: Observed): void {
    const table = this.table;
    if (table.labelNames.length === 0) return;
    const overflow = table.overflowIndex;
    // order() returns an array of its own, which removing does not change.
    for (const index of table.order()) {
      if (index !== overflow && !observed.has(index)) {
        table.remove([table.labels[index]]);
      }
    }
  }

  /**
   * The family of a collection: points in the order the callback observed
   * them, overflow last, each with its series' stable labels (and a
   * counter's `created`).
   */
  #family(observed: Observed): F {
    const table = this.table;
    table.order(); // fills the labels of series created by this collection
    const { labels, created } = table;
    const overflow = table.overflowIndex;
    const points: (CounterPoint | GaugePoint)[] = [];
    const add = (index: number, value: number): void => {
      points.push(
        this.type === "counter"
          ? { labels: labels[index]!, value, created: created[index]! }
          : { labels: labels[index]!, value },
      );
    };
    for (const [index, value] of observed) {
      if (index !== overflow) add(index, value);
    }
    if (overflow >= 0 && observed.has(overflow)) {
      add(overflow, observed.get(overflow)!);
    }
    const family: CounterFamily | GaugeFamily = this.type === "counter"
      ? { type: "counter", ...this.header, points: points as CounterPoint[] }
      : {
        type: "gauge",
        ...this.header,
        aggregation: this.#aggregation!,
        points,
      };
    return family as F;
  }
}
