import assert from "node:assert/strict";
import {
  encodeOtlpJson,
  encodeOtlpProtobuf,
  type MetricFamily,
  OTLP_PROTOBUF_CONTENT_TYPE,
  type OtlpEncodeOptions,
} from "@edgemetrics/edgemetrics";
import { decodeOtlpProtobuf, normalizeOtlp } from "./_otlp_decode.ts";
import { OTLP_ALL_KINDS, OTLP_OPTIONS } from "./testdata/otlp_snapshot.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** Asserts the protobuf, decoded independently, says what the JSON says. */
function assertSameAsJson(
  families: readonly MetricFamily[],
  options: OtlpEncodeOptions,
): Json {
  const decoded = decodeOtlpProtobuf(encodeOtlpProtobuf(families, options));
  const json = JSON.parse(encodeOtlpJson(families, options));
  assert.deepEqual(normalizeOtlp(decoded), normalizeOtlp(json));
  return decoded;
}

function points(decoded: Json, metric = 0): Json[] {
  const m = decoded.resourceMetrics[0].scopeMetrics[0].metrics[metric];
  return (m.sum ?? m.gauge ?? m.histogram ?? m.summary).dataPoints;
}

Deno.test("encodeOtlpProtobuf() decodes with the official generated decoder to the same request as encodeOtlpJson()", async (t) => {
  assert.equal(OTLP_PROTOBUF_CONTENT_TYPE, "application/x-protobuf");
  await t.step("cumulative, with scope", () => {
    const decoded = assertSameAsJson(OTLP_ALL_KINDS, OTLP_OPTIONS);
    // the comparison saw real content, not two empty objects
    const metrics = decoded.resourceMetrics[0].scopeMetrics[0].metrics;
    assert.deepEqual(
      metrics.map((m: Json) => [m.name, Object.keys(m).at(-1)]),
      [
        ["http_requests", "sum"],
        ["queue_depth", "gauge"],
        ["cache_hit", "gauge"],
        ["http_request_duration", "histogram"],
        ["batch_size", "histogram"],
        ["payload", "summary"],
        ["gc_pause", "summary"],
      ],
    );
    assert.equal(decoded.resourceMetrics[0].resource.attributes.length, 7);
    assert.deepEqual(decoded.resourceMetrics[0].scopeMetrics[0].scope, {
      name: "@edgemetrics/edgemetrics",
      version: "0.1.0",
    });
  });
  await t.step("delta", () => {
    const decoded = assertSameAsJson(OTLP_ALL_KINDS, {
      ...OTLP_OPTIONS,
      temporality: "delta",
    });
    assert.equal(
      decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
        .aggregationTemporality,
      1,
    );
  });
  await t.step("without scope", () => {
    const { scope: _, ...options } = OTLP_OPTIONS;
    const decoded = assertSameAsJson(OTLP_ALL_KINDS, options);
    assert.equal(decoded.resourceMetrics[0].scopeMetrics[0].scope, undefined);
  });
});

Deno.test("encodeOtlpProtobuf() writes every field with its OTLP wire type and value", () => {
  const decoded = decodeOtlpProtobuf(
    encodeOtlpProtobuf(OTLP_ALL_KINDS, OTLP_OPTIONS),
  ) as Json;
  const resource = decoded.resourceMetrics[0].resource.attributes;
  assert.deepEqual(resource.slice(3), [
    { key: "process.pid", value: { intValue: "4242" } },
    { key: "process.offset", value: { intValue: "-7" } },
    { key: "sample.rate", value: { doubleValue: 0.5 } },
    { key: "feature.enabled", value: { boolValue: true } },
  ]);
  const [counter] = points(decoded, 0);
  assert.deepEqual(counter, {
    attributes: [
      { key: "method", value: { stringValue: "GET" } },
      { key: "status", value: { stringValue: "200" } },
    ],
    startTimeUnixNano: "1700000000000250000",
    timeUnixNano: "1700000060000000000",
    asDouble: 1027,
    exemplars: [{
      filteredAttributes: [{ key: "user", value: { stringValue: "u-1" } }],
      timeUnixNano: "1700000059123457000",
      asDouble: 1,
      spanId: [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7],
      traceId: [
        0x4b,
        0xf9,
        0x2f,
        0x35,
        0x77,
        0xb3,
        0x4d,
        0xa6,
        0xa3,
        0xce,
        0x92,
        0x9d,
        0x0e,
        0x0e,
        0x47,
        0x36,
      ],
    }],
  });
  const [histogram] = points(decoded, 3);
  assert.deepEqual(histogram.bucketCounts, ["3", "5", "10", "2", "0", "1"]);
  assert.deepEqual(histogram.explicitBounds, [0.05, 0.1, 0.3, 1, 2.5]);
  assert.equal(histogram.count, "21");
  assert.equal(histogram.sum, 4.75);
  const [summary] = points(decoded, 5);
  assert.deepEqual(summary.quantileValues, [
    { quantile: 0.5, value: 512 },
    { quantile: 0.9, value: 1000 },
    { quantile: 0.99, value: "NaN" },
  ]);
});

Deno.test("encodeOtlpProtobuf() keeps NaN, ±Infinity and -0 as IEEE 754 doubles", () => {
  const decoded = decodeOtlpProtobuf(
    encodeOtlpProtobuf(OTLP_ALL_KINDS, OTLP_OPTIONS),
  ) as Json;
  const gauge = points(decoded, 1).map((p: Json) => p.asDouble);
  assert.deepEqual(gauge, [7, "NaN", "Infinity", "-Infinity", -0, 1e-7]);
  assert.ok(Object.is(gauge[4], -0));
});

Deno.test("encodeOtlpProtobuf() writes the minimal request byte for byte in field order", () => {
  const bytes = encodeOtlpProtobuf(
    [{
      type: "gauge",
      name: "up",
      help: "",
      aggregation: "max",
      points: [{ labels: {}, value: 1 }],
    }],
    { resource: {}, timeUnixMs: 0 },
  );
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(
    " ",
  );
  assert.equal(
    hex,
    [
      "0a 17", // ExportMetricsServiceRequest.resource_metrics (1, LEN 23)
      "0a 00", //   ResourceMetrics.resource (1, LEN 0): no attributes
      "12 13", //   ResourceMetrics.scope_metrics (2, LEN 19)
      "12 11", //     ScopeMetrics.metrics (2, LEN 17)
      "0a 02 75 70", //   Metric.name (1) "up"
      "2a 0b", //         Metric.gauge (5, LEN 11)
      "0a 09", //           Gauge.data_points (1, LEN 9)
      "21 00 00 00 00 00 00 f0 3f", // NumberDataPoint.as_double (4, I64) 1.0
    ].join(" "),
  );
});

Deno.test("encodeOtlpProtobuf() writes times as exact fixed64 nanoseconds", async (t) => {
  const table: [number, string][] = [
    [1_764_000_000_123.456789, "1764000000123457000"],
    [4_102_444_800_000, "4102444800000000000"],
    [1, "1000000"],
    [0.001, "1000"],
  ];
  for (const [ms, nanos] of table) {
    await t.step(`${ms} ms → ${nanos} ns`, () => {
      const decoded = decodeOtlpProtobuf(encodeOtlpProtobuf(
        [{
          type: "counter",
          name: "c",
          help: "",
          points: [{ labels: {}, value: 1, created: ms }],
        }],
        { resource: {}, timeUnixMs: ms },
      ));
      const [point] = points(decoded);
      assert.equal(point.timeUnixNano, nanos);
      assert.equal(point.startTimeUnixNano, nanos);
    });
  }
});

Deno.test("encodeOtlpProtobuf() grows its buffer for 20,000 series with long unicode labels", () => {
  const long = "Zürich 東京 😀 ".repeat(20);
  const family: MetricFamily = {
    type: "histogram",
    name: "latency_seconds",
    help: "Latency.",
    unit: "seconds",
    bounds: [0.1, 0.5, 1],
    points: Array.from({ length: 20_000 }, (_, i) => ({
      labels: { route: `/r/${i}`, note: long },
      counts: [i, 1, 2, 3],
      sum: i * 0.5,
      count: i + 6,
      created: 1_700_000_000_000 + i,
    })),
  };
  const decoded = assertSameAsJson([family], OTLP_OPTIONS);
  const all = points(decoded);
  assert.equal(all.length, 20_000);
  assert.deepEqual(all[19_999].attributes[0], {
    key: "route",
    value: { stringValue: "/r/19999" },
  });
  assert.equal(all[19_999].attributes[1].value.stringValue, long);
});

Deno.test("encodeOtlpProtobuf() writes a lone surrogate as U+FFFD, like TextEncoder", () => {
  const decoded = decodeOtlpProtobuf(encodeOtlpProtobuf(
    [{
      type: "gauge",
      name: "g",
      help: "half \ud83d pair",
      aggregation: "sum",
      points: [{ labels: { k: "\udc00x😀" }, value: 1 }],
    }],
    { resource: {}, timeUnixMs: 1 },
  )) as Json;
  const metric = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0];
  assert.equal(
    metric.description,
    new TextDecoder().decode(new TextEncoder().encode("half \ud83d pair")),
  );
  assert.equal(metric.description, "half \ufffd pair");
  assert.equal(
    metric.gauge.dataPoints[0].attributes[0].value.stringValue,
    "\ufffdx😀",
  );
});

Deno.test("encodeOtlpProtobuf() and encodeOtlpJson() both write a lone surrogate as U+FFFD, wherever a string goes", () => {
  const lone = "a\ud800b\udfff";
  const decoded = assertSameAsJson(
    [{
      type: "counter",
      name: "c" + lone,
      help: "help " + lone,
      unit: lone,
      points: [{
        labels: { ["k" + lone]: "v" + lone },
        value: 1,
        created: 1,
        exemplar: {
          labels: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", note: lone },
          value: 1,
          timestamp: 2,
        },
      }],
    }],
    {
      resource: { ["r" + lone]: "s" + lone },
      scope: { name: "n" + lone, version: "1" + lone },
      timeUnixMs: 3,
    },
  );
  const fixed = "a\ufffdb\ufffd";
  const scope = decoded.resourceMetrics[0].scopeMetrics[0];
  const metric = scope.metrics[0];
  const point = metric.sum.dataPoints[0];
  assert.deepEqual(
    [
      decoded.resourceMetrics[0].resource.attributes[0],
      scope.scope,
      metric.name,
      metric.description,
      point.attributes[0],
      point.exemplars[0].filteredAttributes[0],
    ],
    [
      { key: "r" + fixed, value: { stringValue: "s" + fixed } },
      { name: "n" + fixed, version: "1" + fixed },
      "c" + fixed,
      "help " + fixed,
      { key: "k" + fixed, value: { stringValue: "v" + fixed } },
      { key: "note", value: { stringValue: fixed } },
    ],
  );
});

Deno.test("encodeOtlpProtobuf() encodes an empty snapshot as the resource and an empty scope", () => {
  const decoded = assertSameAsJson([], {
    resource: { "service.name": "idle" },
    timeUnixMs: 1,
  });
  assert.deepEqual(decoded, {
    resourceMetrics: [{
      resource: {
        attributes: [{ key: "service.name", value: { stringValue: "idle" } }],
      },
      scopeMetrics: [{}],
    }],
  });
});

Deno.test("encodeOtlpProtobuf() and encodeOtlpJson() agree on counts and times beyond 2^53 and clamp them to fixed64", () => {
  const families: MetricFamily[] = [{
    type: "histogram",
    name: "huge",
    help: "",
    bounds: [1, 2, 3],
    points: [{
      labels: {},
      counts: [2 ** 60, 2 ** 53 + 2, 1e30, Infinity],
      sum: 1e30,
      count: 2 ** 63,
      created: 1e13, // year 2286: 1e19 ns, beyond 2^63
    }],
  }];
  const decoded = assertSameAsJson(families, {
    resource: {},
    timeUnixMs: 2e13,
  }); // past 2^64 ns: unset
  const [point] = points(decoded);
  assert.deepEqual(point.bucketCounts, [
    "1152921504606846976",
    "9007199254740994",
    "18446744073709549568",
    "18446744073709549568",
  ]);
  assert.equal(point.count, "9223372036854775808");
  assert.equal(point.startTimeUnixNano, "10000000000000000000");
  assert.equal(point.timeUnixNano, undefined);
});

Deno.test("encodeOtlpProtobuf() writes each series' own cached attributes as series come, go, move and change kind between encodings", () => {
  const labels = ["zürich", "東京", "a", "😀", "b"].map((city) =>
    Object.freeze({ city })
  );
  // One snapshot of frozen label objects (cached), and the same with fresh
  // unfrozen copies (never cached): the bytes must be equal.
  const families = (
    counter: number[],
    histogram: number[],
    fresh: boolean,
  ): MetricFamily[] => {
    const of = (i: number) => fresh ? { ...labels[i]! } : labels[i]!;
    return [{
      type: "counter",
      name: "visits",
      help: "",
      points: counter.map((i) => ({ labels: of(i), value: i, created: i })),
    }, {
      type: "histogram",
      name: "stay_seconds",
      help: "",
      bounds: [1],
      points: histogram.map((i) => ({
        labels: of(i),
        counts: [i, 1],
        sum: i,
        count: i + 1,
        created: 1,
      })),
    }];
  };
  const rounds: [number[], number[]][] = [
    [[0, 1, 2], []],
    [[1, 3, 2, 0], [4]], // 3 new, 0 moved behind; 4 first as a histogram
    [[4], [0, 1]], // 4 now a counter, 0 and 1 now histogram series
    [[3, 2, 1, 0, 4], [2, 3]],
    [[], [4, 3, 2, 1, 0]],
  ];
  for (const [counter, histogram] of rounds) {
    const expected = encodeOtlpProtobuf(
      families(counter, histogram, true),
      OTLP_OPTIONS,
    );
    for (let again = 0; again < 2; again++) {
      assert.deepEqual(
        encodeOtlpProtobuf(families(counter, histogram, false), OTLP_OPTIONS),
        expected,
      );
    }
    assertSameAsJson(families(counter, histogram, false), OTLP_OPTIONS);
  }
});
