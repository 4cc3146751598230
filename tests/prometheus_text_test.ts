import assert from "node:assert/strict";
import {
  encodePrometheusText,
  PROMETHEUS_TEXT_CONTENT_TYPE,
} from "../src/encoders/prometheus_text.ts";
import type { MetricFamily } from "../src/model.ts";
import {
  ALL_KINDS,
  HOSTILE_VALUES,
  unescapeLabelValue,
} from "./testdata/text_snapshots.ts";

Deno.test("PROMETHEUS_TEXT_CONTENT_TYPE is text 0.0.4 in UTF-8", () => {
  assert.equal(
    PROMETHEUS_TEXT_CONTENT_TYPE,
    "text/plain; version=0.0.4; charset=utf-8",
  );
});

Deno.test("encodePrometheusText() encodes an empty snapshot as empty text", () => {
  assert.equal(encodePrometheusText([]), "");
});

Deno.test("encodePrometheusText() names counter samples and metadata <name>_total", () => {
  const text = encodePrometheusText([{
    type: "counter",
    name: "jobs_processed",
    help: "Jobs processed.",
    points: [{ labels: {}, value: 3, created: 1_700_000_000_000 }],
  }]);
  assert.equal(
    text,
    `# HELP jobs_processed_total Jobs processed.
# TYPE jobs_processed_total counter
jobs_processed_total 3
`,
  );
});

Deno.test("encodePrometheusText() writes counter series in snapshot order and drops exemplars, units and created", () => {
  const text = encodePrometheusText([{
    type: "counter",
    name: "http_requests",
    help: "Total HTTP requests.",
    unit: "requests",
    points: [
      {
        labels: { method: "GET", status: "200" },
        value: 1027,
        created: 1_700_000_000_000,
        exemplar: {
          labels: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" },
          value: 1,
          timestamp: 1_700_000_000_500,
        },
      },
      { labels: { method: "POST", status: "500" }, value: 3, created: 0 },
      { labels: { method: "DELETE", status: "404" }, value: 0, created: 0 },
    ],
  }]);
  assert.equal(
    text,
    `# HELP http_requests_total Total HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="GET",status="200"} 1027
http_requests_total{method="POST",status="500"} 3
http_requests_total{method="DELETE",status="404"} 0
`,
  );
});

Deno.test("encodePrometheusText() writes gauges plainly and ignores their aggregation", () => {
  const text = encodePrometheusText([{
    type: "gauge",
    name: "queue_depth",
    help: "Jobs waiting.",
    aggregation: "max",
    points: [
      { labels: { queue: "emails" }, value: 12 },
      { labels: { queue: "sms" }, value: -0.5 },
    ],
  }]);
  assert.equal(
    text,
    `# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth{queue="emails"} 12
queue_depth{queue="sms"} -0.5
`,
  );
});

Deno.test("encodePrometheusText() writes special values as +Inf, -Inf and NaN and floats that round-trip", () => {
  const values = [
    Infinity,
    -Infinity,
    NaN,
    0,
    -0,
    0.1 + 0.2,
    1e-7,
    1e21,
    -1.5e-300,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53 + 2,
    1_700_000_000.123,
  ];
  const text = encodePrometheusText([{
    type: "gauge",
    name: "odd_values",
    help: "Values at the edges.",
    aggregation: "sum",
    points: values.map((value, i) => ({ labels: { i: String(i) }, value })),
  }]);
  assert.equal(
    text,
    `# HELP odd_values Values at the edges.
# TYPE odd_values gauge
odd_values{i="0"} +Inf
odd_values{i="1"} -Inf
odd_values{i="2"} NaN
odd_values{i="3"} 0
odd_values{i="4"} 0
odd_values{i="5"} 0.30000000000000004
odd_values{i="6"} 1e-7
odd_values{i="7"} 1e+21
odd_values{i="8"} -1.5e-300
odd_values{i="9"} 1.7976931348623157e+308
odd_values{i="10"} 5e-324
odd_values{i="11"} 9007199254740994
odd_values{i="12"} 1700000000.123
`,
  );
  // Every finite value parses back to the same double.
  const lines = text.trimEnd().split("\n").slice(2);
  values.forEach((value, i) => {
    const written = lines[i]!.split(" ")[1]!;
    if (Number.isFinite(value)) {
      assert.equal(Number(written), value === 0 ? 0 : value);
    }
  });
});

Deno.test("encodePrometheusText() makes histogram buckets cumulative with le after the series' labels", () => {
  const text = encodePrometheusText([{
    type: "histogram",
    name: "http_request_duration_seconds",
    help: "Request latency in seconds.",
    unit: "seconds",
    bounds: [0.05, 0.1, 0.3, 1, 2.5],
    points: [
      {
        labels: { method: "GET", route: "/orders/{id}" },
        counts: [3, 5, 10, 1, 0, 2],
        sum: 9.75,
        count: 21,
        created: 0,
        exemplars: [
          null,
          null,
          {
            labels: { trace_id: "abc" },
            value: 0.2,
            timestamp: 1,
          },
          null,
          null,
          null,
        ],
      },
      {
        labels: { method: "POST", route: "/orders" },
        counts: [0, 0, 0, 0, 0, 0],
        sum: 0,
        count: 0,
        created: 0,
      },
    ],
  }]);
  assert.equal(
    text,
    `# HELP http_request_duration_seconds Request latency in seconds.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.05"} 3
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.1"} 8
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.3"} 18
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="1.0"} 19
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="2.5"} 19
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="+Inf"} 21
http_request_duration_seconds_sum{method="GET",route="/orders/{id}"} 9.75
http_request_duration_seconds_count{method="GET",route="/orders/{id}"} 21
http_request_duration_seconds_bucket{method="POST",route="/orders",le="0.05"} 0
http_request_duration_seconds_bucket{method="POST",route="/orders",le="0.1"} 0
http_request_duration_seconds_bucket{method="POST",route="/orders",le="0.3"} 0
http_request_duration_seconds_bucket{method="POST",route="/orders",le="1.0"} 0
http_request_duration_seconds_bucket{method="POST",route="/orders",le="2.5"} 0
http_request_duration_seconds_bucket{method="POST",route="/orders",le="+Inf"} 0
http_request_duration_seconds_sum{method="POST",route="/orders"} 0
http_request_duration_seconds_count{method="POST",route="/orders"} 0
`,
  );
});

Deno.test("encodePrometheusText() writes a histogram without labels and with canonical le values", () => {
  const text = encodePrometheusText([{
    type: "histogram",
    name: "payload_bytes",
    help: "Payload sizes.",
    bounds: [1e-5, 1e-4, 10, 100_000, 1e6],
    points: [{
      labels: {},
      counts: [1, 0, 2, 0, 3, 4],
      sum: 5_000_123.5,
      count: 10,
      created: 0,
    }],
  }]);
  assert.equal(
    text,
    `# HELP payload_bytes Payload sizes.
# TYPE payload_bytes histogram
payload_bytes_bucket{le="1e-05"} 1
payload_bytes_bucket{le="0.0001"} 1
payload_bytes_bucket{le="10.0"} 3
payload_bytes_bucket{le="100000.0"} 3
payload_bytes_bucket{le="1e+06"} 6
payload_bytes_bucket{le="+Inf"} 10
payload_bytes_sum 5000123.5
payload_bytes_count 10
`,
  );
});

Deno.test("encodePrometheusText() keeps _sum of a histogram with a negative bound (text 0.0.4 has no rule against it)", () => {
  const text = encodePrometheusText([{
    type: "histogram",
    name: "offset_seconds",
    help: "",
    bounds: [-1, 1],
    points: [{ labels: {}, counts: [1, 0, 1], sum: 1, count: 2, created: 0 }],
  }]);
  assert.equal(
    text,
    `# TYPE offset_seconds histogram
offset_seconds_bucket{le="-1.0"} 1
offset_seconds_bucket{le="1.0"} 1
offset_seconds_bucket{le="+Inf"} 2
offset_seconds_sum 1
offset_seconds_count 2
`,
  );
});

Deno.test("encodePrometheusText() writes summary quantiles before _sum and _count", () => {
  const text = encodePrometheusText([{
    type: "summary",
    name: "rpc_duration_seconds",
    help: "RPC latency.",
    points: [
      {
        labels: { service: "billing" },
        count: 4,
        sum: 1.25,
        created: 0,
        quantiles: [
          { quantile: 0.5, value: 0.2 },
          { quantile: 0.9, value: 0.4 },
          { quantile: 0.99, value: NaN },
          { quantile: 1, value: 0.5 },
        ],
      },
    ],
  }]);
  assert.equal(
    text,
    `# HELP rpc_duration_seconds RPC latency.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{service="billing",quantile="0.5"} 0.2
rpc_duration_seconds{service="billing",quantile="0.9"} 0.4
rpc_duration_seconds{service="billing",quantile="0.99"} NaN
rpc_duration_seconds{service="billing",quantile="1.0"} 0.5
rpc_duration_seconds_sum{service="billing"} 1.25
rpc_duration_seconds_count{service="billing"} 4
`,
  );
});

Deno.test("encodePrometheusText() writes a summary without quantiles as _sum and _count only", () => {
  const text = encodePrometheusText([{
    type: "summary",
    name: "payload_bytes",
    help: "Payload sizes.",
    points: [{ labels: {}, count: 2, sum: 1536, created: 0, quantiles: [] }],
  }]);
  assert.equal(
    text,
    `# HELP payload_bytes Payload sizes.
# TYPE payload_bytes summary
payload_bytes_sum 1536
payload_bytes_count 2
`,
  );
});

Deno.test("encodePrometheusText() keeps HELP and TYPE of a family without series, and leaves out an empty HELP", () => {
  const families: MetricFamily[] = [
    { type: "counter", name: "errors", help: "Errors.", points: [] },
    {
      type: "histogram",
      name: "latency_seconds",
      help: "Latency.",
      bounds: [0.1],
      points: [],
    },
    { type: "summary", name: "size_bytes", help: "Sizes.", points: [] },
    { type: "gauge", name: "up", help: "", aggregation: "max", points: [] },
  ];
  assert.equal(
    encodePrometheusText(families),
    `# HELP errors_total Errors.
# TYPE errors_total counter
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
# HELP size_bytes Sizes.
# TYPE size_bytes summary
# TYPE up gauge
`,
  );
});

Deno.test("encodePrometheusText() escapes backslash and line feed in HELP but leaves double quotes", () => {
  const text = encodePrometheusText([{
    type: "gauge",
    name: "temperature_celsius",
    help: 'Path C:\\temp\nsays "hot"',
    aggregation: "sum",
    points: [],
  }]);
  assert.equal(
    text,
    `# HELP temperature_celsius Path C:\\\\temp\\nsays "hot"
# TYPE temperature_celsius gauge
`,
  );
});

Deno.test("encodePrometheusText() escapes backslash, double quote and line feed in label values", () => {
  const text = encodePrometheusText([{
    type: "counter",
    name: "hostile",
    help: "Hostile labels.",
    points: [{
      labels: { a: 'x"} 1\nfake_total 99\\', b: "\r", c: "ünï 😀" },
      value: 1,
      created: 0,
    }],
  }]);
  assert.equal(
    text,
    `# HELP hostile_total Hostile labels.
# TYPE hostile_total counter
hostile_total{a="x\\"} 1\\nfake_total 99\\\\",b="\r",c="ünï 😀"} 1
`,
  );
});

Deno.test("encodePrometheusText() never lets a label value start a line, and every value reads back unchanged", () => {
  const text = encodePrometheusText([{
    type: "histogram",
    name: "h",
    help: "H.",
    bounds: [1],
    points: HOSTILE_VALUES.map((value) => ({
      labels: { v: value },
      counts: [0, 0],
      sum: 0,
      count: 0,
      created: 0,
    })),
  }]);
  const lines = text.split("\n");
  // 2 metadata lines + 4 lines per series + the final empty string.
  assert.equal(lines.length, 2 + 4 * HOSTILE_VALUES.length + 1);
  HOSTILE_VALUES.forEach((value, i) => {
    for (let j = 0; j < 4; j++) {
      const line = lines[2 + 4 * i + j]!;
      const match = /^h_(?:bucket|sum|count)\{v="((?:[^"\\\n]|\\.)*)"[,}]/.exec(
        line,
      );
      assert.ok(match, `line ${JSON.stringify(line)}`);
      assert.equal(unescapeLabelValue(match[1]!), value);
    }
  });
});

Deno.test("encodePrometheusText() matches the golden file for every kind of family", async () => {
  const golden = await Deno.readTextFile(
    new URL("./testdata/all_kinds.prom", import.meta.url),
  );
  assert.equal(encodePrometheusText(ALL_KINDS), golden);
});

Deno.test("encodePrometheusText() renders a mutated unfrozen label object afresh (only frozen labels are cached)", () => {
  const labels: Record<string, string> = { queue: "a" };
  const family = (): MetricFamily[] => [{
    type: "gauge",
    name: "depth",
    help: "",
    aggregation: "sum",
    points: [{ labels, value: 1 }],
  }];
  assert.equal(
    encodePrometheusText(family()),
    '# TYPE depth gauge\ndepth{queue="a"} 1\n',
  );
  labels.queue = "b";
  assert.equal(
    encodePrometheusText(family()),
    '# TYPE depth gauge\ndepth{queue="b"} 1\n',
  );
});

Deno.test("encodePrometheusText() keeps cached series text right when series move, families change and label objects are shared", () => {
  const a = Object.freeze({ k: "a" });
  const b = Object.freeze({ k: "b\n" });
  const c = Object.freeze({ k: "c" });
  const counter = (
    labels: readonly Readonly<Record<string, string>>[],
  ): MetricFamily => ({
    type: "counter",
    name: "jobs",
    help: "",
    points: labels.map((l, i) => ({ labels: l, value: i, created: 0 })),
  });
  assert.equal(
    encodePrometheusText([counter([a, b])]),
    '# TYPE jobs_total counter\njobs_total{k="a"} 0\njobs_total{k="b\\n"} 1\n',
  );
  // reordered, one added, one removed
  assert.equal(
    encodePrometheusText([counter([c, b, a])]),
    '# TYPE jobs_total counter\njobs_total{k="c"} 0\njobs_total{k="b\\n"} 1\njobs_total{k="a"} 2\n',
  );
  // the same label objects in a family of another name and kind, twice in one family
  assert.equal(
    encodePrometheusText([
      counter([a]),
      {
        type: "histogram",
        name: "lat",
        help: "",
        bounds: [1],
        points: [
          { labels: a, counts: [1, 0], sum: 0.5, count: 1, created: 0 },
          { labels: a, counts: [0, 1], sum: 2, count: 1, created: 0 },
        ],
      },
      {
        type: "gauge",
        name: "jobs",
        help: "",
        aggregation: "sum",
        points: [{ labels: a, value: 7 }],
      },
    ]),
    [
      "# TYPE jobs_total counter",
      'jobs_total{k="a"} 0',
      "# TYPE lat histogram",
      'lat_bucket{k="a",le="1.0"} 1',
      'lat_bucket{k="a",le="+Inf"} 1',
      'lat_sum{k="a"} 0.5',
      'lat_count{k="a"} 1',
      'lat_bucket{k="a",le="1.0"} 0',
      'lat_bucket{k="a",le="+Inf"} 1',
      'lat_sum{k="a"} 2',
      'lat_count{k="a"} 1',
      "# TYPE jobs gauge",
      'jobs{k="a"} 7',
      "",
    ].join("\n"),
  );
});
