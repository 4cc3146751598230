/**
 * W4: exposing a big registry: 50,000 counter series and 5,000 histogram
 * series × 12 buckets (≈ 125,000 lines), as Prometheus text, OTLP JSON and
 * OTLP protobuf. Each figure is one whole exposition from live state:
 * collect, then encode to the bytes a transport would send. Informational
 * rows time the OTLP serializers alone, from a snapshot taken before.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import {
  BUCKETS,
  labelSets,
  latencies,
  METHODS,
  routes,
  statuses,
} from "../data.ts";
import {
  Counter,
  encodeOtlpProtobuf,
  encodePrometheusText,
  Histogram,
  type OtlpEncodeOptions,
  Registry,
} from "../../mod.ts";
import { encodeOtlpJsonBytes } from "../../src/encoders/_otlp_json.ts";
import { renderTextFloor, type TextFloor } from "../floors.ts";
import { type Batch, measure, type Measurement } from "../harness.ts";
import {
  otelJson,
  otelProtobuf,
  otelSetup,
  promClient,
  prometheusIo,
} from "../peers.ts";
import { type Row, timingRows } from "../results.ts";
import { otlpContent } from "../otlp_content.ts";

const COUNTER_FAMILIES = 10;
const HISTOGRAM_FAMILIES = 5;
const COUNTER_LABELS = {
  method: METHODS,
  route: routes(125),
  status: statuses(10),
};
const HISTOGRAM_LABELS = { method: METHODS, route: routes(250) };
const OBSERVATIONS_PER_SERIES = 3;

const utf8 = new TextEncoder();

/** A string body becomes bytes inside the timing: transports send bytes. */
function byteLength(body: unknown): number {
  if (typeof body === "string") return utf8.encode(body).length;
  if (body instanceof Uint8Array) return body.length;
  throw new TypeError(
    `Cannot measure exposition: unexpected body ${typeof body}`,
  );
}

/** The three registries and the floor, filled with the same records. */
function populate() {
  const counterSets = labelSets(COUNTER_LABELS);
  const histogramSets = labelSets(HISTOGRAM_LABELS);
  const values = latencies(histogramSets.length * OBSERVATIONS_PER_SERIES, 4);
  const emRegistry = new Registry({ maxSeries: Infinity });
  const promRegistry = new promClient.Registry();
  const promIoRegistry = new prometheusIo.Registry();
  // Every series, as edgemetrics' maxSeries: Infinity: with the SDK's default
  // limit (2,000 per metric) it would write 2,000 of each counter's 5,000.
  const otel = otelSetup(Infinity);
  const floor: TextFloor = { counters: [], histograms: [] };
  // Bounds as edgemetrics writes them (`1.0`), so the floor's bytes are the same.
  const le = [
    ...BUCKETS.map((b) => Number.isInteger(b) ? b.toFixed(1) : String(b)),
    "+Inf",
  ];
  const labelText = (set: Record<string, string>) =>
    Object.entries(set).map(([k, v]) => `${k}="${v}"`).join(",");

  for (let f = 0; f < COUNTER_FAMILIES; f++) {
    const name = `bench_requests_${f}_total`;
    const help = `Requests handled by shard ${f}.`;
    const labelNames = Object.keys(COUNTER_LABELS);
    const em = new Counter({
      name,
      help,
      labelNames,
      registry: emRegistry,
      maxSeries: Infinity,
    });
    const prom = new promClient.Counter({
      name,
      help,
      labelNames,
      registers: [promRegistry],
    });
    const promIo = new prometheusIo.Counter({
      name,
      help,
      labelNames,
      registers: [promIoRegistry],
    });
    const otelCounter = otel.meter.createCounter(name, { description: help });
    const values = new Float64Array(counterSets.length);
    counterSets.forEach((set, i) => {
      const amount = (i % 97) + 1;
      em.inc(set, amount);
      prom.inc(set, amount);
      promIo.inc(set, amount);
      otelCounter.add(amount, set);
      values[i] = amount;
    });
    floor.counters.push({
      header: `# HELP ${name} ${help}\n# TYPE ${name} counter\n`,
      prefixes: counterSets.map((set) => `${name}{${labelText(set)}} `),
      values,
    });
  }

  for (let f = 0; f < HISTOGRAM_FAMILIES; f++) {
    const name = `bench_latency_${f}_seconds`;
    const help = `Request latency of shard ${f}.`;
    const labelNames = Object.keys(HISTOGRAM_LABELS);
    const em = new Histogram({
      name,
      help,
      labelNames,
      buckets: BUCKETS,
      registry: emRegistry,
      maxSeries: Infinity,
    });
    const prom = new promClient.Histogram({
      name,
      help,
      labelNames,
      buckets: [...BUCKETS],
      registers: [promRegistry],
    });
    const promIo = new prometheusIo.Histogram({
      name,
      help,
      labelNames,
      buckets: [...BUCKETS],
      registers: [promIoRegistry],
    });
    const otelHistogram = otel.meter.createHistogram(name, {
      description: help,
      advice: { explicitBucketBoundaries: [...BUCKETS] },
    });
    const stride = BUCKETS.length + 3;
    const data = new Float64Array(histogramSets.length * stride);
    const prefixes: string[] = [];
    histogramSets.forEach((set, i) => {
      for (let k = 0; k < OBSERVATIONS_PER_SERIES; k++) {
        const v = values[i * OBSERVATIONS_PER_SERIES + k]!;
        em.observe(set, v);
        prom.observe(set, v);
        promIo.observe(set, v);
        otelHistogram.record(v, set);
        let b = 0;
        while (b < BUCKETS.length && BUCKETS[b]! < v) b++;
        data[i * stride + b]!++;
        data[i * stride + BUCKETS.length + 1]! += v;
        data[i * stride + BUCKETS.length + 2]!++;
      }
      const labels = labelText(set);
      for (const bound of le) {
        prefixes.push(`${name}_bucket{${labels},le="${bound}"} `);
      }
      prefixes.push(`${name}_sum{${labels}} `, `${name}_count{${labels}} `);
    });
    floor.histograms.push({
      header: `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`,
      buckets: BUCKETS.length,
      prefixes,
      data,
    });
  }
  return { emRegistry, promRegistry, promIoRegistry, otel, floor };
}

/** Adds bytes and MB/s to the rows of one format. */
function withThroughput(
  rows: Row[],
  bytes: Record<string, number>,
  lines: Record<string, number>,
): Row[] {
  for (const row of rows) {
    const size = bytes[row.impl];
    if (row.value === null || size === undefined) continue;
    const mbPerS = size / 1e6 / (row.value / 1e9);
    row.note = `${(size / 1e6).toFixed(2)} MB, ${mbPerS.toFixed(0)} MB/s`;
    row.detail = { ...row.detail, bytes: size, lines: lines[row.impl], mbPerS };
  }
  return rows;
}

/** Measures one format, then exposes once more to record its size. */
async function format(
  label: string,
  cases: Record<string, () => Promise<unknown> | unknown>,
  settings: Settings,
): Promise<Row[]> {
  const batches: Record<string, Batch> = {};
  for (const [impl, expose] of Object.entries(cases)) {
    batches[impl] = async (n) => {
      let total = 0;
      for (let i = 0; i < n; i++) total += byteLength(await expose());
      return total;
    };
  }
  const measured: Record<string, Measurement> = await measure(
    batches,
    settings.exposition,
  );
  const bytes: Record<string, number> = {};
  const lines: Record<string, number> = {};
  for (const [impl, expose] of Object.entries(cases)) {
    const body = await expose();
    bytes[impl] = byteLength(body);
    if (typeof body === "string") lines[impl] = body.split("\n").length - 1;
  }
  // Scale ns per exposition to ms, the unit that reads well at this size.
  const rows = withThroughput(
    timingRows("W4", label, measured, {}),
    bytes,
    lines,
  );
  for (const row of rows) {
    if (row.value !== null) {
      row.value /= 1e6;
      if (row.samples !== undefined) {
        row.samples = row.samples.map((s) => s / 1e6);
      }
    }
    row.unit = "ms";
  }
  return rows;
}

/** Runs W4. */
export async function w4(settings: Settings): Promise<Row[]> {
  const { emRegistry, promRegistry, promIoRegistry, otel, floor } = populate();
  const otlp: OtlpEncodeOptions = {
    resource: { "service.name": "bench" },
    timeUnixMs: 1_700_000_000_000,
  };
  const rows = [
    ...await format("Prometheus text", {
      edgemetrics: async () => encodePrometheusText(await emRegistry.collect()),
      "prom-client": () => promRegistry.metrics(),
      "@prometheus-io/client": () => promIoRegistry.metrics(),
      floor: () => renderTextFloor(floor),
    }, settings),
    ...await format("OTLP JSON", {
      // What OtlpExporter sends: the UTF-8 bytes encodeOtlpJson returns as a
      // string, written once (the OTel serializer likewise returns bytes).
      edgemetrics: async () =>
        encodeOtlpJsonBytes(await emRegistry.collect(), otlp),
      OTel: async () => otelJson(await otel.collect()),
    }, settings),
    ...await format("OTLP protobuf", {
      edgemetrics: async () =>
        encodeOtlpProtobuf(await emRegistry.collect(), otlp),
      OTel: async () => otelProtobuf(await otel.collect()),
    }, settings),
  ];
  // Informational: the serializers alone, each from its own snapshot taken
  // once before, so collection is left out on both sides.
  const emSnapshot = await emRegistry.collect();
  const otelSnapshot = await otel.collect();
  rows.push(
    ...await format("OTLP JSON, encode only", {
      edgemetrics: () => encodeOtlpJsonBytes(emSnapshot, otlp),
      OTel: () => otelJson(otelSnapshot),
    }, settings),
    ...await format("OTLP protobuf, encode only", {
      edgemetrics: () => encodeOtlpProtobuf(emSnapshot, otlp),
      OTel: () => otelProtobuf(otelSnapshot),
    }, settings),
  );
  // Like for like: both bodies of each OTLP encoding, decoded, carry the
  // same metrics and points.
  const contents = {
    json: {
      edgemetrics: otlpContent(
        encodeOtlpJsonBytes(await emRegistry.collect(), otlp),
        "json",
      ),
      OTel: otlpContent(otelJson(await otel.collect()), "json"),
    },
    protobuf: {
      edgemetrics: otlpContent(
        encodeOtlpProtobuf(await emRegistry.collect(), otlp),
        "protobuf",
      ),
      OTel: otlpContent(otelProtobuf(await otel.collect()), "protobuf"),
    },
  };
  for (const row of rows) {
    if (!row.case.startsWith("OTLP")) continue;
    const content =
      contents[row.case.startsWith("OTLP JSON") ? "json" : "protobuf"];
    if (!(row.impl in content)) continue;
    const same = content.edgemetrics === content.OTel;
    const points = content[row.impl as keyof typeof content];
    row.detail = { ...row.detail, content: points, sameContent: same };
    if (!same) row.note = `${row.note}; content differs: ${points}`;
  }
  // The floor is only a floor if it writes exactly what edgemetrics writes.
  const identical = renderTextFloor(floor) ===
    encodePrometheusText(await emRegistry.collect());
  for (const row of rows) {
    if (row.impl !== "floor") continue;
    row.detail = { ...row.detail, identicalToEdgemetrics: identical };
    if (!identical) row.note = `${row.note}; output differs from edgemetrics'`;
  }
  return rows;
}
