/**
 * What a job that pushes its metrics imports, and nothing else: the
 * instruments, the registry, the OTLP, Pushgateway and remote write exporters, the aggregation reporter and their
 * encoders. Published as `@edgemetrics/edgemetrics/push`; every export here
 * is the same object as the one of the main entry, so the two mix freely.
 *
 * @example Count a job's work and push it over OTLP (here to a recording fetch)
 * ```ts
 * import { Counter, OtlpExporter, Registry } from "@edgemetrics/edgemetrics/push";
 * import assert from "node:assert/strict";
 *
 * const sent: Request[] = [];
 * const registry = new Registry();
 * const rows = new Counter({ name: "rows_imported_total", help: "Rows.", registry });
 * rows.inc(42);
 *
 * const exporter = new OtlpExporter({
 *   url: "http://collector.test/v1/metrics",
 *   registry,
 *   fetch: (request) => {
 *     sent.push(request);
 *     return Promise.resolve(new Response(null, { status: 200 }));
 *   },
 * });
 * await exporter.flush();
 * assert.equal(sent.length, 1);
 * assert.equal(sent[0]!.headers.get("content-type"), "application/x-protobuf");
 * await exporter.shutdown();
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
export * from "./encoders/otlp_json.ts";
export * from "./encoders/otlp_protobuf.ts";
export * from "./push/otlp.ts";
export * from "./push/pushgateway.ts";
export * from "./encoders/remote_write.ts";
export * from "./encoders/remote_write_v2.ts";
export * from "./push/remote_write.ts";
export * from "./aggregate/reporter.ts";
