/**
 * Runtime metrics: the process figures every service dashboard starts with
 * (memory, CPU, uptime, event loop, runtime version), read from whatever
 * the runtime offers, only when metrics are collected.
 *
 * @module
 */

import { defaultRegistry, type Registry } from "../registry.ts";
import {
  ObservableCounter,
  ObservableGauge,
  type ObserveCallback,
} from "../instruments/observable.ts";
import { warnOnce } from "../_warn.ts";
import { isPromise } from "../instruments/options.ts";
import type { MetricFamily, OtelIdentity } from "../model.ts";
import { VERSION } from "../_version.ts";
import { type LoopUtilization, type MemoryUsage, probe } from "./_probe.ts";

/**
 * Options of {@linkcode collectRuntimeMetrics}.
 *
 * @example
 * ```ts
 * import { type CollectRuntimeMetricsOptions, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: CollectRuntimeMetricsOptions = { registry: new Registry(), prefix: "api_" };
 * assert.equal(options.prefix, "api_");
 * ```
 */
export interface CollectRuntimeMetricsOptions {
  /** Where the metrics register; default {@linkcode defaultRegistry}. */
  registry?: Registry;
  /** Prepended to every name, e.g. `api_` (on top of the registry's own prefix). */
  prefix?: string;
}

/** One metric: its name, kind, help, unit and callback. */
interface Spec {
  name: string;
  kind: "gauge" | "counter";
  help: string;
  unit?: string;
  labelNames?: readonly string[];
  observe: ObserveCallback<string>;
}

/** The scope OTLP carries the runtime metrics in. */
const SCOPE = { name: "edgemetrics/runtime", version: VERSION } as const;

/**
 * The OpenTelemetry semantic-convention name and UCUM unit of each metric
 * that has one, by Prometheus name. `v8js.*` only where the engine is V8
 * (Deno, Node), `nodejs.*` only on Node; the others keep their Prometheus
 * name in OTLP.
 */
function semconv(
  runtime: string,
): Record<string, { name: string; unit: string }> {
  const v8 = runtime === "deno" || runtime === "node";
  return {
    process_resident_memory_bytes: { name: "process.memory.usage", unit: "By" },
    // The total only: the convention forbids mixing points with and
    // without `cpu.mode`, so user and system keep their own names.
    process_cpu_seconds_total: { name: "process.cpu.time", unit: "s" },
    process_uptime_seconds: { name: "process.uptime", unit: "s" },
    ...(v8
      ? {
        // Summed over the heap spaces: no `v8js.heap.space.name` attribute.
        runtime_heap_used_bytes: { name: "v8js.memory.heap.used", unit: "By" },
        runtime_heap_total_bytes: {
          name: "v8js.memory.heap.limit",
          unit: "By",
        },
      }
      : {}),
    ...(runtime === "node"
      ? {
        runtime_eventloop_utilization_ratio: {
          name: "nodejs.eventloop.utilization",
          unit: "1",
        },
      }
      : {}),
  };
}

/**
 * Makes a registered instrument's families carry their OTel identity: the
 * Prometheus encoders ignore it, OTLP writes the OTel name and unit in the
 * runtime scope. The instrument stays the registered collector, so views,
 * the registry's clock and its duplicate checks apply as to any other.
 */
function withOtel(
  instrument: { collect(signal?: AbortSignal): unknown },
  otel: OtelIdentity,
): void {
  const collect = instrument.collect.bind(instrument) as (
    signal?: AbortSignal,
  ) => MetricFamily | Promise<MetricFamily>;
  const identify = (family: MetricFamily): MetricFamily => ({
    ...family,
    otel,
  });
  instrument.collect = (signal?: AbortSignal) => {
    const family = collect(signal);
    return isPromise(family) ? family.then(identify) : identify(family);
  };
}

/**
 * Registers runtime metrics as observable instruments, read only when the
 * registry is collected (a scrape or an export): nothing runs in between
 * and nothing is recorded on your request path. Each source is
 * feature-detected through `globalThis` (no runtime module is imported),
 * so what is registered depends on the runtime:
 *
 * | metric | type | Deno | Node | Bun | in OTLP (scope `edgemetrics/runtime`) |
 * | --- | --- | --- | --- | --- | --- |
 * | `process_resident_memory_bytes` | gauge | ✓ | ✓ | ✓ | `process.memory.usage` [By] |
 * | `runtime_heap_used_bytes`, `runtime_heap_total_bytes` | gauge | ✓ | ✓ | ✓ | `v8js.memory.heap.used`, `v8js.memory.heap.limit` [By] (V8: Deno, Node) |
 * | `runtime_external_memory_bytes` | gauge | ✓ | ✓ | ✓ | |
 * | `process_cpu_seconds_total` | counter | ✓ | ✓ | ✓ | `process.cpu.time` [s] |
 * | `process_cpu_user_seconds_total`, `process_cpu_system_seconds_total` | counter | ✓ | ✓ | ✓ | |
 * | `process_uptime_seconds` | gauge | ✓ | ✓ | ✓ | `process.uptime` [s] |
 * | `process_start_time_seconds` | gauge | ✓ | ✓ | ✓ | |
 * | `runtime_eventloop_utilization_ratio` (since the previous collection) | gauge | where `performance.eventLoopUtilization` exists (Node) ||| `nodejs.eventloop.utilization` [1] (Node) |
 * | `runtime_eventloop_lag_seconds` (a zero-delay timer's lateness at collection) | gauge | ✓ | ✓ | ✓ | |
 * | `runtime_info{runtime, version}` (always 1) | gauge | ✓ | ✓ | ✓ | |
 *
 * Names follow the Prometheus conventions (`process_*` as client_golang
 * and prom-client name them) in every Prometheus format. OTLP carries the
 * OpenTelemetry semantic-convention name and unit where one exists (last
 * column; the `prefix` is not applied to them, a view's rename is); the
 * others keep their Prometheus name, as any family does in OTLP. The
 * mappings are honest rather than complete: `process.cpu.time` is the
 * user + system total with no `cpu.mode` attribute, since the convention
 * forbids mixing points with and without one (user and system keep their
 * Prometheus names); the heap figures are summed over V8's heap spaces
 * (no `v8js.heap.space.name`), and are JavaScriptCore's on Bun, so they
 * keep their Prometheus names there; the lag is one timer's lateness, not
 * the `nodejs.eventloop.delay.*` statistics of `monitorEventLoopDelay`;
 * and the types stay the Prometheus ones (resident memory and heap are
 * gauges, where the convention has an UpDownCounter). On Cloudflare
 * Workers, where an isolate has no process of its own to report, it
 * registers nothing and says so once with `console.warn`; the same happens in any runtime with none of these
 * sources. A source that fails at collection leaves its series out of that
 * collection; collecting never throws.
 *
 * @param options The registry and a name prefix.
 * @returns The names registered (with `prefix`, counters with `_total`).
 * @throws {TypeError} When `prefix` makes an invalid metric name.
 * @throws {DuplicateMetricError} When the registry already has one of the
 * names (e.g. when called twice for one registry).
 *
 * @example Register and scrape them
 * ```ts
 * import { collectRuntimeMetrics, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const names = collectRuntimeMetrics({ registry });
 * assert.ok(names.includes("process_resident_memory_bytes"));
 * const text = await registry.metrics();
 * assert.match(text, /^process_resident_memory_bytes \d+/m);
 * assert.match(text, /^runtime_info\{runtime="deno",version="[^"]+"\} 1$/m);
 * ```
 */
export function collectRuntimeMetrics(
  options: CollectRuntimeMetricsOptions = {},
): string[] {
  const registry = options.registry ?? defaultRegistry;
  const prefix = options.prefix ?? "";
  const found = probe();
  if (
    found.workers || (found.memory ?? found.cpu ?? found.uptime) === undefined
  ) {
    warnOnce(
      "runtime-metrics",
      `collectRuntimeMetrics() registered nothing: ${
        found.workers
          ? "Cloudflare Workers have"
          : `this runtime (${found.identity.runtime}) has`
      } no process memory, CPU or uptime to report`,
    );
    return [];
  }
  const specs: Spec[] = [];
  const { memory, cpu, uptime, loop } = found;

  if (memory !== undefined) {
    const read = perCollection(memory);
    const gauge = (
      name: string,
      help: string,
      field: keyof MemoryUsage,
    ): Spec => ({
      name,
      kind: "gauge",
      help,
      unit: "bytes",
      observe: (result) => observeSafely(result, () => read()[field]),
    });
    specs.push(
      gauge(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        "rss",
      ),
      gauge(
        "runtime_heap_used_bytes",
        "JavaScript heap in use, in bytes.",
        "heapUsed",
      ),
      gauge(
        "runtime_heap_total_bytes",
        "JavaScript heap reserved, in bytes.",
        "heapTotal",
      ),
      gauge(
        "runtime_external_memory_bytes",
        "Memory held outside the JavaScript heap by objects in it (buffers), in bytes.",
        "external",
      ),
    );
  }
  if (cpu !== undefined) {
    const read = perCollection(cpu);
    const counter = (
      name: string,
      help: string,
      seconds: (usage: { user: number; system: number }) => number,
    ): Spec => ({
      name,
      kind: "counter",
      help,
      unit: "seconds",
      observe: (result) => observeSafely(result, () => seconds(read()) / 1e6),
    });
    specs.push(
      counter(
        "process_cpu_user_seconds_total",
        "User CPU time spent in seconds.",
        (usage) => usage.user,
      ),
      counter(
        "process_cpu_system_seconds_total",
        "System CPU time spent in seconds.",
        (usage) => usage.system,
      ),
      counter(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        (usage) => usage.user + usage.system,
      ),
    );
  }
  if (uptime !== undefined) {
    // Fixed at registration: the start does not move, the clock might.
    let start: number | undefined;
    specs.push({
      name: "process_start_time_seconds",
      kind: "gauge",
      help: "Start time of the process since unix epoch in seconds.",
      unit: "seconds",
      observe: (result) =>
        observeSafely(
          result,
          () => start ??= Math.round(Date.now() / 1000 - uptime()),
        ),
    }, {
      name: "process_uptime_seconds",
      kind: "gauge",
      help: "Seconds since the process started.",
      unit: "seconds",
      observe: (result) => observeSafely(result, uptime),
    });
  }
  if (loop !== undefined) {
    let previous: LoopUtilization | undefined;
    specs.push({
      name: "runtime_eventloop_utilization_ratio",
      kind: "gauge",
      help:
        "Share of time the event loop was busy since the previous collection (since start at the first).",
      unit: "ratio",
      observe: (result) =>
        observeSafely(result, () => {
          const now = loop();
          const since = previous === undefined ? now : loop(now, previous);
          previous = now;
          return since.utilization;
        }),
    });
  }
  if (typeof setTimeout === "function") {
    specs.push({
      name: "runtime_eventloop_lag_seconds",
      kind: "gauge",
      help:
        "How late a zero-delay timer started at collection ran, in seconds.",
      unit: "seconds",
      observe: (result) => observeLag(result),
    });
  }
  const { runtime, version } = found.identity;
  specs.push({
    name: "runtime_info",
    kind: "gauge",
    help: "The JavaScript runtime and its version; always 1.",
    labelNames: ["runtime", "version"],
    observe: (result) => result.observe(1, { runtime, version }),
  });

  const conventions = semconv(runtime);
  const names: string[] = [];
  for (const spec of specs) {
    const options = {
      name: prefix + spec.name,
      help: spec.help,
      registry,
      observe: spec.observe,
      ...(spec.unit === undefined ? {} : { unit: spec.unit }),
      ...(spec.labelNames === undefined ? {} : { labelNames: spec.labelNames }),
    };
    const instrument = spec.kind === "counter"
      ? new ObservableCounter(options)
      : new ObservableGauge({ ...options, aggregation: "max" });
    const otel = conventions[spec.name];
    // A view that renamed the metric chose its name in OTLP too.
    const family = spec.kind === "counter"
      ? options.name.slice(0, -"_total".length)
      : options.name;
    if (otel !== undefined && instrument.name === family) {
      withOtel(instrument, { ...otel, scope: SCOPE });
    }
    names.push(prefix + spec.name);
  }
  return names;
}

/**
 * A reader called at most once per collection: the instruments reading
 * one source (four memory figures from one `memoryUsage()`) share a read,
 * as a registry calls them one after the other in one turn.
 */
function perCollection<T>(read: () => T): () => T {
  let last: { value: T } | undefined;
  return () => {
    if (last !== undefined) return last.value;
    const value = read();
    last = { value };
    queueMicrotask(() => last = undefined);
    return value;
  };
}

/** Observes what `read` returns; a source that throws leaves the series out. */
function observeSafely(
  result: Parameters<ObserveCallback<never>>[0],
  read: () => number,
): void {
  let value: number;
  try {
    value = read();
  } catch {
    return;
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    result.observe(value);
  }
}

/** Measures how late a zero-delay timer runs (capped at one second). */
function observeLag(
  result: Parameters<ObserveCallback<never>>[0],
): Promise<void> {
  const start = performance.now();
  return new Promise<void>((resolve) => {
    const done = (late: number) => {
      clearTimeout(cap);
      clearTimeout(timer);
      if (Number.isFinite(late) && late >= 0) result.observe(late / 1000);
      resolve();
    };
    const timer = setTimeout(() => done(performance.now() - start), 0);
    const cap = setTimeout(() => done(NaN), 1000);
  });
}
