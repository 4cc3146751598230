// A snapshot covering every family kind, special values, units, unicode,
// exemplars (valid and invalid ids) and empty families, with the OTLP options
// the OTLP encoder tests share. Golden output: otlp_all_kinds.json.
import type { MetricFamily, OtlpEncodeOptions } from "../../mod.ts";

export const OTLP_ALL_KINDS: readonly MetricFamily[] = [
  {
    type: "counter",
    name: "http_requests",
    help: 'Total "HTTP" requests.\nSecond line \\ backslash.',
    points: [
      {
        labels: { method: "GET", status: "200" },
        value: 1027,
        created: 1_700_000_000_000.25,
        exemplar: {
          labels: {
            trace_id: "4BF92F3577B34DA6A3CE929D0E0E4736",
            span_id: "00f067aa0ba902b7",
            user: "u-1",
          },
          value: 1,
          timestamp: 1_700_000_059_123.4567,
        },
      },
      { labels: { method: "POST", status: "500" }, value: 0, created: 1_700_000_000_000 },
    ],
  },
  {
    type: "counter",
    name: "sent_bytes",
    help: "Bytes sent.",
    unit: "bytes",
    points: [],
  },
  {
    type: "gauge",
    name: "queue_depth",
    help: "Jobs waiting.",
    aggregation: "sum",
    points: [
      { labels: { queue: "emails" }, value: 7 },
      { labels: { queue: "nan" }, value: NaN },
      { labels: { queue: "inf" }, value: Infinity },
      { labels: { queue: "-inf" }, value: -Infinity },
      { labels: { queue: "-0" }, value: -0 },
      { labels: { queue: "tiny" }, value: 1e-7 },
    ],
  },
  {
    type: "gauge",
    name: "cache_hit_ratio",
    help: "",
    unit: "ratio",
    aggregation: "max",
    points: [{ labels: { "région": "Zürich 東京 😀", quote: '"\\\n' }, value: 0.25 }],
  },
  {
    type: "histogram",
    name: "http_request_duration_seconds",
    help: "Request latency in seconds.",
    unit: "seconds",
    bounds: [0.05, 0.1, 0.3, 1, 2.5],
    points: [
      {
        labels: { route: "/orders/{id}" },
        counts: [3, 5, 10, 2, 0, 1],
        sum: 4.75,
        count: 21,
        created: 1_700_000_000_000,
        exemplars: [
          null,
          null,
          {
            labels: {
              trace_id: "0af7651916cd43dd8448eb211c80319c",
              span_id: "b7ad6b7169203331",
            },
            value: 0.27,
            timestamp: 1_700_000_050_000,
          },
          null,
          null,
          {
            labels: { trace_id: "not-hex", span_id: "0000000000000000" },
            value: 9.5,
            timestamp: 1_700_000_055_000,
          },
        ],
      },
      {
        labels: { route: "/health" },
        counts: [0, 0, 0, 0, 0, 0],
        sum: 0,
        count: 0,
        created: 1_700_000_030_000,
      },
    ],
  },
  {
    type: "histogram",
    name: "batch_size",
    help: "Items per batch, no buckets.",
    bounds: [],
    points: [{ labels: {}, counts: [4], sum: 40, count: 4, created: 1_700_000_000_000 }],
  },
  {
    type: "summary",
    name: "payload_bytes",
    help: "Payload sizes.",
    unit: "bytes",
    points: [
      {
        labels: { kind: "upload" },
        count: 3,
        sum: 1536,
        created: 1_700_000_000_000,
        quantiles: [
          { quantile: 0.5, value: 512 },
          { quantile: 0.9, value: 1000 },
          { quantile: 0.99, value: NaN },
        ],
      },
    ],
  },
  {
    type: "summary",
    name: "gc_pause_seconds",
    help: "GC pauses.",
    unit: "seconds",
    points: [{ labels: {}, count: 0, sum: 0, created: 1_700_000_000_000, quantiles: [] }],
  },
];

export const OTLP_OPTIONS: OtlpEncodeOptions = {
  resource: {
    "service.name": "order-job",
    "service.instance.id": "6f1c2a9e-7d0b-4c1e-9a53-2b8f0e4d7c11",
    "deployment.environment": "production",
    "process.pid": 4242,
    "process.offset": -7,
    "sample.rate": 0.5,
    "feature.enabled": true,
  },
  scope: { name: "@edgemetrics/edgemetrics", version: "0.1.0" },
  timeUnixMs: 1_700_000_060_000,
};
