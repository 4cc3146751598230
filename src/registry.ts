/**
 * The registry: where metrics are registered and collected into a snapshot.
 *
 * @module
 */

import type { Labels, MetricFamily, MetricType } from "./model.ts";
import { type Clock, systemClock } from "./clock.ts";
import { DuplicateMetricError } from "./errors.ts";
import { assertLabelNames, assertMetricName } from "./names.ts";
import { DEFAULT_MAX_SERIES } from "./instruments/_series.ts";
import { encodePrometheusText } from "./encoders/prometheus_text.ts";

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
  /** Returns the current state as a snapshot family. */
  collect(): MetricFamily | Promise<MetricFamily>;
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
  #collectors = new Map<string, Collector>();
  #timeoutMs: number;
  #onError: (error: unknown, metric: string) => void;
  #created: number | undefined;

  /**
   * @param options Prefix, default labels and defaults for registered metrics.
   * @throws {TypeError} When the prefix or a default label name is invalid.
   * @throws {RangeError} When `maxSeries` is not a positive number.
   */
  constructor(options: RegistryOptions = {}) {
    this.prefix = options.prefix ?? "";
    if (this.prefix !== "") assertMetricName(this.prefix);
    const defaults = { ...options.defaultLabels };
    assertLabelNames(
      `${this.prefix}*`,
      Object.keys(defaults),
      ["le", "quantile"],
    );
    this.defaultLabels = Object.freeze(defaults);
    this.maxSeries = checkMaxSeries("registry", options.maxSeries);
    this.clock = options.clock ?? systemClock;
    this.#timeoutMs = options.collectTimeoutMs ?? 5000;
    this.#onError = options.onError ?? reportToConsole;
  }

  /**
   * Adds a collector. Instruments call this themselves.
   *
   * @param collector The metric or collector to add.
   * @throws {DuplicateMetricError} When a metric of the same name is registered.
   */
  register(collector: Collector): void {
    const existing = this.#collectors.get(collector.name);
    if (existing !== undefined) {
      throw new DuplicateMetricError(this.prefix + collector.name, existing);
    }
    this.#collectors.set(collector.name, collector);
  }

  /**
   * Returns the registered metric of that name (without the prefix); a
   * counter is found by its declared name with or without `_total`.
   *
   * @param name The metric's name.
   * @returns The metric, or `undefined`.
   */
  get(name: string): Collector | undefined {
    return this.#collectors.get(name) ??
      this.#collectors.get(name.replace(/_total$/, ""));
  }

  /**
   * Unregisters a metric by name (without the prefix).
   *
   * @param name The metric's name.
   * @returns Whether a metric was removed.
   */
  remove(name: string): boolean {
    const collector = this.get(name);
    return collector !== undefined && this.#collectors.delete(collector.name);
  }

  /** Unregisters every metric. */
  clear(): void {
    this.#collectors.clear();
  }

  /**
   * Collects every metric into a snapshot, in registration order. A collector
   * that throws or exceeds the collect timeout is reported to `onError` and
   * left out; the others are still returned.
   *
   * @param filter Which families to include; all when omitted.
   * @returns The snapshot: plain, structured-cloneable data.
   */
  async collect(filter?: CollectFilter): Promise<MetricFamily[]> {
    const pending: (MetricFamily | Promise<MetricFamily | undefined>)[] = [];
    let dropped: { metric: string; count: number }[] | undefined;
    for (const collector of this.#collectors.values()) {
      const name = this.prefix + collector.name;
      if (filter !== undefined && !filter(name, collector.type)) continue;
      const count = collector.droppedLabelSets ?? 0;
      if (count > 0) (dropped ??= []).push({ metric: name, count });
      try {
        const result = collector.collect();
        pending.push(
          result instanceof Promise ? this.#bounded(result, name) : result,
        );
      } catch (error) {
        this.#onError(error, name);
      }
    }
    const families: MetricFamily[] = [];
    for (const item of pending) {
      const family = item instanceof Promise ? await item : item;
      if (family !== undefined) families.push(this.#decorate(family));
    }
    if (
      dropped !== undefined &&
      (filter === undefined || filter(DROPPED_LABEL_SETS, "counter"))
    ) {
      families.push({
        type: "counter",
        name: DROPPED_LABEL_SETS,
        help:
          "Records folded into a metric's overflow series because it reached its series limit.",
        points: dropped.map(({ metric, count }) => ({
          labels: { ...this.defaultLabels, metric },
          value: count,
          created: this.#created ??= this.clock.now(),
        })),
      });
    }
    return families;
  }

  /**
   * Collects and renders the Prometheus text format 0.0.4.
   *
   * @returns The exposition text.
   */
  async metrics(): Promise<string> {
    return encodePrometheusText(await this.collect());
  }

  #bounded(
    result: Promise<MetricFamily>,
    name: string,
  ): Promise<MetricFamily | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Cannot collect metric "${name}": collect took longer than ${this.#timeoutMs} ms`,
            ),
          ),
        this.#timeoutMs,
      );
    });
    return Promise.race([result, timeout]).then(
      (family) => family,
      (error) => {
        this.#onError(error, name);
        return undefined;
      },
    ).finally(() => clearTimeout(timer));
  }

  #decorate(family: MetricFamily): MetricFamily {
    const prefixed = this.prefix === ""
      ? family
      : { ...family, name: this.prefix + family.name };
    if (Object.keys(this.defaultLabels).length === 0) return prefixed;
    const defaults = this.defaultLabels;
    return {
      ...prefixed,
      points: prefixed.points.map((point) => ({
        ...point,
        labels: { ...defaults, ...point.labels },
      })),
    } as MetricFamily;
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
export const defaultRegistry: Registry = new Registry();

/** Validates a series limit; `undefined` gives the default. */
export function checkMaxSeries(metric: string, value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_SERIES;
  if (typeof value !== "number" || !(value >= 1)) {
    throw new RangeError(
      `Cannot declare metric "${metric}": maxSeries must be a number of at least 1, got ${value}`,
    );
  }
  return value;
}

function reportToConsole(error: unknown, metric: string): void {
  console.error(`edgemetrics: collecting metric "${metric}" failed:`, error);
}
