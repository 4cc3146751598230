/**
 * The floor of each workload: the plain code a perfect library would compile
 * to, with no API, no validation and no features. No library can beat it;
 * the ratio to it says how much a library's generality costs.
 *
 * @module
 */

/**
 * W1: one number in an object field, incremented. A field (not a typed array
 * slot) because V8 can keep a field in a register across a tight loop, and a
 * floor must be the fastest a library could possibly be.
 */
export function counterFloor(): { value: number } {
  return { value: 0 };
}

/**
 * W2, W5: label values walk nested `Map`s, in declared order, to a series
 * number; values live in one `Float64Array` of `stride` slots per series.
 */
export class LabeledFloor {
  readonly names: readonly string[];
  readonly stride: number;
  data: Float64Array;
  size = 0;
  // deno-lint-ignore no-explicit-any
  #root = new Map<string, any>();

  constructor(names: readonly string[], stride: number) {
    this.names = names;
    this.stride = stride;
    this.data = new Float64Array(8 * stride);
  }

  /**
   * The series number of a label object, created on first sight: one
   * `Map.get` per label value, each label position read at a site of its
   * own for up to three labels, so V8 keeps each site to one property name
   * as code that names the properties (`labels.method`) would; a loop reads
   * them all at one site, about twice the time.
   */
  indexOf(labels: Readonly<Record<string, string>>): number {
    const names = this.names;
    const last = names.length - 1;
    if (last < 3) {
      let node = this.#root;
      if (last > 0) node = this.#step(node, labels[names[0]!]!);
      if (last > 1) node = this.#step(node, labels[names[1]!]!);
      const value = labels[names[last]!]!;
      const index = node.get(value);
      return index === undefined ? this.#create(node, value) : index;
    }
    let node = this.#root;
    for (let i = 0; i < last; i++) node = this.#step(node, labels[names[i]!]!);
    const index = node.get(labels[names[last]!]!);
    return index === undefined
      ? this.#create(node, labels[names[last]!]!)
      : index;
  }

  // deno-lint-ignore no-explicit-any
  #step(node: Map<string, any>, value: string): Map<string, any> {
    let next = node.get(value);
    if (next === undefined) node.set(value, next = new Map());
    return next;
  }

  #create(leaf: Map<string, number>, value: string): number {
    const index = this.size++;
    if (index * this.stride >= this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    leaf.set(value, index);
    return index;
  }
}

/**
 * W3: a histogram series is `bounds.length + 1` bucket counts, then sum and
 * count, at `index * stride` in the floor's data.
 */
export function histogramStride(bounds: Float64Array): number {
  return bounds.length + 3;
}

/** W3: records one value into a series: binary search, then three adds. */
export function observeFloor(
  data: Float64Array,
  base: number,
  bounds: Float64Array,
  value: number,
): void {
  let lo = 0;
  let hi = bounds.length;
  // First bound >= value; bounds.length is the +Inf bucket.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  data[base + lo]!++;
  data[base + bounds.length + 1]! += value;
  data[base + bounds.length + 2]!++;
}

/**
 * W4: the Prometheus text of live state in one formatting pass. Everything
 * constant (HELP/TYPE lines, each sample's name and labels) is formatted
 * once ahead; a scrape only appends numbers.
 */
export interface TextFloor {
  /** Counter families: header, then one prefix (`name{…} `) per series. */
  counters: { header: string; prefixes: string[]; values: Float64Array }[];
  /** Histogram families: per series, one prefix per bucket then sum and count. */
  histograms: {
    header: string;
    buckets: number;
    prefixes: string[];
    data: Float64Array;
  }[];
}

/** W4: renders a {@linkcode TextFloor} (cumulating the bucket counts). */
export function renderTextFloor(floor: TextFloor): string {
  let out = "";
  for (const family of floor.counters) {
    out += family.header;
    const { prefixes, values } = family;
    for (let i = 0; i < prefixes.length; i++) {
      out += prefixes[i]! + values[i]! + "\n";
    }
  }
  for (const family of floor.histograms) {
    out += family.header;
    const { prefixes, data, buckets } = family;
    const stride = buckets + 3;
    for (let s = 0, p = 0; p < prefixes.length; s += stride) {
      let cumulative = 0;
      for (let b = 0; b <= buckets; b++) {
        cumulative += data[s + b]!;
        out += prefixes[p++]! + cumulative + "\n";
      }
      out += prefixes[p++]! + data[s + buckets + 1]! + "\n";
      out += prefixes[p++]! + data[s + buckets + 2]! + "\n";
    }
  }
  return out;
}
