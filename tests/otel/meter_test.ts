import assert from "node:assert/strict";
import {
  encodeOpenMetrics,
  encodeOtlpJson,
  encodeOtlpProtobuf,
  MeterProvider,
  Registry,
} from "@edgemetrics/edgemetrics";
import { decodeOtlpProtobuf } from "../_otlp_decode.ts";
import { captureWarnings } from "../_warnings.ts";
import { api } from "./_api.ts";

const { metrics } = api;

/** Registers a fresh provider globally for one test, and unregisters after. */
function withGlobal(
  options: ConstructorParameters<typeof MeterProvider>[0],
): { provider: MeterProvider; registry: Registry } {
  metrics.disable();
  const registry = new Registry({
    clock: { now: () => 1_700_000_000_000, monotonic: () => 0 },
  });
  const provider = new MeterProvider({ registry, ...options });
  assert.equal(metrics.setGlobalMeterProvider(provider), true);
  return { provider, registry };
}

Deno.test("MeterProvider registered in @opentelemetry/api serves every kind with translated Prometheus names", async () => {
  const { registry } = withGlobal({ resource: { "service.name": "shop" } });
  try {
    const meter = metrics.getMeter("shop", "1.0.0");
    meter.createCounter("http.server.requests", { unit: "{request}" }).add(2, {
      "http.route": "/a",
    });
    meter.createUpDownCounter("db.client.connections.usage").add(-3);
    meter.createGauge("system.cpu.utilization", { unit: "1" }).record(0.5);
    meter.createHistogram("http.server.request.duration", {
      unit: "s",
      description: "Duration.",
      advice: { explicitBucketBoundaries: [0.1, 1] },
    }).record(0.2, { "http.response.status_code": 200, ok: true });
    meter.createObservableCounter("process.cpu.time", { unit: "s" })
      .addCallback((r) => r.observe(12.5, { "cpu.mode": "user" }));
    meter.createObservableUpDownCounter("queue.size").addCallback((r) =>
      r.observe(-1)
    );
    meter.createObservableGauge("memory.used", { unit: "By" }).addCallback((
      r,
    ) => r.observe(2048));
    assert.equal(
      await registry.metrics(),
      [
        "# HELP target_info Target metadata",
        "# TYPE target_info gauge",
        'target_info{service_name="shop"} 1',
        "# TYPE http_server_requests_total counter",
        'http_server_requests_total{http_route="/a"} 2',
        "# TYPE db_client_connections_usage gauge",
        "db_client_connections_usage -3",
        "# TYPE system_cpu_utilization_ratio gauge",
        "system_cpu_utilization_ratio 0.5",
        "# HELP http_server_request_duration_seconds Duration.",
        "# TYPE http_server_request_duration_seconds histogram",
        'http_server_request_duration_seconds_bucket{http_response_status_code="200",ok="true",le="0.1"} 0',
        'http_server_request_duration_seconds_bucket{http_response_status_code="200",ok="true",le="1.0"} 1',
        'http_server_request_duration_seconds_bucket{http_response_status_code="200",ok="true",le="+Inf"} 1',
        'http_server_request_duration_seconds_sum{http_response_status_code="200",ok="true"} 0.2',
        'http_server_request_duration_seconds_count{http_response_status_code="200",ok="true"} 1',
        "# TYPE process_cpu_time_seconds_total counter",
        'process_cpu_time_seconds_total{cpu_mode="user"} 12.5',
        "# TYPE queue_size gauge",
        "queue_size -1",
        "# TYPE memory_used_bytes gauge",
        "memory_used_bytes 2048",
        "",
      ].join("\n"),
    );
    const om = encodeOpenMetrics(await registry.collect());
    assert.match(
      om,
      /^# TYPE target info\n# HELP target Target metadata\ntarget_info\{service_name="shop"\} 1$/m,
    );
    assert.match(om, /^# UNIT http_server_request_duration_seconds seconds$/m);
  } finally {
    metrics.disable();
  }
});

Deno.test("MeterProvider: target_info keeps its name and only the resource's labels under a registry prefix and default labels", async () => {
  const registry = new Registry({
    prefix: "shop_",
    defaultLabels: { region: "eu" },
  });
  const provider = new MeterProvider({
    registry,
    resource: { "service.name": "shop" },
  });
  provider.getMeter("m").createCounter("orders").add(1);
  const text = await registry.metrics();
  assert.match(text, /^target_info\{service_name="shop"\} 1$/m);
  assert.match(text, /^shop_orders_total\{region="eu"\} 1$/m);
  assert.doesNotMatch(text, /shop_target/);
});

Deno.test("Meter: OTLP keeps OTel names, units, typed attributes and one ScopeMetrics per meter", async () => {
  const { registry } = withGlobal({ resource: { "service.name": "shop" } });
  try {
    metrics.getMeter("a", "1.0").createCounter("jobs.done", { unit: "{job}" })
      .add(1, { code: 200, ok: true, ratio: 0.5, "k.s": "x" });
    metrics.getMeter("b").createUpDownCounter("items").add(-2);
    const bytes = encodeOtlpProtobuf(await registry.collect(), {
      resource: { "service.name": "shop" },
      timeUnixMs: 1_700_000_001_000,
    });
    // deno-lint-ignore no-explicit-any
    const request = decodeOtlpProtobuf(bytes) as any;
    const scopes = request.resourceMetrics[0].scopeMetrics;
    assert.deepEqual(
      scopes.map((s: { scope: unknown }) => s.scope),
      [{ name: "a", version: "1.0" }, { name: "b" }],
    );
    const jobs = scopes[0].metrics[0];
    assert.equal(jobs.name, "jobs.done");
    assert.equal(jobs.unit, "{job}");
    assert.equal(jobs.sum.isMonotonic, true);
    assert.deepEqual(jobs.sum.dataPoints[0].attributes, [
      { key: "code", value: { intValue: "200" } },
      { key: "k.s", value: { stringValue: "x" } },
      { key: "ok", value: { boolValue: true } },
      { key: "ratio", value: { doubleValue: 0.5 } },
    ]);
    const items = scopes[1].metrics[0];
    assert.equal(items.name, "items");
    assert.ok(!items.sum.isMonotonic);
    assert.equal(items.sum.dataPoints[0].asDouble, -2);
    // target_info is the resource in OTLP, not a metric.
    assert.equal(
      scopes.flatMap((s: { metrics: { name: string }[] }) => s.metrics)
        .some((m: { name: string }) => m.name === "target_info"),
      false,
    );
  } finally {
    metrics.disable();
  }
});

Deno.test("Meter: an invalid instrument name warns and returns a no-op instrument", async () => {
  const registry = new Registry();
  const meter = new MeterProvider({ registry }).getMeter("m");
  const warnings = captureWarnings(() => {
    const bad = meter.createCounter("1bad name");
    bad.add(1);
    meter.createHistogram("").record(1);
    meter.createObservableGauge("x".repeat(256)).addCallback((r) =>
      r.observe(1)
    );
  });
  assert.equal(warnings.length, 3);
  assert.match(
    warnings[0]!,
    /ignored instrument "1bad name" of meter "m": an instrument name must match \[A-Za-z\]\[A-Za-z0-9_.\\-\/\]\{0,254\}; it records nothing/,
  );
  assert.deepEqual(await registry.collect(), []);
});

Deno.test("Meter: negative counter and histogram values, NaN and wrong attribute types are dropped with a warning, not thrown", async () => {
  const registry = new Registry();
  const meter = new MeterProvider({ registry }).getMeter("m");
  const counter = meter.createCounter("c");
  const histogram = meter.createHistogram("h", {
    advice: { explicitBucketBoundaries: [1] },
  });
  const updown = meter.createUpDownCounter("u");
  const warnings = captureWarnings(() => {
    counter.add(-1);
    counter.add(NaN);
    counter.add(2, { good: "x", bad: { nested: 1 } as unknown as string });
    histogram.record(-5);
    updown.add(-5);
    updown.add(NaN);
  });
  assert.deepEqual(warnings.map((w) => w.replace(/^edgemetrics: /, "")), [
    'ignored a negative value of counter "c" (got -1): it only takes values of at least 0',
    'ignored a non-finite value of instrument "c", got NaN',
    'dropped attribute "bad" of instrument "c": an attribute value must be a string, number or boolean, or an array of one of them, got {"nested":1}',
    'ignored a negative value of histogram "h" (got -5): it only takes values of at least 0',
    'ignored a non-finite value of instrument "u", got NaN',
  ]);
  const [c, h, u] = await registry.collect();
  assert.deepEqual(c?.points.map((p) => [p.labels, "value" in p && p.value]), [
    [{ good: "x" }, 2],
  ]);
  assert.equal(h?.points.length, 0);
  assert.deepEqual(u?.points.map((p) => "value" in p && p.value), [-5]);
});

Deno.test("Meter: array attributes are one series by content, JSON in Prometheus labels, arrayValue in OTLP; mixed arrays are dropped with a warning", async () => {
  const registry = new Registry();
  const meter = new MeterProvider({ registry }).getMeter("m");
  const counter = meter.createCounter("jobs");
  const warnings = captureWarnings(() => {
    for (let i = 0; i < 3; i++) counter.add(1, { tags: ["a", "b"] });
    counter.add(5, { tags: [1] });
    counter.add(7, { tags: ["1"] });
    counter.add(1, { tags: ["a", 1] as unknown as string[] });
  });
  assert.deepEqual(warnings, [
    'edgemetrics: dropped attribute "tags" of instrument "jobs": an attribute value must be a string, number or boolean, or an array of one of them, got a mixed or nested array',
  ]);
  const text = await registry.metrics();
  assert.match(text, /^jobs_total\{tags="\[\\"a\\",\\"b\\"\]"\} 3$/m);
  assert.match(text, /^jobs_total\{tags="\[1\]"\} 5$/m);
  assert.match(text, /^jobs_total\{tags="\[\\"1\\"\]"\} 7$/m);
  assert.match(text, /^jobs_total 1$/m);
  const families = await registry.collect();
  const options = { resource: {}, timeUnixMs: 1_700_000_000_000 };
  const decoded = decodeOtlpProtobuf(encodeOtlpProtobuf(families, options));
  const json = JSON.parse(encodeOtlpJson(families, options));
  for (const body of [decoded, json]) {
    // deno-lint-ignore no-explicit-any
    const points = (body as any).resourceMetrics[0].scopeMetrics[0].metrics[0]
      .sum.dataPoints;
    // deno-lint-ignore no-explicit-any
    const values = points.map((p: any) => p.attributes?.[0]?.value ?? null);
    assert.deepEqual(values, [
      {
        arrayValue: {
          values: [{ stringValue: "a" }, { stringValue: "b" }],
        },
      },
      { arrayValue: { values: [{ intValue: "1" }] } },
      { arrayValue: { values: [{ stringValue: "1" }] } },
      null,
    ]);
  }
});

Deno.test("Meter: the same name and kind returns the same instrument; an attribute set in any key order is one series", async () => {
  const registry = new Registry();
  const meter = new MeterProvider({ registry }).getMeter("m");
  const a = meter.createCounter("Requests");
  assert.equal(meter.createCounter("requests"), a);
  a.add(1, { x: "1", y: "2" });
  a.add(1, { y: "2", x: "1" });
  a.add(1, { x: 1, y: "2" }); // a number: another attribute set in OTel
  a.add(1, { x: "1", y: "2" });
  const [family] = await registry.collect();
  assert.deepEqual(
    family?.points.map((p) => [
      p.labels,
      "attributes" in p ? p.attributes : undefined,
      "value" in p && p.value,
    ]),
    [
      [{ x: "1", y: "2" }, undefined, 3],
      [{ x: "1", y: "2" }, { x: 1, y: "2" }, 1],
    ],
  );
});

Deno.test("Meter.addBatchObservableCallback() runs once per collection for all its observables; a failing callback fails only its own", async () => {
  const errors: string[] = [];
  const registry = new Registry({
    onError: (error, metric) => errors.push(`${metric}: ${error}`),
  });
  const meter = new MeterProvider({ registry }).getMeter("m");
  const hits = meter.createObservableCounter("hits");
  const level = meter.createObservableGauge("level");
  const broken = meter.createObservableGauge("broken");
  let calls = 0;
  meter.addBatchObservableCallback(async (result) => {
    calls++;
    await Promise.resolve();
    result.observe(hits, calls * 10, { k: "v" });
    result.observe(level, calls);
  }, [hits, level]);
  broken.addCallback(() => {
    throw new Error("boom");
  });
  const first = await registry.collect();
  assert.equal(calls, 1);
  assert.deepEqual(first.map((f) => f.name), ["hits", "level"]);
  assert.deepEqual(errors, ["broken: Error: boom"]);
  const second = await registry.collect();
  assert.equal(calls, 2);
  assert.deepEqual(
    second.map((f) => f.points.map((p) => "value" in p && p.value)),
    [[20], [2]],
  );
});

Deno.test("Meter: an observable exports only the attribute sets observed in the latest collection", async () => {
  const registry = new Registry();
  const meter = new MeterProvider({ registry }).getMeter("m");
  let sets = [{ pool: "a" }, { pool: "b" }];
  meter.createObservableUpDownCounter("pool.size").addCallback((r) => {
    for (const s of sets) r.observe(1, s);
  });
  assert.equal((await registry.collect())[0]?.points.length, 2);
  sets = [{ pool: "b" }];
  assert.deepEqual((await registry.collect())[0]?.points.map((p) => p.labels), [
    { pool: "b" },
  ]);
});

Deno.test("Meter: a name another meter already took in Prometheus warns and records nothing", async () => {
  const registry = new Registry();
  const provider = new MeterProvider({ registry });
  provider.getMeter("a").createCounter("jobs").add(1);
  const warnings = captureWarnings(() =>
    provider.getMeter("b").createCounter("jobs").add(5)
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /ignored instrument "jobs" of meter "b"/);
  const [family] = await registry.collect();
  assert.deepEqual(family?.points.map((p) => "value" in p && p.value), [1]);
});

Deno.test("MeterProvider.registerGlobal() names OTEL_DENO when Deno's provider was registered first", () => {
  metrics.disable();
  const first = new MeterProvider({ registry: new Registry() });
  first.registerGlobal(metrics);
  const second = new MeterProvider({ registry: new Registry() });
  assert.throws(
    () => second.registerGlobal(metrics),
    /already has a global MeterProvider \(register edgemetrics' provider first/,
  );
  const before = Deno.env.get("OTEL_DENO");
  Deno.env.set("OTEL_DENO", "true");
  try {
    assert.throws(
      () => second.registerGlobal(metrics),
      /Deno's built-in OpenTelemetry registered its own because OTEL_DENO=true/,
    );
  } finally {
    if (before === undefined) Deno.env.delete("OTEL_DENO");
    else Deno.env.set("OTEL_DENO", before);
    metrics.disable();
  }
});

Deno.test("Meter: a library that got its meter before registration keeps the API's no-op meter", async () => {
  metrics.disable();
  const early = metrics.getMeter("early-lib");
  const registry = new Registry();
  metrics.setGlobalMeterProvider(new MeterProvider({ registry }));
  try {
    early.createCounter("early.calls").add(1);
    metrics.getMeter("late-lib").createCounter("late.calls").add(1);
    assert.deepEqual((await registry.collect()).map((f) => f.name), [
      "late_calls",
    ]);
  } finally {
    metrics.disable();
  }
});

Deno.test("Meter: attributes that are not an object are ignored with a warning, the value recorded unlabeled", async () => {
  const registry = new Registry();
  const counter = new MeterProvider({ registry }).getMeter("m").createCounter(
    "calls",
  );
  const warnings = captureWarnings(() => {
    counter.add(1, "route=/a" as unknown as Record<string, string>);
    counter.add(1, "route=/a" as unknown as Record<string, string>);
  });
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /ignored attributes of instrument "calls": attributes must be an object, got "route=\/a"/,
  );
  const [family] = await registry.collect();
  assert.deepEqual(
    family?.points.map((p) => [p.labels, "value" in p && p.value]),
    [
      [{}, 2],
    ],
  );
});

Deno.test("Registry default labels reach a meter series' OTLP attributes as well as its labels", async () => {
  const registry = new Registry({ defaultLabels: { region: "eu" } });
  new MeterProvider({ registry }).getMeter("m").createCounter("hits").add(1, {
    code: 200,
  });
  const [family] = await registry.collect();
  const point = family!.points[0]!;
  assert.deepEqual(point.labels, { region: "eu", code: "200" });
  assert.deepEqual("attributes" in point && point.attributes, {
    region: "eu",
    code: 200,
  });
  const again = (await registry.collect())[0]!.points[0]!;
  assert.equal(
    "attributes" in again && again.attributes,
    "attributes" in point && point.attributes,
  );
});
