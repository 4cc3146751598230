/**
 * Native histograms on the wire, read back by independent decoders: the
 * Prometheus protobuf exposition by protobufjs over client_model's official
 * `metrics.proto`, OTLP by the generated decoder of the official OTLP
 * definitions; and the handler's negotiation of the protobuf format.
 */
import assert from "node:assert/strict";
import { Counter } from "../src/instruments/counter.ts";
import { Gauge } from "../src/instruments/gauge.ts";
import { Histogram } from "../src/instruments/histogram.ts";
import { Summary } from "../src/instruments/summary.ts";
import { Registry } from "../src/registry.ts";
import type { MetricFamily } from "../src/model.ts";
import {
  encodePrometheusProtobuf,
  PROMETHEUS_PROTOBUF_CONTENT_TYPE,
} from "../src/encoders/prometheus_protobuf.ts";
import { encodeOtlpJson } from "../src/encoders/otlp_json.ts";
import { encodeOtlpProtobuf } from "../src/encoders/otlp_protobuf.ts";
import { metricsHandler } from "../src/pull/handler.ts";
import { decodePrometheusProtobuf } from "./_prometheus_decode.ts";
import { decodeOtlpProtobuf, normalizeOtlp } from "./_otlp_decode.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** The Accept header Prometheus 2.42 sends with native histograms enabled. */
const PROMETHEUS_NATIVE_ACCEPT =
  "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/** Expands Prometheus spans and deltas to { index: count }. */
function expand(spans: Json[] | undefined, deltas: number[] | undefined) {
  const out: Record<number, number> = {};
  let index = 0;
  let count = 0;
  let d = 0;
  for (const span of spans ?? []) {
    index += span.offset ?? 0;
    for (let i = 0; i < (span.length ?? 0); i++) {
      count += deltas![d++]!;
      out[index++] = count;
    }
  }
  assert.equal(d, (deltas ?? []).length, "every delta is in a span");
  return out;
}

/** { index: count } of snapshot buckets, in Prometheus numbering (k + 1), zeros left out. */
function prometheusIndexes(b: { offset: number; counts: readonly number[] }) {
  const out: Record<number, number> = {};
  b.counts.forEach((c, i) => {
    if (c !== 0) out[b.offset + i + 1] = c;
  });
  return out;
}

function withoutZeros(buckets: Record<number, number>) {
  return Object.fromEntries(Object.entries(buckets).filter(([, c]) => c !== 0));
}

async function everyKind(): Promise<MetricFamily[]> {
  const registry = new Registry();
  new Counter({ name: "jobs_total", help: "Jobs.", registry }).inc(3, {
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  });
  new Gauge({ name: "depth", help: "Depth.", registry }).set(-2.5);
  const summary = new Summary({
    name: "size_bytes",
    help: "Sizes.",
    unit: "bytes",
    percentiles: [0.5],
    registry,
  });
  summary.observe(10);
  const classic = new Histogram({
    name: "classic_seconds",
    help: "Classic.",
    buckets: [0.1, 1],
    registry,
  });
  classic.observe(0.05);
  classic.observe(5, { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" });
  const both = new Histogram({
    name: "both_seconds",
    help: "Both.",
    labelNames: ["route"] as const,
    buckets: [0.1, 1],
    native: { scale: 20 },
    registry,
  });
  // Within 1..1.2: the scale comes down from 20 to 9 only, finer than 8.
  for (const v of [0, 1.01, 1.02, 1.05, 1.1, 1.15, 1.19, -1.1]) {
    both.observe({ route: "/a" }, v);
  }
  new Histogram({ name: "empty_seconds", help: "", native: true, registry })
    .labels();
  new Histogram({
    name: "empty_exact_seconds",
    help: "",
    native: { zeroThreshold: 0 },
    registry,
  }).labels();
  return await registry.collect();
}

Deno.test("encodePrometheusProtobuf() carries every kind, decoded by protobufjs over client_model's metrics.proto", async () => {
  const families = await everyKind();
  const decoded = decodePrometheusProtobuf(encodePrometheusProtobuf(families));
  const byName = Object.fromEntries(decoded.map((f) => [f.name, f])) as Json;
  assert.deepEqual(decoded.map((f) => [f.name, f.type]), [
    ["jobs_total", "COUNTER"],
    ["depth", "GAUGE"],
    ["size_bytes", "SUMMARY"],
    ["classic_seconds", "HISTOGRAM"],
    ["both_seconds", "HISTOGRAM"],
    ["empty_seconds", "HISTOGRAM"],
    ["empty_exact_seconds", "HISTOGRAM"],
  ]);
  const counter = byName.jobs_total.metric[0].counter;
  assert.equal(counter.value, 3);
  assert.deepEqual(counter.exemplar.label, [{
    name: "trace_id",
    value: "4bf92f3577b34da6a3ce929d0e0e4736",
  }]);
  assert.ok(counter.created_timestamp.seconds > 1_600_000_000);
  assert.equal(byName.depth.metric[0].gauge.value, -2.5);
  assert.equal(byName.size_bytes.unit, "bytes");
  assert.deepEqual(byName.size_bytes.metric[0].summary.quantile, [{
    quantile: 0.5,
    value: 10,
  }]);
  const classic = byName.classic_seconds.metric[0].histogram;
  assert.deepEqual(
    classic.bucket.map((b: Json) => [b.upper_bound, b.cumulative_count]),
    [[0.1, 1], [1, 1], [Infinity, 2]], // +Inf written for its exemplar
  );
  assert.equal(classic.bucket[2].exemplar.value, 5);
  assert.equal(classic.schema, undefined, "a classic histogram has no schema");

  const both = byName.both_seconds.metric[0];
  assert.deepEqual(both.label, [{ name: "route", value: "/a" }]);
  const h = both.histogram;
  assert.equal(h.sample_count, 8);
  assert.equal(h.sample_sum, 0 + 1.01 + 1.02 + 1.05 + 1.1 + 1.15 + 1.19 - 1.1);
  assert.equal(h.bucket.length, 2, "the classic buckets are kept");
  const snapshot = (families[4] as Json).points[0].native;
  assert.equal(snapshot.schema, 9, "recorded at scale 20, downscaled to 9");
  assert.equal(h.schema, 8, "shown at schema 8, the finest Prometheus takes");
  const at8 = { ...snapshot };
  const down = (b: Json) => {
    const out: Record<number, number> = {};
    b.counts.forEach((c: number, i: number) => {
      const k = ((b.offset + i) >> 1) + 1;
      out[k] = (out[k] ?? 0) + c;
    });
    return withoutZeros(out);
  };
  assert.deepEqual(
    withoutZeros(expand(h.positive_span, h.positive_delta)),
    down(at8.positive),
  );
  assert.deepEqual(
    withoutZeros(expand(h.negative_span, h.negative_delta)),
    down(at8.negative),
  );
  assert.equal(h.zero_count, 1);
  assert.equal(h.zero_threshold, 2 ** -128, "client_golang's default");

  const empty = byName.empty_seconds.metric[0].histogram;
  assert.equal(empty.sample_count, 0);
  // Native with nothing in it: a zero threshold above 0 says so, or, with
  // a threshold of 0, the empty span.
  assert.equal(empty.zero_threshold, 2 ** -128);
  assert.equal(empty.positive_span, undefined);
  const exact = byName.empty_exact_seconds.metric[0].histogram;
  assert.equal(exact.zero_threshold, 0);
  assert.deepEqual(exact.positive_span, [{}], "the empty span marks it native");
});

Deno.test("encodePrometheusProtobuf() numbers buckets as Prometheus does (upper bound base^k) and splits spans at gaps", async () => {
  const histogram = new Histogram({
    name: "x",
    help: "",
    native: { scale: 0 },
    registry: null,
  });
  // schema 0: 1 → bucket 0 (0.5, 1]; 2 → 1 (1, 2]; 3 → 2 (2, 4]; 1000 → 10
  for (const v of [1, 2, 3, 3, 1000]) histogram.observe(v);
  const family = await histogram.collect();
  const [decoded] = decodePrometheusProtobuf(
    encodePrometheusProtobuf([family]),
  );
  const h = (decoded as Json).metric[0].histogram;
  assert.equal(h.schema, 0, "schema 0 is written: proto2 has presence");
  assert.deepEqual(h.positive_span, [{ offset: 0, length: 3 }, {
    offset: 7,
    length: 1,
  }]);
  assert.deepEqual(h.positive_delta, [1, 0, 1, -1]);
  assert.deepEqual(
    expand(h.positive_span, h.positive_delta),
    prometheusIndexes(family.points[0]!.native!.positive),
  );
});

Deno.test("encodeOtlpProtobuf() and encodeOtlpJson() write native histograms as ExponentialHistogram, decoded by the official OTLP decoder", async () => {
  const families = await everyKind();
  for (const temporality of ["cumulative", "delta"] as const) {
    const options = {
      resource: { "service.name": "t" },
      timeUnixMs: 1_700_000_000_000,
      temporality,
    };
    const decoded: Json = decodeOtlpProtobuf(
      encodeOtlpProtobuf(families, options),
    );
    const json = JSON.parse(encodeOtlpJson(families, options));
    assert.deepEqual(normalizeOtlp(decoded), normalizeOtlp(json));
    const metrics = decoded.resourceMetrics[0].scopeMetrics[0].metrics;
    const exp = metrics.find((m: Json) => m.name === "both_seconds")
      .exponentialHistogram;
    assert.equal(exp.aggregationTemporality, temporality === "delta" ? 1 : 2);
    const p = exp.dataPoints[0];
    const native = (families[4] as Json).points[0].native;
    assert.equal(p.scale, 9);
    assert.equal(p.count, "8");
    assert.equal(p.zeroCount, "1");
    assert.equal(p.positive.offset, native.positive.offset);
    assert.deepEqual(
      p.positive.bucketCounts,
      native.positive.counts.map(String),
    );
    assert.equal(p.negative.offset, native.negative.offset);
    assert.deepEqual(
      p.negative.bucketCounts,
      native.negative.counts.map(String),
    );
    assert.equal(p.min, -1.1);
    assert.equal(p.max, 1.19);
    assert.deepEqual(p.attributes, [{
      key: "route",
      value: { stringValue: "/a" },
    }]);
    // the classic-only histogram stays an explicit-bucket one
    assert.ok(
      metrics.find((m: Json) => m.name === "classic_seconds").histogram,
    );
  }
});

Deno.test("OTLP ExponentialHistogram points keep count = zero count + buckets and leave out the sum after NaN or ±Inf; Prometheus still counts them", async () => {
  const registry = new Registry();
  const h = new Histogram({
    name: "odd_seconds",
    help: "",
    native: true,
    registry,
  });
  h.observe(0);
  h.observe(0.5);
  h.observe(NaN);
  h.observe(Infinity);
  h.observe(-Infinity);
  const clean = new Histogram({
    name: "clean_seconds",
    help: "",
    native: true,
    registry,
  });
  clean.observe(0.5);
  const families = await registry.collect();
  const options = { resource: {}, timeUnixMs: 1_700_000_000_000 };
  const decoded: Json = decodeOtlpProtobuf(
    encodeOtlpProtobuf(families, options),
  );
  const json = JSON.parse(encodeOtlpJson(families, options));
  assert.deepEqual(normalizeOtlp(decoded), normalizeOtlp(json));
  const point = (body: Json, name: string) =>
    body.resourceMetrics[0].scopeMetrics[0].metrics.find((m: Json) =>
      m.name === name
    ).exponentialHistogram.dataPoints[0];
  for (const body of [decoded, json]) {
    const odd = point(body, "odd_seconds");
    assert.equal(odd.count, "2"); // the zero bucket and 0.5's bucket
    assert.equal(odd.zeroCount, "1");
    assert.equal(odd.sum, undefined);
    const fine = point(body, "clean_seconds");
    assert.equal(fine.count, "1");
    assert.equal(fine.sum, 0.5);
  }
  // Prometheus' native rule: count and sum take them, no bucket does.
  const [odd] = decodePrometheusProtobuf(
    encodePrometheusProtobuf(families),
  ) as Json[];
  assert.equal(Number(odd.metric[0].histogram.sample_count), 5);
  assert.ok(Number.isNaN(odd.metric[0].histogram.sample_sum));
});

Deno.test("metricsHandler() serves protobuf to Prometheus with native histograms, text to everyone else", async () => {
  const registry = new Registry();
  const histogram = new Histogram({
    name: "x",
    help: "",
    native: true,
    registry,
  });
  histogram.observe(1.5);
  const handler = metricsHandler(registry);
  const get = (accept?: string) =>
    handler(
      new Request("http://localhost/metrics", {
        headers: accept === undefined ? {} : { Accept: accept },
      }),
    );
  for (
    const accept of [
      // Prometheus 2.42's own header with native histograms enabled.
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
      "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
    ]
  ) {
    const r = await get(accept);
    assert.equal(
      r.headers.get("Content-Type"),
      PROMETHEUS_PROTOBUF_CONTENT_TYPE,
    );
    await r.body?.cancel();
  }
  const response = await get(PROMETHEUS_NATIVE_ACCEPT);
  assert.equal(
    response.headers.get("Content-Type"),
    PROMETHEUS_PROTOBUF_CONTENT_TYPE,
  );
  const [family] = decodePrometheusProtobuf(
    new Uint8Array(await response.arrayBuffer()),
  );
  assert.equal((family as Json).metric[0].histogram.sample_count, 1);
  for (
    const accept of [
      undefined,
      "*/*",
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.2,text/plain;version=0.0.4;q=0.5",
    ]
  ) {
    const r = await get(accept);
    assert.match(
      r.headers.get("Content-Type")!,
      /^text\/plain/,
      String(accept),
    );
    await r.body?.cancel();
  }
  const off = await metricsHandler(registry, { protobuf: false })(
    new Request("http://localhost/", {
      headers: { Accept: PROMETHEUS_NATIVE_ACCEPT },
    }),
  );
  assert.match(off.headers.get("Content-Type")!, /^text\/plain/);
  await off.body?.cancel();
  const gz = await handler(
    new Request("http://localhost/", {
      headers: { Accept: PROMETHEUS_NATIVE_ACCEPT, "Accept-Encoding": "gzip" },
    }),
  );
  assert.equal(gz.headers.get("Content-Encoding"), "gzip");
  const unzipped = new Uint8Array(
    await new Response(gz.body!.pipeThrough(new DecompressionStream("gzip")))
      .arrayBuffer(),
  );
  assert.equal(decodePrometheusProtobuf(unzipped).length, 1);
});

Deno.test("encodePrometheusProtobuf() keeps each series' labels right across expositions, as series come and go (label bytes cached per series)", async () => {
  const registry = new Registry();
  const counter = new Counter({
    name: "a_total",
    help: "",
    labelNames: ["x", "y"] as const,
    registry,
  });
  const labelsOf = async () =>
    decodePrometheusProtobuf(encodePrometheusProtobuf(await registry.collect()))
      .flatMap((f: Json) =>
        f.metric.map((m: Json) =>
          m.label.map((l: Json) => `${l.name}=${l.value}`).join(",")
        )
      );
  counter.inc({ x: "1", y: "é" });
  counter.inc({ x: "2", y: "b" });
  assert.deepEqual(await labelsOf(), ["x=1,y=é", "x=2,y=b"]);
  counter.inc({ x: "3", y: "" });
  counter.remove({ x: "1", y: "é" });
  assert.deepEqual(await labelsOf(), ["x=2,y=b", "x=3,y="]);
  assert.deepEqual(await labelsOf(), ["x=2,y=b", "x=3,y="]);
});

Deno.test("encodePrometheusProtobuf() re-encodes a cached series' created timestamp when it changes, and per kind", () => {
  const labels = Object.freeze({ job: "a" });
  const snapshot = (created: number): MetricFamily[] => [
    {
      type: "counter",
      name: "c",
      help: "",
      points: [{ labels, value: 1, created }],
    },
    {
      type: "summary",
      name: "s",
      help: "",
      points: [{ labels, count: 1, sum: 2, created, quantiles: [] }],
    },
  ];
  for (const created of [1_700_000_000_250, 1_700_000_001_500, 0]) {
    const [counter, summary] = decodePrometheusProtobuf(
      encodePrometheusProtobuf(snapshot(created)),
    ) as Json[];
    const expected = created === 0 ? undefined : {
      seconds: Math.floor(created / 1000),
      nanos: (created % 1000) * 1e6,
    };
    assert.deepEqual(counter.metric[0].counter.created_timestamp, expected);
    assert.deepEqual(summary.metric[0].summary.created_timestamp, expected);
    assert.deepEqual(counter.metric[0].label, [{ name: "job", value: "a" }]);
  }
});
