/**
 * The series of a meter's instrument, keyed by OTel attributes: open-ended
 * keys (nothing is declared up front), typed values (`200`, `"200"` and
 * `true` are three attribute sets), any key order.
 *
 * A record walks a trie of the attributes in the order the caller's object
 * lists them: each node expects one key (the one it was first reached
 * with) and maps that key's values to the next node, so an attribute costs
 * one string comparison (interned keys compare by pointer) and one
 * `Map.get`, and a record allocates nothing. The leaf holds the series
 * number. A miss (a new attribute set, or a known one in a new key order)
 * takes the slow path once: the attributes are checked, filtered by the
 * view, put in canonical form (sorted keys) and looked up or created; the
 * walked path is then linked to that series.
 *
 * An array value (OTel's homogeneous arrays) is a new object at every
 * call, so a walk that meets one is never linked: such records take the
 * slow path, where the array is compared by its content.
 *
 * Keys a view drops are skipped during the walk, so their values never
 * make a node or a series. Past the series limit, new attribute sets share
 * the overflow series (`otel.metric.overflow: true`) and are not linked
 * into the trie, so nothing grows with them.
 *
 * @module
 */

import type { Attributes, AttributeValue, Labels } from "../model.ts";
import type { Clock } from "../clock.ts";
import { warnOnce } from "../_warn.ts";
import { describe, prometheusLabels } from "../names.ts";

/**
 * A trie node: the map from the values of the key it expects next to their
 * nodes (the node is that map itself, one load less per attribute than a
 * node holding a map), nodes for other next keys, and its series.
 */
class Node extends Map<unknown, Node> {
  key: string | undefined = undefined;
  /** Nodes for attribute objects whose next key is not `key`. */
  others: Map<string, Node> | undefined = undefined;
  /** The series of the attributes walked so far; -1 when none yet. */
  index = -1;
}

/** The attribute key a series over the limit carries, as OTel names it. */
const OVERFLOW_KEY = "otel.metric.overflow";

/** Which attribute keys a stream keeps: all, only some, or all but some. */
export interface KeyFilter {
  readonly keep?: readonly string[];
  readonly exclude?: readonly string[];
}

/** See the module documentation. */
export class AttributeTable {
  /** The instrument's name, for warnings. */
  readonly metric: string;
  readonly stride: number;
  /** Values of all series: series `i` owns `[i * stride, (i + 1) * stride)`. */
  data: Float64Array;
  /** When each series was created (milliseconds since the epoch). */
  created: Float64Array;
  /** Prometheus labels per series, frozen. */
  readonly labels: Labels[] = [];
  /** Typed OTel attributes per series, when they differ from the labels. */
  readonly attributes: (Attributes | undefined)[] = [];
  /** Records folded into the overflow series. */
  droppedLabelSets = 0;

  readonly #clock: Clock;
  readonly #maxSeries: number;
  readonly #root: Node = new Node();
  readonly #canonical = new Map<string, number>();
  /** Keys dropped during the walk; undefined when the stream keeps all. */
  readonly #skip: ReadonlySet<string> | undefined;
  readonly #keep: ReadonlySet<string> | undefined;
  #overflow = -1;

  constructor(
    metric: string,
    stride: number,
    maxSeries: number,
    clock: Clock,
    filter: KeyFilter | undefined,
  ) {
    this.metric = metric;
    this.stride = stride;
    this.#maxSeries = maxSeries;
    this.#clock = clock;
    this.#keep = filter?.keep === undefined ? undefined : new Set(filter.keep);
    this.#skip = filter?.exclude === undefined
      ? undefined
      : new Set(filter.exclude);
    this.data = new Float64Array(8 * stride);
    this.created = new Float64Array(8);
  }

  /** The number of series, the overflow series included. */
  get size(): number {
    return this.labels.length;
  }

  /** The series number of an attribute set, created on first use. */
  indexOf(attributes: Attributes | undefined): number {
    let at = this.#root;
    if (typeof attributes === "object" && attributes !== null) {
      const keep = this.#keep;
      const skip = this.#skip;
      for (const key in attributes) {
        if (
          (keep !== undefined && !keep.has(key)) ||
          (skip !== undefined && skip.has(key))
        ) continue;
        const next = at.key === key
          ? at.get(attributes[key])
          : at.others?.get(key)?.get(attributes[key]);
        if (next === undefined) return this.#miss(attributes);
        at = next;
      }
    }
    const index = at.index;
    return index >= 0 ? index : this.#miss(attributes);
  }

  /** The slow path: find or create the canonical series, then link the walk to it. */
  #miss(attributes: Attributes | undefined): number {
    const clean = this.#clean(attributes);
    const keys = Object.keys(clean).sort();
    // Typed: 200, "200" and true are different attribute sets, and so are
    // [1] and ["1"] (JSON keeps an array's element types).
    const key = JSON.stringify(
      keys.map((k) => {
        const v = clean[k]!;
        return Array.isArray(v)
          ? [k, "array", JSON.stringify(v)]
          : [k, typeof v, String(v)];
      }),
    );
    let index = this.#canonical.get(key);
    if (index === undefined) {
      if (this.#canonical.size >= this.#maxSeries) {
        this.droppedLabelSets++;
        if (this.#overflow < 0) {
          this.#overflow = this.#create({ [OVERFLOW_KEY]: true });
        }
        return this.#overflow; // not linked: nothing grows past the limit
      }
      const sorted: Record<string, AttributeValue> = {};
      for (const k of keys) sorted[k] = clean[k]!;
      index = this.#create(sorted);
      this.#canonical.set(key, index);
    }
    this.#link(attributes, index);
    return index;
  }

  /** Links the walk of `attributes` (as the caller ordered them) to series `index`. */
  #link(attributes: Attributes | undefined, index: number): void {
    let at = this.#root;
    if (typeof attributes === "object" && attributes !== null) {
      for (const key in attributes) {
        if (typeof attributes[key] === "object") return; // see the module doc
        if (
          (this.#keep !== undefined && !this.#keep.has(key)) ||
          (this.#skip !== undefined && this.#skip.has(key))
        ) continue;
        let level: Node;
        if (at.key === undefined || at.key === key) {
          at.key = key;
          level = at;
        } else {
          at.others ??= new Map();
          let other = at.others.get(key);
          if (other === undefined) {
            other = new Node();
            other.key = key;
            at.others.set(key, other);
          }
          level = other;
        }
        const value = attributes[key];
        let next = level.get(value);
        if (next === undefined) {
          next = new Node();
          level.set(value, next);
        }
        at = next;
      }
    }
    at.index = index;
  }

  /**
   * The attributes a series keeps: the view's keys only, and only values
   * of an OTel attribute type; others are dropped with one warning per
   * instrument and key, as the OTel API expects (no throw).
   */
  #clean(
    attributes: Attributes | undefined,
  ): Record<string, AttributeValue> {
    const clean: Record<string, AttributeValue> = {};
    if (attributes === undefined || attributes === null) return clean;
    if (typeof attributes !== "object") {
      warnOnce(
        `otel-attrs:${this.metric}`,
        `ignored attributes of instrument "${this.metric}": attributes must be an object, got ${
          describe(attributes)
        }`,
      );
      return clean;
    }
    for (const key in attributes) {
      if (this.#keep !== undefined && !this.#keep.has(key)) continue;
      if (this.#skip !== undefined && this.#skip.has(key)) continue;
      const value: unknown = attributes[key];
      const type = typeof value;
      if (type === "string" || type === "boolean" || type === "number") {
        clean[key] = value as string | number | boolean;
      } else if (isHomogeneousArray(value)) {
        clean[key] = Object.freeze([...value]) as AttributeValue;
      } else if (value !== undefined) {
        warnOnce(
          `otel-attr:${this.metric}:${key}`,
          `dropped attribute "${key}" of instrument "${this.metric}": an attribute value must be a string, number or boolean, or an array of one of them, got ${
            Array.isArray(value) ? "a mixed or nested array" : describe(value)
          }`,
        );
      }
    }
    return clean;
  }

  /** Creates a series for canonical attributes. */
  #create(attributes: Record<string, AttributeValue>): number {
    const index = this.labels.length;
    if (index >= this.created.length) {
      const data = new Float64Array(this.data.length * 2);
      data.set(this.data);
      this.data = data;
      const created = new Float64Array(this.created.length * 2);
      created.set(this.created);
      this.created = created;
    }
    this.created[index] = this.#clock.now();
    const labels = Object.freeze(prometheusLabels(attributes));
    this.labels.push(labels);
    let same = true;
    for (const key in attributes) {
      if (labels[key] !== attributes[key]) same = false;
    }
    this.attributes.push(same ? undefined : Object.freeze(attributes));
    return index;
  }
}

/** An array of strings, of numbers or of booleans (one type), as OTel allows. */
function isHomogeneousArray(value: unknown): value is readonly unknown[] {
  if (!Array.isArray(value)) return false;
  if (value.every((item) => typeof item === "string")) return true;
  if (value.every((item) => typeof item === "number")) return true;
  return value.every((item) => typeof item === "boolean");
}
