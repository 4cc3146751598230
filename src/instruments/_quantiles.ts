/**
 * The quantile sketch behind `Summary`: a deterministic stack of compactors
 * with a proven rank error, and a ring of them that slides over time.
 *
 * ## The sketch
 *
 * Level `h` holds up to `k` values, each standing for `2^h` observations.
 * Observations enter level 0. When a level fills, it is sorted and every
 * other value (the odd or the even positions, alternating) moves up one level
 * with twice the weight; the level is then emptied. `k` is even, so the total
 * weight always equals the number of observations.
 *
 * Rank error. For any `x`, let `r(x)` be the number of observations `<= x`
 * and `R(x)` the summed weight of retained values `<= x` (the same for `< x`).
 * A compaction at level `h` moves `R(x)` by at most `2^h` (only the one pair
 * of sorted neighbours that straddles `x` can change it), so
 * `|R(x) - r(x)| <= E`, the sum of `2^h` over all compactions so far, which
 * the sketch keeps as {@linkcode QuantileSketch.errorBound}. A level `h`
 * compacts once per `k * 2^h` observations that reach it, so its share of `E`
 * is at most `n / k`, and only levels with `k * 2^h <= n` ever compact:
 *
 *     E <= (n / k) * (1 + floor(log2(n / k)))   for n >= k;   E = 0 for n < k
 *
 * The bound adds up over several sketches (the slices of a window), and since
 * it grows with `n` the union of slices holding `N` observations in total
 * obeys the same bound with `N`.
 *
 * Query. For a rank `q`, the answer is the first retained value `v`, in sorted
 * order, at which the cumulative weight reaches `t = q * N`. Then
 * `R(< v) < t <= R(<= v)`, so the true rank interval of `v`,
 * `[r(< v), r(<= v)]`, comes within `E` of `t`: the query adds no error.
 * Ranks 0 and 1 answer the exact minimum and maximum, which are kept apart.
 *
 * With `k = 2048` ({@linkcode SKETCH_K}) that is a rank error of at most
 * 0.44% of the window's count at 1,000,000 observations and at most 1% for
 * any window of fewer than 2^31 observations.
 *
 * Memory. Level `h + 1` exists only once level `h` compacted, i.e. once
 * `n >= k * 2^h`, so a sketch holds at most `k * (2 + floor(log2(n / k)))`
 * values (`k` while `n < k`): 20,480 values (160 KiB) at 1,000,000
 * observations, 43,008 at 2^31. Buffers start small and double up to `k`, so
 * a quiet series costs a few hundred bytes; `clear` keeps them, so a reused
 * sketch holds what its busiest use needed.
 *
 * Values are ordered as numbers: negative values and ±Infinity are ordinary
 * values (-Infinity is the smallest, +Infinity the largest); callers must not
 * add NaN.
 *
 * @module
 */

/** Values per level: the sketch's accuracy/memory trade-off (see the module doc). */
export const SKETCH_K = 2048;

const INITIAL_CAPACITY = 32;

/** One deterministic compactor stack over a stream of numbers. */
export class QuantileSketch {
  /** Observations added since the last `clear`. */
  count = 0;
  /** The smallest value added (`Infinity` when empty). */
  min = Infinity;
  /** The largest value added (`-Infinity` when empty). */
  max = -Infinity;
  /**
   * A certified bound on the rank error: for every `x`, the summed weight of
   * retained values `<= x` (or `< x`) is within this many of the true count.
   */
  errorBound = 0;

  /** Level `h` holds values of weight `2^h`, unsorted; full levels compact. */
  #levels: Float64Array[] = [];
  #lengths: number[] = [];
  #oddNext: boolean[] = [];

  /** Adds one observation (never NaN). */
  add(value: number): void {
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.#push(0, value);
  }

  /** Forgets every observation; keeps the buffers for reuse. */
  clear(): void {
    this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.errorBound = 0;
    this.#lengths.fill(0);
    this.#oddNext.fill(false);
  }

  /** How many values the buffers can hold: the memory in use, in 8-byte values. */
  get capacity(): number {
    let total = 0;
    for (const level of this.#levels) total += level.length;
    return total;
  }

  #push(h: number, value: number): void {
    const k = SKETCH_K;
    if (h === this.#levels.length) {
      this.#levels.push(new Float64Array(INITIAL_CAPACITY));
      this.#lengths.push(0);
      this.#oddNext.push(false);
    }
    let buffer = this.#levels[h]!;
    const length = this.#lengths[h]!;
    if (length === buffer.length) {
      // Only below k: a full level compacts before push returns.
      const grown = new Float64Array(Math.min(buffer.length * 2, k));
      grown.set(buffer);
      this.#levels[h] = buffer = grown;
    }
    buffer[length] = value;
    if (length + 1 < k) {
      this.#lengths[h] = length + 1;
      return;
    }
    // Compact: promote every other value in sorted order, empty the level.
    const parity = this.#oddNext[h]! ? 1 : 0;
    this.#oddNext[h] = parity === 0;
    this.#lengths[h] = 0;
    this.errorBound += 2 ** h;
    if (h === 0) {
      buffer.sort();
      for (let i = parity; i < k; i += 2) this.#push(1, buffer[i]!);
      return;
    }
    // Above level 0 a full level is two sorted halves (each compaction below
    // sends k / 2 values in order), so merging them replaces the sort.
    const half = k / 2;
    let a = 0;
    let b = half;
    for (let i = 0; i < k; i++) {
      const value = b === k || (a < half && buffer[a]! <= buffer[b]!)
        ? buffer[a++]!
        : buffer[b++]!;
      if ((i & 1) === parity) this.#push(h + 1, value);
    }
  }

  /**
   * Writes into `out` the values at ranks `qs` (ascending, each in [0, 1])
   * over the union of `sketches`; NaN for every rank when they hold
   * nothing. The rank error is at most the sum of the sketches' `errorBound`s.
   */
  static query(
    sketches: readonly QuantileSketch[],
    qs: readonly number[],
    out: number[],
  ): void {
    let total = 0;
    let min = Infinity;
    let max = -Infinity;
    let levels = 0;
    for (const sketch of sketches) {
      total += sketch.count;
      if (sketch.min < min) min = sketch.min;
      if (sketch.max > max) max = sketch.max;
      if (sketch.#levels.length > levels) levels = sketch.#levels.length;
    }
    if (total === 0) {
      for (let j = 0; j < qs.length; j++) out[j] = NaN;
      return;
    }
    // One sorted run per level, across sketches: every value in it weighs 2^h.
    const runs: Float64Array[] = [];
    const weights: number[] = [];
    for (let h = 0; h < levels; h++) {
      let length = 0;
      for (const sketch of sketches) length += sketch.#lengths[h] ?? 0;
      if (length === 0) continue;
      const run = new Float64Array(length);
      let offset = 0;
      for (const sketch of sketches) {
        const used = sketch.#lengths[h] ?? 0;
        if (used > 0) run.set(sketch.#levels[h]!.subarray(0, used), offset);
        offset += used;
      }
      run.sort();
      runs.push(run);
      weights.push(2 ** h);
    }
    const positions = new Array<number>(runs.length).fill(0);
    let cumulative = 0;
    let j = 0;
    // Ranks 0 answer the exact minimum.
    while (j < qs.length && qs[j]! <= 0) out[j++] = min;
    while (j < qs.length && qs[j]! < 1) {
      // Take the smallest head among the runs.
      let best = -1;
      let value = Infinity;
      for (let r = 0; r < runs.length; r++) {
        const run = runs[r]!;
        const p = positions[r]!;
        if (p < run.length && (best < 0 || run[p]! < value)) {
          best = r;
          value = run[p]!;
        }
      }
      if (best < 0) break; // unreachable: the weights add up to `total`
      positions[best]!++;
      cumulative += weights[best]!;
      while (j < qs.length && qs[j]! < 1 && cumulative >= qs[j]! * total) {
        out[j++] = value;
      }
    }
    // Rank 1 (and, defensively, anything left) answers the exact maximum.
    while (j < qs.length) out[j++] = max;
  }
}

/**
 * Quantiles over a sliding time window: a ring of `slices` sketches, each
 * taking the observations of one `windowMs / slices` stretch of time. A query
 * merges the slices of the last `slices` stretches, so it covers between
 * `windowMs * (1 - 1 / slices)` and `windowMs` of history. Slices are reused
 * in place when their stretch comes round again; nothing runs on a timer.
 */
export class SlidingQuantiles {
  #sliceMs: number;
  #sketches: (QuantileSketch | undefined)[];
  #epochs: number[];

  /**
   * @param windowMs The window's length in milliseconds (`Infinity`: never expire).
   * @param slices How many slices it is cut into (integer >= 1).
   */
  constructor(windowMs: number, slices: number) {
    this.#sliceMs = windowMs / slices;
    this.#sketches = new Array(slices).fill(undefined);
    this.#epochs = new Array<number>(slices).fill(-Infinity);
  }

  /** Adds an observation made at monotonic time `nowMs`. */
  add(value: number, nowMs: number): void {
    const epoch = this.#epoch(nowMs);
    const n = this.#sketches.length;
    const slot = ((epoch % n) + n) % n;
    let sketch = this.#sketches[slot];
    if (sketch === undefined) {
      this.#sketches[slot] = sketch = new QuantileSketch();
      this.#epochs[slot] = epoch;
    } else if (this.#epochs[slot]! < epoch) {
      sketch.clear();
      this.#epochs[slot] = epoch;
    }
    // A newer epoch in the slot means the clock went back: keep it, add to it.
    sketch.add(value);
  }

  /** Writes the values at ranks `qs` over the window ending at `nowMs` into `out`. */
  query(qs: readonly number[], nowMs: number, out: number[]): void {
    const epoch = this.#epoch(nowMs);
    const live: QuantileSketch[] = [];
    for (let slot = 0; slot < this.#sketches.length; slot++) {
      const sketch = this.#sketches[slot];
      const age = epoch - this.#epochs[slot]!;
      // A negative age (the clock went back) is recent, not expired.
      if (sketch !== undefined && age < this.#sketches.length) {
        live.push(sketch);
      }
    }
    QuantileSketch.query(live, qs, out);
  }

  #epoch(nowMs: number): number {
    // An infinite window has one everlasting slice; `|| 0` folds -0 into 0.
    return Math.floor(nowMs / this.#sliceMs) || 0;
  }
}
