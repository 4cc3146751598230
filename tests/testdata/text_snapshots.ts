/**
 * Snapshot literals shared by the text encoder tests (Prometheus text 0.0.4,
 * OpenMetrics 1.0, promtool): written by hand, not collected from
 * instruments, so the encoders are tested on their own.
 *
 * @module
 */

import type { MetricFamily } from "../../src/model.ts";

/** Label values that try to break out of their quotes or their line. */
export const HOSTILE_VALUES: readonly string[] = [
  "",
  '"',
  "\\",
  "\\\\",
  '\\"',
  "\n",
  "\r\n",
  "\r",
  "a\\nb", // a backslash followed by n, not a line feed
  '"} 1\n# EOF\nfake_total 99',
  "} # {trace_id=\"x\"} 1",
  "\t tab and spaces \t",
  "\u0000nul\u0001",
  "\u2028line\u2029separators\u0085",
  "ünïcödé ✓",
  "日本語のラベル",
  "😀👍🏽‍🔥",
  "\u{1F600}".repeat(50),
  "le=\"+Inf\"",
  "# HELP x y",
];

/** Undoes label-value escaping: `\\` → `\`, `\"` → `"`, `\n` → line feed. */
export function unescapeLabelValue(escaped: string): string {
  return escaped.replace(
    /\\(.)/g,
    (_, char: string) => char === "n" ? "\n" : char,
  );
}

/** One family of every kind and shape, for the golden files. */
export const ALL_KINDS: readonly MetricFamily[] = [
  {
    type: "counter",
    name: "http_requests",
    help: "Total HTTP requests.",
    points: [
      {
        labels: { method: "GET", route: "/orders/{id}", status: "200" },
        value: 1027,
        created: 1_700_000_000_000,
        exemplar: {
          labels: { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" },
          value: 1,
          timestamp: 1_700_000_123_456,
        },
      },
      {
        labels: { method: "POST", route: "/orders", status: "500" },
        value: 3,
        created: 1_700_000_000_250,
      },
    ],
  },
  {
    type: "counter",
    name: "process_cpu_seconds",
    help: "Total user and system CPU time.",
    unit: "seconds",
    points: [{ labels: {}, value: 4.25, created: 1_699_999_999_000 }],
  },
  {
    type: "counter",
    name: "dropped_label_sets",
    help: "Label sets dropped by the series limit.",
    points: [],
  },
  {
    type: "gauge",
    name: "queue_depth",
    help: "Jobs waiting.",
    aggregation: "sum",
    points: [
      { labels: { queue: "emails" }, value: 12 },
      { labels: { queue: "sms" }, value: 0.5 },
    ],
  },
  {
    type: "gauge",
    name: "odd_values",
    help: "Values at the edges: \\, \" and\nnew lines.",
    aggregation: "max",
    points: [
      { labels: { kind: "pos_inf" }, value: Infinity },
      { labels: { kind: "neg_inf" }, value: -Infinity },
      { labels: { kind: "nan" }, value: NaN },
      { labels: { kind: "tiny" }, value: 1e-7 },
      { labels: { kind: "huge" }, value: 1e21 },
      { labels: { kind: "hostile", value: 'a"b\\c\nd' }, value: -2 },
    ],
  },
  {
    type: "histogram",
    name: "http_request_duration_seconds",
    help: "Request latency in seconds.",
    unit: "seconds",
    bounds: [0.05, 0.1, 0.3, 1],
    points: [
      {
        labels: { method: "GET", route: "/orders/{id}" },
        counts: [3, 5, 10, 1, 2],
        sum: 9.75,
        count: 21,
        created: 1_700_000_000_000,
        exemplars: [
          null,
          {
            labels: {
              trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
              span_id: "00f067aa0ba902b7",
            },
            value: 0.07,
            timestamp: 1_700_000_100_000,
          },
          null,
          null,
          { labels: {}, value: 4.2, timestamp: 1_700_000_200_500 },
        ],
      },
      {
        labels: { method: "POST", route: "/orders" },
        counts: [0, 0, 0, 0, 0],
        sum: 0,
        count: 0,
        created: 1_700_000_000_000,
      },
    ],
  },
  {
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
          { quantile: 0.99, value: 0.5 },
        ],
      },
    ],
  },
  {
    type: "summary",
    name: "payload_bytes",
    help: "Payload sizes.",
    unit: "bytes",
    points: [{ labels: {}, count: 2, sum: 1536, created: 0, quantiles: [] }],
  },
];
