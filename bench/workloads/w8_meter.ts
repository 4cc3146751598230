/**
 * W8: the OpenTelemetry API shape. `add(1, attributes)` on a counter from
 * edgemetrics' `MeterProvider` against edgemetrics' own `inc(labels)` over
 * the same 1,200 label sets (3 labels), and against the OpenTelemetry JS
 * SDK's `add()` with a reader attached (the SDK records nothing without
 * one), all in one interleaved run.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import { labelSets, METHODS, routes, shuffle, statuses } from "../data.ts";
import { Counter, MeterProvider, Registry } from "../../mod.ts";
import { measure, median } from "../harness.ts";
import { NOT_OFFERED, type Row, timingRows } from "../results.ts";
import { requirePeer } from "../../tests/_npm.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** The OTel SDK's meter with an on-demand reader attached. */
function sdkCounter(name: string): {
  add(value: number, attributes: Record<string, string>): void;
} {
  const sdk = requirePeer<Any>("@opentelemetry/sdk-metrics");
  class Reader extends sdk.MetricReader {
    protected onShutdown(): Promise<void> {
      return Promise.resolve();
    }
    protected onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
  }
  const provider = new sdk.MeterProvider({ readers: [new Reader()] });
  return provider.getMeter("bench").createCounter(name);
}

/** Runs W8. */
export async function w8(settings: Settings): Promise<Row[]> {
  const sets = shuffle(
    labelSets({ method: METHODS, route: routes(30), status: statuses(10) }),
    7,
  );
  // The same label sets under OTel attribute keys.
  const attributes = sets.map((s) => ({
    "http.request.method": s.method,
    "http.route": s.route,
    "http.response.status_code": s.status,
  }));
  const m = sets.length;
  const core = new Counter({
    name: "w8_total",
    help: "W8.",
    labelNames: ["method", "route", "status"] as const,
    registry: null,
  });
  const meter = new MeterProvider({ registry: new Registry() }).getMeter("w8");
  const em = meter.createCounter("w8.requests");
  const otel = sdkCounter("w8.requests");

  // One measurement, so the meter's add and the core's inc run in the same
  // interleaved rounds: measured apart, a load that came or went between
  // them moved their ratio by half (0.91× and 2.06× in two full runs of the
  // same code; 1.42–1.48× paired).
  const all = await measure({
    edgemetrics: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        em.add(1, attributes[j]!);
      }
      return n;
    },
    OTel: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        otel.add(1, attributes[j]!);
      }
      return n;
    },
    inc: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        core.inc(sets[j]!);
      }
      return n;
    },
  }, settings.hotPath);
  const add = { edgemetrics: all.edgemetrics!, OTel: all.OTel! };
  // add ÷ inc within each round, the two batches moments apart.
  const perRound = median(
    add.edgemetrics.samples.map((ns, i) => ns / all.inc!.samples[i]!),
  );
  const [addRow, ...others] = timingRows(
    "W8",
    "meter add(1, attributes)",
    add,
    { "prom-client": NOT_OFFERED },
  );

  return [
    {
      ...addRow!,
      detail: { ...addRow!.detail, perRoundRatio: perRound },
      note: `add ÷ inc(labels): ${
        perRound.toFixed(2)
      }× (median of the ${add.edgemetrics.samples.length} rounds' own ratios)`,
    },
    ...others,
    ...timingRows("W8", "inc(labels), same label sets", {
      edgemetrics: all.inc!,
    }, {}),
  ];
}
