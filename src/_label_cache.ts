/**
 * A cache of what is derived from a series' labels (rendered text, encoded
 * bytes, decorated label objects), kept per frozen label object, so it is
 * made once in a series' life instead of at every scrape or export. Shared
 * by the registry (default labels) and every encoder, below both of them.
 *
 * @module
 */

import type { Labels } from "./model.ts";

/**
 * Values derived from a series' labels (rendered text, encoded bytes),
 * cached per label object so they are made once in a series' life instead
 * of at every scrape.
 *
 * Only frozen label objects are cached: the instruments hand out the same
 * frozen object for a series at every collection (until it is removed or
 * reset), and a frozen object cannot change, so a cached value cannot go
 * stale and the encoders stay pure functions of the snapshot. A label object
 * that is not frozen (a hand-made snapshot) gets a fresh value every time.
 * Entries are weak: they go with their label objects.
 *
 * A lookup first tries the position the series had in its family's previous
 * snapshot (an identity check in an array), and only then the `WeakMap`,
 * whose hashed lookup costs far more when there are tens of thousands of
 * series.
 */
export class LabelCache<T> {
  readonly #byLabels = new WeakMap<Labels, T>();
  /** Per family, keyed by its first series' labels: labels and values by position. */
  readonly #families = new WeakMap<Labels, Positions<T>>();

  /**
   * The value for each point's labels (`labelsOf`), aligned with `points`. A cached value
   * is used when `fits` accepts it (e.g. it was rendered for this family's
   * name); otherwise `make` makes one. The array returned belongs to the
   * cache: read it before the next lookup.
   */
  lookup<P>(
    points: readonly P[],
    labelsOf: (point: P) => Labels,
    fits: (value: T) => boolean,
    make: (labels: Labels) => T,
  ): readonly T[] {
    const n = points.length;
    if (n === 0) return [];
    const first = labelsOf(points[0]!);
    let family = this.#families.get(first);
    if (family === undefined) {
      family = { labels: new Array(n), values: new Array(n) };
      if (Object.isFrozen(first)) this.#families.set(first, family);
    } else if (family.labels.length !== n) {
      family.labels.length = n;
      family.values.length = n;
    }
    const known = family.labels;
    const values = family.values;
    for (let i = 0; i < n; i++) {
      const labels = labelsOf(points[i]!);
      if (known[i] === labels && fits(values[i]!)) continue;
      let value = this.#byLabels.get(labels);
      if (value === undefined || !fits(value)) {
        value = make(labels);
        if (Object.isFrozen(labels)) this.#byLabels.set(labels, value);
        else {
          known[i] = undefined;
          values[i] = value;
          continue;
        }
      }
      known[i] = labels;
      values[i] = value;
    }
    return values;
  }
}

interface Positions<T> {
  /** The frozen label object at each position, or undefined. */
  labels: (Labels | undefined)[];
  values: T[];
}

/** The labels of a snapshot point, for {@linkcode LabelCache.lookup}. */
export function labelsOfPoint(point: { readonly labels: Labels }): Labels {
  return point.labels;
}
