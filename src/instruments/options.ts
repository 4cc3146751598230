/**
 * The options every instrument shares, checked in one place so every kind
 * rejects bad declarations with the same messages.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { systemClock } from "../clock.ts";
import {
  assertLabelNames,
  assertMetricName,
  assertUnit,
  describe,
} from "../names.ts";
import { type Collector, defaultRegistry, type Registry } from "../registry.ts";
import { checkMaxSeries, DEFAULT_MAX_SERIES } from "./_series.ts";
import { type InstrumentKind, type View, viewForMetric } from "../view.ts";

/**
 * The `collect` hook that {@linkcode Counter}, {@linkcode Gauge},
 * {@linkcode Histogram} and {@linkcode Summary} take: called with the metric
 * (also as `this`) before each collection, sync or async, so it can record
 * from a source read at scrape time. If it throws or rejects, the registry
 * reports it to `onError` and leaves that metric out of that collection.
 *
 * @typeParam M The metric the hook is given.
 *
 * @example
 * ```ts
 * import { type CollectHook, Gauge, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const hook: CollectHook<Gauge> = (gauge) => gauge.set(42);
 * const gauge = new Gauge({ name: "answer", help: "X.", registry: new Registry(), collect: hook });
 * assert.equal((await gauge.collect()).points[0]?.value, 42);
 * ```
 */
export type CollectHook<M> = {
  // Method syntax keeps the parameter bivariant, so `Histogram<"route">`
  // stays assignable to `Histogram<string>` despite the stored hook.
  hook(this: M, metric: M): void | Promise<void>;
}["hook"];

/**
 * Options every instrument takes.
 *
 * @example
 * ```ts
 * import { Gauge, type MetricOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: MetricOptions<"queue"> = {
 *   name: "queue_depth",
 *   help: "Jobs waiting.",
 *   labelNames: ["queue"],
 *   registry: null,
 * };
 * assert.equal(new Gauge(options).name, "queue_depth");
 * ```
 */
export interface MetricOptions<L extends string> {
  /** The metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`, at most 255 characters. */
  name: string;
  /** One line that says what it measures (or empty: no HELP line); whitespace only is refused. */
  help: string;
  /** Label names, in the order `labels(...values)` takes them; `as const` types the label objects. */
  labelNames?: readonly L[];
  /** The unit (e.g. `seconds`, `bytes`); the name must end with `_<unit>`. */
  unit?: string;
  /** The registry to join: {@linkcode defaultRegistry} when omitted, none when `null`. */
  registry?: Registry | null;
  /**
   * prom-client's form of `registry`: the registries to join, none when
   * empty. The first one's views, series limit and clock apply. Not
   * together with `registry`.
   */
  registers?: readonly Registry[];
  /**
   * The most series this metric keeps; later label sets share one overflow
   * series. Default: the registry's (2,000); a summary with percentiles
   * keeps at most 100 unless set here.
   */
  maxSeries?: number;
  /** Where time comes from; default: the registry's clock. */
  clock?: Clock;
}

/** Checked, defaulted options, the registry's view applied. */
export interface ResolvedOptions {
  /** The name as declared (a counter's with `_total`), for messages. */
  metric: string;
  /** The family name the snapshot uses. */
  name: string;
  help: string;
  unit: string | undefined;
  labelNames: readonly string[];
  /** Declared label names a view dropped: accepted in label objects, never a series. */
  ignoredLabelNames: readonly string[];
  /** The registry whose views, series limit and clock apply. */
  registry: Registry | null;
  /** Every registry to join (none when a view dropped the metric). */
  registries: readonly Registry[];
  maxSeries: number;
  clock: Clock;
  /** The registry's view that selected the metric, if any. */
  view: View | undefined;
}

/**
 * Checks an instrument's options. `familyName` is the name the snapshot uses
 * (a counter's without `_total`); `reserved` the label names the kind keeps.
 */
export function resolveOptions<L extends string>(
  options: MetricOptions<L>,
  reserved: readonly string[],
  familyName: (name: string) => string = (name) => name,
  kind?: InstrumentKind,
): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot declare metric: options must be an object, got ${
        describe(options)
      }`,
    );
  }
  assertMetricName(options.name);
  const joined = registriesOf(options);
  const chosen = joined[0] ?? null;
  const view = chosen === null || chosen.views.length === 0
    ? undefined
    : viewForMetric(chosen.views, options.name, kind);
  if (view?.name !== undefined) assertMetricName(view.name);
  const name = familyName(view?.name ?? options.name);
  if (typeof options.help !== "string") {
    throw new TypeError(
      `Cannot declare metric "${options.name}": help must be a string, got ${
        describe(options.help)
      }`,
    );
  }
  if (options.help !== "" && !/\S/.test(options.help)) {
    throw new TypeError(
      `Cannot declare metric "${options.name}": help must be empty or say what the metric measures, got ${
        describe(options.help)
      } (whitespace only)`,
    );
  }
  assertLabelNames(options.name, options.labelNames ?? [], reserved);
  const declared = options.labelNames ?? [];
  const keys = view?.attributeKeys as
    | { keep?: readonly string[]; exclude?: readonly string[] }
    | undefined;
  const kept = keys === undefined
    ? declared
    : declared.filter((label) =>
      keys.keep !== undefined
        ? keys.keep.includes(label)
        : !keys.exclude!.includes(label)
    );
  const labelNames = Object.freeze([...kept]);
  if (options.unit !== undefined) assertUnit(name, options.unit);
  // A dropped metric records into itself and is never collected.
  const registry = view?.drop === true ? null : chosen;
  return {
    metric: view?.name ?? options.name,
    name,
    help: view?.description ?? options.help,
    unit: options.unit,
    labelNames,
    ignoredLabelNames: declared.filter((label) => !kept.includes(label)),
    registry,
    registries: registry === null ? [] : joined,
    maxSeries: view?.maxSeries !== undefined
      ? view.maxSeries
      : options.maxSeries === undefined
      ? registry?.maxSeries ?? DEFAULT_MAX_SERIES
      : checkMaxSeries(
        `Cannot declare metric "${options.name}"`,
        options.maxSeries,
      ),
    clock: options.clock ?? registry?.clock ?? systemClock,
    view,
  };
}

/** The registries `registry` or prom-client's `registers` name, checked. */
function registriesOf(options: MetricOptions<string>): readonly Registry[] {
  const { registry, registers } = options;
  if (registers === undefined) {
    if (registry === undefined) return [defaultRegistry];
    return registry === null ? [] : [registry];
  }
  const what = `Cannot declare metric "${options.name}"`;
  if (registry !== undefined) {
    throw new TypeError(
      `${what}: give registry or registers (prom-client's form), not both`,
    );
  }
  if (
    !Array.isArray(registers) ||
    !registers.every((r) => typeof r?.register === "function")
  ) {
    throw new TypeError(
      `${what}: registers must be an array of registries, got ${
        describe(registers)
      }`,
    );
  }
  return registers;
}

/** Joins the registries the options named. */
export function joinRegistries(
  resolved: ResolvedOptions,
  metric: Collector,
): void {
  for (const registry of resolved.registries) registry.register(metric);
}

/** Whether a value is a promise (or any thenable). */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Checks that a `collect` hook or `observe` callback is a function. */
export function checkCallback(
  metric: string,
  option: string,
  value: unknown,
  required: boolean,
): void {
  if (value === undefined && !required) return;
  if (typeof value !== "function") {
    throw new TypeError(
      `Cannot declare metric "${metric}": ${option} must be a function, got ${
        describe(value)
      }`,
    );
  }
}
