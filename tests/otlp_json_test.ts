import assert from "node:assert/strict";
import {
  type Clock,
  Counter,
  encodeOtlpJson,
  type MetricFamily,
  OTLP_JSON_CONTENT_TYPE,
  type OtlpEncodeOptions,
  Registry,
} from "@edgemetrics/edgemetrics";
import { OTLP_ALL_KINDS, OTLP_OPTIONS } from "./testdata/otlp_snapshot.ts";

const GOLDEN = new URL("./testdata/otlp_all_kinds.json", import.meta.url);

// deno-lint-ignore no-explicit-any
type Json = any;

function firstMetric(body: string): Json {
  return JSON.parse(body).resourceMetrics[0].scopeMetrics[0].metrics[0];
}

Deno.test("encodeOtlpJson() writes the golden request for every family kind", async () => {
  const body = encodeOtlpJson(OTLP_ALL_KINDS, OTLP_OPTIONS);
  // The golden is pretty-printed for review; raw tokens are checked below.
  const pretty = JSON.stringify(JSON.parse(body), null, 2) + "\n";
  assert.equal(pretty, await Deno.readTextFile(GOLDEN));
  assert.equal(OTLP_JSON_CONTENT_TYPE, "application/json");
});

Deno.test("encodeOtlpJson() follows the OTLP JSON rules: lowerCamelCase, int64 as strings, integer enums, hex ids", () => {
  const request = JSON.parse(
    encodeOtlpJson(OTLP_ALL_KINDS, { ...OTLP_OPTIONS, temporality: "delta" }),
  );
  const INT64_KEYS = new Set([
    "startTimeUnixNano",
    "timeUnixNano",
    "count",
    "intValue",
  ]);
  const seen = new Set<string>();
  function walk(value: Json, key: string, inAttributeKey: boolean): void {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, key, false);
      if (key === "bucketCounts") {
        for (const c of value) {
          assert.match(c, /^[0-9]+$/, "bucketCounts are decimal strings");
        }
      }
      return;
    }
    if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        assert.match(
          k,
          /^[a-z][a-zA-Z]*$/,
          `field name ${k} is lowerCamelCase`,
        );
        seen.add(k);
        walk(v, k, k === "key");
      }
      return;
    }
    if (inAttributeKey) return;
    if (INT64_KEYS.has(key)) {
      assert.equal(typeof value, "string", `${key} is a string`);
      assert.match(value, /^-?[0-9]+$/, `${key} is a decimal integer`);
    }
    if (key === "aggregationTemporality") assert.ok(value === 1 || value === 2);
    if (key === "traceId") assert.match(value, /^[0-9a-f]{32}$/);
    if (key === "spanId") assert.match(value, /^[0-9a-f]{16}$/);
  }
  walk(request, "", false);
  // every rule above was actually exercised
  for (
    const k of [
      "startTimeUnixNano",
      "timeUnixNano",
      "count",
      "intValue",
      "bucketCounts",
      "aggregationTemporality",
      "traceId",
      "spanId",
      "isMonotonic",
      "explicitBounds",
      "quantileValues",
      "filteredAttributes",
    ]
  ) assert.ok(seen.has(k), `the snapshot exercises ${k}`);
  assert.equal(
    request.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .aggregationTemporality,
    1,
  );
});

Deno.test("encodeOtlpJson() writes compact JSON with proto3 tokens for NaN, ±Infinity, -0 and small doubles", () => {
  const families: MetricFamily[] = [{
    type: "gauge",
    name: "temperature_celsius",
    help: "Temperature.",
    unit: "celsius",
    aggregation: "max",
    points: [
      { labels: {}, value: NaN },
      { labels: { k: "v" }, value: Infinity },
      { labels: {}, value: -Infinity },
      { labels: {}, value: -0 },
      { labels: {}, value: 1e-7 },
    ],
  }];
  const body = encodeOtlpJson(families, {
    resource: { "service.name": "t" },
    timeUnixMs: 2_000,
  });
  assert.equal(
    body,
    '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"t"}}]},' +
      '"scopeMetrics":[{"metrics":[{"name":"temperature","description":"Temperature.","unit":"Cel",' +
      '"gauge":{"dataPoints":[' +
      '{"timeUnixNano":"2000000000","asDouble":"NaN"},' +
      '{"attributes":[{"key":"k","value":{"stringValue":"v"}}],"timeUnixNano":"2000000000","asDouble":"Infinity"},' +
      '{"timeUnixNano":"2000000000","asDouble":"-Infinity"},' +
      '{"timeUnixNano":"2000000000","asDouble":-0},' +
      '{"timeUnixNano":"2000000000","asDouble":1e-7}]}}]}]}]}',
  );
  assert.ok(Object.is(firstMetric(body).gauge.dataPoints[3].asDouble, -0));
});

Deno.test("encodeOtlpJson() maps Prometheus unit words to UCUM and passes unknown words through", async (t) => {
  const table: [string | undefined, string | undefined][] = [
    ["seconds", "s"],
    ["milliseconds", "ms"],
    ["microseconds", "us"],
    ["nanoseconds", "ns"],
    ["minutes", "min"],
    ["hours", "h"],
    ["days", "d"],
    ["bytes", "By"],
    ["kibibytes", "KiBy"],
    ["megabytes", "MBy"],
    ["ratio", "1"],
    ["percent", "%"],
    ["celsius", "Cel"],
    ["meters", "m"],
    ["volts", "V"],
    ["amperes", "A"],
    ["joules", "J"],
    ["watts", "W"],
    ["grams", "g"],
    ["hertz", "Hz"],
    ["bytes_per_second", "By/s"],
    ["requests_per_minute", "requests/min"],
    ["widgets", "widgets"],
    [undefined, undefined],
  ];
  for (const [unit, ucum] of table) {
    await t.step(`${unit} → ${ucum}`, () => {
      const family: MetricFamily = {
        type: "gauge",
        name: unit === undefined ? "plain" : `x_${unit}`,
        help: "",
        aggregation: "sum",
        points: [{ labels: {}, value: 1 }],
        ...(unit === undefined ? {} : { unit }),
      };
      const metric = firstMetric(
        encodeOtlpJson([family], { resource: {}, timeUnixMs: 1 }),
      );
      assert.equal(metric.unit, ucum);
      assert.equal(metric.name, unit === undefined ? "plain" : "x");
    });
  }
});

Deno.test("encodeOtlpJson() trims the unit suffix from the name, after the snapshot trimmed _total", async (t) => {
  const table: [name: string, unit: string | undefined, otlpName: string][] = [
    ["http_request_duration_seconds", "seconds", "http_request_duration"],
    ["sent_bytes", "bytes", "sent"], // declared sent_bytes_total
    ["cache_hit_ratio", "ratio", "cache_hit"],
    ["upload_bytes_per_second", "bytes_per_second", "upload"],
    [
      "http_request_duration_seconds",
      undefined,
      "http_request_duration_seconds",
    ],
    ["latency_ms", "seconds", "latency_ms"], // no matching suffix: unchanged
    ["xseconds", "seconds", "xseconds"], // suffix without its underscore
  ];
  for (const [name, unit, otlpName] of table) {
    await t.step(`${name} (${unit}) → ${otlpName}`, () => {
      const family: MetricFamily = {
        type: "counter",
        name,
        help: "",
        points: [{ labels: {}, value: 1, created: 1 }],
        ...(unit === undefined ? {} : { unit }),
      };
      const metric = firstMetric(
        encodeOtlpJson([family], { resource: {}, timeUnixMs: 1 }),
      );
      assert.equal(metric.name, otlpName);
    });
  }
});

Deno.test("encodeOtlpJson() marks sums and histograms delta or cumulative and takes created as the start time", async (t) => {
  const families: MetricFamily[] = [
    {
      type: "counter",
      name: "jobs",
      help: "Jobs.",
      points: [{ labels: {}, value: 2, created: 1_000 }],
    },
    {
      type: "histogram",
      name: "size",
      help: "Sizes.",
      bounds: [1],
      points: [{
        labels: {},
        counts: [1, 1],
        sum: 3,
        count: 2,
        created: 1_500,
      }],
    },
    {
      type: "gauge",
      name: "up",
      help: "Up.",
      aggregation: "max",
      points: [{ labels: {}, value: 1 }],
    },
    {
      type: "summary",
      name: "lag",
      help: "Lag.",
      points: [{ labels: {}, count: 1, sum: 2, created: 1_200, quantiles: [] }],
    },
  ];
  for (
    const [temporality, expected] of [["delta", 1], ["cumulative", 2], [
      undefined,
      2,
    ]] as const
  ) {
    await t.step(`${temporality ?? "default"} → ${expected}`, () => {
      const options: OtlpEncodeOptions = { resource: {}, timeUnixMs: 2_000 };
      if (temporality !== undefined) options.temporality = temporality;
      const metrics = JSON.parse(encodeOtlpJson(families, options))
        .resourceMetrics[0].scopeMetrics[0].metrics;
      assert.deepEqual(
        metrics.map((m: Json) =>
          m.sum?.aggregationTemporality ?? m.histogram?.aggregationTemporality
        ),
        [expected, expected, undefined, undefined],
      );
      assert.deepEqual(
        metrics.map((m: Json) => {
          const point =
            (m.sum ?? m.histogram ?? m.gauge ?? m.summary).dataPoints[0];
          return [point.startTimeUnixNano, point.timeUnixNano];
        }),
        [
          ["1000000000", "2000000000"],
          ["1500000000", "2000000000"],
          [undefined, "2000000000"],
          ["1200000000", "2000000000"],
        ],
      );
    });
  }
});

Deno.test("encodeOtlpJson() writes times as exact nanoseconds, rounding fractional milliseconds to whole microseconds", async (t) => {
  const table: [number, string][] = [
    [1_764_000_000_123.456789, "1764000000123457000"],
    [1_764_000_000_123.4564, "1764000000123456000"],
    [4_102_444_800_000, "4102444800000000000"], // 2100-01-01: beyond 2^53 ns
    [1_700_000_000_000.5, "1700000000000500000"],
    [0.001, "1000"],
    [0, "0"],
    [-5, "0"],
    [NaN, "0"],
  ];
  for (const [ms, nanos] of table) {
    await t.step(`${ms} ms → ${nanos} ns`, () => {
      const metric = firstMetric(encodeOtlpJson(
        [{
          type: "gauge",
          name: "g",
          help: "",
          aggregation: "sum",
          points: [{ labels: {}, value: 1 }],
        }],
        { resource: {}, timeUnixMs: ms },
      ));
      assert.equal(metric.gauge.dataPoints[0].timeUnixNano, nanos);
    });
  }
});

Deno.test("encodeOtlpJson() leaves the scope unset when none is given and skips families without points", () => {
  const body = encodeOtlpJson(
    [
      { type: "counter", name: "empty", help: "No series yet.", points: [] },
      {
        type: "gauge",
        name: "up",
        help: "",
        aggregation: "max",
        points: [{ labels: {}, value: 1 }],
      },
    ],
    { resource: {}, scope: { name: "only-name" }, timeUnixMs: 1 },
  );
  assert.equal(
    body,
    '{"resourceMetrics":[{"resource":{"attributes":[]},"scopeMetrics":[{"scope":{"name":"only-name"},' +
      '"metrics":[{"name":"up","gauge":{"dataPoints":[{"timeUnixNano":"1000000","asDouble":1}]}}]}]}]}',
  );
  assert.equal(
    encodeOtlpJson([], { resource: { "service.name": "s" }, timeUnixMs: 1 }),
    '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"s"}}]},' +
      '"scopeMetrics":[{"metrics":[]}]}]}',
  );
});

Deno.test("encodeOtlpJson() sends a counter declared jobs_processed_total as the monotonic sum jobs_processed", async () => {
  const clock: Clock = { now: () => 1_700_000_000_000, monotonic: () => 0 };
  const registry = new Registry({ clock });
  const jobs = new Counter({
    name: "jobs_processed_total",
    help: "Jobs processed.",
    labelNames: ["queue"] as const,
    registry,
  });
  jobs.inc({ queue: "emails" }, 3);
  const metric = firstMetric(encodeOtlpJson(await registry.collect(), {
    resource: { "service.name": "job" },
    timeUnixMs: 1_700_000_060_000,
  }));
  assert.deepEqual(metric, {
    name: "jobs_processed",
    description: "Jobs processed.",
    sum: {
      dataPoints: [{
        attributes: [{ key: "queue", value: { stringValue: "emails" } }],
        startTimeUnixNano: "1700000000000000000",
        timeUnixNano: "1700000060000000000",
        asDouble: 3,
      }],
      aggregationTemporality: 2,
      isMonotonic: true,
    },
  });
});

Deno.test("encodeOtlpJson() writes numbers that parse back to the same doubles and integers", () => {
  const values = [
    0,
    1,
    9,
    10,
    99,
    12345678,
    99_999_999,
    100_000_000,
    100_000_001,
    123_456_789_012,
    1_700_000_000_000,
    Number.MAX_SAFE_INTEGER,
    2 ** 53 + 2,
    1e21,
    1.5,
    -1,
    -123_456_789_012_345,
    0.1,
    1 / 3,
    5e-324,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
  ];
  const body = encodeOtlpJson(
    [{
      type: "gauge",
      name: "numbers",
      help: "",
      aggregation: "sum",
      points: values.map((value, i) => ({ labels: { i: String(i) }, value })),
    }],
    {
      resource: { big: Number.MAX_SAFE_INTEGER, negative: -42 },
      timeUnixMs: 1,
    },
  );
  const request = JSON.parse(body);
  assert.deepEqual(
    request.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints.map((
      p: Json,
    ) => p.asDouble),
    values,
  );
  for (const value of values) {
    assert.ok(
      body.includes(`"asDouble":${JSON.stringify(value)}}`),
      String(value),
    );
  }
  assert.deepEqual(request.resourceMetrics[0].resource.attributes, [
    { key: "big", value: { intValue: "9007199254740991" } },
    { key: "negative", value: { intValue: "-42" } },
  ]);
});

Deno.test("encodeOtlpJson() escapes strings as JSON.stringify does, a lone surrogate written as U+FFFD", () => {
  let ascii = "";
  for (let c = 0; c < 0x80; c++) ascii += String.fromCharCode(c);
  const strings = [
    ascii,
    "é ß Zürich 東京 😀 \u2028\u2029",
    "lone \ud800 high, lone \udfff low, \udc00\ud83d reversed",
    "",
  ];
  const body = encodeOtlpJson(
    [{
      type: "gauge",
      name: "strings",
      help: strings[0]!,
      aggregation: "sum",
      points: strings.map((s, i) => ({
        labels: { [`k${i}\n"`]: s },
        value: i,
      })),
    }],
    { resource: { [strings[1]!]: strings[2]! }, timeUnixMs: 1 },
  );
  // What a UTF-8 encoder (and so the protobuf encoding) makes of them.
  const replaced = "lone \ufffd high, lone \ufffd low, \ufffd\ufffd reversed";
  const expected = [strings[0]!, strings[1]!, replaced, ""];
  for (const s of expected) {
    assert.ok(body.includes(JSON.stringify(s)), JSON.stringify(s));
  }
  assert.doesNotMatch(body, /\\ud[89a-f]/i);
  const request = JSON.parse(body);
  const metric = request.resourceMetrics[0].scopeMetrics[0].metrics[0];
  assert.equal(metric.description, strings[0]);
  assert.deepEqual(
    metric.gauge.dataPoints.map((
      p: Json,
    ) => [p.attributes[0].key, p.attributes[0].value.stringValue]),
    expected.map((s, i) => [`k${i}\n"`, s]),
  );
  assert.deepEqual(request.resourceMetrics[0].resource.attributes, [
    { key: strings[1], value: { stringValue: replaced } },
  ]);
});

Deno.test("encodeOtlpJson() writes each series' own cached head when only some series are new or restarted between encodings", () => {
  const labels = ["zürich", "東京", "a", "😀", "b"].map((city) =>
    Object.freeze({ city })
  );
  const encode = (points: { i: number; created: number }[]): string =>
    encodeOtlpJson([{
      type: "counter",
      name: "visits",
      help: "",
      points: points.map(({ i, created }) => ({
        labels: labels[i]!,
        value: i,
        created,
      })),
    }], { resource: {}, timeUnixMs: 9_000 });
  const expected = (points: { i: number; created: number }[]): string =>
    '{"resourceMetrics":[{"resource":{"attributes":[]},"scopeMetrics":[{"metrics":[{"name":"visits","sum":{"dataPoints":[' +
    points.map(({ i, created }) =>
      '{"attributes":[{"key":"city","value":{"stringValue":' +
      JSON.stringify(labels[i]!.city) + '}}],"startTimeUnixNano":"' +
      created + '000000","timeUnixNano":"9000000000","asDouble":' + i + "}"
    ).join(",") +
    '],"aggregationTemporality":2,"isMonotonic":true}}]}]}]}';
  const rounds = [
    [{ i: 0, created: 1 }, { i: 1, created: 1 }, { i: 2, created: 1 }],
    // series 1 restarted, 3 is new, 0 moved behind them
    [{ i: 1, created: 2 }, { i: 3, created: 2 }, { i: 2, created: 1 }, {
      i: 0,
      created: 1,
    }],
    // 2 restarted, 4 is new and first
    [{ i: 4, created: 3 }, { i: 1, created: 2 }, { i: 2, created: 3 }, {
      i: 0,
      created: 1,
    }, { i: 3, created: 2 }],
    [{ i: 3, created: 2 }],
  ];
  for (const points of rounds) {
    assert.equal(encode(points), expected(points));
    assert.equal(encode(points), expected(points)); // all from the cache
  }
});

Deno.test("encodeOtlpJson() writes a series' new start time after a reset, and a mutated unfrozen label object's new value", () => {
  const frozen = Object.freeze({ queue: "emails" });
  const unfrozen: Record<string, string> = { queue: "sms" };
  const body = (created: number): Json =>
    JSON.parse(encodeOtlpJson([{
      type: "counter",
      name: "jobs",
      help: "",
      points: [
        { labels: frozen, value: 1, created },
        { labels: unfrozen, value: 2, created },
      ],
    }], { resource: {}, timeUnixMs: 2_000 })).resourceMetrics[0]
      .scopeMetrics[0].metrics[0].sum.dataPoints;
  const first = body(1_000);
  assert.equal(first[0].startTimeUnixNano, "1000000000");
  assert.equal(first[1].attributes[0].value.stringValue, "sms");
  unfrozen.queue = "push";
  const second = body(1_500);
  assert.deepEqual(second[0], {
    attributes: [{ key: "queue", value: { stringValue: "emails" } }],
    startTimeUnixNano: "1500000000",
    timeUnixNano: "2000000000",
    asDouble: 1,
  });
  assert.equal(second[1].attributes[0].value.stringValue, "push");
});

Deno.test("encodeOtlpJsonBytes() writes exactly the UTF-8 bytes of encodeOtlpJson(), in an array no later encoding overwrites", async () => {
  const { encodeOtlpJsonBytes } = await import(
    "../src/encoders/_otlp_json.ts"
  );
  const utf8 = new TextEncoder();
  const expected = utf8.encode(encodeOtlpJson(OTLP_ALL_KINDS, OTLP_OPTIONS));
  const bytes = encodeOtlpJsonBytes(OTLP_ALL_KINDS, OTLP_OPTIONS);
  assert.deepEqual(bytes, expected);
  // Later encodings, by text (which reuses a buffer) and by bytes, leave
  // the array handed out before as it was.
  const other: MetricFamily[] = [{
    type: "counter",
    name: "messungen",
    help: "Messungen in °C, über 💡 gezählt.",
    points: [{ labels: { raum: "küche" }, value: 21.5, created: 1_000 }],
  }];
  const text = encodeOtlpJson(other, OTLP_OPTIONS);
  const again = encodeOtlpJsonBytes(other, OTLP_OPTIONS);
  assert.deepEqual(again, utf8.encode(text));
  assert.deepEqual(bytes, expected);
  assert.equal(
    encodeOtlpJson(OTLP_ALL_KINDS, OTLP_OPTIONS),
    new TextDecoder().decode(bytes),
  );
});

Deno.test("encodeOtlpJson() writes from its cached heads exactly what it writes for uncached labels, as series restart, move and share a label object across kinds", () => {
  const shared = ["a", "b", "c", "d"].map((id) => Object.freeze({ id }));
  const snapshot = (round: number): MetricFamily[] => [
    {
      type: "counter",
      name: "hits",
      help: "",
      // series 1 restarts in round 1, midway through the metric
      points: shared.map((labels, i) => ({
        labels,
        value: i + round,
        created: i === 1 && round > 0 ? 5_000 : 1_000,
      })),
    },
    {
      type: "gauge",
      name: "level",
      help: "",
      aggregation: "max",
      // the counter's label objects, moved: a gauge's head has no start time
      points: [...shared].reverse().map((labels) => ({ labels, value: 0.5 })),
    },
    {
      type: "histogram",
      name: "latency",
      help: "",
      bounds: [1],
      points: shared.slice(round).map((labels, i) => ({
        labels,
        count: 2,
        sum: 1.5,
        counts: [1, 1],
        created: 2_000 + (i === 0 ? round : 0),
      })),
    },
  ];
  // Unfrozen copies are never cached: their heads are made at every call.
  const uncached = (families: MetricFamily[]): MetricFamily[] =>
    families.map((family) => ({
      ...family,
      points: family.points.map((p) => ({ ...p, labels: { ...p.labels } })),
    })) as MetricFamily[];
  for (let round = 0; round < 3; round++) {
    const families = snapshot(round);
    const expected = encodeOtlpJson(uncached(families), OTLP_OPTIONS);
    assert.equal(encodeOtlpJson(families, OTLP_OPTIONS), expected);
    assert.equal(encodeOtlpJson(families, OTLP_OPTIONS), expected); // cached
    const points = JSON.parse(expected).resourceMetrics[0].scopeMetrics[0]
      .metrics.map((m: Json) => (m.sum ?? m.gauge ?? m.histogram).dataPoints);
    assert.equal(
      points[0][1].startTimeUnixNano,
      round > 0 ? "5000000000" : "1000000000",
    );
    assert.equal(points[1][0].startTimeUnixNano, undefined);
    assert.equal(points[2].length, 4 - round);
  }
});
