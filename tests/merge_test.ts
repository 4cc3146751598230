import assert from "node:assert/strict";
import type { Exemplar, MetricFamily } from "../src/model.ts";
import { mergeSnapshots } from "../src/workers/merge.ts";

const ex = (trace: string, value: number, timestamp: number): Exemplar => ({
  labels: { trace_id: trace },
  value,
  timestamp,
});

Deno.test("mergeSnapshots() sums counters per label set, keeps the earliest created and the latest exemplar", () => {
  const w1: MetricFamily[] = [{
    type: "counter",
    name: "http_requests",
    help: "Requests.",
    unit: "requests",
    points: [
      {
        labels: { method: "GET", status: "200" },
        value: 3,
        created: 2_000,
        exemplar: ex("a", 1, 50),
      },
      { labels: { method: "POST", status: "200" }, value: 1, created: 2_000 },
    ],
  }];
  const w2: MetricFamily[] = [{
    type: "counter",
    name: "http_requests",
    help: "Requests (other help).",
    points: [
      // same label set, names in another order
      {
        labels: { status: "200", method: "GET" },
        value: 4,
        created: 1_000,
        exemplar: ex("b", 1, 90),
      },
      {
        labels: { method: "GET", status: "500" },
        value: 2,
        created: 3_000,
        exemplar: ex("c", 1, 10),
      },
    ],
  }];
  const w3: MetricFamily[] = [{
    type: "counter",
    name: "http_requests",
    help: "Requests.",
    points: [{
      labels: { method: "GET", status: "200" },
      value: 0.5,
      created: 1_500,
      exemplar: ex("d", 1, 70),
    }],
  }];
  const result = mergeSnapshots([
    { worker: "w1", families: w1 },
    { worker: "w2", families: w2 },
    { worker: "w3", families: w3 },
  ]);
  assert.deepEqual(result, {
    families: [{
      type: "counter",
      name: "http_requests",
      help: "Requests.",
      unit: "requests",
      points: [
        {
          labels: { method: "GET", status: "200" },
          value: 7.5,
          created: 1_000,
          exemplar: ex("b", 1, 90),
        },
        { labels: { method: "POST", status: "200" }, value: 1, created: 2_000 },
        {
          labels: { method: "GET", status: "500" },
          value: 2,
          created: 3_000,
          exemplar: ex("c", 1, 10),
        },
      ],
    }],
    conflicts: [],
  });
});

Deno.test("mergeSnapshots() sums histograms bucket by bucket and keeps the latest exemplar per bucket", () => {
  const family = (
    points: Extract<MetricFamily, { type: "histogram" }>["points"],
  ): MetricFamily => ({
    type: "histogram",
    name: "latency_seconds",
    help: "Latency.",
    unit: "seconds",
    bounds: [0.1, 0.3],
    points,
  });
  const result = mergeSnapshots([
    {
      worker: "w1",
      families: [family([{
        labels: { route: "/a" },
        counts: [1, 2, 0],
        sum: 0.5,
        count: 3,
        created: 500,
        exemplars: [ex("a", 0.05, 100), null, null],
      }])],
    },
    {
      worker: "w2",
      families: [family([
        {
          labels: { route: "/a" },
          counts: [0, 1, 4],
          sum: 20.2,
          count: 5,
          created: 400,
          exemplars: [ex("b", 0.07, 50), ex("c", 0.2, 60), null],
        },
        {
          labels: { route: "/b" },
          counts: [1, 0, 0],
          sum: 0.01,
          count: 1,
          created: 900,
        },
      ])],
    },
    {
      worker: "w3",
      families: [
        family([{
          labels: { route: "/b" },
          counts: [2, 0, 1],
          sum: 1.02,
          count: 3,
          created: 800,
        }]),
      ],
    },
  ]);
  assert.deepEqual(result, {
    families: [{
      type: "histogram",
      name: "latency_seconds",
      help: "Latency.",
      unit: "seconds",
      bounds: [0.1, 0.3],
      points: [
        {
          labels: { route: "/a" },
          counts: [1, 3, 4],
          sum: 20.7,
          count: 8,
          created: 400,
          exemplars: [ex("a", 0.05, 100), ex("c", 0.2, 60), null],
        },
        {
          labels: { route: "/b" },
          counts: [3, 0, 1],
          sum: 1.03,
          count: 4,
          created: 800,
        },
      ],
    }],
    conflicts: [],
  });
});

Deno.test("mergeSnapshots() leaves out a worker whose histogram bounds differ and reports it", () => {
  const result = mergeSnapshots([
    {
      worker: "w1",
      families: [{
        type: "histogram",
        name: "size_bytes",
        help: "Sizes.",
        bounds: [10, 100],
        points: [{
          labels: {},
          counts: [1, 0, 0],
          sum: 5,
          count: 1,
          created: 1,
        }],
      }],
    },
    {
      worker: "w2",
      families: [{
        type: "histogram",
        name: "size_bytes",
        help: "Sizes.",
        bounds: [10, 1000],
        points: [{
          labels: {},
          counts: [0, 1, 0],
          sum: 500,
          count: 1,
          created: 1,
        }],
      }],
    },
    {
      worker: "w3",
      families: [{
        type: "histogram",
        name: "size_bytes",
        help: "Sizes.",
        bounds: [10, 100],
        points: [{ labels: {}, counts: [0, 1], sum: 50, count: 1, created: 1 }],
      }],
    },
  ]);
  assert.deepEqual(result, {
    families: [{
      type: "histogram",
      name: "size_bytes",
      help: "Sizes.",
      bounds: [10, 100],
      points: [{ labels: {}, counts: [1, 0, 0], sum: 5, count: 1, created: 1 }],
    }],
    conflicts: [
      {
        family: "size_bytes",
        worker: "w2",
        message:
          'Cannot merge metric "size_bytes" from worker "w2": bucket bounds differ, got [10, 1000] where [10, 100] is merged; family left out',
      },
      {
        family: "size_bytes",
        worker: "w3",
        message:
          'Cannot merge metric "size_bytes" from worker "w3": a point needs 3 bucket counts, got 2; series left out',
      },
    ],
  });
});

Deno.test("mergeSnapshots() sums summaries and drops quantiles of a series two workers report", () => {
  const q = (
    p50: number,
  ) => [{ quantile: 0.5, value: p50 }, { quantile: 0.99, value: p50 * 2 }];
  const result = mergeSnapshots([
    {
      worker: "w1",
      families: [{
        type: "summary",
        name: "payload_bytes",
        help: "Payloads.",
        points: [
          {
            labels: { kind: "shared" },
            count: 2,
            sum: 10,
            created: 300,
            quantiles: q(5),
          },
          {
            labels: { kind: "only_w1" },
            count: 1,
            sum: 7,
            created: 300,
            quantiles: q(7),
          },
        ],
      }],
    },
    {
      worker: "w2",
      families: [{
        type: "summary",
        name: "payload_bytes",
        help: "Payloads.",
        points: [{
          labels: { kind: "shared" },
          count: 3,
          sum: 30,
          created: 200,
          quantiles: q(10),
        }],
      }],
    },
  ]);
  assert.deepEqual(result, {
    families: [{
      type: "summary",
      name: "payload_bytes",
      help: "Payloads.",
      points: [
        {
          labels: { kind: "shared" },
          count: 5,
          sum: 40,
          created: 200,
          quantiles: [],
        },
        {
          labels: { kind: "only_w1" },
          count: 1,
          sum: 7,
          created: 300,
          quantiles: q(7),
        },
      ],
    }],
    conflicts: [],
  });
});

Deno.test("mergeSnapshots() combines gauges by their aggregation mode", async (t) => {
  const gauges = (
    mode: "sum" | "max" | "min" | "all",
    values: [number, number, number],
  ) =>
    values.map((value, i) => ({
      worker: `w${i + 1}`,
      families: [{
        type: "gauge" as const,
        name: `queue_depth_${mode}`,
        help: "Depth.",
        aggregation: mode,
        points: [
          { labels: { queue: "a" }, value },
          ...(i === 1 ? [{ labels: { queue: "b" }, value: -1 }] : []),
        ],
      }],
    }));
  const table = [
    {
      mode: "sum",
      expected: [{ labels: { queue: "a" }, value: 9 }, {
        labels: { queue: "b" },
        value: -1,
      }],
    },
    {
      mode: "max",
      expected: [{ labels: { queue: "a" }, value: 7 }, {
        labels: { queue: "b" },
        value: -1,
      }],
    },
    {
      mode: "min",
      expected: [{ labels: { queue: "a" }, value: -3 }, {
        labels: { queue: "b" },
        value: -1,
      }],
    },
    {
      mode: "all",
      expected: [
        { labels: { queue: "a", worker: "w1" }, value: 7 },
        { labels: { queue: "a", worker: "w2" }, value: 5 },
        { labels: { queue: "b", worker: "w2" }, value: -1 },
        { labels: { queue: "a", worker: "w3" }, value: -3 },
      ],
    },
  ] as const;
  for (const { mode, expected } of table) {
    await t.step(mode, () => {
      assert.deepEqual(mergeSnapshots(gauges(mode, [7, 5, -3])), {
        families: [{
          type: "gauge",
          name: `queue_depth_${mode}`,
          help: "Depth.",
          aggregation: mode,
          points: expected,
        }],
        conflicts: [],
      });
    });
  }
});

Deno.test("mergeSnapshots() merges a gauge by the first worker's mode and reports a different mode", () => {
  const result = mergeSnapshots([
    {
      worker: "w1",
      families: [{
        type: "gauge",
        name: "g",
        help: "G.",
        aggregation: "max",
        points: [{ labels: {}, value: 1 }],
      }],
    },
    {
      worker: "w2",
      families: [{
        type: "gauge",
        name: "g",
        help: "G.",
        aggregation: "sum",
        points: [{ labels: {}, value: 4 }],
      }],
    },
  ]);
  assert.deepEqual(result, {
    families: [{
      type: "gauge",
      name: "g",
      help: "G.",
      aggregation: "max",
      points: [{ labels: {}, value: 4 }],
    }],
    conflicts: [{
      family: "g",
      worker: "w2",
      message:
        'Cannot merge metric "g" from worker "w2": its aggregation is "sum" there and "max" here; merged as "max"',
    }],
  });
});

Deno.test("mergeSnapshots() leaves out an all-gauge series that has its own worker label", () => {
  const result = mergeSnapshots([{
    worker: "w1",
    families: [{
      type: "gauge",
      name: "pool",
      help: "Pool.",
      aggregation: "all",
      points: [{ labels: { worker: "mine" }, value: 1 }, {
        labels: { pool: "db" },
        value: 2,
      }],
    }],
  }]);
  assert.deepEqual(result, {
    families: [{
      type: "gauge",
      name: "pool",
      help: "Pool.",
      aggregation: "all",
      points: [{ labels: { pool: "db", worker: "w1" }, value: 2 }],
    }],
    conflicts: [{
      family: "pool",
      worker: "w1",
      message:
        'Cannot merge metric "pool" from worker "w1": a gauge of aggregation "all" cannot have its own "worker" label, got "mine"; series left out',
    }],
  });
});

Deno.test("mergeSnapshots() keeps the first kind seen under a name and reports the other", () => {
  const result = mergeSnapshots([
    {
      worker: "local",
      families: [{
        type: "counter",
        name: "jobs",
        help: "Jobs.",
        points: [{ labels: {}, value: 1, created: 5 }],
      }],
    },
    {
      worker: "peer",
      families: [
        {
          type: "gauge",
          name: "jobs",
          help: "Jobs.",
          aggregation: "sum",
          points: [{ labels: {}, value: 9 }],
        },
        {
          type: "counter",
          name: "only_peer",
          help: "Peer only.",
          points: [{ labels: {}, value: 2, created: 6 }],
        },
      ],
    },
  ]);
  assert.deepEqual(result, {
    families: [
      {
        type: "counter",
        name: "jobs",
        help: "Jobs.",
        points: [{ labels: {}, value: 1, created: 5 }],
      },
      {
        type: "counter",
        name: "only_peer",
        help: "Peer only.",
        points: [{ labels: {}, value: 2, created: 6 }],
      },
    ],
    conflicts: [{
      family: "jobs",
      worker: "peer",
      message:
        'Cannot merge metric "jobs" from worker "peer": it is a gauge there and a counter here',
    }],
  });
});

Deno.test("mergeSnapshots() neither mutates its input nor shares arrays with the result", () => {
  const input: MetricFamily[] = [{
    type: "histogram",
    name: "h",
    help: "H.",
    bounds: [1],
    points: [{
      labels: { a: "1" },
      counts: [1, 1],
      sum: 3,
      count: 2,
      created: 1,
    }],
  }];
  const frozen = structuredClone(input);
  const { families } = mergeSnapshots([
    { worker: "w1", families: input },
    { worker: "w2", families: input },
  ]);
  assert.deepEqual(input, frozen);
  const merged = families[0];
  const original = input[0];
  assert.ok(merged?.type === "histogram" && original?.type === "histogram");
  assert.deepEqual(merged.points[0]?.counts, [2, 2]);
  assert.notEqual(merged.points[0]?.counts, original.points[0]?.counts);
  assert.notEqual(merged.points[0]?.labels, original.points[0]?.labels);
  assert.notEqual(merged.bounds, original.bounds);
});

Deno.test("mergeSnapshots() of one snapshot returns it unchanged, but for all-gauges' worker label", () => {
  const families: MetricFamily[] = [
    {
      type: "counter",
      name: "c",
      help: "C.",
      points: [{ labels: {}, value: 1, created: 1 }],
    },
    {
      type: "summary",
      name: "s",
      help: "S.",
      points: [{
        labels: {},
        count: 1,
        sum: 2,
        created: 1,
        quantiles: [{ quantile: 0.5, value: 2 }],
      }],
    },
    {
      type: "gauge",
      name: "g",
      help: "G.",
      aggregation: "all",
      points: [{ labels: {}, value: 3 }],
    },
  ];
  assert.deepEqual(mergeSnapshots([{ worker: "solo", families }]), {
    families: [
      families[0],
      families[1],
      {
        type: "gauge",
        name: "g",
        help: "G.",
        aggregation: "all",
        points: [{ labels: { worker: "solo" }, value: 3 }],
      },
    ],
    conflicts: [],
  });
});
