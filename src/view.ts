/**
 * Views: rules that change what a meter's instruments export before any
 * series exists (rename, describe, keep or drop attribute keys, set
 * histogram buckets, drop the instrument, limit its series).
 *
 * @module
 */

import { describe } from "./names.ts";
import { checkMaxSeries } from "./instruments/_series.ts";

/**
 * The seven kinds of OpenTelemetry instrument.
 *
 * @example
 * ```ts
 * import type { InstrumentKind } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const kind: InstrumentKind = "histogram";
 * assert.equal(kind, "histogram");
 * ```
 */
export type InstrumentKind =
  | "counter"
  | "updowncounter"
  | "gauge"
  | "histogram"
  | "observablecounter"
  | "observableupdowncounter"
  | "observablegauge";

const KINDS: readonly InstrumentKind[] = [
  "counter",
  "updowncounter",
  "gauge",
  "histogram",
  "observablecounter",
  "observableupdowncounter",
  "observablegauge",
];

/**
 * A view: which instruments it selects (by name, kind and meter; all given
 * criteria must match) and what it changes in the stream they export.
 * Every view that selects an instrument makes one stream of it; an
 * instrument no view selects exports one stream as declared. Views apply
 * where series are created, so a dropped attribute key never makes a series
 * and recording costs what it costs without views.
 *
 * @example Rename a histogram, keep one attribute, set its buckets
 * ```ts
 * import { MeterProvider, Registry, type View } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const view: View = {
 *   instrument: "http.server.request.duration",
 *   name: "http.server.latency",
 *   attributeKeys: { keep: ["http.route"] },
 *   buckets: [0.1, 0.3, 1],
 * };
 * const registry = new Registry();
 * const meter = new MeterProvider({ registry, views: [view] }).getMeter("web");
 * const latency = meter.createHistogram("http.server.request.duration", { unit: "s" });
 * latency.record(0.2, { "http.route": "/a", "user.id": "u1" });
 * latency.record(0.25, { "http.route": "/a", "user.id": "u2" });
 * const [family] = await registry.collect();
 * assert.equal(family?.name, "http_server_latency_seconds");
 * assert.deepEqual(family?.points.map((p) => p.labels), [{ http_route: "/a" }]);
 * ```
 */
export interface View {
  /** The instrument name to select: exact, or with `*` matching any run of characters. Default: all. */
  readonly instrument?: string;
  /** The instrument kind to select. Default: all. */
  readonly kind?: InstrumentKind;
  /** The meter name to select (exact). Default: all. */
  readonly meter?: string;
  /** The stream's name instead of the instrument's. */
  readonly name?: string;
  /** The stream's description instead of the instrument's. */
  readonly description?: string;
  /** Which attribute keys the stream keeps; the others never make a series. */
  readonly attributeKeys?:
    | { readonly keep: readonly string[] }
    | { readonly exclude: readonly string[] };
  /** Explicit bucket boundaries for a histogram, instead of the advice or default. */
  readonly buckets?: readonly number[];
  /** Drop the stream: the instrument records nothing and exports nothing. */
  readonly drop?: boolean;
  /** The stream's series limit instead of the registry's. */
  readonly maxSeries?: number;
}

/** What a view is matched against. */
export interface ViewSelector {
  readonly name: string;
  readonly kind: InstrumentKind;
  readonly meter: string;
}

/**
 * Checks views once, when a provider is made.
 *
 * @throws {TypeError} For a view that is not an object, an unknown kind, a
 * non-string name, or a `name` on a view whose selector has a wildcard (it
 * would give many instruments one name).
 * @throws {RangeError} For a bad `maxSeries` or unsorted buckets.
 */
export function checkViews(
  views: readonly View[] | undefined,
  action = "Cannot create MeterProvider",
): View[] {
  if (views === undefined) return [];
  if (!Array.isArray(views)) {
    throw new TypeError(
      `${action}: views must be an array, got ${describe(views)}`,
    );
  }
  return views.map((view, i) => {
    const what = `${action}: view ${i}`;
    if (typeof view !== "object" || view === null) {
      throw new TypeError(`${what} must be an object, got ${describe(view)}`);
    }
    for (const key of ["instrument", "meter", "name", "description"] as const) {
      if (view[key] !== undefined && typeof view[key] !== "string") {
        throw new TypeError(
          `${what}: ${key} must be a string, got ${describe(view[key])}`,
        );
      }
    }
    if (view.kind !== undefined && !KINDS.includes(view.kind)) {
      throw new TypeError(
        `${what}: kind must be one of ${KINDS.join(", ")}, got ${
          describe(view.kind)
        }`,
      );
    }
    if (
      view.name !== undefined &&
      (view.instrument === undefined || view.instrument.includes("*"))
    ) {
      throw new TypeError(
        `${what}: a view that renames (name ${
          describe(view.name)
        }) must select one instrument by its exact name, got instrument ${
          describe(view.instrument ?? "*")
        }`,
      );
    }
    const keys = view.attributeKeys as
      | { keep?: unknown; exclude?: unknown }
      | undefined;
    if (
      keys !== undefined &&
      !(Array.isArray(keys.keep) || Array.isArray(keys.exclude))
    ) {
      throw new TypeError(
        `${what}: attributeKeys must be { keep: [...] } or { exclude: [...] }, got ${
          describe(keys)
        }`,
      );
    }
    if (view.maxSeries !== undefined) checkMaxSeries(what, view.maxSeries);
    if (view.buckets !== undefined) checkBounds(what, view.buckets);
    return view;
  });
}

/** Checks explicit bucket boundaries: finite numbers, strictly increasing. */
export function checkBounds(what: string, bounds: unknown): readonly number[] {
  if (!Array.isArray(bounds)) {
    throw new TypeError(
      `${what}: buckets must be an array of numbers, got ${describe(bounds)}`,
    );
  }
  for (let i = 0; i < bounds.length; i++) {
    const bound: unknown = bounds[i];
    if (typeof bound !== "number" || !Number.isFinite(bound)) {
      throw new RangeError(
        `${what}: buckets must be finite numbers, got ${
          describe(bound)
        } at position ${i}`,
      );
    }
    if (i > 0 && !(bound > bounds[i - 1])) {
      throw new RangeError(
        `${what}: buckets must be strictly increasing, got ${bound} after ${
          bounds[i - 1]
        }`,
      );
    }
  }
  return Object.freeze([...bounds]);
}

/** Whether `view` selects the instrument. */
export function selects(view: View, instrument: ViewSelector): boolean {
  if (view.kind !== undefined && view.kind !== instrument.kind) return false;
  if (view.meter !== undefined && view.meter !== instrument.meter) return false;
  return matchesName(view.instrument, instrument.name);
}

/** Whether a view's `instrument` pattern (exact, `*` wildcards, or none) matches a name. */
function matchesName(pattern: string | undefined, name: string): boolean {
  if (pattern === undefined || pattern === "*") return true;
  if (!pattern.includes("*")) return pattern === name;
  const regex = new RegExp(
    "^" + pattern.split("*").map(escapeRegExp).join(".*") + "$",
  );
  return regex.test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The one view that applies to a prom-client-style metric (`Counter`,
 * `Gauge`, …), which exports one stream: views with a `meter` criterion
 * select only meters' instruments, and a summary only by name. Returns
 * undefined when none selects it.
 *
 * @throws {TypeError} When two views select it (two streams of one metric).
 */
export function viewForMetric(
  views: readonly View[],
  name: string,
  kind: InstrumentKind | undefined,
): View | undefined {
  let found: View | undefined;
  for (const view of views) {
    if (view.meter !== undefined) continue;
    if (view.kind !== undefined && view.kind !== kind) continue;
    if (!matchesName(view.instrument, name)) continue;
    if (found !== undefined) {
      throw new TypeError(
        `Cannot declare metric "${name}": two views select it (${
          describe(found.instrument ?? "*")
        } and ${
          describe(view.instrument ?? "*")
        }), and a metric declared with new exports one stream`,
      );
    }
    found = view;
  }
  return found;
}

/** The views that select an instrument; an empty list means one stream as declared. */
export function viewsFor(
  views: readonly View[],
  instrument: ViewSelector,
): View[] {
  return views.filter((view) => selects(view, instrument));
}
