/**
 * Metric: what every recording instrument shares (bound children, removal,
 * reset, the `collect` hook).
 *
 * @module
 */

import type { LabelValue, LabelValues, MetricFamily } from "../model.ts";
import { checkCallback, type CollectHook, isPromise } from "./options.ts";
import type { ResolvedOptions } from "./options.ts";
import type { InstrumentState } from "./_instrument.ts";

/**
 * What a kind of instrument gives {@linkcode Metric}: its shared state, how
 * to make a bound child, and how to take a snapshot.
 */
interface KindState<C, F> extends InstrumentState {
  child(values: readonly LabelValue[], index: number): C;
  snapshot(): F;
}

/**
 * What {@linkcode Counter}, {@linkcode Gauge}, {@linkcode Histogram} and
 * {@linkcode Summary} share: their declaration, bound children, removal,
 * reset and collection. Not constructed directly: declare one of those.
 *
 * Series are created on first use (an unlabeled metric has its one series
 * from the start) and kept until removed or reset, up to the series limit;
 * past it, new label sets share one overflow series and
 * `droppedLabelSets` goes up. `labels(...)` returns a cached child bound to
 * one label set, which records without a label lookup and stays valid after
 * `remove` or `reset`, starting its series again on its next record.
 *
 * @typeParam L The label names.
 * @typeParam C The bound child `labels(...)` returns.
 * @typeParam F The snapshot family `collect()` returns.
 *
 * @example Every recording instrument is a Metric
 * ```ts
 * import { Counter, Histogram, type Metric, type MetricFamily } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const jobs = new Counter({ name: "jobs_total", help: "Jobs.", labelNames: ["queue"], registry: null });
 * const sizes = new Histogram({ name: "job_bytes", help: "Sizes.", buckets: [1024], registry: null });
 * jobs.labels("mail").inc();
 * sizes.observe(10);
 * const metrics: Metric<string, unknown, MetricFamily>[] = [jobs, sizes];
 * for (const metric of metrics) metric.reset();
 * assert.deepEqual((await jobs.collect()).points, []);
 * assert.equal((await sizes.collect()).points[0]?.count, 0);
 * ```
 */
export class Metric<L extends string, C, F extends MetricFamily> {
  /** The family name (a counter's without `_total`). */
  readonly name: string;
  /** What it measures. */
  readonly help: string;
  /** The unit, when declared. */
  readonly unit: string | undefined;
  /** The label names, in positional order. */
  readonly labelNames: readonly L[];
  /** The kind of family it collects. */
  readonly type: F["type"];
  readonly #state: KindState<C, F>;
  readonly #hook: CollectHook<Metric<L, C, F>> | undefined;
  /** One child per series, dropped whole when a series is removed. */
  #children: (C | undefined)[] = [];
  #generation = 0;

  /**
   * Takes what the declaring subclass checked and built. Internal: the
   * parameter types are edgemetrics' own and may change in any release, so
   * extend {@linkcode Counter}, {@linkcode Gauge}, {@linkcode Histogram} or
   * {@linkcode Summary} rather than this class.
   *
   * @ignore
   * @param resolved The checked options.
   * @param hook The `collect` hook, if any.
   * @param state The state the metric shares with its bound children.
   * @throws {TypeError} When `hook` is not a function.
   */
  protected constructor(
    resolved: ResolvedOptions,
    hook: CollectHook<Metric<L, C, F>> | undefined,
    state: KindState<C, F>,
  ) {
    checkCallback(resolved.metric, "collect", hook, false);
    this.name = resolved.name;
    this.help = resolved.help;
    this.unit = resolved.unit;
    this.labelNames = resolved.labelNames as readonly L[];
    this.type = state.type as F["type"];
    this.#hook = hook;
    this.#state = state;
  }

  /** Records folded into the overflow series because the series limit was reached. */
  get droppedLabelSets(): number {
    return this.#state.table.droppedLabelSets;
  }

  /**
   * Returns the child bound to one label set, given as values in
   * `labelNames` order; cached, so the same values give the same child.
   * Past the series limit a new label set gets a new child on each call,
   * bound to its own values: it records into the overflow series while the
   * metric is full and into its own series once a removal or reset made room.
   *
   * @param values One value per declared label, in declaration order.
   * @returns The bound child.
   * @throws {TypeError} When the number or type of values is wrong.
   */
  labels(...values: LabelValue[]): C;
  /**
   * Returns the child bound to one label set, given as an object; cached,
   * so the same label set gives the same child (past the series limit, a
   * new child each call, as for the positional form).
   *
   * @param labels One value per declared label.
   * @returns The bound child.
   * @throws {TypeError} When a label is missing, undeclared or of the wrong type.
   */
  labels(labels: LabelValues<L>): C;
  labels(...args: unknown[]): C {
    const table = this.#state.table;
    if (this.#generation !== table.generation) {
      // A series was removed: its number may now belong to another one.
      this.#children = [];
      this.#generation = table.generation;
    }
    const first = args[0];
    let labels: LabelValues<string> | null = null;
    let index: number;
    if (args.length === 1 && typeof first === "object" && first !== null) {
      labels = first as LabelValues<string>;
      index = table.indexOf(labels);
    } else {
      index = table.indexOfValues(args as LabelValue[]);
    }
    const cached = this.#children[index];
    if (cached !== undefined) return cached;
    const values = labels === null
      ? args as LabelValue[]
      : table.labelNames.map((name) => labels[name]!);
    const child = this.#state.child(values, index);
    // Never cache the overflow series: every label set past the limit
    // shares its number, so a cached child would be handed out for other
    // label sets and, once there is room, start the series of the label set
    // it was first made for. (An unlabeled metric has no overflow.)
    if (index !== table.overflowIndex) this.#children[index] = child;
    return child;
  }

  /**
   * Forgets one series and what it kept (exemplars, quantile window); bound
   * children of it stay valid and start it again (empty, with a new
   * `created`) on their next record.
   *
   * @param labels The series' label set.
   * @throws {TypeError} When the label set does not match the declared labels.
   */
  remove(labels: LabelValues<L>): void;
  /**
   * Forgets one series given by its label values in `labelNames` order,
   * like `labels(...values)`; bound children of it stay valid.
   *
   * @param values One value per declared label, in declaration order.
   * @throws {TypeError} When the number or type of values is wrong.
   */
  remove(...values: LabelValue[]): void;
  remove(...args: unknown[]): void {
    this.#state.table.remove(args);
  }

  /**
   * Forgets every series (an unlabeled metric restarts empty, at 0); bound
   * children stay valid.
   */
  reset(): void {
    this.#state.table.reset();
  }

  /**
   * Returns the metric's current state as a snapshot family, after running
   * the `collect` hook (a promise when the hook returns one). A summary's
   * quantiles are computed now, over the window ending now.
   *
   * @returns The family; points in series creation order.
   */
  collect(): F | Promise<F> {
    const state = this.#state;
    if (this.#hook === undefined) return state.snapshot();
    const pending = this.#hook.call(this, this);
    // Synchronously when the hook is synchronous; a hook that throws or
    // rejects fails the collection, which the registry reports.
    return isPromise(pending)
      ? pending.then(() => state.snapshot())
      : state.snapshot();
  }
}
