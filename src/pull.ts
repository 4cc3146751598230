/**
 * What a service that Prometheus scrapes imports, and nothing else: the
 * instruments, the registry, the `/metrics` handler, HTTP server metrics and
 * the two text formats. Published as `@edgemetrics/edgemetrics/pull`; every
 * export here is the same object as the one of the main entry, so the two
 * mix freely.
 *
 * @example A Worker that counts requests and serves /metrics
 * ```ts
 * import { Counter, Histogram, metricsHandler, Registry } from "@edgemetrics/edgemetrics/pull";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const requests = new Counter({ name: "requests_total", help: "Requests.", registry });
 * const latency = new Histogram({ name: "latency_seconds", help: "Latency.", registry });
 * requests.inc();
 * latency.observe(0.2);
 *
 * const worker = { fetch: metricsHandler(registry) };
 * const response = await worker.fetch(new Request("http://localhost/metrics"));
 * assert.match(await response.text(), /^requests_total 1$/m);
 * ```
 *
 * @module
 */

export type * from "./model.ts";
export * from "./clock.ts";
export * from "./errors.ts";
export * from "./registry.ts";
export type { MetricOptions } from "./instruments/options.ts";
export * from "./instruments/metric.ts";
export * from "./instruments/counter.ts";
export * from "./instruments/gauge.ts";
export * from "./instruments/histogram.ts";
export * from "./instruments/summary.ts";
export * from "./instruments/observable.ts";
export * from "./instruments/up_down_counter.ts";
export * from "./instruments/buckets.ts";
export * from "./encoders/prometheus_text.ts";
export * from "./encoders/openmetrics.ts";
export * from "./encoders/prometheus_protobuf.ts";
export * from "./pull/handler.ts";
export * from "./pull/instrument.ts";
export * from "./encoders/html.ts";
export * from "./runtime/runtime_metrics.ts";
