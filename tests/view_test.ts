import assert from "node:assert/strict";
import {
  Counter,
  Histogram,
  MeterProvider,
  Registry,
  UpDownCounter,
} from "@edgemetrics/edgemetrics";

Deno.test("Registry views rename, describe, set buckets and the series limit of a prom-client-style Histogram", async () => {
  const registry = new Registry({
    views: [{
      instrument: "http_request_duration_seconds",
      name: "http_latency_seconds",
      description: "Latency, from a view.",
      buckets: [0.1, 0.3],
      maxSeries: 1,
    }],
  });
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "Latency.",
    labelNames: ["route"] as const,
    buckets: [1, 2, 3],
    registry,
  });
  assert.equal(latency.name, "http_latency_seconds");
  latency.observe({ route: "/a" }, 0.2);
  latency.observe({ route: "/b" }, 0.2); // past the view's limit of 1
  const [family] = await registry.collect();
  assert.equal(family?.type, "histogram");
  assert.equal(family?.name, "http_latency_seconds");
  assert.equal(family?.help, "Latency, from a view.");
  assert.deepEqual(family?.type === "histogram" && family.bounds, [0.1, 0.3]);
  assert.deepEqual(family?.points.map((p) => p.labels), [
    { route: "/a" },
    { otel_metric_overflow: "true" },
  ]);
});

Deno.test("Registry views drop a label of a Counter: label objects keep it, no series is made of it", async () => {
  const registry = new Registry({
    views: [{ instrument: "jobs_*", attributeKeys: { exclude: ["user"] } }],
  });
  const jobs = new Counter({
    name: "jobs_total",
    help: "Jobs.",
    labelNames: ["queue", "user"] as const,
    registry,
  });
  assert.deepEqual(jobs.labelNames, ["queue"]);
  for (let i = 0; i < 1_000; i++) jobs.inc({ queue: "mail", user: `u${i}` });
  jobs.labels("mail").inc();
  const [family] = await registry.collect();
  assert.deepEqual(
    family?.points.map((p) => [p.labels, "value" in p && p.value]),
    [
      [{ queue: "mail" }, 1_001],
    ],
  );
  assert.equal(jobs.droppedLabelSets, 0);
});

Deno.test("Registry views drop a metric: it records, and is never collected", async () => {
  const registry = new Registry({
    views: [{ instrument: "debug_*", drop: true }],
  });
  const debug = new UpDownCounter({
    name: "debug_items",
    help: "D.",
    registry,
  });
  debug.add(3);
  assert.deepEqual(await registry.collect(), []);
});

Deno.test("Registry views: two views selecting one prom-client-style metric are an error at declaration", () => {
  const registry = new Registry({
    views: [{ instrument: "jobs*" }, {
      instrument: "*_total",
      kind: "counter",
    }],
  });
  assert.throws(
    () => new Counter({ name: "jobs_total", help: "J.", registry }),
    new TypeError(
      'Cannot declare metric "jobs_total": two views select it ("jobs*" and "*_total"), and a metric declared with new exports one stream',
    ),
  );
});

Deno.test("View checks: a rename must select one instrument by its exact name", () => {
  assert.throws(
    () => new Registry({ views: [{ instrument: "http.*", name: "x" }] }),
    /Cannot create registry: view 0: a view that renames \(name "x"\) must select one instrument by its exact name, got instrument "http.\*"/,
  );
  assert.throws(
    () => new MeterProvider({ views: [{ kind: "sum" as "counter" }] }),
    /view 0: kind must be one of counter, updowncounter, gauge, histogram/,
  );
});

Deno.test("Meter views: a kept key list means values of other keys never make a series", async () => {
  const registry = new Registry();
  const meter = new MeterProvider({
    registry,
    views: [{ instrument: "app.requests", attributeKeys: { keep: ["route"] } }],
  }).getMeter("app");
  const requests = meter.createCounter("app.requests");
  for (let i = 0; i < 5_000; i++) {
    requests.add(1, { route: "/a", "user.id": `u${i}`, session: i });
  }
  const [family] = await registry.collect();
  assert.deepEqual(
    family?.points.map((p) => [p.labels, "value" in p && p.value]),
    [
      [{ route: "/a" }, 5_000],
    ],
  );
  assert.equal(registry.get("app_requests")?.droppedLabelSets, 0);
});

Deno.test("Meter views select by meter name and kind, and two streams of one name are an error", async () => {
  const registry = new Registry();
  const provider = new MeterProvider({
    registry,
    views: [
      { meter: "lib", kind: "histogram", buckets: [1, 2] },
      { instrument: "twice", name: "same" },
      { instrument: "twice", name: "same" },
    ],
  });
  provider.getMeter("lib").createHistogram("lib.h").record(1.5);
  provider.getMeter("app").createHistogram("app.h").record(1.5);
  const bounds = (await registry.collect()).map((f) =>
    f.type === "histogram" ? f.bounds.length : -1
  );
  assert.deepEqual(bounds, [2, 15]);
  assert.throws(
    () => provider.getMeter("app").createCounter("twice"),
    new TypeError(
      'Cannot create instrument "twice" of meter "app": two views make streams named "same"',
    ),
  );
});

Deno.test("Meter views: one instrument, two views, two streams recording the same calls", async () => {
  const registry = new Registry();
  const meter = new MeterProvider({
    registry,
    views: [
      {
        instrument: "op.duration",
        name: "op.duration.by_route",
        attributeKeys: { keep: ["route"] },
      },
      {
        instrument: "op.duration",
        name: "op.duration.all",
        attributeKeys: { keep: [] },
      },
    ],
  }).getMeter("app");
  const h = meter.createHistogram("op.duration", { unit: "ms" });
  h.record(3, { route: "/a" });
  h.record(4, { route: "/b" });
  const families = await registry.collect();
  assert.deepEqual(
    families.map((f) => [f.name, f.points.length]),
    [["op_duration_by_route_milliseconds", 2], [
      "op_duration_all_milliseconds",
      1,
    ]],
  );
});
