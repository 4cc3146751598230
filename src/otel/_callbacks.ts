/**
 * A meter's observable callbacks: the single and batch callbacks it was
 * given, and the collection rounds that run each of them once per
 * collection and hand their observations to the observables' streams, which
 * the registry collects through {@linkcode ObservedCollector}.
 *
 * @module
 */

import type { MetricFamily, MetricType } from "../model.ts";
import type { Collector } from "../registry.ts";
import { warnOnce } from "../_warn.ts";
import type { Stream } from "./_stream.ts";
import {
  type CallbackHost,
  ObservableFront,
  type OtelObservableCallback,
} from "./instruments.ts";
import type { OtelBatchObservableCallback } from "./meter.ts";

/** A callback and the observables it reports. */
interface CallbackEntry {
  readonly callback: OtelObservableCallback | OtelBatchObservableCallback;
  /** The one observable of an `addCallback`, or undefined for a batch. */
  readonly single: ObservableFront | undefined;
  readonly targets: ReadonlySet<ObservableFront>;
}

/** One collection's run of the callbacks: what is still running, and whose callback failed. */
export interface Round {
  readonly pending: Promise<void> | undefined;
  readonly failed: Map<ObservableFront, unknown>;
}

/** The callbacks of one meter, and its collection round. */
export class ObservableCallbacks {
  readonly #meter: string;
  readonly #observables: ObservableFront[] = [];
  #callbacks: CallbackEntry[] = [];
  #round: Round | undefined;

  /** Callbacks of the meter named `meter` (named in warnings). */
  constructor(meter: string) {
    this.#meter = meter;
  }

  /** An observable whose round begins with every collection round. */
  track(observable: ObservableFront): void {
    this.#observables.push(observable);
  }

  /** Adds a batch callback for `observables` (once per callback and set). */
  addBatch(
    callback: OtelBatchObservableCallback,
    observables: readonly object[],
  ): void {
    if (typeof callback !== "function") return;
    const targets = new Set(
      observables.filter((o): o is ObservableFront =>
        o instanceof ObservableFront
      ),
    );
    if (
      this.#callbacks.some((entry) =>
        entry.callback === callback && entry.single === undefined &&
        sameSet(entry.targets, targets)
      )
    ) return;
    this.#callbacks.push({ callback, single: undefined, targets });
  }

  /** Removes a batch callback added with the same observables. */
  removeBatch(
    callback: OtelBatchObservableCallback,
    observables: readonly object[],
  ): void {
    const targets = new Set(observables);
    this.#callbacks = this.#callbacks.filter((entry) =>
      !(entry.callback === callback && entry.single === undefined &&
        sameSet(entry.targets, targets))
    );
  }

  /** Adds and removes observables' own callbacks (`observable.addCallback`). */
  readonly host: CallbackHost = {
    addCallback: (callback, instrument) =>
      this.#addCallback(callback, instrument),
    removeCallback: (callback, instrument) =>
      this.#removeCallback(callback, instrument),
  };

  #addCallback(
    callback: OtelObservableCallback,
    instrument: ObservableFront,
  ): void {
    if (typeof callback !== "function") return;
    if (
      this.#callbacks.some((entry) =>
        entry.callback === callback && entry.single === instrument
      )
    ) return;
    this.#callbacks.push({
      callback,
      single: instrument,
      targets: new Set([instrument]),
    });
  }

  #removeCallback(
    callback: OtelObservableCallback,
    instrument: ObservableFront,
  ): void {
    this.#callbacks = this.#callbacks.filter((entry) =>
      !(entry.callback === callback && entry.single === instrument)
    );
  }

  /**
   * Runs every callback once per collection: the first
   * observable the registry collects starts the round, the others of the
   * same collection (the registry starts them all before awaiting any)
   * share it. Returns the round; a callback that throws or rejects fails
   * only the observables it reports.
   */
  startRound(): Round {
    if (this.#round !== undefined) return this.#round;
    const failed = new Map<ObservableFront, unknown>();
    for (const observable of this.#observables) observable.beginRound();
    const pending: Promise<unknown>[] = [];
    for (const entry of this.#callbacks) {
      const fail = (error: unknown) => {
        for (const target of entry.targets) failed.set(target, error);
      };
      try {
        const result = entry.single !== undefined
          ? (entry.callback as OtelObservableCallback)({
            observe: (value, attributes) =>
              entry.single!.observe(value, attributes),
          })
          : (entry.callback as OtelBatchObservableCallback)({
            observe: (observable, value, attributes) => {
              if (!entry.targets.has(observable as ObservableFront)) {
                warnOnce(
                  `otel-batch:${this.#meter}`,
                  `ignored a batch observation of meter "${this.#meter}": the observable was not passed to addBatchObservableCallback`,
                );
                return;
              }
              (observable as ObservableFront).observe(value, attributes);
            },
          });
        if (isThenable(result)) {
          pending.push(Promise.resolve(result).catch(fail));
        }
      } catch (error) {
        fail(error);
      }
    }
    const round: Round = {
      pending: pending.length === 0
        ? undefined
        : Promise.all(pending).then(() => {}),
      failed,
    };
    this.#round = round;
    // The registry starts every collector of one collection synchronously:
    // the round ends once that loop is over.
    queueMicrotask(() => {
      if (this.#round === round) this.#round = undefined;
    });
    return round;
  }
}

/** An observable's stream as the registry sees it: the meter's round first. */
export class ObservedCollector implements Collector {
  readonly name: string;
  readonly type: MetricType;
  /** Set right after the observable is made. */
  observable: ObservableFront | undefined;
  readonly #stream: Stream;
  readonly #round: () => Round;

  constructor(stream: Stream, round: () => Round) {
    this.name = stream.name;
    this.type = stream.type;
    this.#stream = stream;
    this.#round = round;
  }

  get droppedLabelSets(): number {
    return this.#stream.droppedLabelSets;
  }

  collect(): MetricFamily | Promise<MetricFamily> {
    const round = this.#round();
    const finish = (): MetricFamily => {
      const observable = this.observable!;
      if (round.failed.has(observable)) throw round.failed.get(observable);
      return this.#stream.collect();
    };
    return round.pending === undefined ? finish() : round.pending.then(finish);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function sameSet(a: ReadonlySet<unknown>, b: ReadonlySet<unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}
