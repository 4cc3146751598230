/**
 * Merging snapshots from several workers into one service-wide snapshot: a
 * pure function of plain data, so it works the same whatever carried the
 * snapshots (a `BroadcastChannel`, `postMessage`, a test literal).
 *
 * @module
 */

import type {
  Attributes,
  CounterPoint,
  Exemplar,
  FamilyBase,
  HistogramPoint,
  Labels,
  MetricFamily,
  NativeHistogram,
  Quantile,
  SummaryPoint,
} from "../model.ts";
import { addNative } from "../_native.ts";

type Writable<T> = { -readonly [K in keyof T]: T[K] };

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
 *   earliest, the latest exemplar per bucket kept; native buckets of
 *   different scales merge at the coarsest one (each downscaled exactly),
 *   with the widest zero bucket. Buckets only add up over
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
  const merged = new Map<string, Merged>();
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
      let entry = merged.get(family.name);
      if (entry === undefined) {
        merged.set(family.name, entry = { first: family, cells: new Map() });
      } else if (entry.first.type !== family.type) {
        report(
          family.name,
          `it is a ${family.type} there and a ${entry.first.type} here`,
        );
        continue;
      }
      add(entry, family, worker, report);
    }
  }
  return { families: [...merged.values()].map(finish), conflicts };
}

type Report = (family: string, detail: string) => void;

/** A family being merged: the first one seen under its name, and its series. */
interface Merged {
  readonly first: MetricFamily;
  readonly cells: Map<string, Cell>;
}

/** Every field a point of any kind may carry, to read points of all kinds alike. */
type AnyPoint =
  & Partial<CounterPoint & HistogramPoint & SummaryPoint>
  & { readonly attributes?: Attributes }
  & { readonly labels: Labels };

/** The running totals of one series; each kind reads the fields it has. */
interface Cell {
  labels: Labels;
  attributes: Attributes | undefined;
  value: number;
  sum: number;
  count: number;
  created: number;
  counts: number[];
  exemplar: Exemplar | undefined;
  exemplars: (Exemplar | null)[] | undefined;
  quantiles: readonly Quantile[];
  /** A native histogram's buckets; `null` once a worker had none. */
  native: NativeHistogram | undefined | null;
  /** How many workers reported the series. */
  workers: number;
}

/** Adds one worker's family to the merged one of the same name and kind. */
function add(
  { first, cells }: Merged,
  family: MetricFamily,
  worker: string,
  report: Report,
): void {
  const name = family.name;
  const mode = first.type === "gauge" ? first.aggregation : undefined;
  if (family.type === "gauge" && family.aggregation !== mode) {
    report(
      name,
      `its aggregation is "${family.aggregation}" there and "${mode}" here; merged as "${mode}"`,
    );
  }
  const bounds = first.type === "histogram" ? first.bounds : [];
  if (family.type === "histogram" && !sameBounds(bounds, family.bounds)) {
    report(
      name,
      `bucket bounds differ, got [${family.bounds.join(", ")}] where [${
        bounds.join(", ")
      }] is merged; family left out`,
    );
    return;
  }
  for (const point of family.points as readonly AnyPoint[]) {
    let labels = point.labels;
    if (mode === "all") {
      if (Object.hasOwn(labels, "worker")) {
        report(
          name,
          `a gauge of aggregation "all" cannot have its own "worker" label, got ${
            JSON.stringify(labels.worker)
          }; series left out`,
        );
        continue;
      }
      labels = { ...labels, worker };
    }
    if (
      family.type === "histogram" && point.counts!.length !== bounds.length + 1
    ) {
      report(
        name,
        `a point needs ${bounds.length + 1} bucket counts, got ${
          point.counts!.length
        }; series left out`,
      );
      continue;
    }
    const key = labelKey(labels);
    const cell = cells.get(key);
    if (cell === undefined || mode === "all") {
      cells.set(key, {
        labels,
        attributes: point.attributes,
        value: point.value ?? 0,
        sum: point.sum ?? 0,
        count: point.count ?? 0,
        created: point.created ?? 0,
        counts: [...point.counts ?? []],
        exemplar: point.exemplar,
        exemplars: point.exemplars && [...point.exemplars],
        quantiles: point.quantiles ?? [],
        native: point.native,
        workers: 1,
      });
      continue;
    }
    const value = point.value ?? 0;
    cell.value = mode === "max"
      ? Math.max(cell.value, value)
      : mode === "min"
      ? Math.min(cell.value, value)
      : cell.value + value;
    cell.sum += point.sum ?? 0;
    cell.count += point.count ?? 0;
    cell.created = Math.min(cell.created, point.created ?? 0);
    cell.workers++;
    cell.exemplar = latest(cell.exemplar, point.exemplar);
    if (cell.native !== undefined || point.native !== undefined) {
      if (cell.native && point.native) {
        cell.native = addNative(cell.native, point.native);
      } else if (cell.native !== null) {
        cell.native = null;
        report(
          name,
          "native buckets in some workers only; merged without native buckets",
        );
      }
    }
    const counts = point.counts ?? [];
    for (let i = 0; i < counts.length; i++) cell.counts[i]! += counts[i]!;
    if (point.exemplars !== undefined) {
      const kept = cell.exemplars ??= cell.counts.map(() => null);
      for (let i = 0; i < kept.length; i++) {
        kept[i] =
          latest(kept[i] ?? undefined, point.exemplars[i] ?? undefined) ?? null;
      }
    }
  }
}

/**
 * The merged family: each series with the fields of its kind, labels
 * copied, an exemplar only where one was kept, and a summary's quantiles
 * only when one worker reported the series.
 */
function finish({ first, cells }: Merged): MetricFamily {
  const header: Writable<FamilyBase> = first.unit === undefined
    ? { name: first.name, help: first.help }
    : { name: first.name, help: first.help, unit: first.unit };
  if (first.otel !== undefined) header.otel = first.otel;
  if (first.target !== undefined) header.target = first.target;
  const series = [...cells.values()];
  const labels = (cell: Cell) => ({ ...cell.labels });
  // A meter's series keep their typed OTel attributes beside their labels.
  const attributed = <P extends object>(point: P, cell: Cell): P =>
    cell.attributes === undefined
      ? point
      : { ...point, attributes: { ...cell.attributes } };
  switch (first.type) {
    case "counter":
      return {
        type: "counter",
        ...header,
        points: series.map((cell) => {
          const point = attributed({
            labels: labels(cell),
            value: cell.value,
            created: cell.created,
          }, cell);
          return cell.exemplar === undefined
            ? point
            : { ...point, exemplar: cell.exemplar };
        }),
      };
    case "updowncounter":
      // Non-monotonic sums add up across workers, like counters.
      return {
        type: "updowncounter",
        ...header,
        points: series.map((cell) =>
          attributed({
            labels: labels(cell),
            value: cell.value,
            created: cell.created,
          }, cell)
        ),
      };
    case "gauge":
      return {
        type: "gauge",
        ...header,
        aggregation: first.aggregation,
        points: series.map((cell) =>
          attributed({ labels: labels(cell), value: cell.value }, cell)
        ),
      };
    case "histogram":
      return {
        type: "histogram",
        ...header,
        bounds: [...first.bounds],
        points: series.map((cell) => {
          const point = attributed({
            labels: labels(cell),
            counts: cell.counts,
            sum: cell.sum,
            count: cell.count,
            created: cell.created,
          }, cell);
          const native = cell.native ? { native: cell.native } : {};
          return cell.exemplars === undefined
            ? { ...point, ...native }
            : { ...point, exemplars: cell.exemplars, ...native };
        }),
      };
    case "summary":
      return {
        type: "summary",
        ...header,
        points: series.map((cell) => ({
          labels: labels(cell),
          count: cell.count,
          sum: cell.sum,
          created: cell.created,
          quantiles: cell.workers === 1
            ? cell.quantiles.map((q) => ({ ...q }))
            : [],
        })),
      };
  }
}

/** An unambiguous key of a label set, whatever the order of its names. */
function labelKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return JSON.stringify(names.map((name) => [name, labels[name]]));
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

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((bound, i) => bound === b[i]);
}
