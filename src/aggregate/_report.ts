/**
 * The report a {@linkcode MetricsReporter} sends to a
 * {@linkcode MetricsAggregator}: what it carries, how it is written, and the
 * check that a received body has its shape.
 *
 * Protocol, version 1: `POST` a body of exact JSON (see `_exact_json.ts`)
 * `{ edgemetrics: 1, reporter, seq, families }`, content type
 * {@linkcode REPORT_CONTENT_TYPE}. `reporter` is the isolate's unique id,
 * `seq` counts that reporter's reports from 1 (per shard), and `families`
 * hold deltas since the reporter's previous acknowledged report for
 * counters, up-down counters (a delta may be negative), histograms (classic
 * and native buckets) and summaries (count and sum), and current values for
 * gauges. A report is resent unchanged, same `seq`, until it is
 * acknowledged; the aggregator applies each (reporter, seq) once.
 *
 * The answer: 200 with `{ applied: true }` (or `{ duplicate: true }` for a
 * report already applied), 400 for a body that is not a report (never
 * retried), 503 when storage failed (retried).
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import { parseExactJson, stringifyExactJson } from "../_exact_json.ts";
import { isFamily } from "../workers/_messages.ts";
import { warnOnce } from "../_warn.ts";
import { indexRange, MAX_SCHEMA, MIN_SCHEMA } from "../_native.ts";

/** The content type of a report and of a shard's snapshot. */
export const REPORT_CONTENT_TYPE = "application/vnd.edgemetrics+json";

/** The longest reporter id accepted. */
const MAX_REPORTER_CHARS = 128;

/** One reporter's delta, as sent. */
export interface Report {
  readonly edgemetrics: 1;
  /** The reporting isolate's unique id. */
  readonly reporter: string;
  /** The report's number, from 1, one more for each acknowledged report. */
  readonly seq: number;
  /** Deltas (counters, histograms, summaries) and current gauges. */
  readonly families: readonly MetricFamily[];
}

/** The body of `report`. */
export function encodeReport(report: Report): string {
  return stringifyExactJson(report);
}

/**
 * The report in `text`, or a string saying why it is not one.
 */
export function parseReport(text: string): Report | string {
  let data: unknown;
  try {
    data = parseExactJson(text);
  } catch {
    return "the body is not JSON";
  }
  if (typeof data !== "object" || data === null) return "not a report";
  const report = data as Record<string, unknown>;
  if (report.edgemetrics !== 1) return "not a version 1 report";
  const { reporter, seq, families } = report;
  if (
    typeof reporter !== "string" || reporter === "" ||
    reporter.length > MAX_REPORTER_CHARS || reporter.includes("\u0000")
  ) {
    return `reporter must be a string of 1 to ${MAX_REPORTER_CHARS} characters without NUL, got ${
      JSON.stringify(reporter)
    }`;
  }
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) {
    return `seq must be a whole number from 1, got ${JSON.stringify(seq)}`;
  }
  if (!Array.isArray(families) || !families.every(isFamily)) {
    return "families must be an array of metric families";
  }
  for (const family of families as MetricFamily[]) {
    const bad = family.points.findIndex((point) => !isPoint(family, point));
    if (bad >= 0) {
      return `metric ${
        JSON.stringify(family.name)
      }: point ${bad} must have string labels, numbers, no negative increment or count, whole bucket counts, and native bucket indexes a finite value can have, got ${
        JSON.stringify(family.points[bad])
      }`;
    }
  }
  return data as Report;
}

/**
 * Whether a point's fields are what totals can be made of: string label
 * values, numbers where numbers go, and no negative counts or increments
 * (a counter's delta only goes up; an up-down counter's may go down), and
 * native buckets that can be added exactly.
 */
function isPoint(family: MetricFamily, point: MetricFamily["points"][number]) {
  const record = point as unknown as Record<string, unknown>;
  if (!Object.values(point.labels).every((v) => typeof v === "string")) {
    return false;
  }
  const notNegative = (value: unknown) =>
    typeof value === "number" && !(value < 0);
  switch (family.type) {
    case "gauge":
      return typeof record.value === "number";
    case "counter":
      return notNegative(record.value) && typeof record.created === "number";
    case "updowncounter":
      return typeof record.value === "number" &&
        typeof record.created === "number";
    case "histogram":
      return (!Array.isArray(record.counts) ||
        record.counts.every(notNegative)) &&
        notNegative(record.count) && typeof record.sum === "number" &&
        typeof record.created === "number" &&
        (record.native === undefined || isNativeDelta(record.native));
    case "summary":
      return notNegative(record.count) && typeof record.sum === "number" &&
        typeof record.created === "number";
    default:
      return true;
  }
}

/**
 * Whether native buckets can be added to a total exactly: a schema the
 * merge can downscale to (-4 to 20), a zero threshold from 0, whole counts
 * from 0, and bucket indexes a finite value can have at that schema (so
 * a merge's arithmetic stays exact and its arrays bounded). (`isFamily`
 * checked the shape.)
 */
function isNativeDelta(value: unknown): boolean {
  const native = value as Record<string, unknown>;
  const schema = native.schema as number;
  if (!(schema >= MIN_SCHEMA && schema <= MAX_SCHEMA)) return false;
  const [min, max] = indexRange(schema);
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  const buckets = (b: unknown) => {
    const { offset, counts } = b as { offset: unknown; counts: unknown[] };
    return Number.isSafeInteger(offset) && counts.every(count) &&
      (counts.length === 0 ||
        (offset as number) >= min &&
          (offset as number) + counts.length - 1 <= max);
  };
  return (native.zeroThreshold as number) >= 0 && count(native.zeroCount) &&
    buckets(native.positive) && buckets(native.negative);
}

/** A shard's snapshot, as `GET /snapshot` answers it. */
export function encodeFamilies(families: readonly MetricFamily[]): string {
  return stringifyExactJson(families);
}

/** The families of a shard's snapshot, or `undefined` when `text` is not one. */
export function parseFamilies(text: string): MetricFamily[] | undefined {
  try {
    const data = parseExactJson(text);
    return Array.isArray(data) && data.every(isFamily)
      ? data as MetricFamily[]
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a report needs to carry: gauges as they are, and the delta points
 * that changed something or that the aggregator has not seen yet (a delta
 * point keeps its series' own start time only when it was never
 * acknowledged). Families left with no points are left out.
 */
export function reportFamilies(
  deltas: readonly MetricFamily[],
  families: readonly MetricFamily[],
): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (let i = 0; i < deltas.length; i++) {
    const delta = deltas[i]!;
    if (delta.type === "gauge") {
      if (delta.points.length > 0) out.push(delta);
      continue;
    }
    if (!DELTA_KINDS.has(delta.type)) {
      // A kind the delta tracker does not turn into deltas would be added
      // up whole at every report: leave it out, and say so once.
      warnOnce(
        `aggregate-kind-${delta.type}`,
        `MetricsReporter leaves out metric "${delta.name}": a ${delta.type} cannot be reported as deltas yet`,
      );
      continue;
    }
    const original = families[i]!.points;
    const points = (delta.points as readonly DeltaPoint[]).filter((point, j) =>
      point.created === (original[j] as DeltaPoint | undefined)?.created ||
      (point.value ?? 0) !== 0 || (point.count ?? 0) !== 0 ||
      (point.sum ?? 0) !== 0
    );
    if (points.length > 0) {
      out.push({ ...delta, points } as unknown as MetricFamily);
    }
  }
  return out;
}

/** The kinds whose points the delta tracker turns into deltas. */
const DELTA_KINDS: ReadonlySet<string> = new Set([
  "counter",
  "updowncounter",
  "histogram",
  "summary",
]);

/** The fields of a counter, up-down counter, histogram or summary point that say whether it changed. */
interface DeltaPoint {
  readonly created?: number;
  readonly value?: number;
  readonly count?: number;
  readonly sum?: number;
}
