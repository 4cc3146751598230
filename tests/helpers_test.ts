/** sloBuckets() and time(labels?, fn) on Histogram, Summary and Gauge. */

import assert from "node:assert/strict";
import {
  type Clock,
  Gauge,
  Histogram,
  Registry,
  sloBuckets,
  Summary,
} from "@edgemetrics/edgemetrics";

Deno.test("sloBuckets() puts a bound at each target and one just below and above it", () => {
  const bounds = sloBuckets({ targets: [0.3, 0.1] });
  assert.deepEqual(bounds, [
    0.01,
    0.022,
    0.046,
    0.09,
    0.1,
    0.11,
    0.22,
    0.27,
    0.3,
    0.33,
    0.46,
    1,
    2.2,
    3,
  ]);
  for (let i = 1; i < bounds.length; i++) {
    assert.ok(bounds[i]! > bounds[i - 1]!);
  }
});

Deno.test("sloBuckets() honours min, max, perDecade and margin, dropping ladder bounds inside a margin", () => {
  assert.deepEqual(
    sloBuckets({
      targets: [0.25],
      min: 0.05,
      max: 1,
      perDecade: 4,
      margin: 0.2,
    }),
    // ladder 0.056 0.1 0.18 0.32 0.56 1 (0.32 > 0.25 * 1.2 stays);
    // 0.2 and 0.3 beside the target
    [0.05, 0.056, 0.1, 0.18, 0.2, 0.25, 0.3, 0.32, 0.56, 1],
  );
  // A target equal to max still gets its lower neighbour.
  assert.deepEqual(
    sloBuckets({ targets: [1], min: 0.5, max: 1, perDecade: 1 }),
    [
      0.5,
      0.9,
      1,
    ],
  );
});

Deno.test("sloBuckets() gives histogram_quantile-ready bounds a Histogram accepts", async () => {
  const histogram = new Histogram({
    name: "slo_latency_seconds",
    help: "X.",
    buckets: sloBuckets({ targets: [0.2] }),
    registry: new Registry(),
  });
  histogram.observe(0.2);
  histogram.observe(0.21);
  const [point] = (await histogram.collect()).points;
  const bounds = (await histogram.collect()).bounds;
  // An observation equal to the target counts as meeting it.
  assert.equal(point!.counts[bounds.indexOf(0.2)], 1);
  assert.equal(point!.counts[bounds.indexOf(0.22)], 1);
});

Deno.test("sloBuckets() rejects bad options with exact messages", async (t) => {
  const cases: [string, unknown, string, string][] = [
    [
      "targets not an array",
      { targets: 0.3 },
      "TypeError",
      "Cannot make SLO buckets: targets must be an array of numbers, got 0.3",
    ],
    [
      "empty targets",
      { targets: [] },
      "RangeError",
      "Cannot make SLO buckets: targets must not be empty",
    ],
    [
      "negative target",
      { targets: [-1] },
      "RangeError",
      "Cannot make SLO buckets: targets must be positive and finite, got -1",
    ],
    [
      "min above max",
      { targets: [1], min: 2, max: 1 },
      "RangeError",
      "Cannot make SLO buckets: min must be below max, got min 2 and max 1",
    ],
    [
      "target outside",
      { targets: [5], max: 1 },
      "RangeError",
      "Cannot make SLO buckets: targets must lie between min 0.5 and max 1, got 5",
    ],
    [
      "perDecade",
      { targets: [1], perDecade: 0.5 },
      "RangeError",
      "Cannot make SLO buckets: perDecade must be a whole number from 1 to 20, got 0.5",
    ],
    [
      "margin",
      { targets: [1], margin: 0.5 },
      "RangeError",
      "Cannot make SLO buckets: margin must be above 0 and below 0.5, got 0.5",
    ],
  ];
  for (const [name, options, type, message] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => sloBuckets(options as Parameters<typeof sloBuckets>[0]),
        { name: type, message },
      );
    });
  }
});

/** A clock that a timed function moves forward. */
function steppingClock(): Clock & { t: number } {
  const clock = { t: 0, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

Deno.test("Histogram.time() observes the seconds of a sync function, also when it throws", async () => {
  const clock = steppingClock();
  const histogram = new Histogram({
    name: "op_seconds",
    help: "X.",
    labelNames: ["op"] as const,
    buckets: [1, 2],
    registry: new Registry({ clock }),
  });
  const value = histogram.time({ op: "ok" }, () => {
    clock.t += 1500;
    return "result";
  });
  assert.equal(value, "result");
  assert.throws(
    () =>
      histogram.time({ op: "fail" }, () => {
        clock.t += 500;
        throw new Error("boom");
      }),
    /boom/,
  );
  const points = (await histogram.collect()).points;
  assert.deepEqual(
    points.map((p) => [p.labels.op, p.sum, p.counts]),
    [["ok", 1.5, [0, 1, 0]], ["fail", 0.5, [1, 0, 0]]],
  );
});

Deno.test("Histogram.time() observes an async function when its promise settles, resolved or rejected", async () => {
  const clock = steppingClock();
  const histogram = new Histogram({
    name: "op_seconds",
    help: "X.",
    buckets: [1],
    registry: new Registry({ clock }),
  });
  const pending = histogram.time(async () => {
    await Promise.resolve();
    clock.t += 2000;
    return 7;
  });
  assert.equal((await histogram.collect()).points[0]?.count, 0);
  assert.equal(await pending, 7);
  await assert.rejects(
    histogram.time(async () => {
      await Promise.resolve();
      clock.t += 250;
      throw new Error("late");
    }),
    /late/,
  );
  const [point] = (await histogram.collect()).points;
  assert.equal(point?.count, 2);
  assert.equal(point?.sum, 2.25);
});

Deno.test("Summary.time() and Gauge.time() record the elapsed seconds into the labelled series", async () => {
  const clock = steppingClock();
  const registry = new Registry({ clock });
  const summary = new Summary({
    name: "task_seconds",
    help: "X.",
    labelNames: ["task"] as const,
    registry,
  });
  const gauge = new Gauge({
    name: "last_task_seconds",
    help: "X.",
    labelNames: ["task"] as const,
    registry,
  });
  await summary.time({ task: "a" }, async () => {
    await Promise.resolve();
    clock.t += 300;
  });
  assert.throws(() =>
    gauge.time({ task: "b" }, () => {
      clock.t += 4000;
      throw new Error("x");
    })
  );
  const summaryPoint = (await summary.collect()).points[0];
  assert.deepEqual(
    [summaryPoint?.labels, summaryPoint?.count, summaryPoint?.sum],
    [{ task: "a" }, 1, 0.3],
  );
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { task: "b" }, value: 4 },
  ]);
});

Deno.test("time() checks the labels before running the function", () => {
  const histogram = new Histogram({
    name: "op_seconds",
    help: "X.",
    labelNames: ["op"] as const,
    registry: null,
  });
  let ran = false;
  const run = () => {
    ran = true;
  };
  assert.throws(
    () => (histogram.time as (fn: () => void) => void)(run),
    TypeError,
  );
  assert.throws(
    () => histogram.time({ nope: "x" } as unknown as { op: string }, run),
    TypeError,
  );
  assert.throws(
    () =>
      (histogram.time as (labels: object, fn?: unknown) => void)({ op: "x" }),
    {
      name: "TypeError",
      message:
        'Cannot time metric "op_seconds": expected a function to time, got undefined',
    },
  );
  assert.equal(ran, false);
});
