/**
 * An independent check of W4's OTLP ratios, like for like: every sample is a
 * fresh process that holds one implementation only (its registry, nothing of
 * the other libraries on its heap), records the W4 registry, warms up, and
 * times its own exposition; edgemetrics and OTel processes alternate, and a
 * figure is the median over processes of each process's median. Each
 * process decodes its body (JSON by `JSON.parse`, protobuf by the official
 * generated decoder) and reports what it holds, so the two sides are shown
 * to carry the same metrics and points.
 *
 *     deno run -A bench/otlp_like_for_like.ts                 # JSON and protobuf, 5 pairs each
 *     deno run -A bench/otlp_like_for_like.ts --format=json --pairs=7
 *
 * Two timings per process, as in W4: from live state (`collect()`, then
 * encode to bytes) and from a snapshot taken before (encode only). The OTel
 * side collects through a `MetricReader` attached to its `MeterProvider`
 * (cardinality limit lifted, as edgemetrics' `maxSeries: Infinity`) and
 * serializes with `@opentelemetry/otlp-transformer`, as its OTLP/HTTP
 * exporter does.
 *
 * @module
 */

import {
  encodeOtlpJson,
  encodeOtlpProtobuf,
  type MetricFamily,
  type OtlpEncodeOptions,
} from "../mod.ts";
import { encodeOtlpJsonBytes } from "../src/encoders/_otlp_json.ts";
import {
  BUCKETS,
  labelSets,
  latencies,
  METHODS,
  routes,
  statuses,
} from "./data.ts";
import { median } from "./harness.ts";
import { otelJson, otelProtobuf, otelSetup } from "./peers.ts";
import { w4Registry } from "./w4_registry.ts";
import { otlpContent } from "./otlp_content.ts";

type Impl = "edgemetrics" | "OTel";
type Format = "json" | "protobuf";

/** What one process measured. */
interface ChildResult {
  /** Median ms of collect + encode to bytes. */
  exposeMs: number;
  /** Median ms of encode to bytes from a snapshot taken before. */
  encodeMs: number;
  /**
   * edgemetrics JSON only: as `encodeMs`, through the public string API,
   * `TextEncoder` after `encodeOtlpJson` (what a user who wants bytes
   * without `OtlpExporter` writes).
   */
  publicMs?: number | undefined;
  bytes: number;
  /** What the body holds, decoded (see {@linkcode content}). */
  content: string;
}

const WARMUP_MS = 2_000;
const TIMED = 9;

/** The OTel SDK with the W4 registry's records: as `w4Registry()`, through a meter. */
function otelW4() {
  const otel = otelSetup(Infinity);
  const counterSets = labelSets({
    method: METHODS,
    route: routes(125),
    status: statuses(10),
  });
  for (let f = 0; f < 10; f++) {
    const counter = otel.meter.createCounter(`bench_requests_${f}_total`, {
      description: `Requests handled by shard ${f}.`,
    });
    counterSets.forEach((set, i) => counter.add((i % 97) + 1, set));
  }
  const histogramSets = labelSets({ method: METHODS, route: routes(250) });
  const values = latencies(histogramSets.length * 3, 4);
  for (let f = 0; f < 5; f++) {
    const histogram = otel.meter.createHistogram(`bench_latency_${f}_seconds`, {
      description: `Request latency of shard ${f}.`,
      advice: { explicitBucketBoundaries: [...BUCKETS] },
    });
    histogramSets.forEach((set, i) => {
      for (let k = 0; k < 3; k++) histogram.record(values[i * 3 + k]!, set);
    });
  }
  return otel;
}

/** Times `run` after a warm-up; the median of {@linkcode TIMED} runs, in ms. */
async function time(run: () => Promise<unknown> | unknown): Promise<number> {
  const end = performance.now() + WARMUP_MS;
  do await run(); while (performance.now() < end);
  const samples: number[] = [];
  for (let i = 0; i < TIMED; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/** One process: one implementation, one format. */
async function child(impl: Impl, format: Format): Promise<ChildResult> {
  let expose: () => Promise<Uint8Array>;
  let encode: () => Uint8Array;
  let viaString: (() => Uint8Array) | undefined;
  if (impl === "edgemetrics") {
    const registry = w4Registry();
    const options: OtlpEncodeOptions = {
      resource: { "service.name": "bench" },
      timeUnixMs: 1_700_000_000_000,
    };
    const write = format === "json" ? encodeOtlpJsonBytes : encodeOtlpProtobuf;
    expose = async () => write(await registry.collect(), options);
    const snapshot: MetricFamily[] = await registry.collect();
    encode = () => write(snapshot, options);
    if (format === "json") {
      const utf8 = new TextEncoder();
      viaString = () => utf8.encode(encodeOtlpJson(snapshot, options));
    }
  } else {
    const otel = otelW4();
    const write = format === "json" ? otelJson : otelProtobuf;
    expose = async () => write(await otel.collect());
    const snapshot = await otel.collect();
    encode = () => write(snapshot);
  }
  const exposeMs = await time(expose);
  const encodeMs = await time(encode);
  const publicMs = viaString === undefined ? undefined : await time(viaString);
  const body = await expose();
  return {
    exposeMs,
    encodeMs,
    publicMs,
    bytes: body.length,
    content: otlpContent(body, format),
  };
}

async function spawn(impl: Impl, format: Format): Promise<ChildResult> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-lock",
      new URL(import.meta.url).pathname,
      `--child=${impl}`,
      `--format=${format}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot time ${impl} ${format}: the process exited ${code}: ${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

const arg = (name: string) =>
  Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

if (arg("child") !== undefined) {
  const result = await child(arg("child") as Impl, arg("format") as Format);
  console.log(JSON.stringify(result));
} else {
  const pairs = Number(arg("pairs") ?? 5);
  const formats: Format[] = arg("format") === undefined
    ? ["json", "protobuf"]
    : [arg("format") as Format];
  for (const format of formats) {
    const results: Record<Impl, ChildResult[]> = { edgemetrics: [], OTel: [] };
    for (let p = 0; p < pairs; p++) {
      // Alternate which goes first, so neither always follows the other.
      const order: Impl[] = p % 2 === 0
        ? ["edgemetrics", "OTel"]
        : ["OTel", "edgemetrics"];
      for (const impl of order) results[impl].push(await spawn(impl, format));
    }
    const em = results.edgemetrics;
    const otel = results.OTel;
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(" ");
    for (const key of ["exposeMs", "encodeMs"] as const) {
      const ours = median(em.map((r) => r[key]));
      const theirs = median(otel.map((r) => r[key]));
      const pairRatios = em.map((r, i) => otel[i]![key] / r[key]);
      console.log(
        `${format} ${
          key === "exposeMs" ? "collect + encode" : "encode only"
        }: ` +
          `edgemetrics ${ours.toFixed(1)} ms [${
            fmt(em.map((r) => r[key]))
          }], ` +
          `OTel ${theirs.toFixed(1)} ms [${fmt(otel.map((r) => r[key]))}], ` +
          `ratio ${(theirs / ours).toFixed(2)}× ` +
          `(per pair ${Math.min(...pairRatios).toFixed(2)}…${
            Math.max(...pairRatios).toFixed(2)
          }×)`,
      );
    }
    if (format === "json") {
      const viaString = median(em.map((r) => r.publicMs!));
      console.log(
        `json encode only, edgemetrics through the public string API ` +
          `(TextEncoder after encodeOtlpJson): ${viaString.toFixed(1)} ms, ` +
          `ratio ${
            (median(otel.map((r) => r.encodeMs)) / viaString).toFixed(2)
          }×`,
      );
    }
    const contents = new Set([...em, ...otel].map((r) => r.content));
    console.log(
      `${format} bodies: edgemetrics ${em[0]!.bytes} bytes, OTel ${
        otel[0]!.bytes
      } bytes; ` +
        (contents.size === 1
          ? `same content: ${em[0]!.content}`
          : `CONTENT DIFFERS: ${[...contents].join(" | ")}`),
    );
  }
}
