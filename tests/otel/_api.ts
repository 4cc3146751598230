/**
 * Test helper: the real `@opentelemetry/api` 1.10 (an npm peer), typed by
 * the few members the tests use.
 *
 * @module
 */

import { requirePeer } from "../_npm.ts";

type Attrs = Record<
  string,
  string | number | boolean | (string | number | boolean)[]
>;

/** A meter as `@opentelemetry/api` declares it (the part the tests use). */
export interface ApiMeter {
  createCounter(name: string, options?: object): {
    add(value: number, attributes?: Attrs): void;
  };
  createUpDownCounter(name: string, options?: object): {
    add(value: number, attributes?: Attrs): void;
  };
  createGauge(name: string, options?: object): {
    record(value: number, attributes?: Attrs): void;
  };
  createHistogram(name: string, options?: object): {
    record(value: number, attributes?: Attrs): void;
  };
  createObservableCounter(name: string, options?: object): ApiObservable;
  createObservableUpDownCounter(name: string, options?: object): ApiObservable;
  createObservableGauge(name: string, options?: object): ApiObservable;
  addBatchObservableCallback(
    callback: (result: {
      observe(o: ApiObservable, value: number, attributes?: Attrs): void;
    }) => void | Promise<void>,
    observables: ApiObservable[],
  ): void;
}

/** An observable instrument of the API. */
export interface ApiObservable {
  addCallback(
    callback: (
      result: { observe(value: number, attributes?: Attrs): void },
    ) => void | Promise<void>,
  ): void;
}

/** `@opentelemetry/api`'s `metrics` global. */
export interface MetricsApi {
  setGlobalMeterProvider(provider: object): boolean;
  getMeter(name: string, version?: string): ApiMeter;
  disable(): void;
}

/** The real `@opentelemetry/api` package. */
export const api = requirePeer<
  { metrics: MetricsApi; ValueType: { INT: number; DOUBLE: number } }
>("@opentelemetry/api");
