import assert from "node:assert/strict";
import {
  Counter,
  encodePrometheusText,
  Gauge,
  Histogram,
  Registry,
} from "@edgemetrics/edgemetrics";
import { SeriesTable } from "../src/instruments/_series.ts";

/**
 * Records `count` distinct label sets into a counter and a histogram in a
 * child Deno with `--expose-gc`, and returns how much memory stayed (after a
 * full collection) beyond what the first 2,000 series took: on the V8 heap
 * (`heap`) and outside it (`external`), where the series' `Float64Array`
 * storage lives. `leak` keeps that many bytes of typed-array storage alive
 * on purpose, to prove the measure sees a leak there.
 */
async function retainedBytes(
  count: number,
  maxSeries: number,
  leak = 0,
): Promise<{ heap: number; external: number; total: number }> {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const code = `
    import { Counter, Histogram, Registry } from ${JSON.stringify(mod)};
    const gc = globalThis.gc;
    const registry = new Registry({ maxSeries: ${maxSeries} });
    const requests = new Counter({ name: "flood_total", help: "X.", labelNames: ["user", "path"], registry });
    const latency = new Histogram({ name: "flood_seconds", help: "X.", labelNames: ["user"], registry });
    for (let i = 0; i < 2000; i++) {
      requests.inc({ user: "u" + i, path: "/" });
      latency.observe({ user: "u" + i }, 1);
    }
    gc();
    const before = Deno.memoryUsage();
    for (let i = 0; i < ${count}; i++) {
      const user = "user-" + i;
      requests.inc({ user, path: "/p/" + i });
      latency.observe({ user }, 0.1);
    }
    globalThis.leaked = new Float64Array(${leak} / 8).fill(1);
    gc();
    const series = (await registry.collect()).map((f) => f.points.length);
    const after = Deno.memoryUsage();
    console.log(JSON.stringify({
      heap: after.heapUsed - before.heapUsed,
      external: after.external - before.external,
      series,
    }));
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, stderr);
  const { heap, external, series } = JSON.parse(
    new TextDecoder().decode(output.stdout),
  );
  if (maxSeries === 2000) {
    assert.deepEqual(series, count > 0 ? [2_001, 2_001, 2] : [2_000, 2_000]);
  }
  return { heap, external, total: heap + external };
}

Deno.test("memory stays bounded under 1,000,000 distinct label sets", async () => {
  const MB = 1024 * 1024;
  // With the default limit of 2,000 series neither the heap nor the
  // off-heap series storage keeps anything that grows with a million label
  // sets; the control run, with the limit lifted, shows what keeping just
  // 100,000 of them costs.
  const bounded = await retainedBytes(1_000_000, 2_000);
  const control = await retainedBytes(100_000, 1_000_000);
  // 1,000,000 folded label sets keep a few MB at most (code and caches);
  // 100,000 kept series take tens of MB, so a leak would show.
  assert.ok(bounded.total < 8 * MB, `kept ${JSON.stringify(bounded)}`);
  assert.ok(control.total > 32 * MB, `control kept ${JSON.stringify(control)}`);
  // Series storage is off the heap: 100,000 series of the counter (1 slot)
  // and the histogram (11 bounds + 3 slots), 8 bytes a slot, show only in
  // `external`, so a leak of storage alone is caught too.
  assert.ok(
    control.external >= 100_000 * (1 + 14) * 8,
    `control kept ${JSON.stringify(control)}`,
  );
  // And the measure itself: 16 MB of typed-array storage kept alive, with
  // no new series at all, fails the bound.
  const leaky = await retainedBytes(0, 2_000, 16 * MB);
  assert.ok(leaky.total > 8 * MB, `leak measured ${JSON.stringify(leaky)}`);
});

Deno.test("past maxSeries, label sets fold into one overflow series and are counted", async () => {
  const registry = new Registry();
  const requests = new Counter({
    name: "flood_total",
    help: "X.",
    labelNames: ["user", "path"] as const,
    registry,
  });
  const latency = new Histogram({
    name: "flood_seconds",
    help: "X.",
    labelNames: ["user"] as const,
    registry,
  });
  const started = performance.now();
  for (let i = 0; i < 1_000_000; i++) {
    const user = `user-${i}`;
    requests.inc({ user, path: `/p/${i}` });
    latency.labels(user).observe(0.1);
  }
  const elapsed = performance.now() - started;
  const families = await registry.collect();
  assert.deepEqual(
    families.map((f) => [f.name, f.points.length]),
    [["flood", 2_001], ["flood_seconds", 2_001], [
      "edgemetrics_dropped_label_sets",
      2,
    ]],
  );
  assert.deepEqual(
    families[2]?.points.map((p) => [p.labels, "value" in p && p.value]),
    [
      [{ metric: "flood_total" }, 998_000],
      [{ metric: "flood_seconds" }, 998_000],
    ],
  );
  const overflow = families[0]?.points.at(-1);
  assert.deepEqual(
    overflow && [overflow.labels, "value" in overflow && overflow.value],
    [{ otel_metric_overflow: "true" }, 998_000],
  );
  const histogramOverflow = families[1]?.points.at(-1);
  assert.deepEqual(
    histogramOverflow && "count" in histogramOverflow &&
      [histogramOverflow.labels, histogramOverflow.count],
    [{ otel_metric_overflow: "true" }, 998_000],
  );
  assert.ok(elapsed < 8_000, `took ${elapsed} ms`);
});

Deno.test("SeriesTable reuses the number of a removed series and zeroes its slots", () => {
  let t = 1;
  const table = new SeriesTable({
    metric: "t",
    labelNames: ["k"],
    maxSeries: 10,
    clock: { now: () => t, monotonic: () => t },
  }, 2);
  const a = table.indexOf({ k: "a" });
  const b = table.indexOf({ k: "b" });
  table.data[a * 2] = 5;
  table.data[a * 2 + 1] = 6;
  assert.equal(table.remove([{ k: "a" }]), a);
  assert.equal(table.remove([{ k: "a" }]), -1);
  t = 2;
  const c = table.indexOf({ k: "c" });
  assert.equal(c, a);
  assert.deepEqual([...table.data.subarray(c * 2, c * 2 + 2)], [0, 0]);
  assert.equal(table.created[c], 2);
  assert.equal(table.indexOf({ k: "b" }), b);
  assert.equal(table.order().length, 2);
});

Deno.test("SeriesTable grows its storage past the first capacity and keeps every value", () => {
  const table = new SeriesTable({
    metric: "grow",
    labelNames: ["a", "b"],
    maxSeries: Infinity,
  }, 3);
  for (let i = 0; i < 100; i++) {
    const index = table.indexOfValues([`x${i % 7}`, i]);
    table.data[index * 3 + 2] = i;
  }
  const seen: [string, number][] = [];
  for (const index of table.order()) {
    const labels = table.labels[index]!;
    seen.push([`${labels.a}/${labels.b}`, table.data[index * 3 + 2]!]);
  }
  assert.equal(seen.length, 100);
  assert.deepEqual(
    seen.toSorted((x, y) => x[1] - y[1]).slice(0, 3),
    [["x0/0", 0], ["x1/1", 1], ["x2/2", 2]],
  );
});

Deno.test("SeriesTable prunes emptied branches on remove so removed values free memory", () => {
  const table = new SeriesTable({
    metric: "prune",
    labelNames: ["a", "b"],
    maxSeries: 10,
  }, 1);
  table.indexOf({ a: "x", b: "1" });
  table.indexOf({ a: "y", b: "1" });
  table.remove([{ a: "x", b: "1" }]);
  const seen: string[] = [];
  for (const index of table.order()) {
    seen.push(JSON.stringify(table.labels[index]));
  }
  assert.deepEqual(seen, ['{"a":"y","b":"1"}']);
  // a missing label value never matches a series whose value is "undefined"
  table.indexOf({ a: "undefined", b: "undefined" });
  assert.throws(() => table.indexOf({} as never), {
    name: "TypeError",
    message:
      'Cannot record to metric "prune": label "a" must be a string or number, got undefined (missing)',
  });
});

Deno.test("collect() hands out the same frozen labels object per series until it is removed or reset", async () => {
  const registry = new Registry({ maxSeries: 2 });
  const requests = new Counter({
    name: "stable_total",
    help: "X.",
    labelNames: ["route"] as const,
    registry,
  });
  const latency = new Histogram({
    name: "stable_seconds",
    help: "X.",
    buckets: [1],
    registry,
  });
  requests.inc({ route: "/a" });
  requests.inc({ route: "/b" });
  requests.inc({ route: "/c" }); // past the limit: the overflow series
  latency.observe(0.5);
  const first = (await requests.collect()).points.map((p) => p.labels);
  requests.inc({ route: "/a" }, 2); // values change, labels objects do not
  const second = (await requests.collect()).points.map((p) => p.labels);
  assert.deepEqual(first, [
    { route: "/a" },
    { route: "/b" },
    { otel_metric_overflow: "true" },
  ]);
  assert.ok(second.every((labels, i) => labels === first[i]));
  assert.ok(first.every((labels) => Object.isFrozen(labels)));
  const unlabeled = (await latency.collect()).points[0]?.labels;
  assert.equal((await latency.collect()).points[0]?.labels, unlabeled);

  requests.remove({ route: "/a" });
  requests.inc({ route: "/a" });
  const third = (await requests.collect()).points.map((p) => p.labels);
  assert.deepEqual(third, [
    { route: "/b" },
    { route: "/a" },
    { otel_metric_overflow: "true" },
  ]);
  assert.equal(third[0], first[1]);
  assert.notEqual(third[1], first[0]);
  assert.equal(third[2], first[2]);

  requests.reset();
  latency.reset();
  requests.inc({ route: "/b" });
  const after = (await requests.collect()).points[0]?.labels;
  assert.deepEqual(after, { route: "/b" });
  assert.notEqual(after, first[1]);
  assert.notEqual((await latency.collect()).points[0]?.labels, unlabeled);
});

Deno.test("SeriesTable never shares a labels object between two tables", () => {
  const make = () =>
    new SeriesTable({
      metric: "m",
      labelNames: [],
      maxSeries: 1,
    }, 1);
  const a = make();
  const b = make();
  a.order();
  b.order();
  assert.deepEqual(a.labels[0], {});
  assert.notEqual(a.labels[0], b.labels[0]);
});

Deno.test("bound children keep recording into their own series while the table grows and numbers are reused", async () => {
  const registry = new Registry();
  const requests = new Counter({
    name: "grow_total",
    help: "X.",
    labelNames: ["route"] as const,
    registry,
  });
  const latency = new Histogram({
    name: "grow_seconds",
    help: "X.",
    labelNames: ["route"] as const,
    buckets: [1],
    registry,
  });
  const first = requests.labels("/first");
  const slow = latency.labels("/first");
  first.inc();
  slow.observe(2);
  // 100 more series: the storage is replaced several times.
  for (let i = 0; i < 100; i++) {
    requests.inc({ route: `/r${i}` });
    latency.observe({ route: `/r${i}` }, 0.5);
    first.inc();
    slow.observe(2);
  }
  // Removing a series and reusing its number must not redirect other children.
  requests.remove("/r0");
  latency.remove("/r0");
  requests.inc({ route: "/new" }, 7);
  latency.observe({ route: "/new" }, 0.25);
  first.inc();
  slow.observe(2);
  const [counters, histograms] = await registry.collect();
  const value = (route: string) => {
    const point = counters?.points.find((p) => p.labels.route === route);
    return point && "value" in point ? point.value : undefined;
  };
  const counts = (route: string) => {
    const point = histograms?.points.find((p) => p.labels.route === route);
    return point && "counts" in point ? point.counts : undefined;
  };
  assert.deepEqual([value("/first"), value("/new"), value("/r0")], [
    102,
    7,
    undefined,
  ]);
  assert.deepEqual([counts("/first"), counts("/new")], [[0, 102], [1, 0]]);
  assert.equal(counters?.points.length, 101);
});

Deno.test("labels() past maxSeries hands out one child per label set, which records under its own set once there is room", async () => {
  const registry = new Registry({ maxSeries: 2 });
  const requests = new Counter({
    name: "req_total",
    help: "X.",
    labelNames: ["k"] as const,
    registry,
  });
  const depth = new Gauge({
    name: "depth",
    help: "X.",
    labelNames: ["k"] as const,
    registry,
  });
  const latency = new Histogram({
    name: "lat_seconds",
    help: "X.",
    labelNames: ["k"] as const,
    buckets: [1],
    registry,
  });
  const text = async () =>
    encodePrometheusText(await registry.collect()).split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"));
  for (const k of ["a", "b"]) {
    requests.inc({ k });
    depth.set({ k }, 1);
    latency.observe({ k }, 0.5);
  }
  // Past the limit: each label set gets its own child, bound to its own values.
  const c = requests.labels("c");
  const d = requests.labels({ k: "d" });
  assert.notEqual(c, d);
  assert.notEqual(depth.labels("c"), depth.labels("d"));
  const dDepth = depth.labels("d");
  const dLatency = latency.labels("d");
  assert.notEqual(latency.labels("c"), dLatency);
  c.inc(1);
  d.inc(2);
  // A freed slot: the next record of each child finds its own series.
  requests.remove("a");
  depth.remove("a");
  latency.remove("a");
  d.inc(100);
  dDepth.set(5);
  dLatency.observe(2);
  c.inc(10); // full again: c stays in the overflow series
  assert.deepEqual(await text(), [
    'req_total{k="b"} 1',
    'req_total{k="d"} 100',
    'req_total{otel_metric_overflow="true"} 13',
    'depth{k="b"} 1',
    'depth{k="d"} 5',
    'depth{otel_metric_overflow="true"} 0',
    'lat_seconds_bucket{k="b",le="1.0"} 1',
    'lat_seconds_bucket{k="b",le="+Inf"} 1',
    'lat_seconds_sum{k="b"} 0.5',
    'lat_seconds_count{k="b"} 1',
    'lat_seconds_bucket{k="d",le="1.0"} 0',
    'lat_seconds_bucket{k="d",le="+Inf"} 1',
    'lat_seconds_sum{k="d"} 2',
    'lat_seconds_count{k="d"} 1',
    'lat_seconds_bucket{otel_metric_overflow="true",le="1.0"} 0',
    'lat_seconds_bucket{otel_metric_overflow="true",le="+Inf"} 0',
    'lat_seconds_sum{otel_metric_overflow="true"} 0',
    'lat_seconds_count{otel_metric_overflow="true"} 0',
    // each handing-out of a child past the limit, and c's record while full
    'edgemetrics_dropped_label_sets_total{metric="req_total"} 3',
    'edgemetrics_dropped_label_sets_total{metric="depth"} 3',
    'edgemetrics_dropped_label_sets_total{metric="lat_seconds"} 2',
  ]);
  // After reset() every child starts its own series again.
  requests.reset();
  c.inc(7);
  d.inc(8);
  assert.deepEqual((await text()).slice(0, 2), [
    'req_total{k="c"} 7',
    'req_total{k="d"} 8',
  ]);
});
