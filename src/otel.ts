/**
 * What code on the OpenTelemetry model imports, and nothing else: the meter
 * provider that `@opentelemetry/api` records into, views, the registry, and
 * the OTLP exporter and encoders. Published as `@edgemetrics/edgemetrics/otel`;
 * every export here is the same object as the one of the main entry, so the
 * two mix freely (add `@edgemetrics/edgemetrics/pull` to serve the same
 * registry to Prometheus).
 *
 * @example Record through a meter and push OTLP (here to a recording fetch)
 * ```ts
 * import { MeterProvider, OtlpExporter, Registry } from "@edgemetrics/edgemetrics/otel";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const meter = new MeterProvider({ registry }).getMeter("checkout", "1.0.0");
 * meter.createCounter("orders.placed").add(1, { "payment.method": "card" });
 *
 * const bodies: unknown[] = [];
 * const exporter = new OtlpExporter({
 *   url: "http://collector.test/v1/metrics",
 *   registry,
 *   protocol: "json",
 *   fetch: async (request) => {
 *     bodies.push(await request.json());
 *     return new Response(null, { status: 200 });
 *   },
 * });
 * await exporter.flush();
 * assert.match(JSON.stringify(bodies[0]), /"orders\.placed"/);
 * await exporter.shutdown();
 * ```
 *
 * @module
 */

export type * from "./model.ts";
export * from "./clock.ts";
export * from "./errors.ts";
export * from "./registry.ts";
export {
  type GlobalMetricsApi,
  MeterProvider,
  type MeterProviderOptions,
} from "./otel/meter_provider.ts";
export {
  Meter,
  OTEL_DEFAULT_BUCKETS,
  type OtelBatchObservableCallback,
  type OtelBatchObservableResult,
} from "./otel/meter.ts";
export type {
  OtelCounter,
  OtelGauge,
  OtelHistogram,
  OtelInstrumentOptions,
  OtelObservable,
  OtelObservableCallback,
  OtelObservableResult,
  OtelUpDownCounter,
} from "./otel/instruments.ts";
export type { InstrumentKind, View } from "./view.ts";
export * from "./encoders/otlp_json.ts";
export * from "./encoders/otlp_protobuf.ts";
export * from "./push/otlp.ts";
