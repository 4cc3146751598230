/**
 * collectRuntimeMetrics(): what it registers and serves on the real
 * runtimes (Deno, Node 26, Bun as `.ts`; workerd as a bundled module
 * Worker through miniflare), and how the probe treats missing or failing
 * sources.
 */

import assert from "node:assert/strict";
import {
  collectRuntimeMetrics,
  DuplicateMetricError,
  encodeOtlpProtobuf,
  encodePrometheusText,
  type MetricFamily,
  Registry,
} from "@edgemetrics/edgemetrics";
import { decodeOtlpProtobuf } from "./_otlp_decode.ts";
import { probe } from "../src/runtime/_probe.ts";
import {
  answers,
  freePort,
  promtoolCheckMetrics,
  run,
  startPeer,
  TOOLS_BIN,
} from "./_peers.ts";
import { bundle } from "./runtimes/_build.ts";
import type { RuntimeMetricsReport } from "./fixtures/runtime_metrics_entry.ts";

const ENTRY = "tests/fixtures/runtime_metrics_entry.ts";
const PROCESS_METRICS = [
  "process_resident_memory_bytes",
  "runtime_heap_used_bytes",
  "runtime_heap_total_bytes",
  "runtime_external_memory_bytes",
  "process_cpu_user_seconds_total",
  "process_cpu_system_seconds_total",
  "process_cpu_seconds_total",
  "process_start_time_seconds",
  "process_uptime_seconds",
];

/** In OTLP (`scope name unit`): the metrics with no convention, in the default scope. */
const OTHER_OTLP = [
  "- runtime_external_memory By",
  "- process_cpu_user s",
  "- process_cpu_system s",
  "- process_start_time s",
  "- runtime_eventloop_lag s",
  "- runtime_info -",
];
/** The process metrics with a semantic convention, on every runtime. */
const PROCESS_OTLP = [
  "edgemetrics/runtime process.memory.usage By",
  "edgemetrics/runtime process.cpu.time s",
  "edgemetrics/runtime process.uptime s",
];
/** The heap under the V8 conventions (Deno, Node). */
const V8_OTLP = [
  "edgemetrics/runtime v8js.memory.heap.used By",
  "edgemetrics/runtime v8js.memory.heap.limit By",
];

/** The sample values of an exposition, by sample name with labels. */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** Checks what a runtime with a process served. */
async function checkProcessReport(
  report: RuntimeMetricsReport,
  runtime: string,
  version: string,
  extra: readonly string[],
  otlp: readonly string[],
): Promise<void> {
  assert.deepEqual(report.warnings, []);
  assert.deepEqual([...report.otlp].sort(), [...otlp].sort());
  assert.deepEqual(report.names, [
    ...PROCESS_METRICS,
    ...extra,
    "runtime_eventloop_lag_seconds",
    "runtime_info",
  ]);
  const first = samples(report.first);
  const second = samples(report.second);
  const nowSeconds = Date.now() / 1000;
  const get = (map: Map<string, number>, name: string): number => {
    const value = map.get(name);
    assert.ok(value !== undefined, `${runtime} served no ${name}`);
    return value;
  };
  assert.ok(get(second, "process_resident_memory_bytes") > 10e6);
  assert.ok(get(second, "runtime_heap_used_bytes") > 100e3);
  assert.ok(
    get(second, "runtime_heap_total_bytes") >=
      get(second, "runtime_heap_used_bytes"),
  );
  assert.ok(get(second, "runtime_external_memory_bytes") >= 0);
  const cpu = (map: Map<string, number>) =>
    get(map, "process_cpu_seconds_total");
  assert.ok(
    Math.abs(
      cpu(second) - get(second, "process_cpu_user_seconds_total") -
        get(second, "process_cpu_system_seconds_total"),
    ) < 1e-6,
  );
  // 50 ms of busy loop between the two scrapes (on a shared machine the
  // process may get less than that of the CPU, but never none).
  assert.ok(
    cpu(second) - cpu(first) > 0.001,
    `${runtime}: CPU went from ${cpu(first)} to ${cpu(second)}`,
  );
  const start = get(second, "process_start_time_seconds");
  assert.equal(start, get(first, "process_start_time_seconds"));
  assert.ok(start > nowSeconds - 120 && start <= nowSeconds + 1);
  assert.ok(
    get(second, "process_uptime_seconds") >
      get(first, "process_uptime_seconds"),
  );
  const lag = get(second, "runtime_eventloop_lag_seconds");
  assert.ok(lag >= 0 && lag < 1);
  if (extra.includes("runtime_eventloop_utilization_ratio")) {
    // The busy loop filled most of the window since the first scrape.
    const utilization = get(second, "runtime_eventloop_utilization_ratio");
    assert.ok(utilization > 0.5 && utilization <= 1, `${utilization}`);
  }
  assert.equal(
    get(second, `runtime_info{runtime="${runtime}",version="${version}"}`),
    1,
  );
  const check = await promtoolCheckMetrics(report.second);
  assert.equal(check.code, 0, check.output);
}

async function reportOf(
  command: string,
  args: string[],
): Promise<RuntimeMetricsReport> {
  const { code, stdout, stderr } = await run(command, [...args, ENTRY], {
    env: { NO_COLOR: "1" },
  });
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout);
}

Deno.test("collectRuntimeMetrics() on Deno serves memory, CPU, start time, lag and runtime_info", async () => {
  const report = await reportOf(Deno.execPath(), ["run", "--quiet"]);
  await checkProcessReport(report, "deno", Deno.version.deno, [], [
    ...OTHER_OTLP,
    ...PROCESS_OTLP,
    ...V8_OTLP,
  ]);
});

Deno.test("collectRuntimeMetrics() on Node 26 also serves event-loop utilisation", async () => {
  const node = `${TOOLS_BIN}node`;
  const version = (await run(node, ["--version"])).stdout.trim().slice(1);
  assert.match(version, /^26\./);
  const report = await reportOf(node, []);
  await checkProcessReport(report, "node", version, [
    "runtime_eventloop_utilization_ratio",
  ], [
    ...OTHER_OTLP,
    ...PROCESS_OTLP,
    ...V8_OTLP,
    "edgemetrics/runtime nodejs.eventloop.utilization 1",
  ]);
});

Deno.test("collectRuntimeMetrics() on Bun serves the process metrics", async () => {
  const bun = `${TOOLS_BIN}bun`;
  const version = (await run(bun, ["--version"])).stdout.trim();
  const report = await reportOf(bun, ["run"]);
  // JavaScriptCore, not V8: the heap keeps its Prometheus name in OTLP.
  await checkProcessReport(report, "bun", version, [], [
    "- runtime_heap_used By",
    "- runtime_heap_total By",
    ...OTHER_OTLP,
    ...PROCESS_OTLP,
  ]);
});

Deno.test("collectRuntimeMetrics() on workerd registers nothing and warns once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgemetrics-runtime-" });
  try {
    const file = `${dir}/worker.mjs`;
    await bundle("tests/fixtures/runtime_metrics_worker.ts", "esm", file);
    const port = freePort();
    await using server = await startPeer(`${TOOLS_BIN}node`, [
      "tests/runtimes/miniflare_driver.ts",
      file,
      `${port}`,
    ], {
      env: { NO_COLOR: "1" },
      ready: () => answers(`http://127.0.0.1:${port}/`),
      readyTimeoutMs: 30_000,
    });
    const get = async (): Promise<RuntimeMetricsReport> =>
      await (await fetch(`http://127.0.0.1:${port}/report`, {
        signal: AbortSignal.timeout(10_000),
      })).json();
    const report = await get();
    assert.deepEqual(report.names, [], server.output());
    assert.equal(report.first, "");
    assert.equal(report.second, "");
    assert.deepEqual(report.warnings, [
      "edgemetrics: collectRuntimeMetrics() registered nothing: Cloudflare Workers have no process memory, CPU or uptime to report",
    ]);
    // Once per isolate: the next request's registries get no warning.
    const again = await get();
    assert.deepEqual([again.names, again.warnings], [[], []]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("probe() leaves out sources that are missing, throw or return no number", () => {
  const found = probe({
    process: {
      memoryUsage: () => {
        throw new Error("not here");
      },
      cpuUsage: () => ({ user: "x", system: 0 }),
      uptime: () => 12,
      versions: { node: "22.1.0" },
    },
    performance: { eventLoopUtilization: undefined },
  });
  assert.deepEqual(found.identity, { runtime: "node", version: "22.1.0" });
  assert.equal(found.memory, undefined);
  assert.equal(found.cpu, undefined);
  assert.equal(found.uptime?.(), 12);
  assert.equal(found.loop, undefined);
  assert.deepEqual(probe({}).identity, {
    runtime: "unknown",
    version: "unknown",
  });
  assert.deepEqual(
    probe({ navigator: { userAgent: "Cloudflare-Workers" } }),
    { identity: { runtime: "workerd", version: "unknown" }, workers: true },
  );
});

Deno.test("collectRuntimeMetrics() applies the prefix, and twice on one registry throws DuplicateMetricError", async () => {
  const registry = new Registry({ prefix: "svc_" });
  const names = collectRuntimeMetrics({ registry, prefix: "app_" });
  assert.ok(names.every((name) => name.startsWith("app_")));
  const text = await registry.metrics();
  assert.match(text, /^svc_app_process_resident_memory_bytes \d+$/m);
  assert.match(text, /^# TYPE svc_app_process_cpu_seconds_total counter$/m);
  assert.throws(
    () => collectRuntimeMetrics({ registry, prefix: "app_" }),
    DuplicateMetricError,
  );
});

Deno.test("collectRuntimeMetrics() leaves a series out when its source throws at collection, and serves the rest", async () => {
  const registry = new Registry({
    onError: (error, metric) => assert.fail(`reported ${metric}: ${error}`),
  });
  collectRuntimeMetrics({ registry });
  const original = Object.getOwnPropertyDescriptor(Deno, "memoryUsage")!;
  Object.defineProperty(Deno, "memoryUsage", {
    ...original,
    value: () => {
      throw new Error("gone");
    },
  });
  let text: string;
  try {
    text = await registry.metrics();
  } finally {
    Object.defineProperty(Deno, "memoryUsage", original);
  }
  assert.doesNotMatch(text, /^process_resident_memory_bytes /m);
  assert.doesNotMatch(text, /^runtime_heap_used_bytes /m);
  assert.match(text, /^process_cpu_seconds_total \d/m);
  assert.match(text, /^runtime_info\{/m);
  assert.match(
    await registry.metrics(),
    /^process_resident_memory_bytes \d+$/m,
  );
});

/** The OTLP protobuf's metrics by name: scope, unit and kind. */
function otlpByName(
  families: readonly MetricFamily[],
): Map<string, { scope: string; unit: string; kind: string }> {
  const request = decodeOtlpProtobuf(
    encodeOtlpProtobuf(families, {
      resource: { "service.name": "rt" },
      timeUnixMs: Date.now(),
    }),
  ) as {
    resourceMetrics: {
      scopeMetrics: {
        scope?: { name?: string };
        metrics: Record<string, unknown> & { name: string; unit?: string }[];
      }[];
    }[];
  };
  const found = new Map<
    string,
    { scope: string; unit: string; kind: string }
  >();
  for (const { scope, metrics } of request.resourceMetrics[0]!.scopeMetrics) {
    for (const metric of metrics) {
      const kind = ["gauge", "sum"].find((key) => key in metric) ?? "?";
      found.set(metric.name, {
        scope: scope?.name ?? "",
        unit: metric.unit ?? "",
        kind,
      });
    }
  }
  return found;
}

Deno.test("collectRuntimeMetrics() carries the OTel semantic-convention names and units in OTLP, Prometheus text unchanged", async () => {
  const registry = new Registry();
  collectRuntimeMetrics({ registry, prefix: "app_" });
  const families = await registry.collect();
  const metrics = otlpByName(families);
  const runtime = "edgemetrics/runtime";
  assert.deepEqual(metrics.get("process.memory.usage"), {
    scope: runtime,
    unit: "By",
    kind: "gauge",
  });
  assert.deepEqual(metrics.get("process.cpu.time"), {
    scope: runtime,
    unit: "s",
    kind: "sum",
  });
  assert.deepEqual(metrics.get("process.uptime"), {
    scope: runtime,
    unit: "s",
    kind: "gauge",
  });
  assert.deepEqual(metrics.get("v8js.memory.heap.used"), {
    scope: runtime,
    unit: "By",
    kind: "gauge",
  });
  assert.deepEqual(metrics.get("v8js.memory.heap.limit"), {
    scope: runtime,
    unit: "By",
    kind: "gauge",
  });
  // No convention: the Prometheus name (OTLP-translated), default scope.
  assert.deepEqual(metrics.get("app_process_start_time"), {
    scope: "",
    unit: "s",
    kind: "gauge",
  });
  assert.equal(metrics.get("app_runtime_info")?.scope, "");
  assert.equal(metrics.has("app_process_cpu_user"), true);
  assert.equal(metrics.has("app_process_resident_memory"), false);
  assert.equal(metrics.has("app_process_cpu"), false);
  // Deno has no event-loop utilisation: nothing in the nodejs namespace.
  assert.equal([...metrics.keys()].some((n) => n.startsWith("nodejs.")), false);

  // The identity is for OTLP only: without it the exposition is the same bytes.
  const identified = families.filter((family) => family.otel !== undefined);
  assert.equal(identified.length, 5);
  const bare = families.map(({ otel: _, ...family }) => family as MetricFamily);
  assert.equal(encodePrometheusText(families), encodePrometheusText(bare));
  assert.match(
    encodePrometheusText(families),
    /^# TYPE app_process_cpu_seconds_total counter\napp_process_cpu_seconds_total [\d.e-]+$/m,
  );
});

Deno.test("collectRuntimeMetrics() lets a view's rename stand in OTLP", async () => {
  const registry = new Registry({
    views: [{ instrument: "process_uptime_seconds", name: "up_seconds" }],
  });
  collectRuntimeMetrics({ registry });
  const metrics = otlpByName(await registry.collect());
  assert.equal(metrics.has("process.uptime"), false);
  assert.equal(metrics.get("up")?.scope, "");
  assert.equal(metrics.has("process.memory.usage"), true);
  assert.match(await registry.metrics(), /^up_seconds [\d.e-]+$/m);
});
