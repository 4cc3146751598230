import assert from "node:assert/strict";
import { VERSION } from "../src/_version.ts";
import { captureWarnings } from "./_warnings.ts";
import { createRequire } from "node:module";
import {
  Counter,
  type HistogramPoint,
  type MetricFamily,
  OtlpExporter,
  type OtlpExporterOptions,
  Registry,
} from "../mod.ts";
import { DeltaTracker } from "../src/push/_delta.ts";

const URL_ = "http://collector.test/v1/metrics";
const EPOCH = 1_700_000_000_000;
const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A clock moved by hand and by the injected sleep. */
function fakeTime(start = EPOCH) {
  let t = start;
  return {
    clock: { now: () => t, monotonic: () => t - start },
    sleep: (ms: number) => {
      t += ms;
      return Promise.resolve();
    },
    set: (ms: number) => {
      t = ms;
    },
  };
}

interface Sent {
  method: string;
  url: string;
  headers: Headers;
  body: Uint8Array;
  json: () => OtlpJson;
}

// deno-lint-ignore no-explicit-any
type OtlpJson = any;

/** A fetch that records requests and answers from a script (default 200 `{}`). */
function recorder(answers: (() => Response | Promise<Response>)[] = []) {
  const sent: Sent[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const body = new Uint8Array(await request.arrayBuffer());
    sent.push({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body,
      json: () => JSON.parse(new TextDecoder().decode(body)),
    });
    const next = answers.shift();
    return next === undefined
      ? new Response("{}", { headers: { "content-type": "application/json" } })
      : await next();
  };
  return { sent, fetch };
}

function exporter(
  registry: Registry,
  fetch: (request: Request) => Promise<Response>,
  options: Partial<OtlpExporterOptions> = {},
): OtlpExporter {
  const time = fakeTime();
  return new OtlpExporter({
    url: URL_,
    protocol: "json",
    resource: { "service.name": "test-job" },
    registry,
    fetch,
    clock: time.clock,
    sleep: time.sleep,
    random: () => 0.5,
    ...options,
  });
}

/** The first metric's data points of a JSON body. */
function points(body: OtlpJson, index = 0): OtlpJson[] {
  const metric = body.resourceMetrics[0].scopeMetrics[0].metrics[index];
  return (metric.sum ?? metric.histogram ?? metric.gauge).dataPoints;
}

/** A registry with one histogram series whose state the test sets directly. */
function histogramRegistry(state: { point: HistogramPoint }): Registry {
  const registry = new Registry();
  registry.register({
    name: "latency_seconds",
    type: "histogram",
    collect: (): MetricFamily => ({
      type: "histogram",
      name: "latency_seconds",
      help: "Latency.",
      unit: "seconds",
      bounds: [0.1, 0.3],
      points: [state.point],
    }),
  });
  return registry;
}

Deno.test("new OtlpExporter() makes no random value, starts no timer and sends nothing", () => {
  const calls: string[] = [];
  const originals = {
    randomUUID: crypto.randomUUID,
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    fetch: globalThis.fetch,
    getRandomValues: crypto.getRandomValues,
  };
  crypto.randomUUID = () => {
    calls.push("randomUUID");
    return originals.randomUUID.call(crypto);
  };
  crypto.getRandomValues = <T extends ArrayBufferView | null>(array: T): T => {
    calls.push("getRandomValues");
    return originals.getRandomValues.call(crypto, array as never) as T;
  };
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    calls.push("setTimeout");
    return originals.setTimeout(...args);
  }) as typeof setTimeout;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    calls.push("setInterval");
    return originals.setInterval(...args);
  }) as typeof setInterval;
  globalThis.fetch = (() => {
    calls.push("fetch");
    return Promise.reject(new Error("no I/O expected"));
  }) as typeof fetch;
  try {
    new OtlpExporter({ registry: new Registry(), intervalMs: 1000 });
    new OtlpExporter({
      registry: new Registry(),
      temporality: "delta",
      protocol: "json",
      resource: { "service.name": "worker" },
    });
  } finally {
    Object.assign(crypto, {
      randomUUID: originals.randomUUID,
      getRandomValues: originals.getRandomValues,
    });
    Object.assign(globalThis, {
      setTimeout: originals.setTimeout,
      setInterval: originals.setInterval,
      fetch: originals.fetch,
    });
  }
  assert.deepEqual(calls, []);
});

Deno.test("OtlpExporter.flush() POSTs the whole snapshot as OTLP JSON with resource, scope and start times", async () => {
  const time = fakeTime();
  const registry = new Registry({ clock: time.clock });
  const jobs = new Counter({
    name: "jobs_processed_total",
    help: "Jobs processed.",
    labelNames: ["queue"] as const,
    registry,
  });
  jobs.inc({ queue: "emails" }, 3);
  time.set(EPOCH + 60_000);
  const { sent, fetch } = recorder();
  const exp = new OtlpExporter({
    url: URL_,
    protocol: "json",
    headers: { "x-api-key": "k1" },
    resource: { "service.name": "order-job", "deployment.environment": "test" },
    scope: { name: "order-job", version: "1.2.3" },
    registry,
    fetch,
    clock: time.clock,
  });
  await exp.flush();
  assert.equal(sent.length, 1);
  const [request] = sent;
  assert.equal(request!.method, "POST");
  assert.equal(request!.url, URL_);
  assert.equal(request!.headers.get("content-type"), "application/json");
  assert.equal(request!.headers.get("x-api-key"), "k1");
  const body = request!.json();
  const attributes = body.resourceMetrics[0].resource.attributes;
  const instance = attributes.find((a: OtlpJson) =>
    a.key === "service.instance.id"
  );
  assert.match(instance.value.stringValue, UUID);
  assert.deepEqual(body, {
    resourceMetrics: [{
      resource: {
        attributes: [
          { key: "service.name", value: { stringValue: "order-job" } },
          { key: "deployment.environment", value: { stringValue: "test" } },
          {
            key: "service.instance.id",
            value: { stringValue: instance.value.stringValue },
          },
        ],
      },
      scopeMetrics: [{
        scope: { name: "order-job", version: "1.2.3" },
        metrics: [{
          name: "jobs_processed",
          description: "Jobs processed.",
          sum: {
            dataPoints: [{
              attributes: [{ key: "queue", value: { stringValue: "emails" } }],
              startTimeUnixNano: "1700000000000000000",
              timeUnixNano: "1700000060000000000",
              asDouble: 3,
            }],
            aggregationTemporality: 2,
            isMonotonic: true,
          },
        }],
      }],
    }],
  });
  await exp.shutdown();
});

Deno.test("OtlpExporter uses one service.instance.id per isolate, made on the first export", async () => {
  const registry = new Registry();
  new Counter({ name: "instance_probe", help: "Probe.", registry }).inc();
  const a = recorder();
  const b = recorder();
  const first = exporter(registry, a.fetch);
  const second = exporter(registry, b.fetch);
  await first.flush();
  await second.flush();
  const id = (sent: Sent[]) =>
    sent[0]!.json().resourceMetrics[0].resource.attributes.find((
      a: OtlpJson,
    ) => a.key === "service.instance.id").value.stringValue;
  assert.match(id(a.sent), UUID);
  assert.equal(id(a.sent), id(b.sent));
  const own = recorder();
  const pinned = exporter(registry, own.fetch, {
    resource: { "service.name": "x", "service.instance.id": "pod-7" },
  });
  await pinned.flush();
  assert.equal(id(own.sent), "pod-7");
  await Promise.all([first.shutdown(), second.shutdown(), pinned.shutdown()]);
});

Deno.test("OtlpExporter sends protobuf by default with the protobuf content type", async () => {
  const registry = new Registry();
  new Counter({ name: "proto_probe", help: "Probe.", registry }).inc(2);
  const { sent, fetch } = recorder();
  const exp = new OtlpExporter({
    url: URL_,
    registry,
    fetch,
    resource: { "service.name": "proto" },
  });
  assert.equal(exp.protocol, "protobuf");
  await exp.flush();
  assert.equal(sent[0]!.headers.get("content-type"), "application/x-protobuf");
  // The official generated decoder (CommonJS), independent of our encoder.
  const rootJs = new URL(
    "../.tools/node_modules/@opentelemetry/otlp-transformer/build/esm/generated/root.js",
    import.meta.url,
  );
  const root = createRequire(rootJs)(rootJs.pathname);
  const decoded = root.opentelemetry.proto.collector.metrics.v1
    .ExportMetricsServiceRequest.decode(sent[0]!.body);
  const metric = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0];
  assert.equal(metric.name, "proto_probe");
  assert.equal(metric.sum.dataPoints[0].asDouble, 2);
  assert.equal(metric.sum.isMonotonic, true);
  await exp.shutdown();
});

Deno.test("OtlpExporter reads endpoint, protocol, headers and resource from the OTEL_* environment", async (t) => {
  const names = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
  ];
  const saved = new Map(names.map((name) => [name, Deno.env.get(name)]));
  const clear = () => names.forEach((name) => Deno.env.delete(name));
  const body = async (exp: OtlpExporter, sent: Sent[]) => {
    await exp.flush();
    return sent.at(-1)!;
  };
  try {
    clear();
    await t.step("defaults without environment", () => {
      const exp = new OtlpExporter({ registry: new Registry() });
      assert.equal(exp.url, "http://localhost:4318/v1/metrics");
      assert.equal(exp.protocol, "protobuf");
      assert.equal(exp.temporality, "cumulative");
    });
    await t.step(
      "OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/metrics appended",
      () => {
        Deno.env.set(
          "OTEL_EXPORTER_OTLP_ENDPOINT",
          "https://otel.example:4318/",
        );
        assert.equal(
          new OtlpExporter({ registry: new Registry() }).url,
          "https://otel.example:4318/v1/metrics",
        );
      },
    );
    await t.step("the metrics endpoint wins and is used as is", () => {
      Deno.env.set(
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "https://m.example/custom",
      );
      assert.equal(
        new OtlpExporter({ registry: new Registry() }).url,
        "https://m.example/custom",
      );
      assert.equal(
        new OtlpExporter({ registry: new Registry(), url: URL_ }).url,
        URL_,
      );
    });
    await t.step(
      "headers, protocol, service name and percent-decoded attributes",
      async () => {
        Deno.env.set(
          "OTEL_EXPORTER_OTLP_HEADERS",
          "api-key=a%20b,x-tenant=t1",
        );
        Deno.env.set("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
        Deno.env.set("OTEL_SERVICE_NAME", "from-env");
        Deno.env.set(
          "OTEL_RESOURCE_ATTRIBUTES",
          "service.name=ignored,deployment.environment=prod,team=a%2Cb%3Dc",
        );
        const registry = new Registry();
        new Counter({ name: "env_probe", help: "Probe.", registry }).inc();
        const { sent, fetch } = recorder();
        const exp = new OtlpExporter({
          registry,
          fetch,
          headers: { "x-tenant": "t2" },
        });
        assert.equal(exp.protocol, "json");
        const request = await body(exp, sent);
        assert.equal(request.headers.get("api-key"), "a b");
        assert.equal(request.headers.get("x-tenant"), "t2");
        const attributes = request.json().resourceMetrics[0].resource.attributes
          .filter((a: OtlpJson) => a.key !== "service.instance.id");
        assert.deepEqual(attributes, [
          { key: "service.name", value: { stringValue: "from-env" } },
          { key: "deployment.environment", value: { stringValue: "prod" } },
          { key: "team", value: { stringValue: "a,b=c" } },
        ]);
        await exp.shutdown();
      },
    );
    await t.step(
      "the temporality preference: delta, cumulative, and a warning for the rest",
      () => {
        const name = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
        Deno.env.set(name, "Delta");
        assert.equal(
          new OtlpExporter({ registry: new Registry() }).temporality,
          "delta",
        );
        Deno.env.set(name, "lowmemory");
        let temporality = "";
        const warnings = captureWarnings(() => {
          temporality = new OtlpExporter({ registry: new Registry() })
            .temporality;
        });
        assert.equal(temporality, "cumulative");
        assert.deepEqual(warnings, [
          `edgemetrics: ${name}="lowmemory" is not "cumulative" or "delta": exporting cumulative`,
        ]);
        Deno.env.delete(name);
      },
    );
    await t.step("the resource option wins over the environment", async () => {
      const registry = new Registry();
      new Counter({ name: "env_probe2", help: "Probe.", registry }).inc();
      const { sent, fetch } = recorder();
      const exp = new OtlpExporter({
        registry,
        fetch,
        resource: { "service.name": "from-option", "team": "b" },
      });
      const attributes = (await body(exp, sent)).json().resourceMetrics[0]
        .resource.attributes;
      assert.equal(attributes[0].value.stringValue, "from-option");
      assert.equal(
        attributes.find((a: OtlpJson) => a.key === "team").value.stringValue,
        "b",
      );
      await exp.shutdown();
    });
    await t.step("service.name falls back to unknown_service", async () => {
      clear();
      const registry = new Registry();
      new Counter({ name: "env_probe3", help: "Probe.", registry }).inc();
      const { sent, fetch } = recorder();
      const exp = new OtlpExporter({ registry, fetch, protocol: "json" });
      const attributes = (await body(exp, sent)).json().resourceMetrics[0]
        .resource.attributes;
      assert.deepEqual(attributes[0], {
        key: "service.name",
        value: { stringValue: "unknown_service" },
      });
      await exp.shutdown();
    });
  } finally {
    clear();
    for (const [name, value] of saved) {
      if (value !== undefined) Deno.env.set(name, value);
    }
  }
});

Deno.test("OtlpExporter merges headers whatever their case, later sources winning, and keeps its own Content-Type", async () => {
  const saved = Deno.env.get("OTEL_EXPORTER_OTLP_HEADERS");
  Deno.env.set("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20env");
  try {
    const registry = new Registry();
    new Counter({ name: "header_probe", help: "Probe.", registry }).inc();
    const { sent, fetch } = recorder();
    const exp = new OtlpExporter({
      url: URL_,
      registry,
      fetch,
      headers: {
        authorization: "Bearer mine",
        "Content-Type": "application/json",
        "X-Tenant": "a",
        "x-tenant": "b",
      },
    });
    await exp.flush();
    assert.deepEqual([...sent[0]!.headers], [
      ["authorization", "Bearer mine"],
      ["content-type", "application/x-protobuf"],
      ["user-agent", `edgemetrics/${VERSION}`],
      ["x-tenant", "b"],
    ]);
    // The OTLP/HTTP spec's User-Agent, unless the user names their own.
    const mine = recorder();
    const own = new OtlpExporter({
      url: URL_,
      registry,
      fetch: mine.fetch,
      headers: { "User-Agent": "shop/2" },
    });
    await own.flush();
    assert.equal(mine.sent[0]!.headers.get("user-agent"), "shop/2");
    await own.shutdown();
    await exp.shutdown();
  } finally {
    if (saved === undefined) Deno.env.delete("OTEL_EXPORTER_OTLP_HEADERS");
    else Deno.env.set("OTEL_EXPORTER_OTLP_HEADERS", saved);
  }
});

Deno.test("new OtlpExporter() rejects an unknown protocol, temporality, url or interval", () => {
  assert.throws(
    () => new OtlpExporter({ protocol: "grpc" as "json" }),
    {
      name: "TypeError",
      message:
        'Cannot create OtlpExporter: protocol must be "protobuf" or "json", got "grpc"',
    },
  );
  assert.throws(
    () => new OtlpExporter({ temporality: "sometimes" as "delta" }),
    {
      name: "TypeError",
      message:
        'Cannot create OtlpExporter: temporality must be "cumulative" or "delta", got "sometimes"',
    },
  );
  assert.throws(() => new OtlpExporter({ url: "collector:4318" }), {
    name: "TypeError",
    message:
      'Cannot create OtlpExporter: url must be an absolute http or https URL, got "collector:4318"',
  });
  assert.throws(
    () => new OtlpExporter({ headers: { "api key": "x" } }),
    {
      name: "TypeError",
      message:
        'Cannot create OtlpExporter: header "api key": a name must be an HTTP token (letters, digits and !#$%&\'*+-.^_`|~)',
    },
  );
  assert.throws(() => new OtlpExporter({ intervalMs: -1 }), {
    name: "RangeError",
    message:
      "Cannot create OtlpExporter: intervalMs must be a number above 0, got -1",
  });
});

Deno.test("OtlpExporter.flush() retries a 503 with the same bytes and resolves when delivered", async () => {
  const registry = new Registry();
  new Counter({ name: "retry_probe", help: "Probe.", registry }).inc();
  const { sent, fetch } = recorder([
    () => new Response(null, { status: 503, headers: { "retry-after": "1" } }),
    () => new Response(null, { status: 502 }),
  ]);
  const exp = exporter(registry, fetch, { protocol: "protobuf" });
  await exp.flush();
  assert.equal(sent.length, 3);
  assert.deepEqual(sent[1]!.body, sent[0]!.body);
  assert.deepEqual(sent[2]!.body, sent[0]!.body);
  await exp.shutdown();
});

Deno.test("OtlpExporter.flush() rejects a 400 at once with URL, status and attempts", async () => {
  const registry = new Registry();
  new Counter({ name: "reject_probe", help: "Probe.", registry }).inc();
  const { sent, fetch } = recorder([
    () => new Response('{"code":3,"message":"bad metric"}', { status: 400 }),
  ]);
  const exp = exporter(registry, fetch);
  await assert.rejects(exp.flush(), {
    message:
      `Cannot export metrics to ${URL_}: got HTTP 400 ("{\\"code\\":3,\\"message\\":\\"bad metric\\"}") after 1 attempt (not retryable)`,
  });
  assert.equal(sent.length, 1);
  await exp.shutdown();
});

Deno.test("OtlpExporter with cumulative temporality sends full totals again after a failed export", async () => {
  const time = fakeTime();
  const registry = new Registry({ clock: time.clock });
  const c = new Counter({ name: "cumulative_probe", help: "Probe.", registry });
  c.inc(2);
  const { sent, fetch } = recorder([
    () => new Response(null, { status: 500 }),
  ]);
  const exp = exporter(registry, fetch, { clock: time.clock });
  await assert.rejects(exp.flush(), /got HTTP 500/);
  c.inc(3);
  time.set(EPOCH + 10_000);
  await exp.flush();
  const [point] = points(sent[1]!.json());
  assert.equal(point.asDouble, 5);
  assert.equal(point.startTimeUnixNano, "1700000000000000000");
  assert.equal(point.timeUnixNano, "1700000010000000000");
  assert.equal(
    sent[1]!.json().resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .aggregationTemporality,
    2,
  );
  await exp.shutdown();
});

Deno.test("OtlpExporter with delta temporality sends changes since the last acknowledged export", async () => {
  const time = fakeTime();
  const registry = new Registry({ clock: time.clock });
  const c = new Counter({
    name: "delta_probe",
    help: "Probe.",
    labelNames: ["k"] as const,
    registry,
  });
  c.inc({ k: "a" }, 2);
  const { sent, fetch } = recorder([
    () => new Response("{}"), // export 1 acknowledged
    () => new Response(null, { status: 400 }), // export 2 refused
    () => new Response("{}"), // export 3 acknowledged
  ]);
  const exp = exporter(registry, fetch, {
    clock: time.clock,
    temporality: "delta",
  });
  time.set(EPOCH + 1000);
  await exp.flush();
  c.inc({ k: "a" }, 3);
  time.set(EPOCH + 2000);
  await assert.rejects(exp.flush(), /got HTTP 400/);
  c.inc({ k: "a" }, 4);
  c.inc({ k: "b" }, 1);
  time.set(EPOCH + 3000);
  await exp.flush();
  const summary = (request: Sent) =>
    points(request.json()).map((p: OtlpJson) => ({
      k: p.attributes[0].value.stringValue,
      value: p.asDouble,
      start: p.startTimeUnixNano,
      time: p.timeUnixNano,
    }));
  assert.equal(
    sent[0]!.json().resourceMetrics[0].scopeMetrics[0].metrics[0].sum
      .aggregationTemporality,
    1,
  );
  assert.deepEqual(summary(sent[0]!), [
    {
      k: "a",
      value: 2,
      start: "1700000000000000000",
      time: "1700000001000000000",
    },
  ]);
  assert.deepEqual(summary(sent[1]!), [
    {
      k: "a",
      value: 3,
      start: "1700000001000000000",
      time: "1700000002000000000",
    },
  ]);
  // The refused batch's 3 travel with the next one, from the same start.
  assert.deepEqual(summary(sent[2]!), [
    {
      k: "a",
      value: 7,
      start: "1700000001000000000",
      time: "1700000003000000000",
    },
    {
      k: "b",
      value: 1,
      start: "1700000002000000000",
      time: "1700000003000000000",
    },
  ]);
  await exp.shutdown();
});

Deno.test("OtlpExporter with delta temporality sends histogram bucket deltas and restarts after a reset", async () => {
  const state = {
    point: {
      labels: {},
      counts: [1, 2, 0],
      sum: 0.5,
      count: 3,
      created: EPOCH,
    } as HistogramPoint,
  };
  const time = fakeTime();
  const registry = histogramRegistry(state);
  const { sent, fetch } = recorder();
  const exp = exporter(registry, fetch, {
    clock: time.clock,
    temporality: "delta",
  });
  time.set(EPOCH + 1000);
  await exp.flush();
  state.point = { ...state.point, counts: [1, 3, 2], sum: 4.75, count: 6 };
  time.set(EPOCH + 2000);
  await exp.flush();
  // The series restarted (reset): its own start time, its full values.
  state.point = {
    labels: {},
    counts: [0, 1, 0],
    sum: 0.2,
    count: 1,
    created: EPOCH + 2500,
  };
  time.set(EPOCH + 3000);
  await exp.flush();
  const view = (request: Sent) => {
    const [p] = points(request.json());
    return {
      counts: p.bucketCounts,
      sum: p.sum,
      count: p.count,
      start: p.startTimeUnixNano,
    };
  };
  assert.deepEqual(view(sent[0]!), {
    counts: ["1", "2", "0"],
    sum: 0.5,
    count: "3",
    start: "1700000000000000000",
  });
  assert.deepEqual(view(sent[1]!), {
    counts: ["0", "1", "2"],
    sum: 4.25,
    count: "3",
    start: "1700000001000000000",
  });
  assert.deepEqual(view(sent[2]!), {
    counts: ["0", "1", "0"],
    sum: 0.2,
    count: "1",
    start: "1700000002500000000",
  });
  await exp.shutdown();
});

Deno.test("OtlpExporter with delta temporality keeps a series' baseline through an export that missed it", async () => {
  // The collector fails once: its family is missing from one export. When
  // it comes back with the same start it continues from its baseline (no
  // total resent); a newer start is a reset and is sent from zero.
  const state = { value: 10, created: EPOCH, fail: false };
  const errors: string[] = [];
  const registry = new Registry({
    onError: (_error, metric) => errors.push(metric),
  });
  registry.register({
    name: "jobs_total",
    type: "counter",
    collect: (): MetricFamily => {
      if (state.fail) throw new Error("collector down");
      return {
        type: "counter",
        name: "jobs",
        help: "Jobs.",
        points: [{ labels: {}, value: state.value, created: state.created }],
      };
    },
  });
  // Another family keeps every snapshot non-empty, so each export is sent.
  new Counter({ name: "other_total", help: "Other.", registry }).inc();
  const time = fakeTime();
  const { sent, fetch } = recorder();
  const exp = exporter(registry, fetch, {
    clock: time.clock,
    temporality: "delta",
  });
  const view = (request: Sent) =>
    request.json().resourceMetrics[0].scopeMetrics[0].metrics
      .filter((m: OtlpJson) => m.name === "jobs")
      .map((m: OtlpJson) => ({
        value: m.sum.dataPoints[0].asDouble,
        start: m.sum.dataPoints[0].startTimeUnixNano,
      }));
  time.set(EPOCH + 1000);
  await exp.flush(); // 10
  state.value = 11;
  state.fail = true;
  time.set(EPOCH + 2000);
  await exp.flush(); // jobs missing: nothing sent
  state.value = 12;
  state.fail = false;
  time.set(EPOCH + 3000);
  await exp.flush(); // 2 since the acknowledged 10, not 12
  state.value = 1;
  state.created = EPOCH + 3500;
  time.set(EPOCH + 4000);
  await exp.flush(); // restarted: 1 from its own start
  assert.deepEqual(errors, ["jobs_total"]);
  assert.equal(sent.length, 4);
  assert.deepEqual(sent.map(view), [
    [{ value: 10, start: "1700000000000000000" }],
    [],
    [{ value: 2, start: "1700000001000000000" }],
    [{ value: 1, start: "1700000003500000000" }],
  ]);
  await exp.shutdown();
});

Deno.test("DeltaTracker forgets a series' baseline after 10 acknowledged exports without it, keeping memory bounded", () => {
  const tracker = new DeltaTracker();
  const family = (value: number): MetricFamily => ({
    type: "counter",
    name: "gone",
    help: "Gone.",
    points: [{ labels: {}, value, created: EPOCH }],
  });
  const deltas = (families: MetricFamily[], time: number): number[] => {
    const batch = tracker.prepare(families, time);
    batch.commit();
    return batch.families.flatMap((f) =>
      f.type === "counter" ? f.points.map((p) => p.value) : []
    );
  };
  assert.deepEqual(deltas([family(5)], EPOCH + 1), [5]);
  for (let i = 0; i < 10; i++) deltas([], EPOCH + 2 + i);
  // Absent 10 exports: still remembered, only the change is sent.
  assert.deepEqual(deltas([family(7)], EPOCH + 20), [2]);
  for (let i = 0; i < 11; i++) deltas([], EPOCH + 21 + i);
  // Absent 11: forgotten, so it is sent from its own start.
  assert.deepEqual(deltas([family(8)], EPOCH + 40), [8]);
});

Deno.test("OtlpExporter.flush() calls that overlap coalesce into one follow-up export", async () => {
  const registry = new Registry();
  new Counter({ name: "coalesce_probe", help: "Probe.", registry }).inc();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const { sent, fetch } = recorder([
    async () => {
      await gate;
      return new Response("{}");
    },
  ]);
  const exp = exporter(registry, fetch);
  const flushes = [exp.flush(), exp.flush(), exp.flush(), exp.flush()];
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(sent.length, 1);
  release();
  await Promise.all(flushes);
  assert.equal(sent.length, 2);
  await exp.shutdown();
});

Deno.test("OtlpExporter.shutdown() flushes once and later flush() calls are ignored with one warning", async () => {
  const registry = new Registry();
  new Counter({ name: "shutdown_probe", help: "Probe.", registry }).inc();
  const { sent, fetch } = recorder();
  const exp = exporter(registry, fetch);
  await exp.shutdown();
  assert.equal(sent.length, 1);
  const warnings: unknown[][] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args);
  try {
    await exp.flush();
    await exp.flush();
    await exp.shutdown();
  } finally {
    console.warn = warn;
  }
  assert.equal(sent.length, 1);
  assert.deepEqual(warnings, [[
    `edgemetrics: ignored flush() of the OtlpExporter for ${URL_}: it is shut down`,
  ]]);
});

Deno.test("OtlpExporter flushes at the end of an `await using` scope", async () => {
  const registry = new Registry();
  const c = new Counter({ name: "dispose_probe", help: "Probe.", registry });
  const { sent, fetch } = recorder();
  {
    await using _exp = exporter(registry, fetch);
    c.inc(4);
    assert.equal(sent.length, 0);
  }
  assert.equal(sent.length, 1);
  assert.equal(points(sent[0]!.json())[0].asDouble, 4);
});

Deno.test("OtlpExporter reports a partial success (JSON and protobuf answers) and counts the batch delivered", async (t) => {
  for (
    const [kind, answer] of [
      [
        "json",
        () =>
          new Response(
            '{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"NaN not allowed"}}',
            { headers: { "content-type": "application/json" } },
          ),
      ],
      [
        "protobuf",
        () =>
          new Response(
            // partial_success(1) { rejected_data_points(1)=2, error_message(2)="NaN not allowed" }
            new Uint8Array([
              0x0a,
              19,
              0x08,
              2,
              0x12,
              15,
              ...new TextEncoder().encode("NaN not allowed"),
            ]),
            { headers: { "content-type": "application/x-protobuf" } },
          ),
      ],
    ] as const
  ) {
    await t.step(kind, async () => {
      const registry = new Registry();
      const c = new Counter({
        name: "partial_probe",
        help: "Probe.",
        registry,
      });
      c.inc(5);
      const errors: Error[] = [];
      const { sent, fetch } = recorder([answer]);
      const exp = exporter(registry, fetch, {
        temporality: "delta",
        onError: (error) => errors.push(error),
      });
      await exp.flush();
      assert.deepEqual(errors.map((e) => e.message), [
        `Exported metrics to ${URL_} in part: the collector rejected 2 data points (NaN not allowed)`,
      ]);
      // Acknowledged: the next delta does not resend the 5.
      await exp.flush();
      assert.equal(points(sent[1]!.json())[0].asDouble, 0);
      assert.equal(errors.length, 1);
      await exp.shutdown();
    });
  }
});

Deno.test("OtlpExporter with intervalMs exports periodically after start() and stops on shutdown()", async () => {
  const registry = new Registry();
  new Counter({ name: "periodic_probe", help: "Probe.", registry }).inc();
  const { sent, fetch } = recorder([
    () => new Response(null, { status: 400 }),
  ]);
  const errors: Error[] = [];
  const exp = new OtlpExporter({
    url: URL_,
    protocol: "json",
    registry,
    fetch,
    intervalMs: 5,
    onError: (error) => errors.push(error),
  });
  exp.start();
  const deadline = Date.now() + 5000;
  while (sent.length < 3 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(
    sent.length >= 3,
    `expected 3 periodic exports, got ${sent.length}`,
  );
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /got HTTP 400/);
  await exp.shutdown();
  const after = sent.length;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(sent.length, after);
});

Deno.test("OtlpExporter.flush() sends nothing for an empty registry", async () => {
  const { sent, fetch } = recorder();
  const exp = exporter(new Registry(), fetch);
  await exp.flush();
  await exp.shutdown();
  assert.equal(sent.length, 0);
});

Deno.test("examples/worker.ts does no random, timer or I/O work at import, then exports after each response via waitUntil", async () => {
  const calls: string[] = [];
  const originals = {
    randomUUID: crypto.randomUUID,
    setTimeout: globalThis.setTimeout,
    fetch: globalThis.fetch,
  };
  crypto.randomUUID = () => {
    calls.push("randomUUID");
    return originals.randomUUID.call(crypto);
  };
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    calls.push("setTimeout");
    return originals.setTimeout(...args);
  }) as typeof setTimeout;
  globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
    calls.push("fetch");
    return originals.fetch(...args);
  }) as typeof fetch;
  let worker;
  try {
    worker = (await import("../examples/worker.ts")).default;
  } finally {
    Object.assign(crypto, { randomUUID: originals.randomUUID });
    Object.assign(globalThis, {
      setTimeout: originals.setTimeout,
      fetch: originals.fetch,
    });
  }
  assert.deepEqual(calls, []);

  const received: {
    type: string | null;
    key: string | null;
    body: Uint8Array;
  }[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      received.push({
        type: request.headers.get("content-type"),
        key: request.headers.get("x-api-key"),
        body: new Uint8Array(await request.arrayBuffer()),
      });
      return new Response(null, { status: 200 });
    },
  );
  const env = {
    OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}/v1/metrics`,
    OTLP_API_KEY: "k-123",
  };
  const pending: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (promise: Promise<unknown>) => pending.push(promise),
  };
  const hello = await worker.fetch(new Request("http://edge.test/"), env, ctx);
  assert.equal(await hello.text(), "hello from the edge\n");
  await Promise.all(pending.splice(0));
  await worker.fetch(new Request("http://edge.test/nope"), env, ctx);
  await Promise.all(pending.splice(0));
  assert.equal(received.length, 2);
  assert.equal(received[1]!.type, "application/x-protobuf");
  assert.equal(received[1]!.key, "k-123");
  const rootJs = new URL(
    "../.tools/node_modules/@opentelemetry/otlp-transformer/build/esm/generated/root.js",
    import.meta.url,
  );
  const root = createRequire(rootJs)(rootJs.pathname);
  const decoded = root.opentelemetry.proto.collector.metrics.v1
    .ExportMetricsServiceRequest.toObject(
      root.opentelemetry.proto.collector.metrics.v1
        .ExportMetricsServiceRequest.decode(received[1]!.body),
    );
  const metric = decoded.resourceMetrics[0].scopeMetrics[0].metrics[0];
  assert.equal(metric.name, "worker_requests");
  assert.deepEqual(
    metric.sum.dataPoints.map((p: OtlpJson) => [
      p.attributes.map((a: OtlpJson) => a.value.stringValue).join(" "),
      p.asDouble,
    ]),
    [["/ 200", 1], ["other 404", 1]],
  );

  const scrape = await worker.fetch(
    new Request("http://edge.test/metrics"),
    env,
    ctx,
  );
  assert.equal(
    await scrape.text(),
    "# HELP worker_requests_total Requests served by the worker.\n" +
      "# TYPE worker_requests_total counter\n" +
      'worker_requests_total{route="/",status="200"} 1\n' +
      'worker_requests_total{route="other",status="404"} 1\n',
  );
  assert.deepEqual(pending, []);
});

Deno.test("OtlpExporter falls back to defaults without env permission, never prompting or throwing", async () => {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { OtlpExporter, Registry } from ${
        JSON.stringify(new URL("../mod.ts", import.meta.url).href)
      };\n` +
        "const exporter = new OtlpExporter({ registry: new Registry() });\n" +
        "console.log(exporter.url, exporter.protocol);\n",
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--no-check", script],
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://not-readable:4318",
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(code, 0, decoder.decode(stderr));
    assert.equal(
      decoder.decode(stdout),
      "http://localhost:4318/v1/metrics protobuf\n",
    );
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("parseKeyValueList() percent-decodes OTEL key-value lists and lists malformed pairs", async () => {
  const { parseKeyValueList } = await import("../src/_env.ts");
  assert.deepEqual(
    parseKeyValueList(
      " service.name = api ,empty=,k%3D1=v%2C1,novalue,=nokey,bad=%E0%A4%A,,",
    ),
    {
      entries: { "service.name": "api", empty: "", "k=1": "v,1" },
      invalid: ["novalue", "=nokey", "bad=%E0%A4%A"],
    },
  );
});

/** The bytes of a gzip body, unzipped. */
async function gunzip(body: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([body as BlobPart]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("OtlpExporter compression gzip: Content-Encoding gzip, a body that unzips to the OTLP request, the same bytes on a retry", async () => {
  const registry = new Registry();
  new Counter({ name: "zipped_total", help: "Probe.", registry }).inc(3);
  const { sent, fetch } = recorder([() => new Response(null, { status: 503 })]);
  const exp = new OtlpExporter({
    url: URL_,
    protocol: "json",
    compression: "gzip",
    registry,
    fetch,
    sleep: () => Promise.resolve(),
  });
  assert.equal(exp.compression, "gzip");
  await exp.flush();
  assert.equal(sent.length, 2);
  assert.equal(sent[0]!.headers.get("content-encoding"), "gzip");
  assert.equal(sent[0]!.headers.get("content-type"), "application/json");
  assert.deepEqual(sent[1]!.body, sent[0]!.body);
  const request = JSON.parse(
    new TextDecoder().decode(await gunzip(sent[0]!.body)),
  );
  const metric = request.resourceMetrics[0].scopeMetrics[0].metrics[0];
  assert.equal(metric.name, "zipped");
  assert.equal(metric.sum.dataPoints[0].asDouble, 3);
  await exp.shutdown();
});

Deno.test("OtlpExporter reads OTEL_EXPORTER_OTLP_COMPRESSION and OTEL_EXPORTER_OTLP_TIMEOUT, warning about values it cannot use", async () => {
  const names = [
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
  ];
  const saved = new Map(names.map((name) => [name, Deno.env.get(name)]));
  try {
    names.forEach((name) => Deno.env.delete(name));
    assert.equal(new OtlpExporter({ url: URL_ }).compression, "none");
    Deno.env.set("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
    assert.equal(new OtlpExporter({ url: URL_ }).compression, "gzip");
    assert.equal(
      new OtlpExporter({ url: URL_, compression: "none" }).compression,
      "none",
    );
    Deno.env.set("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "zstd");
    let compression = "";
    const warned = captureWarnings(() => {
      compression = new OtlpExporter({ url: URL_ }).compression;
    });
    assert.equal(compression, "none");
    assert.deepEqual(warned, [
      'edgemetrics: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION="zstd" is not "gzip" or "none": sending uncompressed',
    ]);

    // A hung collector is given up after the environment's timeout.
    Deno.env.set("OTEL_EXPORTER_OTLP_TIMEOUT", "30");
    const registry = new Registry();
    new Counter({ name: "slow_total", help: "Probe.", registry }).inc();
    const exp = new OtlpExporter({
      url: URL_,
      registry,
      maxAttempts: 1,
      fetch: (request: Request) =>
        new Promise<Response>((_, reject) =>
          request.signal.addEventListener(
            "abort",
            () => reject(request.signal.reason),
          )
        ),
    });
    const started = performance.now();
    await assert.rejects(exp.flush(), /30 ms|timed out|timeout/i);
    assert.ok(performance.now() - started < 5_000);
    // shutdown() tries the unsent batch once more, and gives up the same way.
    await assert.rejects(exp.shutdown(), /30 ms timeout/);
    Deno.env.set("OTEL_EXPORTER_OTLP_TIMEOUT", "soon");
    const timeoutWarning = captureWarnings(() =>
      new OtlpExporter({ url: URL_ })
    );
    assert.deepEqual(timeoutWarning, [
      'edgemetrics: OTEL_EXPORTER_OTLP_TIMEOUT="soon" is not a positive number of milliseconds: using the default timeout',
    ]);
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});
