/**
 * The registry: where metrics are registered and collected into a snapshot.
 *
 * @module
 */

import type { Labels, MetricFamily, MetricType } from "./model.ts";
import { type Clock, systemClock } from "./clock.ts";
import { DuplicateMetricError } from "./errors.ts";
import { declaredName } from "./_declared.ts";
import {
  assertLabelNames,
  describe,
  isMetricName,
  isMetricType,
  METRIC_NAME_RULE,
  SAMPLE_SUFFIXES,
  sampleNames,
} from "./names.ts";
import { checkMaxSeries } from "./instruments/_series.ts";
import { checkViews, type View } from "./view.ts";
import { encodePrometheusText } from "./encoders/prometheus_text.ts";
import { FamilyDecorator } from "./_decorate.ts";

/**
 * Anything a registry can collect: every instrument, and your own collectors.
 *
 * A collector must return a family whose `name` and `type` are the ones it
 * declares here, and must not keep or mutate the family after returning it.
 * `collect` may be async; it runs at every collection, so keep it cheap.
 * It may throw: the registry reports the error and serves the other metrics.
 *
 * @example A collector of your own
 * ```ts
 * import { type Collector, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const uptime: Collector = {
 *   name: "process_uptime_seconds",
 *   type: "gauge",
 *   collect: () => ({
 *     type: "gauge",
 *     name: "process_uptime_seconds",
 *     help: "Seconds since start.",
 *     aggregation: "max",
 *     points: [{ labels: {}, value: 42 }],
 *   }),
 * };
 * const registry = new Registry();
 * registry.register(uptime);
 * assert.match(await registry.metrics(), /^process_uptime_seconds 42$/m);
 * ```
 */
export interface Collector {
  /** The family name it collects, without the registry's prefix. */
  readonly name: string;
  /** The kind of family it collects. */
  readonly type: MetricType;
  /**
   * Returns the current state as a snapshot family.
   *
   * @param signal Aborted when the registry stops waiting for this
   * collection (after its `collectTimeoutMs`): a collector may end its
   * work then; what it returns afterwards is ignored.
   */
  collect(signal?: AbortSignal): MetricFamily | Promise<MetricFamily>;
  /** How many records were folded into the overflow series (instruments only). */
  readonly droppedLabelSets?: number;
}

/**
 * Options of a {@linkcode Registry}.
 *
 * @example
 * ```ts
 * import { Registry, type RegistryOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: RegistryOptions = { prefix: "shop_", defaultLabels: { region: "eu" } };
 * assert.equal(new Registry(options).prefix, "shop_");
 * ```
 */
export interface RegistryOptions {
  /** Prepended to every metric name at collection, e.g. `myapp_`. */
  prefix?: string;
  /** Labels added to every series at collection; a series' own labels win. */
  defaultLabels?: Record<string, string>;
  /** Default series limit for metrics registered here (default 2,000). */
  maxSeries?: number;
  /** Default clock for metrics registered here. */
  clock?: Clock;
  /** How long an async `collect` callback may take before it is left out (default 5,000 ms). */
  collectTimeoutMs?: number;
  /** Told about every collector that failed; the default logs with `console.error`. */
  onError?: (error: unknown, metric: string) => void;
  /**
   * Views applied to every metric declared here, prom-client-style and
   * meter instruments alike (see {@linkcode View}).
   */
  views?: readonly View[];
}

/**
 * Which families one collection should include, by prefixed family name and
 * kind; return `true` to include.
 *
 * @example Only counters
 * ```ts
 * import type { CollectFilter } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const countersOnly: CollectFilter = (_name, type) => type === "counter";
 * assert.equal(countersOnly("jobs", "counter"), true);
 * ```
 */
export type CollectFilter = (name: string, type: MetricType) => boolean;

/** The family the registry adds for metrics that reached their series limit. */
const DROPPED_LABEL_SETS = "edgemetrics_dropped_label_sets";

/**
 * A set of metrics collected together. Instruments register with
 * {@linkcode defaultRegistry} unless given another registry (or `null`).
 *
 * @example Collect and render
 * ```ts
 * import { Counter, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry({ prefix: "shop_" });
 * const orders = new Counter({ name: "orders_total", help: "Orders placed.", registry });
 * orders.inc();
 * assert.equal(
 *   await registry.metrics(),
 *   "# HELP shop_orders_total Orders placed.\n# TYPE shop_orders_total counter\nshop_orders_total 1\n",
 * );
 * ```
 */
export class Registry {
  /** Prepended to every metric name at collection. */
  readonly prefix: string;
  /** Labels added to every series at collection. */
  readonly defaultLabels: Labels;
  /** Default series limit for metrics registered here. */
  readonly maxSeries: number;
  /** Default clock for metrics registered here. */
  readonly clock: Clock;
  /** Views applied to metrics declared here. */
  readonly views: readonly View[];
  #collectors = new Map<string, Collector>();
  /** Every sample name a registered collector exposes, to the collector. */
  #claims = new Map<string, Collector>();
  #timeoutMs: number;
  #onError: (error: unknown, metric: string) => void;
  #created: number | undefined;
  #decorator: FamilyDecorator;

  /**
   * Creates an empty registry.
   *
   * @param options Prefix, default labels and defaults for registered metrics.
   * @throws {TypeError} When the prefix or a default label name is invalid.
   * @throws {RangeError} When `maxSeries` is not a whole number of at least 1
   * or `Infinity`, or `collectTimeoutMs` is not a positive number.
   */
  constructor(options: RegistryOptions = {}) {
    const what = "Cannot create registry";
    this.prefix = options.prefix ?? "";
    if (this.prefix !== "" && !isMetricName(this.prefix)) {
      throw new TypeError(
        `${what}: prefix ${
          describe(this.prefix)
        } must match ${METRIC_NAME_RULE}`,
      );
    }
    const defaults = { ...options.defaultLabels };
    assertLabelNames("", Object.keys(defaults), ["le", "quantile"], what);
    for (const [name, value] of Object.entries(defaults)) {
      if (typeof value !== "string") {
        throw new TypeError(
          `${what}: default label "${name}" must have a string value, got ${
            describe(value)
          }`,
        );
      }
    }
    this.defaultLabels = Object.freeze(defaults);
    this.maxSeries = checkMaxSeries(what, options.maxSeries);
    this.clock = options.clock ?? systemClock;
    const timeout = options.collectTimeoutMs ?? 5000;
    if (typeof timeout !== "number" || !(timeout > 0)) {
      throw new RangeError(
        `${what}: collectTimeoutMs must be a positive number, got ${timeout}`,
      );
    }
    this.#timeoutMs = timeout;
    this.#onError = options.onError ?? reportToConsole;
    this.views = Object.freeze(checkViews(options.views, what));
    this.#decorator = new FamilyDecorator(this.prefix, this.defaultLabels);
  }

  /**
   * Adds a collector. Instruments call this themselves.
   *
   * Names are checked by the samples they expose, as Prometheus sees them: a
   * counter `x` (declared `x` or `x_total`) takes `x`, `x_total` and
   * `x_created`; a histogram `x` takes `x`, `x_bucket`, `x_sum`, `x_count` and
   * `x_created`; a summary `x` takes `x`, `x_sum`, `x_count` and `x_created`;
   * a gauge takes its name. So a counter `x_total` and a gauge `x` cannot
   * both be registered (OpenMetrics and OTLP would see two families `x`),
   * nor a gauge `x_total` beside a counter `x`. The error names both
   * metrics as they were declared (`c_total` for a counter declared so).
   *
   * @param collector The metric or collector to add.
   * @throws {DuplicateMetricError} When a registered metric already takes one of its names.
   * @throws {TypeError} When the name is invalid or `edgemetrics_dropped_label_sets`
   * (which the registry keeps for itself), or the type is unknown.
   *
   * @example A counter `x_total` and a gauge `x` clash
   * ```ts
   * import { Counter, DuplicateMetricError, Gauge, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const registry = new Registry();
   * new Counter({ name: "x_total", help: "X.", registry });
   * assert.throws(
   *   () => new Gauge({ name: "x", help: "X.", registry }),
   *   DuplicateMetricError,
   * );
   * ```
   */
  register(collector: Collector): void {
    if (!isMetricName(collector.name) || !isMetricType(collector.type)) {
      throw new TypeError(
        `Cannot register metric ${
          describe(collector.name)
        }: a collector needs a name matching ${METRIC_NAME_RULE} and a type of ${
          Object.keys(SAMPLE_SUFFIXES).join(", ")
        }, got type ${describe(collector.type)}`,
      );
    }
    const names = sampleNames(collector.name, collector.type);
    const kept = sampleNames(DROPPED_LABEL_SETS, "counter");
    for (const name of names) {
      if (kept.includes(this.prefix + name)) {
        throw new TypeError(
          `Cannot register metric "${
            this.prefix + declaredName(collector)
          }": the name "${DROPPED_LABEL_SETS}" is kept for the registry's counter of dropped label sets`,
        );
      }
      const existing = this.#claims.get(name);
      if (existing === undefined) continue;
      // Both named as declared: a counter `c_total` is the family `c`.
      const declared = declaredName(collector);
      const taken = declaredName(existing);
      throw new DuplicateMetricError(
        this.prefix + declared,
        existing,
        taken === declared
          ? undefined
          : `the name "${
            this.prefix + name
          }" is already taken by ${existing.type} "${this.prefix + taken}"`,
      );
    }
    this.#collectors.set(collector.name, collector);
    for (const name of names) this.#claims.set(name, collector);
  }

  /**
   * Returns the registered metric of that name (without the prefix); a
   * counter is found by its family name with or without `_total`.
   *
   * @param name The metric's name.
   * @returns The metric, or `undefined`.
   *
   * @example
   * ```ts
   * import { Counter, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const registry = new Registry();
   * const jobs = new Counter({ name: "jobs_total", help: "Jobs.", registry });
   * assert.equal(registry.get("jobs_total"), jobs);
   * assert.equal(registry.get("jobs"), jobs);
   * assert.equal(registry.get("nothing"), undefined);
   * ```
   */
  get(name: string): Collector | undefined {
    const found = this.#collectors.get(name);
    if (found !== undefined) return found;
    if (!name.endsWith("_total")) return undefined;
    const counter = this.#collectors.get(name.slice(0, -"_total".length));
    return counter?.type === "counter" ? counter : undefined;
  }

  /**
   * Unregisters a metric by name (without the prefix), so the name can be
   * registered again.
   *
   * @param name The metric's name; a counter's with or without `_total`.
   * @returns Whether a metric was removed.
   *
   * @example
   * ```ts
   * import { Gauge, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const registry = new Registry();
   * new Gauge({ name: "temp_celsius", help: "Temperature.", registry });
   * assert.equal(registry.remove("temp_celsius"), true);
   * assert.equal(registry.remove("temp_celsius"), false);
   * assert.deepEqual(await registry.collect(), []);
   * ```
   */
  remove(name: string): boolean {
    const collector = this.get(name);
    if (collector === undefined) return false;
    this.#collectors.delete(collector.name);
    for (const sample of sampleNames(collector.name, collector.type)) {
      if (this.#claims.get(sample) === collector) this.#claims.delete(sample);
    }
    return true;
  }

  /**
   * Unregisters every metric.
   *
   * @example
   * ```ts
   * import { Counter, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const registry = new Registry();
   * new Counter({ name: "jobs_total", help: "Jobs.", registry });
   * registry.clear();
   * assert.deepEqual(await registry.collect(), []);
   * ```
   */
  clear(): void {
    this.#collectors.clear();
    this.#claims.clear();
  }

  /**
   * Collects every metric into a snapshot, in registration order. A collector
   * (or an instrument's `collect` hook or observe callback) that throws,
   * rejects or exceeds `collectTimeoutMs` is reported to `onError` and left
   * out; the others are still returned. The signal each collector is given
   * aborts when the timeout is reached, so that one still running can end
   * its work (an observable instrument ends that collection). When a
   * metric folded label sets into its overflow series, the snapshot ends
   * with the counter `edgemetrics_dropped_label_sets{metric="<name>"}`,
   * where `<name>` is the metric's name as its samples show it in the
   * Prometheus text and OpenMetrics expositions: prefixed, and with
   * `_total` for a counter
   * (`metric="shop_orders_total"` for a counter declared `orders_total`
   * under the prefix `shop_`); a gauge, histogram or summary by its
   * prefixed family name (`metric="shop_latency_seconds"`).
   *
   * @param filter Which families to include (by prefixed name and kind); all when omitted.
   * @returns The snapshot: plain, structured-cloneable data.
   *
   * @example
   * ```ts
   * import { Gauge, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const registry = new Registry({ prefix: "app_", defaultLabels: { region: "eu" } });
   * new Gauge({ name: "queue_depth", help: "Jobs waiting.", registry }).set(7);
   * assert.deepEqual(await registry.collect(), [{
   *   type: "gauge",
   *   name: "app_queue_depth",
   *   help: "Jobs waiting.",
   *   aggregation: "sum",
   *   points: [{ labels: { region: "eu" }, value: 7 }],
   * }]);
   * ```
   */
  async collect(filter?: CollectFilter): Promise<MetricFamily[]> {
    // Aborted when the collection stops waiting for the collectors still
    // running, so that they can end what they started.
    const deadline = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pending: {
      collector: Collector;
      name: string;
      result: MetricFamily | Promise<MetricFamily | undefined>;
    }[] = [];
    for (const collector of this.#collectors.values()) {
      const name = this.prefix + collector.name;
      if (filter !== undefined && !filter(name, collector.type)) continue;
      try {
        const result = collector.collect(deadline.signal);
        if (isPromise(result) && timer === undefined) {
          timer = setTimeout(
            () =>
              deadline.abort(
                new DOMException(
                  `collect took longer than ${this.#timeoutMs} ms`,
                  "TimeoutError",
                ),
              ),
            this.#timeoutMs,
          );
        }
        pending.push({
          collector,
          name,
          result: isPromise(result)
            ? this.#bounded(result, name, deadline.signal)
            : result,
        });
      } catch (error) {
        this.#onError(error, name);
      }
    }
    const families: MetricFamily[] = [];
    let dropped: { metric: string; count: number }[] | undefined;
    for (const { collector, name, result } of pending) {
      const family = isPromise(result) ? await result : result;
      if (family !== undefined) families.push(this.#decorator.decorate(family));
      // Read after collecting: an observable instrument overflows while collecting.
      const count = collector.droppedLabelSets ?? 0;
      if (count > 0) {
        // The name its samples carry in both text formats: what users grep.
        const metric = collector.type === "counter" ? name + "_total" : name;
        (dropped ??= []).push({ metric, count });
      }
    }
    // The awaits above never reject: every collector has settled or timed out.
    clearTimeout(timer);
    if (
      dropped !== undefined &&
      (filter === undefined || filter(DROPPED_LABEL_SETS, "counter"))
    ) {
      const created = this.#created ??= this.clock.now();
      families.push({
        type: "counter",
        name: DROPPED_LABEL_SETS,
        help:
          "Records folded into a metric's overflow series because it reached its series limit.",
        points: dropped.map(({ metric, count }) => ({
          labels: { ...this.defaultLabels, metric },
          value: count,
          created,
        })),
      });
    }
    return families;
  }

  /**
   * Collects and renders the Prometheus text format 0.0.4, as a scrape of
   * `/metrics` would; a metric whose collection failed is left out.
   *
   * @returns The exposition text.
   *
   * @example
   * ```ts
   * import { Gauge, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const registry = new Registry();
   * new Gauge({ name: "queue_depth", help: "Jobs waiting.", registry }).set(3);
   * assert.equal(
   *   await registry.metrics(),
   *   "# HELP queue_depth Jobs waiting.\n# TYPE queue_depth gauge\nqueue_depth 3\n",
   * );
   * ```
   */
  async metrics(): Promise<string> {
    return encodePrometheusText(await this.collect());
  }

  /**
   * A collector's promise, or `undefined` (reported to `onError`) when it
   * rejects or `deadline` aborts first.
   */
  #bounded(
    result: Promise<MetricFamily>,
    name: string,
    deadline: AbortSignal,
  ): Promise<MetricFamily | undefined> {
    const timeout = new Promise<never>((_, reject) => {
      deadline.addEventListener("abort", () =>
        reject(
          new Error(
            `Cannot collect metric "${name}": collect took longer than ${this.#timeoutMs} ms`,
          ),
        ), { once: true });
    });
    return Promise.race([result, timeout]).then(
      (family) => family,
      (error) => {
        this.#onError(error, name);
        return undefined;
      },
    );
  }
}

/**
 * The registry instruments join when no `registry` option is given.
 *
 * @example
 * ```ts
 * import { Counter, defaultRegistry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const c = new Counter({ name: "doc_default_registry_total", help: "Example." });
 * assert.equal(defaultRegistry.get("doc_default_registry_total"), c);
 * defaultRegistry.remove("doc_default_registry_total");
 * ```
 */
export const defaultRegistry: Registry = /* @__PURE__ */ new Registry();

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

function reportToConsole(error: unknown, metric: string): void {
  console.error(`edgemetrics: collecting metric "${metric}" failed:`, error);
}
