/**
 * The libraries users would pick instead, pinned, and the few lines each
 * needs to be driven the way its documentation says.
 *
 * @module
 */

import { requirePeer } from "../tests/_npm.ts";

// Peers load from .tools/ (installed by .ci/setup from .ci/peers.json), never
// through npm: specifiers: those would put them in the root lockfile, which
// `deno task` installs for every user, even one who only runs the demo.

/** The few prom-client members the workloads drive. */
interface PromClient {
  Registry: new () => { metrics(): Promise<string> };
  Counter: new (options: {
    name: string;
    help: string;
    labelNames?: readonly string[];
    registers?: unknown[];
  }) => PromMetric;
  Histogram: new (options: {
    name: string;
    help: string;
    labelNames?: readonly string[];
    buckets?: number[];
    registers?: unknown[];
  }) => PromMetric;
}

/** A prom-client instrument, as the workloads call it. */
// deno-lint-ignore no-explicit-any
type PromMetric = any;

/** What the OTel SDK collects: passed on to its serializers untouched. */
type ResourceMetrics = unknown;

/** The few OTel SDK members the workloads drive. */
interface SdkMetrics {
  MetricReader: abstract new (options?: {
    cardinalitySelector?: (instrumentType: unknown) => number;
  }) => {
    collect(): Promise<{ resourceMetrics: ResourceMetrics }>;
  };
  MeterProvider: new (options: { readers: unknown[] }) => {
    getMeter(name: string): OtelMeter;
  };
}

/** An OTel meter, as the workloads call it. */
// deno-lint-ignore no-explicit-any
type OtelMeter = any;

/** An OTel OTLP serializer. */
interface Serializer {
  serializeRequest(request: ResourceMetrics): Uint8Array | undefined;
}

const promClient: PromClient = requirePeer("prom-client");
/** prom-client's successor (its 16th major), same API, Node 22+. */
const prometheusIo: PromClient = requirePeer("@prometheus-io/client");
const sdkMetrics: SdkMetrics = requirePeer("@opentelemetry/sdk-metrics");
const otlp: {
  JsonMetricsSerializer: Serializer;
  ProtobufMetricsSerializer: Serializer;
} = requirePeer("otel-otlp-transformer");

/** The exact versions compared, recorded in the results file. */
export const PEER_VERSIONS = {
  "prom-client": "15.1.3",
  "@prometheus-io/client": "0.16.1",
  "@opentelemetry/api": "1.10.0",
  "@opentelemetry/sdk-metrics": "3.1.1",
  "@opentelemetry/otlp-transformer": "0.301.1",
} as const;

export { promClient, prometheusIo };

/** A reader that only collects on demand: what an exporter calls per push. */
class OnDemandReader extends sdkMetrics.MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** An OTel meter and the reader that collects what it records. */
export interface OtelSetup {
  meter: OtelMeter;
  /** Collects the SDK's current state, as its exporters do before serializing. */
  collect(): Promise<ResourceMetrics>;
}

/**
 * A fresh meter provider with one on-demand reader. `cardinalityLimit` is
 * the series limit per metric (the SDK's default is 2,000: past it, new
 * attribute sets fold into one overflow point), to lift it as edgemetrics'
 * `maxSeries: Infinity` does where a workload holds more series.
 */
export function otelSetup(cardinalityLimit?: number): OtelSetup {
  const reader = new OnDemandReader(
    cardinalityLimit === undefined
      ? {}
      : { cardinalitySelector: () => cardinalityLimit },
  );
  const provider = new sdkMetrics.MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter("bench"),
    collect: async () => (await reader.collect()).resourceMetrics,
  };
}

/** The OTel SDK's OTLP/HTTP JSON body for collected metrics. */
export function otelJson(metrics: ResourceMetrics): Uint8Array {
  return otlp.JsonMetricsSerializer.serializeRequest(metrics)!;
}

/** The OTel SDK's OTLP/HTTP protobuf body for collected metrics. */
export function otelProtobuf(metrics: ResourceMetrics): Uint8Array {
  return otlp.ProtobufMetricsSerializer.serializeRequest(metrics)!;
}
