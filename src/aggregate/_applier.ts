/**
 * Applying reports: the aggregator's state in memory and in storage, the
 * batches of reports written together, and the counts of what happened to
 * them (the aggregator's own metrics).
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import type { Clock } from "../clock.ts";
import { warnOnce } from "../_warn.ts";
import type { AggregateStorage } from "./storage.ts";
import { AggregateState, type Limits } from "./_state.ts";
import type { Report } from "./_report.ts";

const OWNER = "MetricsAggregator";

/** The most reports applied in one storage write. */
const MAX_BATCH = 64;

/** What happened to a report, counted in `edgemetrics_aggregate_reports_total`. */
export type Outcome = "applied" | "duplicate" | "rejected" | "failed";

/** Applies reports to one aggregator's state, one batch at a time. */
export class Applier {
  #storage: AggregateStorage;
  #limits: Limits;
  #clock: Clock;
  #state: Promise<AggregateState> | undefined;
  /** Reports waiting for the next batch. */
  #waiting: {
    readonly report: Report;
    readonly resolve: (outcome: Outcome) => void;
  }[] = [];
  /** The batches being written, while there are any. */
  #writing: Promise<void> | undefined;
  #started: number | undefined;
  #outcomes: Record<Outcome, number> = {
    applied: 0,
    duplicate: 0,
    rejected: 0,
    failed: 0,
  };
  #dropped = 0;

  constructor(storage: AggregateStorage, limits: Limits, clock: Clock) {
    this.#storage = storage;
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Counts a body that was not a report. */
  rejected(): void {
    this.#outcomes.rejected++;
  }

  /** Applies `report` with the next batch: applied, a duplicate, or failed (storage). */
  apply(report: Report): Promise<Outcome> {
    const outcome = new Promise<Outcome>((resolve) =>
      this.#waiting.push({ report, resolve })
    );
    this.#writing ??= this.#writeAll().finally(() => {
      this.#writing = undefined;
    });
    return outcome;
  }

  /**
   * The service-wide families and the aggregator's own, sorted by name.
   * Memory runs ahead of storage while a batch is written: this waits for
   * it, so a scrape never sees reports that a failed write takes back.
   */
  async families(): Promise<MetricFamily[]> {
    await this.#writing;
    const state = await this.load();
    const now = this.#clock.now();
    return [...state.families(now, this.#limits), ...this.#own(state, now)];
  }

  /**
   * Applies the waiting reports, in batches: every report that arrived
   * while the previous batch was being written goes into the next one, in
   * one storage write (group commit), so the storage's cost per write is
   * shared and an object takes more reports per second the busier it is.
   * Memory is updated report by report as the batch is built; when the
   * write fails, the state is read back from storage (which has none of
   * the batch) and every report of the batch answers 503.
   */
  async #writeAll(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, MAX_BATCH);
      let state: AggregateState;
      try {
        state = await this.load();
      } catch (error) {
        console.error(`${OWNER}: cannot read storage:`, error);
        for (const { resolve } of batch) resolve("failed");
        continue;
      }
      const puts = new Map<string, unknown>();
      const deletes = new Set<string>();
      const applied: ((outcome: Outcome) => void)[] = [];
      let dropped = 0;
      const conflicts: string[] = [];
      const now = this.#clock.now();
      for (const { report, resolve } of batch) {
        if (report.seq <= state.seqOf(report.reporter)) {
          this.#outcomes.duplicate++;
          resolve("duplicate");
          continue;
        }
        const change = state.prepare(report, now, this.#limits);
        change.commit();
        for (const key of change.deletes) {
          puts.delete(key);
          deletes.add(key);
        }
        for (const [key, value] of change.puts) {
          deletes.delete(key);
          puts.set(key, value);
        }
        dropped += change.dropped;
        conflicts.push(...change.conflicts);
        applied.push(resolve);
      }
      if (applied.length === 0) continue;
      try {
        await this.#storage.write(puts, [...deletes]);
      } catch (error) {
        // Memory holds the batch, storage does not: read storage back.
        this.#state = undefined;
        this.#outcomes.failed += applied.length;
        console.error(
          `${OWNER}: cannot store ${applied.length} report(s), not applied:`,
          error,
        );
        for (const resolve of applied) resolve("failed");
        continue;
      }
      this.#outcomes.applied += applied.length;
      this.#dropped += dropped;
      if (dropped > 0) {
        warnOnce(
          "aggregate-dropped",
          `${OWNER} left out new series past maxSeries (${this.#limits.maxSeries}) or with keys over 2,048 bytes; see edgemetrics_aggregate_dropped_series_total`,
        );
      }
      for (const conflict of conflicts) warnOnce(conflict, conflict);
      for (const resolve of applied) resolve("applied");
    }
  }

  /** The state, read from storage once; a failed read is tried again next time. */
  load(): Promise<AggregateState> {
    this.#started ??= this.#clock.now();
    if (this.#state === undefined) {
      const loading = this.#storage.list("").then(AggregateState.load);
      this.#state = loading;
      loading.catch(() => {
        if (this.#state === loading) this.#state = undefined;
      });
    }
    return this.#state;
  }

  #own(state: AggregateState, now: number): MetricFamily[] {
    const created = this.#started ?? now;
    return [
      {
        type: "counter",
        name: "edgemetrics_aggregate_dropped_series",
        help:
          "New series the aggregator left out (past maxSeries, or keys too long for storage).",
        points: [{ labels: {}, value: this.#dropped, created }],
      },
      {
        type: "gauge",
        name: "edgemetrics_aggregate_reporters",
        help: "Reporters heard from within the gauge expiry time.",
        aggregation: "sum",
        points: [{
          labels: {},
          value: state.liveReporters(now, this.#limits),
        }],
      },
      {
        type: "counter",
        name: "edgemetrics_aggregate_reports",
        help: "Reports received by this aggregator instance, by outcome.",
        points: Object.entries(this.#outcomes).map(([outcome, value]) => ({
          labels: { outcome },
          value,
          created,
        })),
      },
      {
        type: "gauge",
        name: "edgemetrics_aggregate_series",
        help: "Series the aggregator holds (totals and live gauges).",
        aggregation: "sum",
        points: [{ labels: {}, value: state.seriesCount() }],
      },
    ];
  }
}
