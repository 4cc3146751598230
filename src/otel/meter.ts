/**
 * Meter: creates OpenTelemetry instruments in a registry, structurally
 * `@opentelemetry/api`'s `Meter` (1.x).
 *
 * @module
 */

import type { Attributes, InstrumentationScope, MetricType } from "../model.ts";
import type { Collector, Registry } from "../registry.ts";
import { DuplicateMetricError } from "../errors.ts";
import { warnOnce } from "../_warn.ts";
import {
  describe,
  isOtelInstrumentName,
  OTEL_NAME_RULE,
  prometheusName,
  prometheusUnit,
} from "../names.ts";
import { type Aggregation, Stream } from "./_stream.ts";
import {
  CounterFront,
  GaugeFront,
  HistogramFront,
  ObservableFront,
  type OtelCounter,
  type OtelGauge,
  type OtelHistogram,
  type OtelInstrumentOptions,
  type OtelObservable,
  type OtelUpDownCounter,
  UpDownCounterFront,
} from "./instruments.ts";
import {
  checkBounds,
  type InstrumentKind,
  type View,
  viewsFor,
} from "../view.ts";
import { ObservableCallbacks, ObservedCollector } from "./_callbacks.ts";

/**
 * OTel's default explicit bucket boundaries for histograms (the SDK
 * specification's `ExplicitBucketHistogram` default).
 *
 * @example
 * ```ts
 * import { OTEL_DEFAULT_BUCKETS } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(OTEL_DEFAULT_BUCKETS.at(-1), 10000);
 * ```
 */
export const OTEL_DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0,
  5,
  10,
  25,
  50,
  75,
  100,
  250,
  500,
  750,
  1000,
  2500,
  5000,
  7500,
  10000,
]);

/**
 * What `addBatchObservableCallback` callbacks record into: values of any of
 * the observables they were added with.
 *
 * @example
 * ```ts
 * import type { OtelBatchObservableResult } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const seen: number[] = [];
 * const result: OtelBatchObservableResult = { observe: (_o, value) => void seen.push(value) };
 * result.observe({}, 5);
 * assert.deepEqual(seen, [5]);
 * ```
 */
export interface OtelBatchObservableResult {
  /** Records the value of one attribute set of `observable`. */
  observe(observable: object, value: number, attributes?: Attributes): void;
}

/**
 * A batch callback: reports the values of several observables at once.
 *
 * @example
 * ```ts
 * import type { OtelBatchObservableCallback } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const callback: OtelBatchObservableCallback = () => {};
 * assert.equal(typeof callback, "function");
 * ```
 */
export type OtelBatchObservableCallback = (
  result: OtelBatchObservableResult,
) => void | Promise<void>;

/** What a meter takes from its provider. */
export interface MeterContext {
  readonly registry: Registry;
  readonly views: readonly View[];
}

/** An instrument the meter made, by lowercased name (OTel names are case-insensitive). */
interface Made {
  readonly kind: InstrumentKind;
  readonly instrument: object;
}

const NO_STREAMS: readonly Stream[] = [];

/**
 * A meter: the `@opentelemetry/api` `Meter` interface over an edgemetrics
 * registry. Get one from {@linkcode MeterProvider.getMeter}. Its name and
 * version are the instrumentation scope of every instrument it creates
 * (OTLP's `ScopeMetrics`).
 *
 * An instrument name that breaks OTel's rule
 * (`[A-Za-z][A-Za-z0-9_.\-/]{0,254}`) gives a warning and an instrument that
 * records nothing, because `@opentelemetry/api` callers do not expect
 * throws. Creating an instrument of a name and kind this meter already has
 * returns the same instrument. An instrument whose Prometheus name another
 * meter's instrument (or a prom-client-style metric) already has is
 * refused the same way: a warning and a no-op instrument.
 *
 * @example
 * ```ts
 * import { MeterProvider, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const meter = new MeterProvider({ registry }).getMeter("checkout", "1.2.0");
 * meter.createCounter("checkout.orders").add(1, { "payment.method": "card" });
 * const [family] = await registry.collect();
 * assert.deepEqual(family?.otel?.scope, { name: "checkout", version: "1.2.0" });
 * ```
 */
export class Meter {
  /** The instrumentation scope: the meter's name and version. */
  readonly scope: InstrumentationScope;
  readonly #context: MeterContext;
  readonly #made = new Map<string, Made>();
  readonly #callbacks: ObservableCallbacks;

  /**
   * Internal: get a meter from {@linkcode MeterProvider.getMeter}.
   *
   * @ignore
   */
  constructor(scope: InstrumentationScope, context: MeterContext) {
    this.scope = scope;
    this.#context = context;
    this.#callbacks = new ObservableCallbacks(scope.name);
  }

  /**
   * Creates a counter (monotonic sum).
   *
   * @param name The OTel instrument name, e.g. `http.server.requests`.
   * @param options Description, unit, value type.
   * @returns The counter (a no-op one for an invalid name).
   */
  createCounter(name: string, options?: OtelInstrumentOptions): OtelCounter {
    return this.#create(name, "counter", options, "sum", CounterFront);
  }

  /**
   * Creates an up-down counter (non-monotonic sum).
   *
   * @param name The OTel instrument name.
   * @param options Description, unit, value type.
   * @returns The up-down counter.
   */
  createUpDownCounter(
    name: string,
    options?: OtelInstrumentOptions,
  ): OtelUpDownCounter {
    return this.#create(
      name,
      "updowncounter",
      options,
      "updown",
      UpDownCounterFront,
    );
  }

  /**
   * Creates a gauge (last value).
   *
   * @param name The OTel instrument name.
   * @param options Description, unit, value type.
   * @returns The gauge.
   */
  createGauge(name: string, options?: OtelInstrumentOptions): OtelGauge {
    return this.#create(name, "gauge", options, "last", GaugeFront);
  }

  /**
   * Creates a histogram with explicit buckets: a view's, else
   * `advice.explicitBucketBoundaries`, else {@linkcode OTEL_DEFAULT_BUCKETS}.
   *
   * @param name The OTel instrument name.
   * @param options Description, unit, value type, advice.
   * @returns The histogram.
   */
  createHistogram(
    name: string,
    options?: OtelInstrumentOptions,
  ): OtelHistogram {
    return this.#create(
      name,
      "histogram",
      options,
      "histogram",
      HistogramFront,
    );
  }

  /**
   * Creates an observable counter: callbacks report totals.
   *
   * @param name The OTel instrument name.
   * @param options Description, unit, value type.
   * @returns The observable.
   */
  createObservableCounter(
    name: string,
    options?: OtelInstrumentOptions,
  ): OtelObservable {
    return this.#createObservable(name, "observablecounter", options, "sum");
  }

  /**
   * Creates an observable up-down counter: callbacks report totals that go
   * up and down.
   *
   * @param name The OTel instrument name.
   * @param options Description, unit, value type.
   * @returns The observable.
   */
  createObservableUpDownCounter(
    name: string,
    options?: OtelInstrumentOptions,
  ): OtelObservable {
    return this.#createObservable(
      name,
      "observableupdowncounter",
      options,
      "updown",
    );
  }

  /**
   * Creates an observable gauge: callbacks report current values.
   *
   * @param name The OTel instrument name.
   * @param options Description, unit, value type.
   * @returns The observable.
   */
  createObservableGauge(
    name: string,
    options?: OtelInstrumentOptions,
  ): OtelObservable {
    return this.#createObservable(name, "observablegauge", options, "last");
  }

  /**
   * Adds a callback that reports several of this meter's observables at
   * once; called once per collection.
   *
   * @param callback Reports values through `result.observe(observable, value, attributes)`.
   * @param observables The observables it may report.
   */
  addBatchObservableCallback(
    callback: OtelBatchObservableCallback,
    observables: readonly object[],
  ): void {
    this.#callbacks.addBatch(callback, observables);
  }

  /**
   * Removes a batch callback added with the same observables.
   *
   * @param callback The callback.
   * @param observables The observables it was added with.
   */
  removeBatchObservableCallback(
    callback: OtelBatchObservableCallback,
    observables: readonly object[],
  ): void {
    this.#callbacks.removeBatch(callback, observables);
  }

  #create<T>(
    name: string,
    kind: InstrumentKind,
    options: OtelInstrumentOptions | undefined,
    aggregation: Aggregation,
    Kind: new (streams: readonly Stream[]) => T,
  ): T {
    const found = this.#existing(name, kind);
    if (found !== undefined) return found as T;
    const streams = this.#streams(name, kind, options, aggregation);
    const instrument = new Kind(streams);
    if (isOtelInstrumentName(name)) {
      this.#made.set(name.toLowerCase(), { kind, instrument: instrument! });
    }
    return instrument;
  }

  #createObservable(
    name: string,
    kind: InstrumentKind,
    options: OtelInstrumentOptions | undefined,
    aggregation: Aggregation,
  ): ObservableFront {
    const found = this.#existing(name, kind);
    if (found !== undefined) return found as ObservableFront;
    const collectors: ObservedCollector[] = [];
    const streams = this.#streams(
      name,
      kind,
      options,
      aggregation,
      (stream) => {
        const collector = new ObservedCollector(
          stream,
          () => this.#callbacks.startRound(),
        );
        collectors.push(collector);
        return collector;
      },
    );
    const observable = new ObservableFront(streams, this.#callbacks.host);
    for (const collector of collectors) collector.observable = observable;
    observable.beginRound(); // nothing is exported before a callback observes it
    if (!isOtelInstrumentName(name)) return observable;
    this.#made.set(name.toLowerCase(), { kind, instrument: observable });
    this.#callbacks.track(observable);
    return observable;
  }

  /** The instrument this meter already made under `name`, if of the same kind. */
  #existing(name: string, kind: InstrumentKind): object | undefined {
    if (!isOtelInstrumentName(name)) return undefined;
    const made = this.#made.get(name.toLowerCase());
    if (made === undefined) return undefined;
    if (made.kind === kind) return made.instrument;
    warnOnce(
      `otel-kind:${this.scope.name}:${name}`,
      `meter "${this.scope.name}" already has instrument "${name}" as a ${made.kind}; the ${kind} of that name records nothing`,
    );
    return undefined;
  }

  /**
   * The streams of an instrument, views applied and registered: none for
   * an invalid name, a dropped instrument, or a name taken elsewhere
   * (each with a warning, not a throw: the API's callers do not expect one).
   * Two streams of one instrument under one name (conflicting views) throw,
   * as the views are the application's own configuration.
   */
  #streams(
    name: string,
    kind: InstrumentKind,
    options: OtelInstrumentOptions | undefined,
    aggregation: Aggregation,
    collectorOf: (stream: Stream) => Collector = (stream) => stream,
  ): readonly Stream[] {
    if (!isOtelInstrumentName(name)) {
      warnOnce(
        `otel-name:${name}`,
        `ignored instrument ${
          describe(name)
        } of meter "${this.scope.name}": an instrument name must match ${OTEL_NAME_RULE}; it records nothing`,
      );
      return NO_STREAMS;
    }
    const registry = this.#context.registry;
    const views = viewsFor(this.#context.views, {
      name,
      kind,
      meter: this.scope.name,
    });
    const unit = typeof options?.unit === "string" ? options.unit : "";
    const description = typeof options?.description === "string"
      ? options.description
      : "";
    const type: MetricType = aggregation === "sum"
      ? "counter"
      : aggregation === "updown"
      ? "updowncounter"
      : aggregation === "last"
      ? "gauge"
      : "histogram";
    let bounds: readonly number[] = NO_BOUNDS;
    if (aggregation === "histogram") {
      const advice = options?.advice?.explicitBucketBoundaries;
      bounds = OTEL_DEFAULT_BUCKETS;
      if (advice !== undefined) {
        try {
          bounds = checkBounds(`Cannot create histogram "${name}"`, advice);
        } catch (error) {
          warnOnce(
            `otel-advice:${name}`,
            `ignored the bucket advice of histogram "${name}": ${
              (error as Error).message
            }`,
          );
        }
      }
    }
    const configs = (views.length === 0 ? [{} as View] : views)
      .filter((view) => view.drop !== true)
      .map((view) => {
        const streamName = view.name ?? name;
        return {
          name: prometheusName(streamName, unit, type),
          unit: prometheusUnit(unit),
          description: view.description ?? description,
          otel: { name: streamName, unit, scope: this.scope },
          maxSeries: view.maxSeries ?? registry.maxSeries,
          clock: registry.clock,
          filter: view.attributeKeys,
          bounds: view.buckets === undefined
            ? bounds
            : Object.freeze([...view.buckets]),
          integer: options?.valueType === 1,
        };
      });
    const names = configs.map((config) => config.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) {
      throw new TypeError(
        `Cannot create instrument "${name}" of meter "${this.scope.name}": two views make streams named "${twice}"`,
      );
    }
    const streams: Stream[] = [];
    for (const config of configs) {
      const stream = new Stream(config, aggregation);
      try {
        registry.register(collectorOf(stream));
        streams.push(stream);
      } catch (error) {
        if (!(error instanceof DuplicateMetricError)) throw error;
        warnOnce(
          `otel-duplicate:${this.scope.name}:${config.name}`,
          `ignored instrument "${config.otel.name}" of meter "${this.scope.name}": ${error.message}; it records nothing`,
        );
      }
    }
    return streams;
  }
}

const NO_BOUNDS: readonly number[] = Object.freeze([]);
