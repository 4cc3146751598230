import assert from "node:assert/strict";
import {
  type Clock,
  encodeOpenMetrics,
  encodeOtlpJson,
  encodeOtlpProtobuf,
  encodePrometheusProtobuf,
  encodeRemoteWrite,
  mergeSnapshots,
  MeterProvider,
  OtlpExporter,
  Registry,
  UpDownCounter,
} from "@edgemetrics/edgemetrics";
import { decodeOtlpProtobuf } from "./_otlp_decode.ts";
import { decodePrometheusProtobuf } from "./_prometheus_decode.ts";
import { decodeWriteRequest } from "./_remote_write_decode.ts";
import { captureWarnings } from "./_warnings.ts";

function fixedClock(t = 1_000): Clock & { t: number } {
  const clock = { t, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

Deno.test("UpDownCounter.add() adds positive and negative amounts per series", async () => {
  const registry = new Registry({ clock: fixedClock(2_000) });
  const open = new UpDownCounter({
    name: "db_connections_open",
    help: "Open connections.",
    labelNames: ["pool"] as const,
    registry,
  });
  open.add({ pool: "a" }, 3);
  open.add({ pool: "a" }, -5);
  open.add({ pool: "b" });
  open.labels("b").add(-0.5);
  assert.deepEqual(await registry.collect(), [{
    type: "updowncounter",
    name: "db_connections_open",
    help: "Open connections.",
    points: [
      { labels: { pool: "a" }, value: -2, created: 2_000 },
      { labels: { pool: "b" }, value: 0.5, created: 2_000 },
    ],
  }]);
});

Deno.test("UpDownCounter.add() ignores NaN and ±Infinity with one warning, throws for a non-number, and creates no series for either", async () => {
  const registry = new Registry();
  const open = new UpDownCounter({ name: "q", help: "Q.", registry });
  const pools = new UpDownCounter({
    name: "pools",
    help: "P.",
    labelNames: ["pool"] as const,
    registry,
  });
  open.add(2);
  const warnings = captureWarnings(() => {
    open.add(NaN);
    open.labels().add(Infinity);
    open.add(-Infinity);
  });
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /ignored a non-finite addition of updowncounter "q", got NaN/,
  );
  captureWarnings(() => pools.add({ pool: "a" }, NaN));
  assert.throws(
    () => pools.add({ pool: "b" }, "1" as unknown as number),
    TypeError,
  );
  assert.deepEqual((await pools.collect()).points, []);
  assert.throws(
    () => open.add("1" as unknown as number),
    new TypeError(
      'Cannot add to updowncounter "q": the amount must be a number, got "1"',
    ),
  );
  assert.equal((await open.collect()).points[0]?.value, 2);
});

Deno.test("UpDownCounter is a gauge in text 0.0.4 and OpenMetrics, with no _total or _created", async () => {
  const registry = new Registry({ clock: fixedClock() });
  const open = new UpDownCounter({
    name: "sessions_open",
    help: "Sessions.",
    registry,
  });
  open.add(-4);
  assert.equal(
    await registry.metrics(),
    "# HELP sessions_open Sessions.\n# TYPE sessions_open gauge\nsessions_open -4\n",
  );
  assert.equal(
    encodeOpenMetrics(await registry.collect()),
    "# TYPE sessions_open gauge\n# HELP sessions_open Sessions.\nsessions_open -4\n# EOF\n",
  );
});

Deno.test("UpDownCounter is a non-monotonic OTLP Sum with a start time, JSON and protobuf alike", async () => {
  const registry = new Registry({ clock: fixedClock(1_700_000_000_000) });
  const open = new UpDownCounter({
    name: "sessions_open",
    help: "Sessions.",
    registry,
  });
  open.add(-4);
  const families = await registry.collect();
  const options = {
    resource: { "service.name": "t" },
    timeUnixMs: 1_700_000_001_000,
  };
  const json = JSON.parse(encodeOtlpJson(families, options));
  const decoded = decodeOtlpProtobuf(
    encodeOtlpProtobuf(families, options),
  ) as typeof json;
  for (const request of [json, decoded]) {
    const metric = request.resourceMetrics[0].scopeMetrics[0].metrics[0];
    assert.equal(metric.name, "sessions_open");
    // isMonotonic false is the proto3 default: absent on the wire.
    assert.ok(!metric.sum.isMonotonic);
    assert.equal(metric.sum.aggregationTemporality, 2);
    assert.equal(metric.sum.dataPoints[0].asDouble, -4);
    assert.equal(
      metric.sum.dataPoints[0].startTimeUnixNano,
      "1700000000000000000",
    );
  }
});

Deno.test("mergeSnapshots() adds up-down counters across workers", () => {
  const family = (value: number) => ({
    type: "updowncounter" as const,
    name: "q",
    help: "",
    points: [{ labels: {}, value, created: 5 }],
  });
  const { families, conflicts } = mergeSnapshots([
    { worker: "w1", families: [family(3)] },
    { worker: "w2", families: [family(-1)] },
  ]);
  assert.deepEqual(conflicts, []);
  assert.deepEqual(families, [family(2)]);
});

Deno.test("OtlpExporter with delta temporality sends an up-down counter cumulative, as OTel's delta preference does, keeping typed meter attributes", async () => {
  let t = 1_700_000_000_000;
  const clock = { now: () => t, monotonic: () => 0 };
  const registry = new Registry({ clock });
  const meter = new MeterProvider({ registry }).getMeter("m");
  const open = meter.createUpDownCounter("sessions.open");
  open.add(5, { shard: 1 });
  // deno-lint-ignore no-explicit-any
  const bodies: any[] = [];
  const exporter = new OtlpExporter({
    url: "http://collector.test/v1/metrics",
    protocol: "json",
    registry,
    temporality: "delta",
    clock,
    fetch: async (request: Request) => {
      bodies.push(await request.json());
      return new Response("{}");
    },
  });
  t += 1_000;
  await exporter.flush();
  open.add(-7, { shard: 1 });
  t += 1_000;
  await exporter.flush();
  const sums = bodies.map((body) =>
    body.resourceMetrics[0].scopeMetrics[0].metrics[0].sum
  );
  // OTLP exporter spec, temporality preference "delta": UpDownCounter and
  // its observable form stay cumulative (a delta non-monotonic sum is
  // dropped by Prometheus-style backends).
  assert.deepEqual(sums.map((s) => s.aggregationTemporality), [2, 2]);
  assert.deepEqual(sums.map((s) => s.isMonotonic), [false, false]);
  assert.deepEqual(
    sums.map((s) => [s.dataPoints[0].asDouble, s.dataPoints[0].attributes]),
    [
      [5, [{ key: "shard", value: { intValue: "1" } }]],
      [-2, [{ key: "shard", value: { intValue: "1" } }]],
    ],
  );
  assert.equal(
    sums[1].dataPoints[0].startTimeUnixNano,
    "1700000000000000000",
  );
  await exporter.shutdown();
});

Deno.test("UpDownCounter is a gauge in the Prometheus protobuf exposition and in remote write", async () => {
  const registry = new Registry({ clock: fixedClock(1_700_000_000_000) });
  const open = new UpDownCounter({
    name: "sessions_open",
    help: "Sessions.",
    labelNames: ["app"] as const,
    registry,
  });
  open.add({ app: "web" }, -4);
  const families = await registry.collect();

  const [family] = decodePrometheusProtobuf(
    encodePrometheusProtobuf(families),
  ) as {
    name: string;
    type: string;
    metric: { gauge: { value: number } }[];
  }[];
  assert.equal(family?.name, "sessions_open");
  assert.equal(family?.type, "GAUGE");
  assert.equal(family?.metric[0]?.gauge.value, -4);

  const [request] = encodeRemoteWrite(families, {
    timestampMs: 1_700_000_001_000,
  });
  const decoded = decodeWriteRequest(request!);
  assert.deepEqual(
    decoded.timeseries.map((
      s: {
        labels: { name: string; value: string }[];
        samples: { value: number }[];
      },
    ) => [
      s.labels.map((l) => `${l.name}=${l.value}`).join(","),
      s.samples[0]!.value,
    ]),
    [["__name__=sessions_open,app=web", -4]],
  );
  assert.equal(decoded.metadata[0].type, "GAUGE");
});
