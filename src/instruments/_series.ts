/**
 * The one map from label sets to series that every instrument shares: series
 * numbers, their numeric storage, the series limit with its overflow series,
 * and the generation that tells bound children their series was removed.
 *
 * Label values index nested `Map`s in declaration order and the leaf holds a
 * series number, so a lookup joins no strings and allocates nothing. Values
 * live in one `Float64Array` with a fixed stride per series, which keeps a
 * series down to a few dozen bytes and needs no object per series.
 *
 * @module
 */

import type { Labels, LabelValue, LabelValues } from "../model.ts";
import type { Clock } from "../clock.ts";
import { describe } from "../names.ts";

export type { LabelValue, LabelValues };

/** The label name and value of the series that collects records past the series limit. */
const OVERFLOW_NAME = "otel_metric_overflow";

/** The default series limit per metric. */
export const DEFAULT_MAX_SERIES = 2000;

/**
 * Validates a series limit: a whole number of at least 1, or `Infinity`;
 * `undefined` gives the default. `action` starts the error message, e.g.
 * `Cannot declare metric "jobs_total"`.
 */
export function checkMaxSeries(
  action: string,
  value: number | undefined,
): number {
  if (value === undefined) return DEFAULT_MAX_SERIES;
  if (
    typeof value !== "number" ||
    !(value >= 1) ||
    (value !== Infinity && !Number.isInteger(value))
  ) {
    throw new RangeError(
      `${action}: maxSeries must be a whole number of at least 1 or Infinity, got ${
        describe(value)
      }`,
    );
  }
  return value;
}

/**
 * Throws when `labels` is a boxed primitive (`new Number(3)`), which a
 * record would otherwise read as a label set without a single label.
 *
 * @throws {TypeError} Naming the metric and the boxed value.
 */
export function refuseBoxed(metric: string, labels: unknown): void {
  if (
    labels instanceof Number || labels instanceof String ||
    labels instanceof Boolean
  ) {
    throw new TypeError(
      `Cannot record to metric "${metric}": labels must be a plain object, got a ${labels.constructor.name} object (${
        describe(labels.valueOf())
      }); pass an amount or a value as a primitive: Number(x) unwraps it`,
    );
  }
}

/** The key a label value indexes with; `undefined` for a value of the wrong type. */
function keyOf(raw: unknown): string | undefined {
  return typeof raw === "string"
    ? raw
    : typeof raw === "number"
    ? String(raw)
    : undefined;
}

/**
 * `value` with each lone surrogate replaced by U+FFFD, as every encoder
 * writes it anyway: two values that differ only in lone surrogates (e.g.
 * from `JSON.parse('"\\ud800"')`) then key one series, not two series that
 * encode the same. `String.prototype.toWellFormed` where the runtime has it
 * (ES2024), the same replacement by a regular expression where not.
 */
export function wellFormed(value: string): string {
  const native = (value as { toWellFormed?: () => string }).toWellFormed;
  return typeof native === "function"
    ? native.call(value)
    : value.replace(LONE_SURROGATE, "\ufffd");
}

const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// deno-lint-ignore no-explicit-any
type Node = Map<string | undefined, any>;

/**
 * What owns the state a table keeps beside its numbers (exemplars, quantile
 * windows), told when series go away so it can free theirs. Series numbers
 * are reused only after `forget` or `clear`, so a reused number never
 * inherits state.
 */
export interface SeriesOwner {
  /** Series `index` was removed: free its state now. */
  forget(index: number): void;
  /** Every series was dropped: free all state. */
  clear(): void;
}

/**
 * Everything that creates a series needs to know about its metric: a
 * subset of an instrument's checked options.
 */
export interface SeriesTableOptions {
  /** The metric's name as declared, for messages. */
  metric: string;
  labelNames: readonly string[];
  /** Label names a view dropped: accepted in label objects, never part of a series. */
  ignoredLabelNames?: readonly string[];
  maxSeries: number;
  /** Where a new series' `created` time comes from. */
  clock?: Clock;
}

/** See the module documentation. */
export class SeriesTable {
  readonly metric: string;
  /**
   * The label names as a plain array of its own: the caller's array is often
   * frozen, and V8 reads a frozen array's elements slower in optimised code
   * (measured: a lookup of 3 labels ~1.4x the time with frozen names).
   */
  readonly labelNames: readonly string[];
  readonly stride: number;
  /** Values of all series: series `i` owns `[i * stride, (i + 1) * stride)`. */
  data: Float64Array;
  /** When each series was created (milliseconds since the epoch). */
  created: Float64Array;
  /** Goes up whenever a series is removed, so bound children look again. */
  generation = 0;
  /**
   * Goes up whenever `data` is replaced (the table grew) or a series is
   * removed: the one number a bound child compares before it records.
   */
  version = 0;
  /** Records folded into the overflow series because the limit was reached. */
  droppedLabelSets = 0;
  /**
   * The labels of each series by series number, frozen and stable: the same
   * object for the same series across collections, until the series is
   * removed or the table reset. Encoders may cache per-series work in a
   * `WeakMap` keyed by it. Filled by {@linkcode SeriesTable.order}; distinct
   * tables never share an object.
   */
  labels: (Labels | undefined)[] = [];

  readonly #maxSeries: number;
  readonly #ignored: readonly string[];
  #root: Node = new Map();
  #size = 0; // series in the tree, the overflow series excluded
  #next = 0; // the next never-used series number
  #free: number[] = [];
  #overflow = -1;
  readonly #clock: Clock | undefined;
  readonly #owner: SeriesOwner | undefined;
  /** Series numbers in collection order; null after the set of series changed. */
  #order: number[] | null = null;

  /**
   * @param stride Float64 slots per series.
   * @param owner Told when series are removed.
   */
  constructor(
    options: SeriesTableOptions,
    stride: number,
    owner?: SeriesOwner,
  ) {
    this.metric = options.metric;
    this.labelNames = [...options.labelNames];
    this.stride = stride;
    this.#maxSeries = options.maxSeries;
    this.#ignored = options.ignoredLabelNames ?? [];
    this.#clock = options.clock;
    this.#owner = owner;
    const capacity = this.labelNames.length === 0 ? 1 : 8;
    this.data = new Float64Array(capacity * this.stride);
    this.created = new Float64Array(capacity);
    if (this.labelNames.length === 0) this.#allocate();
  }

  /**
   * The series number for a label object, creating the series on first use.
   * Label objects are checked against the declared names when a series is
   * created; a hit costs one `Map.get` per label.
   */
  indexOf(labels: LabelValues<string> | undefined): number {
    const names = this.labelNames;
    const n = names.length;
    if (n === 0) {
      // Only `{}` (or nothing) names the one series.
      if (labels !== undefined) this.#checkLabelObject(labels);
      return 0;
    }
    if (labels === undefined || labels === null) {
      this.#fail(
        `labels ${names.map((x) => `"${x}"`).join(", ")} are required`,
      );
    }
    // The string test is inline, keyOf() only for the rest: keyOf() alone
    // measured W2 inc(labels) 1.19x the floor against 1.08x.
    if (n <= 3) {
      // Up to three labels, each position reads at a site of its own, which
      // V8 keeps to the one name it sees there; the loop below reads every
      // name at one site, a generic keyed load (measured W2 inc(labels) with
      // 3 labels: 134 ns looped, 70 ns unrolled, against a 70 ns floor that
      // reads fixed property names).
      const a = labels[names[0]!];
      let node = this.#root.get(typeof a === "string" ? a : keyOf(a));
      if (n > 1 && node !== undefined) {
        const b = labels[names[1]!];
        node = node.get(typeof b === "string" ? b : keyOf(b));
        if (n > 2 && node !== undefined) {
          const c = labels[names[2]!];
          node = node.get(typeof c === "string" ? c : keyOf(c));
        }
      }
      return node === undefined
        ? this.#create(this.#valuesOf(labels))
        : node as unknown as number;
    }
    let node = this.#root;
    for (let i = 0; i < n - 1; i++) {
      const raw = labels[names[i]!];
      const next = node.get(typeof raw === "string" ? raw : keyOf(raw));
      if (next === undefined) return this.#create(this.#valuesOf(labels));
      node = next;
    }
    const raw = labels[names[n - 1]!];
    const index = node.get(typeof raw === "string" ? raw : keyOf(raw));
    return index === undefined ? this.#create(this.#valuesOf(labels)) : index;
  }

  /** The series number for label values given in declaration order. */
  indexOfValues(values: readonly LabelValue[]): number {
    const names = this.labelNames;
    this.#checkCount("Cannot record to metric", values.length);
    let node = this.#root;
    for (let i = 0; i < names.length; i++) {
      const raw = values[i]!;
      node = node.get(typeof raw === "string" ? raw : keyOf(raw));
      if (node === undefined) return this.#create(this.#checkValues(values));
    }
    // An unlabeled table has its one series, number 0.
    return names.length === 0 ? 0 : node as unknown as number;
  }

  /**
   * Forgets a series given as `remove([labelObject])` or `remove(values)`
   * in declaration order, and tells the owner. Returns its former number,
   * or -1 when there was no such series.
   */
  remove(args: readonly unknown[]): number {
    const first = args[0];
    let values: string[];
    if (args.length === 1 && typeof first === "object" && first !== null) {
      values = this.#valuesOf(first as LabelValues<string>);
    } else {
      this.#checkCount("Cannot remove from metric", args.length);
      values = this.#checkValues(args);
    }
    values = values.map(wellFormed);
    const path: Node[] = [];
    let node = this.#root;
    for (let i = 0; i < values.length - 1; i++) {
      path.push(node);
      node = node.get(values[i]!);
      if (node === undefined) return -1;
    }
    const last = values[values.length - 1]!;
    const index: number | undefined = node.get(last);
    if (index === undefined) return -1;
    node.delete(last);
    // Prune maps left empty so removed label values free their memory.
    for (let i = path.length - 1; i >= 0 && node.size === 0; i--) {
      path[i]!.delete(values[i]!);
      node = path[i]!;
    }
    this.#size--;
    this.#free.push(index);
    this.labels[index] = undefined;
    this.#order = null;
    this.data.fill(0, index * this.stride, (index + 1) * this.stride);
    this.generation++;
    this.version++;
    this.#owner?.forget(index);
    return index;
  }

  /** Drops every series; an unlabeled metric gets a fresh zero series. */
  reset(): void {
    this.#owner?.clear();
    this.#root = new Map();
    this.#size = 0;
    this.#next = 0;
    this.#free = [];
    this.#overflow = -1;
    this.droppedLabelSets = 0;
    this.labels = [];
    this.#order = null;
    this.data.fill(0);
    this.generation++;
    this.version++;
    if (this.labelNames.length === 0) this.#allocate();
  }

  /** The number of the overflow series, or -1 while there is none. */
  get overflowIndex(): number {
    return this.#overflow;
  }

  /**
   * Series numbers in collection order: the label tree walked in insertion
   * order per level, the overflow series last. Cached until a series is
   * created or removed; every number in it has its entry in `labels`.
   */
  order(): readonly number[] {
    if (this.#order !== null) return this.#order;
    const order: number[] = [];
    const names = this.labelNames;
    const labels = this.labels;
    // Filled in tree order, not number order: grow it densely first, or a
    // write far past its end turns it into a slow dictionary in V8.
    while (labels.length < this.#next) labels.push(undefined);
    if (names.length === 0) {
      labels[0] ??= Object.freeze({});
      order.push(0);
    } else {
      const values: string[] = new Array(names.length);
      const last = names.length - 1;
      const walk = (node: Node, depth: number): void => {
        for (const [value, child] of node) {
          values[depth] = value!;
          if (depth < last) {
            walk(child, depth + 1);
            continue;
          }
          if (labels[child] === undefined) {
            const made: Record<string, string> = {};
            for (let i = 0; i < names.length; i++) made[names[i]!] = values[i]!;
            labels[child] = Object.freeze(made);
          }
          order.push(child);
        }
      };
      walk(this.#root, 0);
      if (this.#overflow >= 0) {
        labels[this.#overflow] ??= Object.freeze({ [OVERFLOW_NAME]: "true" });
        order.push(this.#overflow);
      }
    }
    return this.#order = order;
  }

  /**
   * The series of checked label values, created unless their well-formed
   * form already has one; past the limit, the overflow series. Only a
   * lookup that missed comes here, so the well-formed pass costs nothing
   * on the hot path; a value with a lone surrogate misses every time and
   * finds its series here.
   */
  #create(values: string[]): number {
    let node = this.#root;
    for (let i = 0; i < values.length; i++) {
      const value = wellFormed(values[i]!);
      values[i] = value;
      node = node?.get(value);
    }
    if (node !== undefined && values.length > 0) {
      return node as unknown as number;
    }
    if (this.#size >= this.#maxSeries) {
      this.droppedLabelSets++;
      if (this.#overflow < 0) {
        this.#overflow = this.#allocate();
        this.#order = null;
      }
      return this.#overflow;
    }
    node = this.#root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = node.get(values[i]!);
      if (next === undefined) {
        next = new Map();
        node.set(values[i]!, next);
      }
      node = next;
    }
    const index = this.#allocate();
    node.set(values[values.length - 1]!, index);
    this.#size++;
    this.#order = null;
    return index;
  }

  #allocate(): number {
    const index = this.#free.pop() ?? this.#next++;
    if (index >= this.created.length) {
      const capacity = this.created.length * 2;
      const data = new Float64Array(capacity * this.stride);
      data.set(this.data);
      this.data = data;
      const created = new Float64Array(capacity);
      created.set(this.created);
      this.created = created;
      this.version++;
    }
    if (this.#clock !== undefined) this.created[index] = this.#clock.now();
    return index;
  }

  /** Checks a label object against the declared names; returns its values in order. */
  #valuesOf(labels: LabelValues<string>): string[] {
    this.#checkLabelObject(labels);
    return this.#checkValues(this.labelNames.map((name) => labels[name]));
  }

  /** Checks label values in declaration order; returns them as strings. */
  #checkValues(values: readonly unknown[]): string[] {
    return values.map((raw, i) => {
      if (typeof raw === "string") return raw;
      if (typeof raw === "number") return String(raw);
      this.#fail(
        `label "${this.labelNames[i]}" must be a string or number, got ${
          raw === undefined ? "undefined (missing)" : describe(raw)
        }`,
      );
    });
  }

  #checkCount(action: string, count: number): void {
    const names = this.labelNames;
    if (count !== names.length) {
      throw new TypeError(
        `${action} "${this.metric}": expected ${names.length} label values (${
          names.join(", ")
        }), got ${count}`,
      );
    }
  }

  #checkLabelObject(labels: LabelValues<string>): void {
    if (typeof labels !== "object" || labels === null) {
      this.#fail(`labels must be an object, got ${describe(labels)}`);
    }
    refuseBoxed(this.metric, labels);
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name) && !this.#ignored.includes(name)) {
        this.#fail(
          `label "${name}" is not declared (declared: ${
            this.labelNames.length ? this.labelNames.join(", ") : "none"
          })`,
        );
      }
    }
  }

  /** Throws the TypeError of a record with bad labels. */
  #fail(detail: string): never {
    throw new TypeError(
      `Cannot record to metric "${this.metric}": ${detail}`,
    );
  }
}

/**
 * What a bound child is built on: its series' place in the table's data,
 * held in its own fields so a record loads no more than the child, the
 * table's `version` and the data. When the version moved (the table grew,
 * or removed a series, whose number may since have been reused), the child
 * looks its series up again, starting it anew if it was removed.
 */
export class SeriesCursor<S extends { readonly table: SeriesTable }> {
  readonly #state: S;
  readonly #table: SeriesTable;
  readonly #values: readonly LabelValue[];
  #version: number;
  #generation: number;
  #index: number;
  #base: number;
  #data: Float64Array;

  /**
   * @param state What the child shares with its metric, the table included.
   * @param values The label values, in declaration order.
   * @param index The series number they have now.
   */
  constructor(state: S, values: readonly LabelValue[], index: number) {
    const table = state.table;
    this.#state = state;
    this.#table = table;
    this.#values = values;
    this.#version = table.version;
    this.#generation = table.generation;
    this.#index = index;
    this.#base = index * table.stride;
    this.#data = table.data;
  }

  /** The table's values, made current first; the series starts at {@linkcode base}. */
  data(): Float64Array {
    if (this.#version !== this.#table.version) this.#refresh();
    return this.#data;
  }

  /** The series' first slot in {@linkcode data}; read after calling it. */
  base(): number {
    return this.#base;
  }

  /** The series number; read after calling {@linkcode data}. */
  index(): number {
    return this.#index;
  }

  /** What the child shares with its metric. */
  state(): S {
    return this.#state;
  }

  #refresh(): void {
    const table = this.#table;
    if (this.#generation !== table.generation) {
      this.#index = table.indexOfValues(this.#values);
      this.#base = this.#index * table.stride;
      this.#generation = table.generation;
    }
    // Read after the lookup: starting the series again may grow the table.
    this.#data = table.data;
    this.#version = table.version;
  }
}
