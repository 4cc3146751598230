/**
 * W7: native (exponential) histograms. `observe(v)` on a bound child of a
 * native histogram against a classic one (12 buckets) and the OTel SDK's
 * exponential histogram `record(v)`, interleaved in one run; and the W4
 * registry's shape (50,000 counter series, 5,000 histogram series × 12
 * buckets) exposed as the Prometheus protobuf against Prometheus text.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import { w4Registry } from "../w4_registry.ts";
import { BUCKETS, latencies } from "../data.ts";
import {
  encodePrometheusProtobuf,
  encodePrometheusText,
  Histogram,
} from "../../mod.ts";
import { measure, type Measurement, median } from "../harness.ts";
import type { Row } from "../results.ts";
import { requirePeer } from "../../tests/_npm.ts";

/** A power of two, so the value index wraps with a mask. */
const VALUES = 4096;

/** `AggregationType.EXPONENTIAL_HISTOGRAM`: a const enum, absent at run time. */
const EXPONENTIAL_HISTOGRAM = 5;

interface SdkMetrics {
  MetricReader: abstract new () => object;
  MeterProvider: new (options: unknown) => {
    getMeter(name: string): {
      createHistogram(name: string): { record(value: number): void };
    };
  };
}

/**
 * The OTel SDK's histogram instrument `name` with its exponential
 * aggregation (160 buckets), a reader attached: W7's peer, and
 * `w7_like_for_like.ts`'s.
 */
export function otelExponential(name = "w7"): { record(value: number): void } {
  const sdk = requirePeer<SdkMetrics>("@opentelemetry/sdk-metrics");
  class Reader extends sdk.MetricReader {
    onShutdown(): Promise<void> {
      return Promise.resolve();
    }
    onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
  }
  const provider = new sdk.MeterProvider({
    readers: [new Reader()],
    views: [{
      instrumentName: name,
      aggregation: {
        type: EXPONENTIAL_HISTOGRAM,
        options: { maxSize: 160, recordMinMax: true },
      },
    }],
  });
  return provider.getMeter("bench").createHistogram(name);
}

/** A row of one measured figure. */
function row(
  c: string,
  impl: Row["impl"],
  m: Measurement,
  unit = "ns/op",
): Row {
  return {
    workload: "W7",
    case: c,
    impl,
    value: unit === "ns/op" ? m.nsPerOp : m.nsPerOp / 1e6,
    unit,
    samples: unit === "ns/op" ? m.samples : m.samples.map((s) => s / 1e6),
    detail: { opsPerBatch: m.opsPerBatch },
  };
}

/** Runs W7. */
export async function w7(settings: Settings): Promise<Row[]> {
  const values = latencies(VALUES, 7);
  const mask = VALUES - 1;
  const classic = new Histogram({
    name: "w7_classic_seconds",
    help: "W7.",
    buckets: BUCKETS,
    registry: null,
  }).labels();
  const native = new Histogram({
    name: "w7_native_seconds",
    help: "W7.",
    native: true,
    registry: null,
  }).labels();
  const otel = otelExponential();
  const observe = await measure({
    classic: (n) => {
      for (let i = 0; i < n; i++) classic.observe(values[i & mask]!);
      return n;
    },
    native: (n) => {
      for (let i = 0; i < n; i++) native.observe(values[i & mask]!);
      return n;
    },
    OTel: (n) => {
      for (let i = 0; i < n; i++) otel.record(values[i & mask]!);
      return n;
    },
  }, settings.hotPath);

  const registry = w4Registry();
  const utf8 = new TextEncoder();
  const exposition = await measure({
    text: async (n) => {
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        bytes += utf8.encode(encodePrometheusText(await registry.collect()))
          .length;
      }
      return bytes;
    },
    protobuf: async (n) => {
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        bytes += encodePrometheusProtobuf(await registry.collect()).length;
      }
      return bytes;
    },
  }, settings.exposition);
  const textBytes = utf8.encode(
    encodePrometheusText(await registry.collect()),
  ).length;
  const protobufBytes =
    encodePrometheusProtobuf(await registry.collect()).length;

  // Native ÷ classic within each round, where the two batches ran moments
  // apart. A load that comes or goes mid-run can put one case's median among
  // its busy rounds and the other's among its quiet ones: seen here, a ratio
  // of medians of 1.95× from rounds whose own ratios had a median of 1.37×
  // (1.3× in the busy ones, 1.5× in the quiet ones). In a steady run the two
  // agree (1.49× and 1.48×).
  const perRound = median(
    observe.native!.samples.map((ns, i) => ns / observe.classic!.samples[i]!),
  );
  const nativeRow = row("native observe(v)", "edgemetrics", observe.native!);

  return [
    row("classic observe(v), 12 buckets", "edgemetrics", observe.classic!),
    {
      ...nativeRow,
      detail: { ...nativeRow.detail, perRoundRatio: perRound },
      note: `native ÷ classic: ${perRound.toFixed(2)}× (median of the ${
        observe.native!.samples.length
      } rounds' own ratios)`,
    },
    row("native observe(v)", "OTel", observe.OTel!),
    {
      ...row(
        "Prometheus text (W4 registry)",
        "edgemetrics",
        exposition.text!,
        "ms",
      ),
      note: `${(textBytes / 1e6).toFixed(2)} MB`,
    },
    {
      ...row(
        "Prometheus protobuf (W4 registry)",
        "edgemetrics",
        exposition.protobuf!,
        "ms",
      ),
      note: `${(protobufBytes / 1e6).toFixed(2)} MB`,
    },
  ];
}
