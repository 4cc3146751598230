import assert from "node:assert/strict";
import {
  encodeOpenMetrics,
  OPENMETRICS_CONTENT_TYPE,
} from "../src/encoders/openmetrics.ts";
import { formatCanonical } from "../src/encoders/_text.ts";
import { encodePrometheusText } from "../src/encoders/prometheus_text.ts";
import type { MetricFamily } from "../src/model.ts";
import {
  ALL_KINDS,
  HOSTILE_VALUES,
  unescapeLabelValue,
} from "./testdata/text_snapshots.ts";

Deno.test("OPENMETRICS_CONTENT_TYPE is OpenMetrics text 1.0.0 in UTF-8", () => {
  assert.equal(
    OPENMETRICS_CONTENT_TYPE,
    "application/openmetrics-text; version=1.0.0; charset=utf-8",
  );
});

Deno.test("encodeOpenMetrics() encodes an empty snapshot as # EOF alone", () => {
  assert.equal(encodeOpenMetrics([]), "# EOF\n");
});

Deno.test("encodeOpenMetrics() names a counter family without _total and its samples with _total and _created", () => {
  const text = encodeOpenMetrics([{
    type: "counter",
    name: "jobs_processed",
    help: "Jobs processed.",
    points: [
      { labels: {}, value: 3, created: 1_520_430_000_123 },
    ],
  }]);
  assert.equal(
    text,
    `# TYPE jobs_processed counter
# HELP jobs_processed Jobs processed.
jobs_processed_total 3
jobs_processed_created 1520430000.123
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() writes # UNIT between TYPE and HELP when a unit is declared", () => {
  const text = encodeOpenMetrics([{
    type: "counter",
    name: "process_cpu_seconds",
    help: "CPU time.",
    unit: "seconds",
    points: [{ labels: { mode: "user" }, value: 4.5, created: 0 }],
  }]);
  assert.equal(
    text,
    `# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds CPU time.
process_cpu_seconds_total{mode="user"} 4.5
process_cpu_seconds_created{mode="user"} 0
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() writes a counter exemplar after the _total sample, timestamp in seconds", () => {
  const text = encodeOpenMetrics([{
    type: "counter",
    name: "http_requests",
    help: "Requests.",
    points: [{
      labels: { route: "/orders/{id}" },
      value: 7,
      created: 1_700_000_000_000,
      exemplar: {
        labels: {
          trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
          span_id: "00f067aa0ba902b7",
        },
        value: 1,
        timestamp: 1_700_000_123_456,
      },
    }],
  }]);
  assert.equal(
    text,
    `# TYPE http_requests counter
# HELP http_requests Requests.
http_requests_total{route="/orders/{id}"} 7 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 1 1700000123.456
http_requests_created{route="/orders/{id}"} 1700000000
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() leaves out _created samples when options.created is false", () => {
  const families: MetricFamily[] = [
    {
      type: "counter",
      name: "jobs",
      help: "Jobs.",
      points: [{ labels: {}, value: 1, created: 5_000 }],
    },
    {
      type: "histogram",
      name: "latency_seconds",
      help: "Latency.",
      bounds: [1],
      points: [{
        labels: {},
        counts: [1, 0],
        sum: 0.5,
        count: 1,
        created: 5_000,
      }],
    },
    {
      type: "summary",
      name: "size_bytes",
      help: "Sizes.",
      points: [{ labels: {}, count: 1, sum: 3, created: 5_000, quantiles: [] }],
    },
  ];
  assert.equal(
    encodeOpenMetrics(families, { created: false }),
    `# TYPE jobs counter
# HELP jobs Jobs.
jobs_total 1
# TYPE latency_seconds histogram
# HELP latency_seconds Latency.
latency_seconds_bucket{le="1.0"} 1
latency_seconds_bucket{le="+Inf"} 1
latency_seconds_count 1
latency_seconds_sum 0.5
# TYPE size_bytes summary
# HELP size_bytes Sizes.
size_bytes_count 1
size_bytes_sum 3
# EOF
`,
  );
  // The default writes them.
  assert.equal(
    encodeOpenMetrics(families).match(/_created \S+$/gm)?.join("|"),
    "_created 5|_created 5|_created 5",
  );
  assert.equal(encodeOpenMetrics(families, {}), encodeOpenMetrics(families));
  assert.equal(
    encodeOpenMetrics(families, { created: true }),
    encodeOpenMetrics(families),
  );
});

Deno.test("encodeOpenMetrics() writes gauges plainly, ignoring their aggregation", () => {
  const text = encodeOpenMetrics([{
    type: "gauge",
    name: "queue_depth",
    help: "Jobs waiting.",
    aggregation: "all",
    points: [
      { labels: {}, value: 17 },
      { labels: { queue: "sms" }, value: NaN },
    ],
  }]);
  assert.equal(
    text,
    `# TYPE queue_depth gauge
# HELP queue_depth Jobs waiting.
queue_depth 17
queue_depth{queue="sms"} NaN
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() makes histogram buckets cumulative with exemplars on the buckets they belong to", () => {
  const text = encodeOpenMetrics([{
    type: "histogram",
    name: "foo",
    help: "",
    bounds: [0.01, 0.1, 1, 10],
    points: [{
      labels: {},
      counts: [0, 8, 3, 6, 0],
      sum: 324789.3,
      count: 17,
      created: 1_520_430_000_123,
      exemplars: [
        null,
        { labels: {}, value: 0.054, timestamp: 1_520_879_607_789 },
        { labels: { trace_id: "KOO5S4vxi0o" }, value: 0.67, timestamp: 0 },
        {
          labels: { trace_id: "oHg5SJYRHA0" },
          value: 9.8,
          timestamp: 1_520_879_607_789,
        },
        null,
      ],
    }],
  }]);
  assert.equal(
    text,
    `# TYPE foo histogram
foo_bucket{le="0.01"} 0
foo_bucket{le="0.1"} 8 # {} 0.054 1520879607.789
foo_bucket{le="1.0"} 11 # {trace_id="KOO5S4vxi0o"} 0.67 0
foo_bucket{le="10.0"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() leaves out _sum and _count of a histogram with a negative bound, as the spec requires, and keeps them otherwise", () => {
  const families: MetricFamily[] = [{
    type: "histogram",
    name: "offset_seconds",
    help: "",
    bounds: [-1, 0, 1],
    points: [{
      labels: { host: "a" },
      counts: [1, 0, 1, 1],
      sum: 0.5,
      count: 3,
      created: 1_700_000_000_000,
    }],
  }, {
    type: "histogram",
    name: "size_bytes",
    help: "",
    bounds: [0, 1],
    points: [{ labels: {}, counts: [1, 0, 0], sum: 0, count: 1, created: 0 }],
  }];
  const expected = `# TYPE offset_seconds histogram
offset_seconds_bucket{host="a",le="-1.0"} 1
offset_seconds_bucket{host="a",le="0.0"} 1
offset_seconds_bucket{host="a",le="1.0"} 2
offset_seconds_bucket{host="a",le="+Inf"} 3
offset_seconds_created{host="a"} 1700000000
# TYPE size_bytes histogram
size_bytes_bucket{le="0.0"} 1
size_bytes_bucket{le="1.0"} 1
size_bytes_bucket{le="+Inf"} 1
size_bytes_count 1
size_bytes_sum 0
size_bytes_created 0
# EOF
`;
  assert.equal(encodeOpenMetrics(families), expected);
  // Twice: the second encoding reads the cached series text.
  assert.equal(encodeOpenMetrics(families), expected);
});

Deno.test("encodeOpenMetrics() leaves out a negative or NaN _sum of a histogram (with its _count) or summary (keeping its _count): the spec makes sums counters", () => {
  const families: MetricFamily[] = [{
    type: "histogram",
    name: "drift_seconds",
    help: "",
    bounds: [0, 1],
    points: [
      {
        labels: { host: "a" },
        counts: [2, 0, 0],
        sum: -0.5,
        count: 2,
        created: 0,
      },
      {
        labels: { host: "b" },
        counts: [0, 1, 0],
        sum: NaN,
        count: 1,
        created: 0,
      },
      {
        labels: { host: "c" },
        counts: [0, 1, 0],
        sum: 0.5,
        count: 1,
        created: 0,
      },
    ],
  }, {
    type: "summary",
    name: "delta_seconds",
    help: "",
    points: [
      { labels: { host: "a" }, count: 1, sum: -2, created: 0, quantiles: [] },
      { labels: { host: "b" }, count: 1, sum: 2, created: 0, quantiles: [] },
    ],
  }];
  const expected = `# TYPE drift_seconds histogram
drift_seconds_bucket{host="a",le="0.0"} 2
drift_seconds_bucket{host="a",le="1.0"} 2
drift_seconds_bucket{host="a",le="+Inf"} 2
drift_seconds_bucket{host="b",le="0.0"} 0
drift_seconds_bucket{host="b",le="1.0"} 1
drift_seconds_bucket{host="b",le="+Inf"} 1
drift_seconds_bucket{host="c",le="0.0"} 0
drift_seconds_bucket{host="c",le="1.0"} 1
drift_seconds_bucket{host="c",le="+Inf"} 1
drift_seconds_count{host="c"} 1
drift_seconds_sum{host="c"} 0.5
# TYPE delta_seconds summary
delta_seconds_count{host="a"} 1
delta_seconds_count{host="b"} 1
delta_seconds_sum{host="b"} 2
# EOF
`;
  assert.equal(encodeOpenMetrics(families, { created: false }), expected);
  assert.equal(encodeOpenMetrics(families, { created: false }), expected);
});

Deno.test("encodeOpenMetrics() writes the spec's canonical le values", () => {
  const bounds = [0, 1e-5, 1e-4, 0.1, 1, 10, 100_000, 1e6, 1e23, 1.1e23];
  const text = encodeOpenMetrics([{
    type: "histogram",
    name: "foo",
    help: "",
    bounds,
    points: [{
      labels: {},
      counts: [0, 0, 5, 3, 2, 1, 0, 4, 1, 1, 0],
      sum: 324789.3,
      count: 17,
      created: 1_520_430_000_123,
    }],
  }]);
  assert.equal(
    text,
    `# TYPE foo histogram
foo_bucket{le="0.0"} 0
foo_bucket{le="1e-05"} 0
foo_bucket{le="0.0001"} 5
foo_bucket{le="0.1"} 8
foo_bucket{le="1.0"} 10
foo_bucket{le="10.0"} 11
foo_bucket{le="100000.0"} 11
foo_bucket{le="1e+06"} 15
foo_bucket{le="1e+23"} 16
foo_bucket{le="1.1e+23"} 17
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() renders le and quantile values as the spec's Canonical Numbers examples", async (t) => {
  // The two example lists of the OpenMetrics 1.0 "Canonical Numbers" section.
  const examples: [number, string][] = [
    [0, "0.0"],
    [0.001, "0.001"],
    [0.002, "0.002"],
    [0.01, "0.01"],
    [0.1, "0.1"],
    [0.9, "0.9"],
    [0.95, "0.95"],
    [0.99, "0.99"],
    [0.999, "0.999"],
    [1, "1.0"],
    [1.7, "1.7"],
    [10, "10.0"],
    [1e-10, "1e-10"],
    [1e-9, "1e-09"],
    [1e-5, "1e-05"],
    [1e-4, "0.0001"],
    [1e5, "100000.0"],
    [1e6, "1e+06"],
    [1e10, "1e+10"],
    // Beyond the examples: Go's %g rules.
    [1234567, "1.234567e+06"],
    [123456.5, "123456.5"],
    [0.00011, "0.00011"],
    [2.5e-5, "2.5e-05"],
    [1e100, "1e+100"],
    [-2, "-2.0"],
    [-0, "0.0"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [NaN, "NaN"],
  ];
  for (const [value, expected] of examples) {
    await t.step(`${value} → ${expected}`, () => {
      assert.equal(formatCanonical(value), expected);
    });
  }
  // Every value in 0.0 … 10.0 by 0.001 is plain, has a decimal point and
  // round-trips (the range the spec singles out).
  for (let i = 0; i <= 10_000; i++) {
    const value = i / 1000;
    const text = formatCanonical(value);
    assert.match(text, /^\d+\.\d+$/);
    assert.equal(Number(text), value);
  }
});

Deno.test("encodeOpenMetrics() writes summary quantiles, then _count, _sum and _created", () => {
  const text = encodeOpenMetrics([{
    type: "summary",
    name: "rpc_duration_seconds",
    help: "RPC latency.",
    unit: "seconds",
    points: [
      {
        labels: { service: "billing" },
        count: 4,
        sum: 1.25,
        created: 1_700_000_000_000,
        quantiles: [
          { quantile: 0.5, value: 0.2 },
          { quantile: 0.95, value: 0.4 },
          { quantile: 1, value: NaN },
        ],
      },
      {
        labels: { service: "auth" },
        count: 0,
        sum: 0,
        created: 1_700_000_000_000,
        quantiles: [],
      },
    ],
  }]);
  assert.equal(
    text,
    `# TYPE rpc_duration_seconds summary
# UNIT rpc_duration_seconds seconds
# HELP rpc_duration_seconds RPC latency.
rpc_duration_seconds{service="billing",quantile="0.5"} 0.2
rpc_duration_seconds{service="billing",quantile="0.95"} 0.4
rpc_duration_seconds{service="billing",quantile="1.0"} NaN
rpc_duration_seconds_count{service="billing"} 4
rpc_duration_seconds_sum{service="billing"} 1.25
rpc_duration_seconds_created{service="billing"} 1700000000
rpc_duration_seconds_count{service="auth"} 0
rpc_duration_seconds_sum{service="auth"} 0
rpc_duration_seconds_created{service="auth"} 1700000000
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() keeps the metadata of a family without series and leaves out an empty HELP", () => {
  const text = encodeOpenMetrics([
    { type: "counter", name: "errors", help: "Errors.", points: [] },
    { type: "gauge", name: "up", help: "", aggregation: "max", points: [] },
    {
      type: "histogram",
      name: "latency_seconds",
      help: "Latency.",
      unit: "seconds",
      bounds: [1],
      points: [],
    },
  ]);
  assert.equal(
    text,
    `# TYPE errors counter
# HELP errors Errors.
# TYPE up gauge
# TYPE latency_seconds histogram
# UNIT latency_seconds seconds
# HELP latency_seconds Latency.
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() escapes backslash, double quote and line feed in HELP", () => {
  const text = encodeOpenMetrics([{
    type: "gauge",
    name: "temperature_celsius",
    help: 'Path C:\\temp\nsays "hot"',
    aggregation: "sum",
    points: [],
  }]);
  assert.equal(
    text,
    `# TYPE temperature_celsius gauge
# HELP temperature_celsius Path C:\\\\temp\\nsays \\"hot\\"
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() escapes label values of series and exemplars", () => {
  const text = encodeOpenMetrics([{
    type: "counter",
    name: "hostile",
    help: "Hostile.",
    points: [{
      labels: { a: '"} 1\n# EOF\\' },
      value: 1,
      created: 0,
      exemplar: { labels: { trace_id: 'x"}\n' }, value: 1, timestamp: 0 },
    }],
  }]);
  assert.equal(
    text,
    `# TYPE hostile counter
# HELP hostile Hostile.
hostile_total{a="\\"} 1\\n# EOF\\\\"} 1 # {trace_id="x\\"}\\n"} 1 0
hostile_created{a="\\"} 1\\n# EOF\\\\"} 0
# EOF
`,
  );
});

Deno.test("encodeOpenMetrics() never lets a label value start a line, and every value reads back unchanged", () => {
  const text = encodeOpenMetrics([{
    type: "histogram",
    name: "h",
    help: "H.",
    bounds: [1],
    points: HOSTILE_VALUES.map((value) => ({
      labels: { v: value },
      counts: [0, 1],
      sum: 2,
      count: 1,
      created: 0,
      exemplars: [null, { labels: { v: value }, value: 2, timestamp: 0 }],
    })),
  }]);
  const lines = text.split("\n");
  // 2 metadata lines + 5 lines per series + # EOF + the final empty string.
  assert.equal(lines.length, 2 + 5 * HOSTILE_VALUES.length + 2);
  assert.equal(lines.at(-2), "# EOF");
  const quoted = '"((?:[^"\\\\\\n]|\\\\.)*)"';
  const sample = new RegExp(
    `^h_(?:bucket|count|sum|created)\\{v=${quoted}[,}][^#]*(?:# \\{v=${quoted}\\} 2 0)?$`,
  );
  HOSTILE_VALUES.forEach((value, i) => {
    for (let j = 0; j < 5; j++) {
      const line = lines[2 + 5 * i + j]!;
      const match = sample.exec(line);
      assert.ok(match, `line ${JSON.stringify(line)}`);
      assert.equal(unescapeLabelValue(match[1]!), value);
      if (match[2] !== undefined) {
        assert.equal(unescapeLabelValue(match[2]), value);
      }
    }
  });
});

Deno.test("encodeOpenMetrics() matches the golden file for every kind of family", async () => {
  const golden = await Deno.readTextFile(
    new URL("./testdata/all_kinds.om", import.meta.url),
  );
  assert.equal(encodeOpenMetrics(ALL_KINDS), golden);
});

Deno.test("encodeOpenMetrics() leaves out an exemplar with a NUL in a label value, which Prometheus would reject the scrape for", () => {
  const text = encodeOpenMetrics([{
    type: "counter",
    name: "jobs",
    help: "",
    points: [
      {
        labels: { nul: "a\u0000b" },
        value: 1,
        created: 0,
        exemplar: { labels: { trace_id: "x\u0000" }, value: 1, timestamp: 0 },
      },
      {
        labels: {},
        value: 2,
        created: 0,
        exemplar: { labels: { trace_id: "ok" }, value: 1, timestamp: 0 },
      },
    ],
  }]);
  assert.equal(
    text,
    '# TYPE jobs counter\njobs_total{nul="a\u0000b"} 1\njobs_created{nul="a\u0000b"} 0\n' +
      'jobs_total 2 # {trace_id="ok"} 1 0\njobs_created 0\n# EOF\n',
  );
});

Deno.test("encodeOpenMetrics() keeps an exemplar of exactly 128 code points and leaves out a longer one", () => {
  // "trace_id" is 8 code points; each emoji is 1 code point (2 UTF-16 units).
  const exactly = "😀".repeat(120);
  const tooLong = "😀".repeat(121);
  const text = encodeOpenMetrics([{
    type: "counter",
    name: "jobs",
    help: "",
    points: [
      {
        labels: { n: "128" },
        value: 1,
        created: 0,
        exemplar: { labels: { trace_id: exactly }, value: 1, timestamp: 0 },
      },
      {
        labels: { n: "129" },
        value: 1,
        created: 0,
        exemplar: { labels: { trace_id: tooLong }, value: 1, timestamp: 0 },
      },
    ],
  }], { created: false });
  assert.equal(
    text,
    `# TYPE jobs counter\njobs_total{n="128"} 1 # {trace_id="${exactly}"} 1 0\n` +
      `jobs_total{n="129"} 1\n# EOF\n`,
  );
});

Deno.test("encodeOpenMetrics() leaves out a # UNIT that is not the suffix of the family name", () => {
  const text = encodeOpenMetrics([
    {
      type: "gauge",
      name: "queue_depth",
      help: "",
      unit: "seconds",
      aggregation: "sum",
      points: [],
    },
    {
      type: "gauge",
      name: "disk_bytes",
      help: "",
      unit: "bytes",
      aggregation: "sum",
      points: [],
    },
    {
      type: "gauge",
      name: "evil",
      help: "",
      unit: "x\n# EOF",
      aggregation: "sum",
      points: [],
    },
  ]);
  assert.equal(
    text,
    "# TYPE queue_depth gauge\n# TYPE disk_bytes gauge\n# UNIT disk_bytes bytes\n# TYPE evil gauge\n# EOF\n",
  );
});

Deno.test("encodeOpenMetrics() writes the same text from the series text cache as without it, after Prometheus text filled it", async () => {
  // Frozen label objects are cached; the same families with fresh unfrozen
  // objects are rendered from scratch.
  const withLabels = (freeze: boolean): MetricFamily[] =>
    ALL_KINDS.map((family) => ({
      ...family,
      points: family.points.map((point) => ({
        ...point,
        labels: freeze
          ? Object.freeze({ ...point.labels })
          : { ...point.labels },
      })),
    })) as MetricFamily[];
  const frozen = withLabels(true);
  const expected = encodeOpenMetrics(withLabels(false));
  const expectedNoCreated = encodeOpenMetrics(withLabels(false), {
    created: false,
  });
  encodePrometheusText(frozen); // the text format fills the cache first
  assert.equal(encodeOpenMetrics(frozen), expected);
  assert.equal(
    encodeOpenMetrics(frozen, { created: false }),
    expectedNoCreated,
  );
  assert.equal(encodeOpenMetrics(frozen), expected);
  // Every kind, with and without labels, was in the comparison.
  assert.deepEqual(
    [...new Set(frozen.map((f) => f.type))].sort(),
    ["counter", "gauge", "histogram", "summary"],
  );
  assert.ok(
    frozen.some((f) =>
      f.points.some((p) => Object.keys(p.labels).length === 0)
    ),
  );
  assert.equal(
    expected,
    await Deno.readTextFile(
      new URL("./testdata/all_kinds.om", import.meta.url),
    ),
  );
});
