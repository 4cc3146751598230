/**
 * edgemetrics: Prometheus and OpenTelemetry metrics for Deno and every
 * fetch-style runtime, with no dependencies.
 *
 * Declare instruments once, record on the hot path, and get the numbers out
 * either way: serve them to a Prometheus scrape with
 * {@linkcode metricsHandler} (pull), or push them from a short-lived job with
 * {@linkcode OtlpExporter} or {@linkcode Pushgateway}. Both read the same
 * registry through the same snapshot and encoders.
 *
 * @example Count requests and serve them to Prometheus
 * ```ts
 * import { Counter, metricsHandler, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const requests = new Counter({
 *   name: "http_requests_total",
 *   help: "Total HTTP requests.",
 *   labelNames: ["method", "status"] as const,
 *   registry,
 * });
 * requests.inc({ method: "GET", status: "200" });
 *
 * const fetch = metricsHandler(registry);
 * const response = await fetch(new Request("http://localhost/metrics"));
 * assert.equal(response.status, 200);
 * assert.match(await response.text(), /^http_requests_total\{method="GET",status="200"\} 1$/m);
 * ```
 *
 * @module
 */

export type * from "./src/model.ts";
export * from "./src/clock.ts";
export * from "./src/errors.ts";
export * from "./src/registry.ts";
export type { MetricOptions } from "./src/instruments/options.ts";
export * from "./src/instruments/metric.ts";
export * from "./src/instruments/counter.ts";
export * from "./src/instruments/gauge.ts";
export * from "./src/instruments/histogram.ts";
export * from "./src/instruments/summary.ts";
export * from "./src/instruments/observable.ts";
export * from "./src/instruments/up_down_counter.ts";
export * from "./src/instruments/buckets.ts";
export * from "./src/encoders/prometheus_text.ts";
export * from "./src/encoders/openmetrics.ts";
export * from "./src/encoders/otlp_json.ts";
export * from "./src/encoders/otlp_protobuf.ts";
export * from "./src/pull/handler.ts";
export * from "./src/pull/instrument.ts";
export * from "./src/workers/aggregator.ts";
export * from "./src/workers/merge.ts";
export * from "./src/push/otlp.ts";
export * from "./src/push/pushgateway.ts";
export {
  type GlobalMetricsApi,
  MeterProvider,
  type MeterProviderOptions,
} from "./src/otel/meter_provider.ts";
export {
  Meter,
  OTEL_DEFAULT_BUCKETS,
  type OtelBatchObservableCallback,
  type OtelBatchObservableResult,
} from "./src/otel/meter.ts";
export type {
  OtelCounter,
  OtelGauge,
  OtelHistogram,
  OtelInstrumentOptions,
  OtelObservable,
  OtelObservableCallback,
  OtelObservableResult,
  OtelUpDownCounter,
} from "./src/otel/instruments.ts";
export type { InstrumentKind, View } from "./src/view.ts";
export * from "./src/aggregate/aggregator.ts";
export * from "./src/aggregate/reporter.ts";
export * from "./src/aggregate/shards.ts";
export * from "./src/aggregate/storage.ts";
export * from "./src/encoders/remote_write.ts";
export * from "./src/encoders/remote_write_v2.ts";
export * from "./src/push/remote_write.ts";
export * from "./src/encoders/prometheus_protobuf.ts";
export * from "./src/runtime/runtime_metrics.ts";
export * from "./src/encoders/html.ts";
