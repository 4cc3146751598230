/**
 * The aggregator's state: service-wide cumulative totals, the last sequence
 * number applied per reporter, and each live reporter's gauges, held in
 * memory and mirrored in storage, one entry per series.
 *
 * A report is turned into a {@linkcode Change}: the entries to write and
 * delete, and the step that makes memory match once storage has them. The
 * state only changes through that step, so a failed write changes nothing
 * and the report's retry applies it in full.
 *
 * Storage keys (NUL-separated, so no name, label key or reporter id can
 * reach into another part):
 *
 * - `m␀<family>`: the family without points (kind, help, unit, bounds,
 *   aggregation), from the first report that had it;
 * - `t␀<family>␀<labels>`: the cumulative point of a counter, up-down
 *   counter, histogram (with its native buckets, without min and max) or
 *   summary series;
 * - `r␀<reporter>`: `{ seq, seen }`, the last sequence applied and when;
 * - `g␀<reporter>␀<family>␀<labels>`: a reporter's gauge point.
 *
 * @module
 */

import type {
  GaugeFamily,
  GaugePoint,
  HistogramPoint,
  Labels,
  MetricFamily,
} from "../model.ts";
import { mergeSnapshots, type WorkerSnapshot } from "../workers/merge.ts";
import type { Report } from "./_report.ts";

const META = "m\u0000";
const TOTAL = "t\u0000";
const REPORTER = "r\u0000";
const GAUGE = "g\u0000";

/** The kinds it aggregates: gauges by value, the others by adding deltas. */
const KINDS: ReadonlySet<string> = new Set([
  "counter",
  "updowncounter",
  "gauge",
  "histogram",
  "summary",
]);

/** Durable Object storage refuses longer keys. */
const MAX_KEY_BYTES = 2_048;

/** A family without its points. */
type Meta = MetricFamily extends infer F
  ? F extends MetricFamily ? Omit<F, "points"> : never
  : never;

/** A cumulative series: a counter, up-down counter, histogram or summary point. */
type Point = MetricFamily["points"][number];

/** What the aggregator knows of a reporter. */
interface ReporterRecord {
  /** The last sequence number applied. */
  readonly seq: number;
  /** When its last report was applied (the aggregator's clock). */
  readonly seen: number;
}

/** How long things are kept, and how much. */
export interface Limits {
  /** A reporter silent this long has its gauges left out and removed. */
  readonly gaugeExpiryMs: number;
  /** A reporter silent this long is forgotten, its sequence number too. */
  readonly forgetMs: number;
  /** New series past this many (totals and gauges) are left out. */
  readonly maxSeries: number;
}

/** The storage writes of one report, and the step that applies them to memory. */
export interface Change {
  readonly puts: Map<string, unknown>;
  readonly deletes: string[];
  /** Series left out: past `maxSeries`, or a key too long for storage. */
  readonly dropped: number;
  /** Data left out because it disagrees with what is stored, one line each. */
  readonly conflicts: string[];
  /** Makes memory match storage; call once the write succeeded. */
  commit(): void;
}

/** One aggregator's totals, reporters and gauges. */
export class AggregateState {
  #meta = new Map<string, Meta>();
  #totals = new Map<string, Map<string, Point>>();
  #reporters = new Map<string, ReporterRecord>();
  #gauges = new Map<string, Map<string, Map<string, GaugePoint>>>();

  /** The state stored in `entries` (what `AggregateStorage.list("")` returned). */
  static load(entries: ReadonlyMap<string, unknown>): AggregateState {
    const state = new AggregateState();
    for (const [key, value] of entries) {
      const parts = key.split("\u0000");
      const prefix = `${parts[0]}\u0000`;
      if (prefix === META && parts.length === 2) {
        state.#meta.set(parts[1]!, value as Meta);
      } else if (prefix === TOTAL && parts.length === 3) {
        inner(state.#totals, parts[1]!).set(parts[2]!, value as Point);
      } else if (prefix === REPORTER && parts.length === 2) {
        state.#reporters.set(parts[1]!, value as ReporterRecord);
      } else if (prefix === GAUGE && parts.length === 4) {
        inner(inner(state.#gauges, parts[1]!), parts[2]!)
          .set(parts[3]!, value as GaugePoint);
      }
    }
    return state;
  }

  /** The last sequence number applied from `reporter`; 0 when none. */
  seqOf(reporter: string): number {
    return this.#reporters.get(reporter)?.seq ?? 0;
  }

  /** How many reporters reported within `gaugeExpiryMs` of `now`. */
  liveReporters(now: number, limits: Limits): number {
    let live = 0;
    for (const record of this.#reporters.values()) {
      if (now - record.seen < limits.gaugeExpiryMs) live++;
    }
    return live;
  }

  /** How many series it holds: totals, and gauges of every reporter. */
  seriesCount(): number {
    let count = 0;
    for (const points of this.#totals.values()) count += points.size;
    for (const families of this.#gauges.values()) {
      for (const points of families.values()) count += points.size;
    }
    return count;
  }

  /**
   * The change that applies `report` (whose `seq` is above the stored one)
   * at `now`, and expires silent reporters on the way.
   */
  prepare(report: Report, now: number, limits: Limits): Change {
    const puts = new Map<string, unknown>();
    const deletes: string[] = [];
    const steps: (() => void)[] = [];
    const conflicts: string[] = [];
    const id = report.reporter;
    let room = limits.maxSeries - this.seriesCount();
    let dropped = 0;
    const newMeta = new Map<string, Meta>();

    /** The stored family, or this one when it is new; undefined on a conflict. */
    const metaFor = (family: MetricFamily): Meta | undefined => {
      const known = this.#meta.get(family.name) ?? newMeta.get(family.name);
      if (known === undefined) {
        const { points: _, ...fresh }: MetricFamily = family;
        newMeta.set(family.name, fresh);
        puts.set(META + family.name, fresh);
        steps.push(() => this.#meta.set(family.name, fresh));
        return fresh;
      }
      if (known.type !== family.type) {
        conflicts.push(
          `Cannot aggregate metric "${family.name}" from reporter "${id}": it is a ${family.type} there and a ${known.type} here`,
        );
        return undefined;
      }
      return known;
    };
    const admit = (key: string, exists: boolean): boolean => {
      if (byteLength(key) > MAX_KEY_BYTES) {
        dropped++;
        return false;
      }
      if (exists) return true;
      if (room <= 0) {
        dropped++;
        return false;
      }
      room--;
      return true;
    };

    const gaugesBefore = this.#gauges.get(id);
    const gaugesAfter = new Map<string, Map<string, GaugePoint>>();
    for (const family of report.families) {
      if (!KINDS.has(family.type)) {
        conflicts.push(
          `Cannot aggregate metric "${family.name}" from reporter "${id}": a ${family.type} is not a kind the aggregator adds up`,
        );
        continue;
      }
      const meta = metaFor(family);
      if (meta === undefined) continue;
      if (family.type === "gauge") {
        const before = gaugesBefore?.get(family.name);
        const after = new Map<string, GaugePoint>();
        for (const point of family.points) {
          const labels = labelKey(point.labels);
          const key = `${GAUGE}${id}\u0000${family.name}\u0000${labels}`;
          const old = before?.get(labels);
          if (!admit(key, old !== undefined)) continue;
          const next = { labels: point.labels, value: point.value };
          after.set(labels, next);
          if (old === undefined || !Object.is(old.value, next.value)) {
            puts.set(key, next);
          }
        }
        gaugesAfter.set(family.name, after);
        continue;
      }
      // A summary's quantiles cannot be added up; nor can native min and max
      // be known from deltas (the delta tracker drops them): totals keep
      // neither, rather than stale ones.
      const incoming = family.type === "summary"
        ? {
          ...family,
          points: family.points.map((point) => ({ ...point, quantiles: [] })),
        }
        : family.type === "histogram"
        ? { ...family, points: family.points.map(withoutMinMax) }
        : family;
      const totals = this.#totals.get(family.name);
      const deltas = (incoming.points as readonly Point[]).filter((point) =>
        !(totals?.has(labelKey(point.labels)) && isZero(point))
      );
      if (deltas.length === 0) continue;
      const current = {
        ...meta,
        points: deltas.flatMap((point) => {
          const old = totals?.get(labelKey(point.labels));
          // (Totals stored by an earlier version may hold min and max.)
          return old === undefined
            ? []
            : ["native" in old ? withoutMinMax(old) : old];
        }),
      } as MetricFamily;
      const merged = mergeSnapshots([
        { worker: "", families: [current] },
        {
          worker: id,
          families: [{ ...incoming, points: deltas } as MetricFamily],
        },
      ]);
      for (const conflict of merged.conflicts) {
        conflicts.push(
          conflict.message.replace("from worker", "from reporter"),
        );
      }
      for (const point of merged.families[0]?.points ?? []) {
        const labels = labelKey(point.labels);
        const key = `${TOTAL}${family.name}\u0000${labels}`;
        if (!admit(key, totals?.has(labels) ?? false)) continue;
        puts.set(key, point);
        steps.push(() => inner(this.#totals, family.name).set(labels, point));
      }
    }

    // The reporter's gauges are what this report holds: series it no longer
    // reports are removed.
    for (const [name, points] of gaugesBefore ?? []) {
      for (const labels of points.keys()) {
        if (!gaugesAfter.get(name)?.has(labels)) {
          deletes.push(`${GAUGE}${id}\u0000${name}\u0000${labels}`);
        }
      }
    }
    steps.push(() => {
      if (gaugesAfter.size === 0) this.#gauges.delete(id);
      else this.#gauges.set(id, gaugesAfter);
    });

    const record: ReporterRecord = { seq: report.seq, seen: now };
    puts.set(REPORTER + id, record);
    steps.push(() => this.#reporters.set(id, record));

    for (const [other, { seen }] of this.#reporters) {
      if (other === id) continue;
      if (now - seen >= limits.gaugeExpiryMs && this.#gauges.has(other)) {
        for (const [name, points] of this.#gauges.get(other)!) {
          for (const labels of points.keys()) {
            deletes.push(`${GAUGE}${other}\u0000${name}\u0000${labels}`);
          }
        }
        steps.push(() => this.#gauges.delete(other));
      }
      if (now - seen >= limits.forgetMs) {
        deletes.push(REPORTER + other);
        steps.push(() => this.#reporters.delete(other));
      }
    }

    return {
      puts,
      deletes,
      dropped,
      conflicts,
      commit: () => {
        for (const step of steps) step();
      },
    };
  }

  /**
   * The service-wide snapshot at `now`: cumulative totals, and the gauges of
   * reporters heard from within `gaugeExpiryMs`, combined by their
   * `aggregation` (with `all`, each reporter's series keeps a `worker` label
   * set to the reporter's id). Families come sorted by name.
   */
  families(now: number, limits: Limits): MetricFamily[] {
    const out = new Map<string, MetricFamily>();
    for (const [name, points] of this.#totals) {
      const meta = this.#meta.get(name);
      if (meta === undefined || points.size === 0) continue;
      out.set(name, { ...meta, points: [...points.values()] } as MetricFamily);
    }
    const snapshots: WorkerSnapshot[] = [];
    for (const [reporter, families] of this.#gauges) {
      const seen = this.#reporters.get(reporter)?.seen ?? -Infinity;
      if (now - seen >= limits.gaugeExpiryMs) continue;
      const gauges: GaugeFamily[] = [];
      for (const [name, points] of families) {
        const meta = this.#meta.get(name);
        if (meta?.type !== "gauge" || points.size === 0) continue;
        gauges.push({ ...meta, points: [...points.values()] });
      }
      snapshots.push({ worker: reporter, families: gauges });
    }
    for (const family of mergeSnapshots(snapshots).families) {
      out.set(family.name, family);
    }
    return [...out.keys()].sort().map((name) => out.get(name)!);
  }
}

/** A histogram point whose native buckets carry no min or max. */
function withoutMinMax(point: HistogramPoint): HistogramPoint {
  if (point.native === undefined) return point;
  const { min: _min, max: _max, ...native } = point.native;
  return { ...point, native };
}

/** True when a delta point adds nothing (a series already stored is then not rewritten). */
function isZero(point: Point): boolean {
  if ("counts" in point) {
    return point.count === 0 && point.sum === 0 &&
      point.counts.every((count) => count === 0);
  }
  if ("quantiles" in point) return point.count === 0 && point.sum === 0;
  return point.value === 0;
}

/** An unambiguous key of a label set, whatever the order of its names. */
function labelKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return JSON.stringify(names.map((name) => [name, labels[name]]));
}

function inner<V>(outer: Map<string, Map<string, V>>, key: string) {
  let map = outer.get(key);
  if (map === undefined) outer.set(key, map = new Map());
  return map;
}

function byteLength(text: string): number {
  // Most keys are ASCII: count UTF-8 bytes only when they may matter.
  return text.length * 3 <= MAX_KEY_BYTES
    ? text.length
    : new TextEncoder().encode(text).length;
}
