/**
 * edgemetrics as the benchmarks see it: the parts of the DESIGN API they
 * drive, looked up at run time so a part still being written shows up as
 * "not built yet" instead of stopping every other workload.
 *
 * @module
 */

import * as mod from "../mod.ts";
import type { MetricFamily } from "../mod.ts";

export { Counter, Registry } from "../mod.ts";

/** A label object, as `observe(labels, value)` takes it. */
type Labels = Record<string, string>;

/** The histogram API from DESIGN.md. */
export interface HistogramLike {
  observe(labels: Labels, value: number): void;
  labels(...values: string[]): { observe(value: number): void };
}

/** The histogram constructor from DESIGN.md. */
export type HistogramConstructor = new (options: {
  name: string;
  help: string;
  labelNames: readonly string[];
  buckets: readonly number[];
  registry: mod.Registry | null;
  maxSeries?: number;
}) => HistogramLike;

/** The OTLP encoders' options from DESIGN.md. */
export interface OtlpOptions {
  resource: Record<string, string>;
  timeUnixMs: number;
}

const api = mod as unknown as Record<string, unknown>;

/** Whether a function is the real thing and not the placeholder that throws. */
function works(fn: unknown, probe: (fn: never) => unknown): boolean {
  if (typeof fn !== "function") return false;
  try {
    probe(fn as never);
    return true;
  } catch {
    return false;
  }
}

/** `Histogram`, or `undefined` until it lands. */
export const Histogram: HistogramConstructor | undefined =
  typeof api.Histogram === "function"
    ? api.Histogram as HistogramConstructor
    : undefined;

/** `encodePrometheusText`, or `undefined` until it lands. */
export const encodePrometheusText:
  | ((families: readonly MetricFamily[]) => string)
  | undefined =
    works(api.encodePrometheusText, (f: (x: never[]) => string) => f([]))
      ? api.encodePrometheusText as (f: readonly MetricFamily[]) => string
      : undefined;

const otlpProbe = (f: (x: never[], o: OtlpOptions) => unknown) =>
  f([], { resource: { "service.name": "probe" }, timeUnixMs: 0 });

/** `encodeOtlpJson`, or `undefined` until it lands. */
export const encodeOtlpJson:
  | ((families: readonly MetricFamily[], options: OtlpOptions) => unknown)
  | undefined = works(api.encodeOtlpJson, otlpProbe)
    ? api.encodeOtlpJson as (
      f: readonly MetricFamily[],
      o: OtlpOptions,
    ) => unknown
    : undefined;

/** `encodeOtlpProtobuf`, or `undefined` until it lands. */
export const encodeOtlpProtobuf:
  | ((families: readonly MetricFamily[], options: OtlpOptions) => Uint8Array)
  | undefined = works(api.encodeOtlpProtobuf, otlpProbe)
    ? api.encodeOtlpProtobuf as (
      f: readonly MetricFamily[],
      o: OtlpOptions,
    ) => Uint8Array
    : undefined;

/** The names `mod.ts` exports today (the pull-only bundle takes what exists). */
export const exportedNames: readonly string[] = Object.keys(mod);
