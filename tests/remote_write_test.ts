/**
 * The remote write encoders, decoded by protobufjs against the schema the
 * specifications publish (see `_remote_write_decode.ts`) and checked
 * against the specifications' rules: complete sorted labels with
 * `__name__`, one sample per series, exemplars, metadata; for 2.0 the
 * symbol table (`""` first, each string once) and valid label references.
 */
import assert from "node:assert/strict";
import {
  encodeRemoteWrite,
  encodeRemoteWriteV2,
  type MetricFamily,
  REMOTE_WRITE_CONTENT_TYPE,
  REMOTE_WRITE_V2_CONTENT_TYPE,
} from "@edgemetrics/edgemetrics";
import {
  decodeWriteRequest,
  decodeWriteRequestV2,
} from "./_remote_write_decode.ts";
import { countSeries, flattenSeries } from "../src/encoders/_remote_write.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const T = 1_700_000_000_123;
const CREATED = 1_699_999_000_000;
const TRACE = {
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  span_id: "00f067aa0ba902b7",
};

const SNAPSHOT: MetricFamily[] = [
  {
    type: "counter",
    name: "http_requests",
    help: "Requests.",
    points: [
      {
        labels: { status: "200", method: "GET", job: "own" },
        value: 42,
        created: CREATED,
        exemplar: { labels: TRACE, value: 1, timestamp: T - 5 },
      },
    ],
  },
  {
    type: "gauge",
    name: "queue_depth",
    help: "",
    aggregation: "sum",
    points: [{ labels: { Queue: "emails", empty: "" }, value: -3.5 }],
  },
  {
    type: "histogram",
    name: "latency_seconds",
    help: "Latency.",
    unit: "seconds",
    bounds: [0.1, 1],
    points: [{
      labels: { route: "/a" },
      counts: [1, 2, 3],
      sum: 12.5,
      count: 6,
      created: CREATED,
      exemplars: [null, { labels: TRACE, value: 0.7, timestamp: T - 9 }, null],
    }],
  },
  {
    type: "summary",
    name: "payload_bytes",
    help: "Payloads.",
    points: [{
      labels: {},
      count: 2,
      sum: 300,
      created: CREATED,
      quantiles: [{ quantile: 0.5, value: 100 }],
    }],
  },
];

const OPTIONS = { timestampMs: T, job: "batch", instance: "host-1" };

/** A label list as name=value text, for readable comparisons. */
function text(labels: Json[]): string {
  return labels.map((l: Json) => `${l.name}=${l.value ?? ""}`).join(",");
}

Deno.test("encodeRemoteWrite() decodes with protobufjs to every series a scrape would give, labels sorted with __name__, job and instance", () => {
  assert.equal(REMOTE_WRITE_CONTENT_TYPE, "application/x-protobuf");
  const requests = encodeRemoteWrite(SNAPSHOT, OPTIONS);
  assert.equal(requests.length, 1);
  const decoded = decodeWriteRequest(requests[0]!);
  const job = "instance=host-1,job=batch";
  assert.deepEqual(
    decoded.timeseries.map((s: Json) => [
      text(s.labels),
      s.samples.map((x: Json) => [x.value, x.timestamp]),
    ]),
    [
      [
        `__name__=http_requests_total,exported_job=own,${job},method=GET,status=200`,
        [[42, T]],
      ],
      // "Queue" sorts before "__name__" (byte order); the empty label is gone
      [`Queue=emails,__name__=queue_depth,${job}`, [[-3.5, T]]],
      [`__name__=latency_seconds_bucket,${job},le=0.1,route=/a`, [[1, T]]],
      [`__name__=latency_seconds_bucket,${job},le=1.0,route=/a`, [[3, T]]],
      [`__name__=latency_seconds_bucket,${job},le=+Inf,route=/a`, [[6, T]]],
      [`__name__=latency_seconds_sum,${job},route=/a`, [[12.5, T]]],
      [`__name__=latency_seconds_count,${job},route=/a`, [[6, T]]],
      [`__name__=payload_bytes,${job},quantile=0.5`, [[100, T]]],
      [`__name__=payload_bytes_sum,${job}`, [[300, T]]],
      [`__name__=payload_bytes_count,${job}`, [[2, T]]],
    ],
  );
  // Exemplars ride on the counter and on the bucket they fell in.
  const exemplars = decoded.timeseries.map((s: Json) =>
    (s.exemplars ?? []).map((e: Json) => [text(e.labels), e.value, e.timestamp])
  );
  assert.deepEqual(exemplars[0], [[
    `span_id=${TRACE.span_id},trace_id=${TRACE.trace_id}`,
    1,
    T - 5,
  ]]);
  assert.deepEqual(exemplars[3], [[
    `span_id=${TRACE.span_id},trace_id=${TRACE.trace_id}`,
    0.7,
    T - 9,
  ]]);
  assert.equal(exemplars.flat().length, 2);
  assert.deepEqual(decoded.metadata, [
    {
      type: "COUNTER",
      metricFamilyName: "http_requests_total",
      help: "Requests.",
    },
    { type: "GAUGE", metricFamilyName: "queue_depth" },
    {
      type: "HISTOGRAM",
      metricFamilyName: "latency_seconds",
      help: "Latency.",
      unit: "seconds",
    },
    { type: "SUMMARY", metricFamilyName: "payload_bytes", help: "Payloads." },
  ]);
});

Deno.test("encodeRemoteWrite() writes NaN and infinities as IEEE doubles and splits into batches of maxSeriesPerRequest with their metadata", () => {
  const gauge = (name: string, value: number): MetricFamily => ({
    type: "gauge",
    name,
    help: name,
    aggregation: "sum",
    points: [{ labels: {}, value }],
  });
  const snapshot = [
    gauge("a", NaN),
    gauge("b", Infinity),
    gauge("c", -Infinity),
  ];
  const requests = encodeRemoteWrite(snapshot, {
    timestampMs: T,
    maxSeriesPerRequest: 2,
  });
  assert.equal(requests.length, 2);
  const [first, second] = requests.map(decodeWriteRequest);
  assert.ok(Number.isNaN(first.timeseries[0].samples[0].value));
  assert.equal(first.timeseries[1].samples[0].value, Infinity);
  assert.equal(second.timeseries[0].samples[0].value, -Infinity);
  assert.deepEqual(first.metadata.map((m: Json) => m.metricFamilyName), [
    "a",
    "b",
  ]);
  assert.deepEqual(second.metadata.map((m: Json) => m.metricFamilyName), ["c"]);
  assert.deepEqual(encodeRemoteWrite([], { timestampMs: T }), []);
  assert.throws(
    () =>
      encodeRemoteWrite(snapshot, { timestampMs: T, maxSeriesPerRequest: 0 }),
    RangeError,
  );
});

/** Resolves 2.0 references and checks the spec's rules on the way. */
function resolveV2(request: Json): Json[] {
  const symbols: string[] = request.symbols;
  assert.equal(symbols[0], "", "the symbol table starts with the empty string");
  assert.equal(new Set(symbols).size, symbols.length, "each symbol once");
  const used = new Set<number>([0]);
  const resolve = (refs: number[] = []): string[] => {
    assert.equal(refs.length % 2, 0, "labels_refs come in name/value pairs");
    const names: string[] = [];
    const pairs: string[] = [];
    for (let i = 0; i < refs.length; i += 2) {
      for (const ref of [refs[i]!, refs[i + 1]!]) {
        assert.ok(ref < symbols.length, `ref ${ref} within the symbol table`);
        used.add(ref);
      }
      names.push(symbols[refs[i]!]!);
      assert.notEqual(symbols[refs[i]!], "", "a label name is never empty");
      pairs.push(`${symbols[refs[i]!]}=${symbols[refs[i + 1]!]}`);
    }
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(names, sorted, "labels sorted by name");
    assert.equal(new Set(names).size, names.length, "label names unique");
    return pairs;
  };
  const series = request.timeseries.map((s: Json) => {
    const labels = resolve(s.labelsRefs);
    assert.ok(
      labels.some((l) => l.startsWith("__name__=")),
      "__name__ present",
    );
    const { metadata } = s;
    for (const ref of [metadata.helpRef ?? 0, metadata.unitRef ?? 0]) {
      assert.ok(ref < symbols.length);
      used.add(ref);
    }
    return {
      labels: labels.join(","),
      samples: s.samples.map((x: Json) => [x.value, x.timestamp]),
      type: metadata.type,
      help: symbols[metadata.helpRef ?? 0],
      unit: symbols[metadata.unitRef ?? 0],
      created: s.createdTimestamp,
      exemplars: (s.exemplars ?? []).map((e: Json) => [
        resolve(e.labelsRefs).join(","),
        e.value,
        e.timestamp,
      ]),
    };
  });
  assert.equal(used.size, symbols.length, "no symbol is unused");
  return series;
}

Deno.test('encodeRemoteWriteV2() decodes with protobufjs; symbols start with "", every reference resolves, labels sorted, metadata inline, created timestamps', () => {
  assert.equal(
    REMOTE_WRITE_V2_CONTENT_TYPE,
    "application/x-protobuf;proto=io.prometheus.write.v2.Request",
  );
  const requests = encodeRemoteWriteV2(SNAPSHOT, OPTIONS);
  assert.equal(requests.length, 1);
  const series = resolveV2(decodeWriteRequestV2(requests[0]!));
  // The same series, in the same order, as 1.0 sends.
  const v1 = decodeWriteRequest(encodeRemoteWrite(SNAPSHOT, OPTIONS)[0]!);
  assert.deepEqual(
    series.map((s) => s.labels),
    v1.timeseries.map((s: Json) =>
      s.labels.map((l: Json) => `${l.name}=${l.value}`).join(",")
    ),
  );
  assert.deepEqual(
    series.map((s) => s.samples),
    v1.timeseries.map((s: Json) =>
      s.samples.map((x: Json) => [x.value, x.timestamp])
    ),
  );
  const trace = `span_id=${TRACE.span_id},trace_id=${TRACE.trace_id}`;
  assert.deepEqual(series[0], {
    labels:
      "__name__=http_requests_total,exported_job=own,instance=host-1,job=batch,method=GET,status=200",
    samples: [[42, T]],
    type: "METRIC_TYPE_COUNTER",
    help: "Requests.",
    unit: "",
    created: CREATED,
    exemplars: [[trace, 1, T - 5]],
  });
  assert.deepEqual(series[1], {
    labels: "Queue=emails,__name__=queue_depth,instance=host-1,job=batch",
    samples: [[-3.5, T]],
    type: "METRIC_TYPE_GAUGE",
    help: "",
    unit: "",
    created: undefined, // gauges have no start
    exemplars: [],
  });
  assert.deepEqual(
    series.slice(2, 7).map((s) => [s.type, s.help, s.unit, s.created]),
    Array(5).fill(["METRIC_TYPE_HISTOGRAM", "Latency.", "seconds", CREATED]),
  );
  assert.deepEqual(series[3]!.exemplars, [[trace, 0.7, T - 9]]);
  assert.deepEqual(
    series.slice(7).map((s) => [s.labels, s.type, s.created]),
    [
      [
        "__name__=payload_bytes,instance=host-1,job=batch,quantile=0.5",
        "METRIC_TYPE_SUMMARY",
        CREATED,
      ],
      [
        "__name__=payload_bytes_sum,instance=host-1,job=batch",
        "METRIC_TYPE_SUMMARY",
        CREATED,
      ],
      [
        "__name__=payload_bytes_count,instance=host-1,job=batch",
        "METRIC_TYPE_SUMMARY",
        CREATED,
      ],
    ],
  );
});

Deno.test("encodeRemoteWriteV2() gives each batch its own symbol table, so every request stands alone", () => {
  const requests = encodeRemoteWriteV2(SNAPSHOT, {
    ...OPTIONS,
    maxSeriesPerRequest: 3,
  });
  assert.equal(requests.length, 4); // 10 series
  const all = requests.flatMap((bytes) =>
    resolveV2(decodeWriteRequestV2(bytes))
  );
  const whole = resolveV2(
    decodeWriteRequestV2(encodeRemoteWriteV2(SNAPSHOT, OPTIONS)[0]!),
  );
  assert.deepEqual(all, whole);
});

Deno.test("encodeRemoteWrite() is a pure function: the same snapshot and options give the same bytes", () => {
  const a = encodeRemoteWrite(SNAPSHOT, OPTIONS);
  const b = encodeRemoteWrite(structuredClone(SNAPSHOT), OPTIONS);
  assert.deepEqual(a, b);
  assert.deepEqual(
    encodeRemoteWriteV2(SNAPSHOT, OPTIONS),
    encodeRemoteWriteV2(SNAPSHOT, OPTIONS),
  );
});

Deno.test("encodeRemoteWrite() sorts a frozen label set once and still follows the job and instance of each call", () => {
  const labels = Object.freeze({ b: "2", a: "1" });
  const snapshot: MetricFamily[] = [{
    type: "gauge",
    name: "g",
    help: "",
    aggregation: "sum",
    points: [{ labels, value: 1 }],
  }];
  const labelsWith = (options: { job?: string; instance?: string }) =>
    text(
      decodeWriteRequest(
        encodeRemoteWrite(snapshot, { timestampMs: T, ...options })[0]!,
      ).timeseries[0].labels,
    );
  assert.equal(labelsWith({ job: "x" }), "__name__=g,a=1,b=2,job=x");
  assert.equal(labelsWith({ instance: "x" }), "__name__=g,a=1,b=2,instance=x");
  assert.equal(labelsWith({}), "__name__=g,a=1,b=2");
  assert.equal(labelsWith({ job: "x" }), "__name__=g,a=1,b=2,job=x");
});

Deno.test("countSeries() counts the series flattenSeries() makes, for every kind", () => {
  assert.equal(countSeries(SNAPSHOT), 10);
  assert.equal(countSeries(SNAPSHOT), flattenSeries(SNAPSHOT, OPTIONS).length);
  assert.equal(countSeries([]), 0);
});

/** A native histogram's buckets from spans and deltas: Prometheus index → count. */
function nativeBuckets(
  spans: readonly { offset?: number; length?: number }[] | undefined,
  deltas: readonly number[] | undefined,
): Map<number, number> {
  const out = new Map<number, number>();
  let index = 0;
  let count = 0;
  let d = 0;
  for (const span of spans ?? []) {
    index += span.offset ?? 0;
    for (let i = 0; i < (span.length ?? 0); i++) {
      count += deltas![d++]!;
      if (count !== 0) out.set(index, count);
      index++;
    }
  }
  assert.equal(d, (deltas ?? []).length, "one delta per bucket in the spans");
  return out;
}

/** The snapshot's buckets of one sign, numbered as Prometheus does (k + 1). */
function expected(offset: number, counts: readonly number[]) {
  const out = new Map<number, number>();
  counts.forEach((c, i) => c !== 0 && out.set(offset + i + 1, c));
  return out;
}

const NATIVE_ONLY: MetricFamily[] = [{
  type: "histogram",
  name: "rpc_seconds",
  help: "RPC latency.",
  unit: "seconds",
  bounds: [],
  points: [{
    labels: { path: "/a" },
    counts: [7],
    sum: 12.5,
    count: 7,
    created: CREATED,
    exemplars: [{ labels: TRACE, value: 4, timestamp: T - 5 }],
    native: {
      schema: 0,
      zeroThreshold: 1e-128,
      zeroCount: 1,
      // a gap of three empty buckets: two spans
      positive: { offset: -1, counts: [1, 0, 0, 0, 2, 0, 1] },
      negative: { offset: 2, counts: [1] },
      min: -5,
      max: 4,
    },
  }],
}];

Deno.test("encodeRemoteWrite() sends a native-only histogram as one native histogram series under its name, spans and deltas matching the buckets", () => {
  const requests = encodeRemoteWrite(NATIVE_ONLY, { timestampMs: T, job: "j" });
  assert.equal(requests.length, 1);
  const decoded = decodeWriteRequest(requests[0]!);
  assert.equal(decoded.timeseries.length, 1, "no _bucket, _sum, _count");
  const ts = decoded.timeseries[0];
  assert.deepEqual(ts.labels, [
    { name: "__name__", value: "rpc_seconds" },
    { name: "job", value: "j" },
    { name: "path", value: "/a" },
  ]);
  assert.deepEqual(ts.samples, [], "no sample");
  assert.equal(ts.histograms.length, 1);
  const h = ts.histograms[0];
  assert.equal(h.countInt, 7);
  assert.equal(h.sum, 12.5);
  assert.equal(h.schema ?? 0, 0);
  assert.equal(h.zeroThreshold, 1e-128);
  assert.equal(h.zeroCountInt, 1);
  assert.equal(h.timestamp, T);
  assert.equal(h.resetHint ?? "UNKNOWN", "UNKNOWN");
  assert.deepEqual(h.positiveSpans, [{ offset: 0, length: 1 }, {
    offset: 3,
    length: 3,
  }]);
  assert.deepEqual(h.positiveDeltas, [1, 1, -2, 1]);
  const native = NATIVE_ONLY[0]!.type === "histogram"
    ? NATIVE_ONLY[0]!.points[0]!.native!
    : undefined!;
  assert.deepEqual(
    nativeBuckets(h.positiveSpans, h.positiveDeltas),
    expected(native.positive.offset, native.positive.counts),
  );
  assert.deepEqual(
    nativeBuckets(h.negativeSpans, h.negativeDeltas),
    expected(native.negative.offset, native.negative.counts),
  );
  assert.equal(ts.exemplars[0].value, 4, "the exemplar goes with the series");
  assert.deepEqual(decoded.metadata, [{
    type: "HISTOGRAM",
    metricFamilyName: "rpc_seconds",
    help: "RPC latency.",
    unit: "seconds",
  }]);
});

Deno.test("encodeRemoteWrite() sends a histogram with classic and native buckets as both, and a schema above 8 at 8 exactly", async () => {
  const { Histogram } = await import("../src/instruments/histogram.ts");
  const h = new Histogram({
    name: "both_seconds",
    help: "",
    buckets: [0.1, 1],
    native: true,
    registry: null,
  });
  for (const v of [0.05, 0.3, 0.3, 2, -1, 0]) h.observe(v);
  const family = await h.collect();
  const fine: MetricFamily = {
    type: "histogram",
    name: "fine_seconds",
    help: "",
    bounds: [],
    points: [{
      labels: {},
      counts: [9],
      sum: 20,
      count: 9,
      created: 0,
      native: {
        schema: 10,
        zeroThreshold: 0,
        zeroCount: 0,
        // indices 4..8 at schema 10 are 1,1,1,1,2 at schema 8
        positive: { offset: 4, counts: [1, 1, 1, 1, 5] },
        negative: { offset: 0, counts: [] },
        min: 1,
        max: 2,
      },
    }],
  };
  const decoded = decodeWriteRequest(
    encodeRemoteWrite([family, fine], { timestampMs: T })[0]!,
  );
  const names = decoded.timeseries.map((s: Json) =>
    s.labels[0].value + (s.histograms.length > 0 ? " (native)" : "")
  );
  assert.deepEqual(names, [
    "both_seconds (native)",
    "both_seconds_bucket",
    "both_seconds_bucket",
    "both_seconds_bucket",
    "both_seconds_sum",
    "both_seconds_count",
    "fine_seconds (native)",
  ]);
  const both = decoded.timeseries[0].histograms[0];
  const point = family.type === "histogram" ? family.points[0]! : undefined!;
  assert.equal(both.countInt, 6);
  assert.equal(both.sum, 1.65);
  assert.equal(both.zeroCountInt, point.native!.zeroCount);
  assert.deepEqual(
    nativeBuckets(both.positiveSpans, both.positiveDeltas),
    expected(point.native!.positive.offset, point.native!.positive.counts),
  );
  assert.deepEqual(
    nativeBuckets(both.negativeSpans, both.negativeDeltas),
    expected(point.native!.negative.offset, point.native!.negative.counts),
  );
  const f = decoded.timeseries[6].histograms[0];
  assert.equal(f.schema, 8);
  assert.deepEqual(
    nativeBuckets(f.positiveSpans, f.positiveDeltas),
    new Map([[2, 4], [3, 5]]),
  );
  assert.equal(
    countSeries([family, fine]),
    flattenSeries([family, fine], OPTIONS).length,
  );
  assert.equal(countSeries(NATIVE_ONLY), 1);
});

Deno.test("encodeRemoteWriteV2() sends native histograms in TimeSeries.histograms with inline metadata and created timestamp", () => {
  const [request] = encodeRemoteWriteV2(NATIVE_ONLY, { timestampMs: T });
  const decoded = decodeWriteRequestV2(request!);
  assert.equal(decoded.timeseries.length, 1);
  const ts = decoded.timeseries[0];
  const labels = ts.labelsRefs.map((r: number) => decoded.symbols[r]);
  assert.deepEqual(labels, ["__name__", "rpc_seconds", "path", "/a"]);
  assert.deepEqual(ts.samples, [], "no sample");
  assert.equal(ts.metadata.type, "METRIC_TYPE_HISTOGRAM");
  assert.equal(decoded.symbols[ts.metadata.unitRef], "seconds");
  assert.equal(ts.createdTimestamp, CREATED);
  const h = ts.histograms[0];
  assert.equal(h.countInt, 7);
  assert.equal(h.sum, 12.5);
  assert.equal(h.zeroCountInt, 1);
  assert.equal(h.timestamp, T);
  const native = NATIVE_ONLY[0]!.type === "histogram"
    ? NATIVE_ONLY[0]!.points[0]!.native!
    : undefined!;
  assert.deepEqual(
    nativeBuckets(h.positiveSpans, h.positiveDeltas),
    expected(native.positive.offset, native.positive.counts),
  );
  assert.deepEqual(
    nativeBuckets(h.negativeSpans, h.negativeDeltas),
    expected(native.negative.offset, native.negative.counts),
  );
  assert.deepEqual(
    ts.exemplars[0].labelsRefs.map((r: number) => decoded.symbols[r]),
    ["span_id", TRACE.span_id, "trace_id", TRACE.trace_id],
  );
});
