/**
 * Merging snapshots from several workers into one service-wide snapshot: a
 * pure function of plain data, so it works the same whatever carried the
 * snapshots (a `BroadcastChannel`, `postMessage`, a test literal).
 *
 * @module
 */

import type {
  CounterFamily,
  CounterPoint,
  Exemplar,
  GaugeFamily,
  GaugePoint,
  HistogramFamily,
  HistogramPoint,
  Labels,
  MetricFamily,
  SummaryFamily,
  SummaryPoint,
} from "../model.ts";

/**
 * The snapshot of one worker, with the label that names the worker in
 * gauges of aggregation `all`.
 *
 * @example
 * ```ts
 * import type { WorkerSnapshot } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const snapshot: WorkerSnapshot = { worker: "w1", families: [] };
 * assert.equal(snapshot.worker, "w1");
 * ```
 */
export interface WorkerSnapshot {
  /** The worker's readable label, distinct from every other worker's. */
  readonly worker: string;
  /** What the worker's registry collected. */
  readonly families: readonly MetricFamily[];
}

/**
 * A part of a worker's snapshot that could not be merged and was left out.
 *
 * @example
 * ```ts
 * import type { MergeConflict } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const conflict: MergeConflict = {
 *   family: "jobs",
 *   worker: "w2",
 *   message: 'Cannot merge metric "jobs" from worker "w2": it is a gauge there and a counter here',
 * };
 * assert.equal(conflict.family, "jobs");
 * ```
 */
export interface MergeConflict {
  /** The family name. */
  readonly family: string;
  /** The label of the worker whose data was left out. */
  readonly worker: string;
  /** What was left out and why. */
  readonly message: string;
}

/**
 * The merged snapshot and what could not be merged into it.
 *
 * @example
 * ```ts
 * import { mergeSnapshots, type MergeResult } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const result: MergeResult = mergeSnapshots([]);
 * assert.deepEqual(result, { families: [], conflicts: [] });
 * ```
 */
export interface MergeResult {
  /** One family per name, in the order the names first appear. */
  readonly families: MetricFamily[];
  /** Data left out of `families`, one entry per family and worker. */
  readonly conflicts: MergeConflict[];
}

/**
 * Merges the snapshots of several workers into the totals of the whole
 * service. The first snapshot is the reference (pass the local worker's
 * first): where workers disagree, its version wins and the other is left
 * out and reported in `conflicts`.
 *
 * Series are matched by identical label sets. Per kind:
 *
 * - counters: values summed, `created` the earliest, the latest exemplar kept;
 * - histograms: per-bucket counts, `sum` and `count` summed, `created` the
 *   earliest, the latest exemplar per bucket kept. Buckets only add up over
 *   the same bounds, so a worker whose bounds differ from the first ones
 *   seen is left out of that family and reported;
 * - summaries: `count` and `sum` summed, `created` the earliest. Quantiles
 *   of parts do not combine into quantiles of the whole (the median of two
 *   medians is not the median), so a series reported by two or more
 *   workers is merged without quantiles; one reported by a single worker
 *   keeps that worker's quantiles, which are then exact for the service;
 * - gauges, by the family's `aggregation`: `sum` adds the values, `max` and
 *   `min` keep the largest or smallest, `all` keeps every worker's series
 *   apart with a `worker` label set to {@linkcode WorkerSnapshot.worker}
 *   (a series that already has a `worker` label is left out and reported).
 *
 * A family whose kind differs from the first one seen under its name is
 * left out and reported; so is a histogram point whose `counts` do not fit
 * its bounds. `help`, `unit` and a gauge's `aggregation` come from the
 * first snapshot that has the family. Nothing is mutated; the result
 * shares no arrays with the input.
 *
 * @param snapshots The workers' snapshots, the local worker's first.
 * @returns The merged families and the conflicts.
 *
 * @example Two workers' request counters and a gauge kept per worker
 * ```ts
 * import { mergeSnapshots } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const { families, conflicts } = mergeSnapshots([
 *   {
 *     worker: "w1",
 *     families: [
 *       { type: "counter", name: "requests", help: "Requests.", points: [{ labels: {}, value: 3, created: 2_000 }] },
 *       { type: "gauge", name: "heap_bytes", help: "Heap.", aggregation: "all", points: [{ labels: {}, value: 10 }] },
 *     ],
 *   },
 *   {
 *     worker: "w2",
 *     families: [
 *       { type: "counter", name: "requests", help: "Requests.", points: [{ labels: {}, value: 4, created: 1_000 }] },
 *       { type: "gauge", name: "heap_bytes", help: "Heap.", aggregation: "all", points: [{ labels: {}, value: 20 }] },
 *     ],
 *   },
 * ]);
 * assert.deepEqual(conflicts, []);
 * assert.deepEqual(families, [
 *   { type: "counter", name: "requests", help: "Requests.", points: [{ labels: {}, value: 7, created: 1_000 }] },
 *   {
 *     type: "gauge",
 *     name: "heap_bytes",
 *     help: "Heap.",
 *     aggregation: "all",
 *     points: [{ labels: { worker: "w1" }, value: 10 }, { labels: { worker: "w2" }, value: 20 }],
 *   },
 * ]);
 * ```
 */
export function mergeSnapshots(
  snapshots: readonly WorkerSnapshot[],
): MergeResult {
  const merged = new Map<string, Accumulator>();
  const conflicts: MergeConflict[] = [];
  for (const { worker, families } of snapshots) {
    const report = (family: string, detail: string) =>
      conflicts.push({
        family,
        worker,
        message:
          `Cannot merge metric "${family}" from worker "${worker}": ${detail}`,
      });
    for (const family of families) {
      const existing = merged.get(family.name);
      if (existing === undefined) {
        const created = createAccumulator(family);
        merged.set(family.name, created);
        created.add(family, worker, report);
      } else if (existing.type !== family.type) {
        report(
          family.name,
          `it is a ${family.type} there and a ${existing.type} here`,
        );
      } else {
        existing.add(family, worker, report);
      }
    }
  }
  return {
    families: [...merged.values()].map((accumulator) => accumulator.finish()),
    conflicts,
  };
}

type Report = (family: string, detail: string) => void;

interface Accumulator {
  readonly type: MetricFamily["type"];
  add(family: MetricFamily, worker: string, report: Report): void;
  finish(): MetricFamily;
}

function createAccumulator(first: MetricFamily): Accumulator {
  switch (first.type) {
    case "counter":
      return new CounterAccumulator(first);
    case "gauge":
      return new GaugeAccumulator(first);
    case "histogram":
      return new HistogramAccumulator(first);
    case "summary":
      return new SummaryAccumulator(first);
  }
}

/** An unambiguous key of a label set, whatever the order of its names. */
function labelKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return JSON.stringify(names.map((name) => [name, labels[name]]));
}

/** The header of a family without its points, copying `unit` only when set. */
function header(
  family: MetricFamily,
): { name: string; help: string; unit?: string } {
  return family.unit === undefined
    ? { name: family.name, help: family.help }
    : { name: family.name, help: family.help, unit: family.unit };
}

/** The later of two exemplars by timestamp; the first one on a tie. */
function latest(
  kept: Exemplar | undefined,
  candidate: Exemplar | undefined,
): Exemplar | undefined {
  if (candidate === undefined) return kept;
  if (kept === undefined || candidate.timestamp > kept.timestamp) {
    return candidate;
  }
  return kept;
}

interface CounterCell {
  labels: Labels;
  value: number;
  created: number;
  exemplar: Exemplar | undefined;
}

class CounterAccumulator implements Accumulator {
  readonly type = "counter" as const;
  #first: CounterFamily;
  #cells = new Map<string, CounterCell>();

  constructor(first: CounterFamily) {
    this.#first = first;
  }

  add(family: MetricFamily, _worker: string, _report: Report): void {
    for (const point of (family as CounterFamily).points) {
      const key = labelKey(point.labels);
      const cell = this.#cells.get(key);
      if (cell === undefined) {
        this.#cells.set(key, {
          labels: point.labels,
          value: point.value,
          created: point.created,
          exemplar: point.exemplar,
        });
      } else {
        cell.value += point.value;
        cell.created = Math.min(cell.created, point.created);
        cell.exemplar = latest(cell.exemplar, point.exemplar);
      }
    }
  }

  finish(): CounterFamily {
    const points: CounterPoint[] = [];
    for (const { labels, value, created, exemplar } of this.#cells.values()) {
      points.push(
        exemplar === undefined
          ? { labels: { ...labels }, value, created }
          : { labels: { ...labels }, value, created, exemplar },
      );
    }
    return { type: "counter", ...header(this.#first), points };
  }
}

class GaugeAccumulator implements Accumulator {
  readonly type = "gauge" as const;
  #first: GaugeFamily;
  #cells = new Map<string, { labels: Labels; value: number }>();

  constructor(first: GaugeFamily) {
    this.#first = first;
  }

  add(family: MetricFamily, worker: string, report: Report): void {
    const gauge = family as GaugeFamily;
    const mode = this.#first.aggregation;
    if (gauge.aggregation !== mode) {
      report(
        gauge.name,
        `its aggregation is "${gauge.aggregation}" there and "${mode}" here; merged as "${mode}"`,
      );
    }
    for (const point of gauge.points) {
      if (mode === "all") {
        if (Object.hasOwn(point.labels, "worker")) {
          report(
            gauge.name,
            `a gauge of aggregation "all" cannot have its own "worker" label, got ${
              JSON.stringify(point.labels.worker)
            }; series left out`,
          );
          continue;
        }
        const labels = { ...point.labels, worker };
        this.#cells.set(labelKey(labels), { labels, value: point.value });
        continue;
      }
      const key = labelKey(point.labels);
      const cell = this.#cells.get(key);
      if (cell === undefined) {
        this.#cells.set(key, { labels: point.labels, value: point.value });
      } else if (mode === "sum") {
        cell.value += point.value;
      } else if (mode === "max") {
        cell.value = Math.max(cell.value, point.value);
      } else {
        cell.value = Math.min(cell.value, point.value);
      }
    }
  }

  finish(): GaugeFamily {
    const points: GaugePoint[] = [];
    for (const { labels, value } of this.#cells.values()) {
      points.push({ labels: { ...labels }, value });
    }
    return {
      type: "gauge",
      ...header(this.#first),
      aggregation: this.#first.aggregation,
      points,
    };
  }
}

interface HistogramCell {
  labels: Labels;
  counts: number[];
  sum: number;
  count: number;
  created: number;
  exemplars: (Exemplar | null)[] | undefined;
}

class HistogramAccumulator implements Accumulator {
  readonly type = "histogram" as const;
  #first: HistogramFamily;
  #cells = new Map<string, HistogramCell>();

  constructor(first: HistogramFamily) {
    this.#first = first;
  }

  add(family: MetricFamily, _worker: string, report: Report): void {
    const histogram = family as HistogramFamily;
    const bounds = this.#first.bounds;
    if (!sameBounds(bounds, histogram.bounds)) {
      report(
        histogram.name,
        `bucket bounds differ, got [${histogram.bounds.join(", ")}] where [${
          bounds.join(", ")
        }] is merged; family left out`,
      );
      return;
    }
    for (const point of histogram.points) {
      if (point.counts.length !== bounds.length + 1) {
        report(
          histogram.name,
          `a point needs ${
            bounds.length + 1
          } bucket counts, got ${point.counts.length}; series left out`,
        );
        continue;
      }
      const key = labelKey(point.labels);
      const cell = this.#cells.get(key);
      if (cell === undefined) {
        this.#cells.set(key, {
          labels: point.labels,
          counts: [...point.counts],
          sum: point.sum,
          count: point.count,
          created: point.created,
          exemplars: point.exemplars === undefined
            ? undefined
            : [...point.exemplars],
        });
        continue;
      }
      for (let i = 0; i < cell.counts.length; i++) {
        cell.counts[i]! += point.counts[i]!;
      }
      cell.sum += point.sum;
      cell.count += point.count;
      cell.created = Math.min(cell.created, point.created);
      if (point.exemplars !== undefined) {
        const kept = cell.exemplars ??= cell.counts.map(() => null);
        for (let i = 0; i < kept.length; i++) {
          kept[i] =
            latest(kept[i] ?? undefined, point.exemplars[i] ?? undefined) ??
              null;
        }
      }
    }
  }

  finish(): HistogramFamily {
    const points: HistogramPoint[] = [];
    for (const cell of this.#cells.values()) {
      const point = {
        labels: { ...cell.labels },
        counts: cell.counts,
        sum: cell.sum,
        count: cell.count,
        created: cell.created,
      };
      points.push(
        cell.exemplars === undefined
          ? point
          : { ...point, exemplars: cell.exemplars },
      );
    }
    return {
      type: "histogram",
      ...header(this.#first),
      bounds: [...this.#first.bounds],
      points,
    };
  }
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((bound, i) => bound === b[i]);
}

interface SummaryCell {
  labels: Labels;
  count: number;
  sum: number;
  created: number;
  quantiles: SummaryPoint["quantiles"];
  workers: number;
}

class SummaryAccumulator implements Accumulator {
  readonly type = "summary" as const;
  #first: SummaryFamily;
  #cells = new Map<string, SummaryCell>();

  constructor(first: SummaryFamily) {
    this.#first = first;
  }

  add(family: MetricFamily, _worker: string, _report: Report): void {
    for (const point of (family as SummaryFamily).points) {
      const key = labelKey(point.labels);
      const cell = this.#cells.get(key);
      if (cell === undefined) {
        this.#cells.set(key, {
          labels: point.labels,
          count: point.count,
          sum: point.sum,
          created: point.created,
          quantiles: point.quantiles,
          workers: 1,
        });
      } else {
        cell.count += point.count;
        cell.sum += point.sum;
        cell.created = Math.min(cell.created, point.created);
        cell.workers++;
      }
    }
  }

  finish(): SummaryFamily {
    const points: SummaryPoint[] = [];
    for (const cell of this.#cells.values()) {
      points.push({
        labels: { ...cell.labels },
        count: cell.count,
        sum: cell.sum,
        created: cell.created,
        quantiles: cell.workers === 1
          ? cell.quantiles.map((q) => ({ ...q }))
          : [],
      });
    }
    return { type: "summary", ...header(this.#first), points };
  }
}
