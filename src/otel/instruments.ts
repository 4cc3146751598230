/**
 * The instruments a {@linkcode Meter} creates, shaped as
 * `@opentelemetry/api` 1.x declares them (structurally: nothing of the API
 * is imported).
 *
 * @module
 */

import type { Attributes } from "../model.ts";
import type { Stream } from "./_stream.ts";

/**
 * Options of a meter's instrument, as `@opentelemetry/api` passes them.
 *
 * @example
 * ```ts
 * import type { OtelInstrumentOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: OtelInstrumentOptions = {
 *   unit: "s",
 *   description: "Duration of HTTP server requests.",
 *   advice: { explicitBucketBoundaries: [0.1, 0.3, 1] },
 * };
 * assert.equal(options.unit, "s");
 * ```
 */
export interface OtelInstrumentOptions {
  /** What it measures; the family's help. */
  readonly description?: string;
  /** UCUM unit (`s`, `By`, `{request}`, `1`); Prometheus names get its word as a suffix. */
  readonly unit?: string;
  /** `ValueType.INT` (0) truncates fractional values, as the OTel SDK does; `DOUBLE` (1) is the default. */
  readonly valueType?: number;
  /** Hints: a histogram's `explicitBucketBoundaries`. */
  readonly advice?: {
    readonly explicitBucketBoundaries?: readonly number[];
    readonly attributes?: readonly string[];
  };
}

/** Fans a record out to an instrument's streams (none when dropped or invalid). */
export class Streams {
  protected readonly first: Stream | undefined;
  protected readonly rest: readonly Stream[] | undefined;

  constructor(streams: readonly Stream[]) {
    this.first = streams[0];
    this.rest = streams.length > 1 ? streams.slice(1) : undefined;
  }
}

/**
 * A meter's counter: `add()` a non-negative amount. Prometheus: a counter
 * (`_total`); OTLP: a monotonic `Sum`. A negative or NaN amount is dropped
 * with one warning, as the OTel specification says, never thrown.
 *
 * @example
 * ```ts
 * import { MeterProvider, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const meter = new MeterProvider({ registry }).getMeter("shop");
 * const orders = meter.createCounter("shop.orders", { unit: "{order}" });
 * orders.add(2, { "payment.method": "card" });
 * assert.match(await registry.metrics(), /^shop_orders_total\{payment_method="card"\} 2$/m);
 * ```
 */
export interface OtelCounter {
  /**
   * Adds to the series of an attribute set.
   *
   * @param value A non-negative amount.
   * @param attributes The series' attributes (string, number or boolean values).
   * @param context Ignored (exemplars come from the core API).
   */
  add(value: number, attributes?: Attributes, context?: unknown): void;
}

/** The {@linkcode OtelCounter} a meter makes. */
export class CounterFront extends Streams implements OtelCounter {
  add(value: number, attributes?: Attributes, _context?: unknown): void {
    this.first?.add(value, attributes);
    if (this.rest !== undefined) {
      for (const stream of this.rest) stream.add(value, attributes);
    }
  }
}

/**
 * A meter's up-down counter: `add()` any amount. Prometheus: a gauge;
 * OTLP: a non-monotonic `Sum`.
 *
 * @example
 * ```ts
 * import { MeterProvider, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const meter = new MeterProvider({ registry }).getMeter("db");
 * const open = meter.createUpDownCounter("db.client.connections.usage");
 * open.add(3);
 * open.add(-1);
 * assert.match(await registry.metrics(), /^db_client_connections_usage 2$/m);
 * ```
 */
export interface OtelUpDownCounter {
  /**
   * Adds to the series of an attribute set; a negative amount takes away.
   *
   * @param value The amount.
   * @param attributes The series' attributes.
   * @param context Ignored.
   */
  add(value: number, attributes?: Attributes, context?: unknown): void;
}

/** The {@linkcode OtelUpDownCounter} a meter makes. */
export class UpDownCounterFront extends Streams implements OtelUpDownCounter {
  add(value: number, attributes?: Attributes, _context?: unknown): void {
    this.first?.add(value, attributes);
    if (this.rest !== undefined) {
      for (const stream of this.rest) stream.add(value, attributes);
    }
  }
}

/**
 * A meter's gauge: `record()` the current value. Prometheus: a gauge;
 * OTLP: a `Gauge`.
 *
 * @example
 * ```ts
 * import { MeterProvider, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const meter = new MeterProvider({ registry }).getMeter("host");
 * meter.createGauge("system.cpu.utilization", { unit: "1" }).record(0.25);
 * assert.match(await registry.metrics(), /^system_cpu_utilization_ratio 0.25$/m);
 * ```
 */
export interface OtelGauge {
  /**
   * Sets the series of an attribute set.
   *
   * @param value The current value.
   * @param attributes The series' attributes.
   * @param context Ignored.
   */
  record(value: number, attributes?: Attributes, context?: unknown): void;
}

/** The {@linkcode OtelGauge} a meter makes. */
export class GaugeFront extends Streams implements OtelGauge {
  record(value: number, attributes?: Attributes, _context?: unknown): void {
    this.first?.set(value, attributes);
    if (this.rest !== undefined) {
      for (const stream of this.rest) stream.set(value, attributes);
    }
  }
}

/**
 * A meter's histogram: `record()` a non-negative value into explicit
 * buckets (the advice's, a view's, or OTel's default). Prometheus: a
 * histogram; OTLP: an explicit-bucket `Histogram`.
 *
 * @example
 * ```ts
 * import { MeterProvider, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const meter = new MeterProvider({ registry }).getMeter("web");
 * const latency = meter.createHistogram("http.server.request.duration", {
 *   unit: "s",
 *   advice: { explicitBucketBoundaries: [0.1, 0.5] },
 * });
 * latency.record(0.2, { "http.route": "/" });
 * assert.match(
 *   await registry.metrics(),
 *   /^http_server_request_duration_seconds_bucket\{http_route="\/",le="0.5"\} 1$/m,
 * );
 * ```
 */
export interface OtelHistogram {
  /**
   * Records a value in the series of an attribute set.
   *
   * @param value A non-negative value.
   * @param attributes The series' attributes.
   * @param context Ignored.
   */
  record(value: number, attributes?: Attributes, context?: unknown): void;
}

/** The {@linkcode OtelHistogram} a meter makes. */
export class HistogramFront extends Streams implements OtelHistogram {
  record(value: number, attributes?: Attributes, _context?: unknown): void {
    this.first?.record(value, attributes);
    if (this.rest !== undefined) {
      for (const stream of this.rest) stream.record(value, attributes);
    }
  }
}

/**
 * What an observable instrument's callback records into: one absolute
 * value per attribute set, for this collection (the last one wins).
 *
 * @example
 * ```ts
 * import type { OtelObservableResult } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const seen: number[] = [];
 * const result: OtelObservableResult = { observe: (value) => void seen.push(value) };
 * result.observe(3, { pool: "db" });
 * assert.deepEqual(seen, [3]);
 * ```
 */
export interface OtelObservableResult {
  /** Records the value of one attribute set. */
  observe(value: number, attributes?: Attributes): void;
}

/**
 * The callback of an observable instrument: called at every collection,
 * sync or async.
 *
 * @example
 * ```ts
 * import type { OtelObservableCallback } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const callback: OtelObservableCallback = (result) => result.observe(1);
 * assert.equal(typeof callback, "function");
 * ```
 */
export type OtelObservableCallback = (
  result: OtelObservableResult,
) => void | Promise<void>;

/** What the meter keeps per callback; the instrument only adds and removes them. */
export interface CallbackHost {
  addCallback(
    callback: OtelObservableCallback,
    instrument: ObservableFront,
  ): void;
  removeCallback(
    callback: OtelObservableCallback,
    instrument: ObservableFront,
  ): void;
}

/**
 * An observable counter, up-down counter or gauge of a meter: its
 * callbacks report absolute values at collection time.
 *
 * @example
 * ```ts
 * import { MeterProvider, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const meter = new MeterProvider({ registry }).getMeter("runtime");
 * const heap = meter.createObservableGauge("runtime.heap.used", { unit: "By" });
 * heap.addCallback((result) => result.observe(1024, { space: "old" }));
 * assert.match(await registry.metrics(), /^runtime_heap_used_bytes\{space="old"\} 1024$/m);
 * ```
 */
export interface OtelObservable {
  /**
   * Adds a callback, called at every collection.
   *
   * @param callback Reports the instrument's values.
   */
  addCallback(callback: OtelObservableCallback): void;
  /**
   * Removes a callback added with `addCallback`.
   *
   * @param callback The callback to remove.
   */
  removeCallback(callback: OtelObservableCallback): void;
}

/** The {@linkcode OtelObservable} a meter makes. */
export class ObservableFront extends Streams implements OtelObservable {
  readonly #host: CallbackHost | undefined;

  constructor(streams: readonly Stream[], host: CallbackHost | undefined) {
    super(streams);
    this.#host = host;
  }

  addCallback(callback: OtelObservableCallback): void {
    this.#host?.addCallback(callback, this);
  }

  removeCallback(callback: OtelObservableCallback): void {
    this.#host?.removeCallback(callback, this);
  }

  /** Records an observed value in every stream. */
  observe(value: number, attributes: Attributes | undefined): void {
    this.first?.observe(value, attributes);
    if (this.rest !== undefined) {
      for (const stream of this.rest) stream.observe(value, attributes);
    }
  }

  /** Starts a round in every stream. */
  beginRound(): void {
    this.first?.beginRound();
    if (this.rest !== undefined) {
      for (const stream of this.rest) stream.beginRound();
    }
  }
}
