/**
 * What a registry adds to every family it collects: its prefix on the name,
 * and its default labels on every series. Kept stable for the encoders'
 * caches: each prefixed name is made once per metric, and each decorated
 * label object once per (frozen) label object of a series.
 *
 * @module
 */

import type { Attributes, Labels, MetricFamily } from "./model.ts";
import { LabelCache, labelsOfPoint } from "./_label_cache.ts";

/** A registry's prefix and default labels, applied to collected families. */
export class FamilyDecorator {
  readonly #prefix: string;
  readonly #defaultLabels: Labels;
  readonly #hasDefaults: boolean;

  constructor(prefix: string, defaultLabels: Labels) {
    this.#prefix = prefix;
    this.#defaultLabels = defaultLabels;
    this.#hasDefaults = Object.keys(defaultLabels).length > 0;
  }

  /**
   * Applies the prefix and default labels. Keeps what the encoders cache by
   * stable: each prefixed name is made once per metric, and each series'
   * decorated label object once per (frozen) label object of the series, so
   * a series has the same frozen labels at every collection. Without a
   * prefix or default labels the family is returned as it is.
   */
  decorate(family: MetricFamily): MetricFamily {
    const prefixed = this.#prefix === "" ? family : {
      ...family,
      name: this.#prefixedName(family.name),
    };
    if (!this.#hasDefaults) return prefixed;
    const points = prefixed.points;
    const labels = this.#labels.lookup(
      points,
      labelsOfPoint,
      always,
      this.#withDefaults,
    );
    const decorated = new Array(points.length);
    for (let i = 0; i < points.length; i++) {
      const point = points[i]!;
      decorated[i] = "attributes" in point && point.attributes !== undefined
        // A meter's typed attributes get the default labels too (for OTLP).
        ? {
          ...point,
          labels: labels[i]!,
          attributes: this.#withDefaultAttributes(point.attributes),
        }
        : { ...point, labels: labels[i]! };
    }
    return { ...prefixed, points: decorated } as MetricFamily;
  }

  #prefixedName(name: string): string {
    let prefixed = this.#names.get(name);
    if (prefixed === undefined) {
      prefixed = [this.#prefix, name].join("");
      this.#names.set(name, prefixed);
    }
    return prefixed;
  }

  /** Prefixed family names by collector name, made once. */
  #names = new Map<string, string>();
  /** Decorated label objects by the series' own (frozen) label objects. */
  #labels = new LabelCache<Labels>();
  /** A meter series' attributes with the default labels, made once per (frozen) attributes object. */
  #withDefaultAttributes(attributes: Attributes): Attributes {
    let decorated = this.#attributes.get(attributes);
    if (decorated === undefined) {
      decorated = Object.freeze({ ...this.#defaultLabels, ...attributes });
      this.#attributes.set(attributes, decorated);
    }
    return decorated;
  }
  #attributes = new WeakMap<Attributes, Attributes>();
  #withDefaults = (labels: Labels): Labels => {
    const decorated = { ...this.#defaultLabels, ...labels };
    // Frozen like its source, so encoders cache by it only when they may.
    return Object.isFrozen(labels) ? Object.freeze(decorated) : decorated;
  };
}

function always(): boolean {
  return true;
}
