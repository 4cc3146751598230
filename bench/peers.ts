/**
 * The libraries users would pick instead, pinned, and the few lines each
 * needs to be driven the way its documentation says.
 *
 * @module
 */

// Peers are pinned inline on purpose: only bench/ may depend on them, so
// they stay out of deno.json's import map (and out of the published module).
// deno-lint-ignore no-import-prefix
import promClient from "npm:prom-client@15.1.3";
// deno-lint-ignore no-import-prefix
import "npm:@opentelemetry/api@1.9.0";
// deno-lint-ignore no-import-prefix
import * as sdkMetrics from "npm:@opentelemetry/sdk-metrics@1.25.1";
// deno-lint-ignore no-import-prefix
import * as otlp from "npm:@opentelemetry/otlp-transformer@0.52.1";

type ResourceMetrics = sdkMetrics.ResourceMetrics;

/** The exact versions compared, recorded in the results file. */
export const PEER_VERSIONS = {
  "prom-client": "15.1.3",
  "@opentelemetry/api": "1.9.0",
  "@opentelemetry/sdk-metrics": "1.25.1",
  "@opentelemetry/otlp-transformer": "0.52.1",
} as const;

export { promClient };

/** A reader that only collects on demand: what an exporter calls per push. */
class OnDemandReader extends sdkMetrics.MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** An OTel meter and the reader that collects what it records. */
export interface OtelSetup {
  meter: ReturnType<sdkMetrics.MeterProvider["getMeter"]>;
  /** Collects the SDK's current state, as its exporters do before serializing. */
  collect(): Promise<ResourceMetrics>;
}

/** A fresh meter provider with one on-demand reader. */
export function otelSetup(): OtelSetup {
  const reader = new OnDemandReader();
  const provider = new sdkMetrics.MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter("bench"),
    collect: async () => (await reader.collect()).resourceMetrics,
  };
}

/** The OTel SDK's OTLP/HTTP JSON body for collected metrics. */
export function otelJson(metrics: ResourceMetrics): Uint8Array {
  return otlp.JsonMetricsSerializer.serializeRequest([metrics])!;
}

/** The OTel SDK's OTLP/HTTP protobuf body for collected metrics. */
export function otelProtobuf(metrics: ResourceMetrics): Uint8Array {
  return otlp.ProtobufMetricsSerializer.serializeRequest([metrics])!;
}
