/**
 * The native (exponential) histogram aggregation: base-2 exponential buckets
 * kept in a series' own slots of the table's `Float64Array`, recorded with
 * no allocation, downscaled automatically when a value would need more
 * buckets than the limit.
 *
 * Per series, after the classic slots, {@linkcode NativeLayout.stride}
 * slots: a header, then a window of `maxBuckets` counts for positive values
 * and one for negative values. A sign's window starts at a bucket index
 * kept in the header (its origin): bucket `k` is in slot `k - origin`.
 * Every non-empty bucket of a sign is inside its window; when a value's
 * bucket is outside, the window moves over the buckets, or, when they would
 * span more than `maxBuckets`, the scale goes down. The used range (first
 * and last non-empty bucket) is found by scanning the window when it is
 * read, so recording keeps no range up to date. A fresh series' slots are
 * all zero, which reads as "empty, at the configured scale, with the
 * configured zero threshold".
 *
 * Indexes follow the OpenTelemetry JS SDK's mapping exactly (see
 * `_exponential_index.ts`), so the same observations give the same buckets
 * as its `ExponentialHistogram` aggregation.
 *
 * When a value falls outside the range the limit allows, the scale goes down
 * by the fewest steps that make the range fit, for both signs at once (the
 * SDK's rule). At scale -4, the coarsest Prometheus accepts, the zero bucket
 * widens instead: it swallows the lowest buckets until the range fits (what
 * client_golang does). So memory per series is fixed, whatever the values.
 *
 * @module
 */

import { describe } from "../names.ts";
import { MAX_SCHEMA, MIN_SCHEMA, upperBound } from "../_native.ts";
import type { ExponentialBuckets, NativeHistogram } from "../model.ts";
import {
  EXTRA_BITS,
  HI,
  indexOf,
  MAX_TABLE_SCALE,
  MIN_NORMAL,
  nextDown,
  octaveTables,
  tableStart,
} from "./_exponential_index.ts";

/**
 * The `native` option of a histogram: `true` for the defaults, or the
 * bucket limit, the finest scale and the zero threshold.
 *
 * @example
 * ```ts
 * import type { NativeHistogramOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: NativeHistogramOptions = { maxBuckets: 100, scale: 3, zeroThreshold: 1e-9 };
 * assert.equal(options.scale, 3);
 * ```
 */
export interface NativeHistogramOptions {
  /**
   * The most buckets kept per sign (positive, negative), at least 1; when a
   * value needs more, the scale goes down. Default 160, as OTel.
   */
  maxBuckets?: number;
  /**
   * The scale (Prometheus: schema) to start at, the finest kept: a whole
   * number from -4 to 8 for Prometheus, up to 20 (OTel's finest) for OTLP;
   * the Prometheus exposition then shows it at 8. Default 8.
   */
  scale?: number;
  /**
   * Values with `|v| <= zeroThreshold` go to the zero bucket; at least 0.
   * Default `2 ** -128` (about 2.9e-39), as client_golang: tiny values that
   * are noise share one bucket, and a histogram with no value yet is still
   * native to Prometheus 2.x, which tells native from classic by a zero
   * threshold above 0 or a bucket. 0 counts only exact zeros there, as OTel.
   */
  zeroThreshold?: number;
}

/** Checked native options. */
export interface NativeConfig {
  readonly maxBuckets: number;
  readonly scale: number;
  readonly zeroThreshold: number;
}

/** The default zero threshold, 2^-128, client_golang's. */
const DEFAULT_ZERO_THRESHOLD = 2.938735877055719e-39;

/** Checks the `native` option of histogram `metric`; `undefined` when off. */
export function checkNative(
  metric: string,
  native: boolean | NativeHistogramOptions | undefined,
): NativeConfig | undefined {
  if (native === undefined || native === false) return undefined;
  const what = `Cannot declare metric "${metric}"`;
  if (native === true) {
    return { maxBuckets: 160, scale: 8, zeroThreshold: DEFAULT_ZERO_THRESHOLD };
  }
  if (typeof native !== "object" || native === null) {
    throw new TypeError(
      `${what}: native must be true, false or an object, got ${
        describe(native)
      }`,
    );
  }
  const {
    maxBuckets = 160,
    scale = 8,
    zeroThreshold = DEFAULT_ZERO_THRESHOLD,
  } = native;
  for (
    const [name, value] of Object.entries({ maxBuckets, scale, zeroThreshold })
  ) {
    if (typeof value !== "number") {
      throw new TypeError(
        `${what}: native.${name} must be a number, got ${describe(value)}`,
      );
    }
  }
  if (!Number.isInteger(maxBuckets) || maxBuckets < 1) {
    throw new RangeError(
      `${what}: native.maxBuckets must be a whole number of at least 1, got ${maxBuckets}`,
    );
  }
  if (!Number.isInteger(scale) || scale < MIN_SCHEMA || scale > MAX_SCHEMA) {
    throw new RangeError(
      `${what}: native.scale must be a whole number from ${MIN_SCHEMA} to ${MAX_SCHEMA}, got ${scale}`,
    );
  }
  if (!(zeroThreshold >= 0 && zeroThreshold < Infinity)) {
    throw new RangeError(
      `${what}: native.zeroThreshold must be a finite number of at least 0, got ${zeroThreshold}`,
    );
  }
  return { maxBuckets, scale, zeroThreshold };
}

/**
 * Header slots, relative to a series' native base. The first four are the
 * ones the common path reads: next to each other, and to the sum and count
 * just before them.
 */
/**
 * Values above this (exclusive) are positive, within the minimum and above
 * the zero bucket, at a scale with a table: see {@linkcode NativeLayout.observe}.
 */
const FLOOR = 0;
const MAX = 1;
/** The current scale, once `SEEN`. */
const SCALE = 2;
/** The bucket index of the positive window's first slot. */
const POS_ORIGIN = 3;
/** 1 once a finite value was recorded: the slots below and `SCALE` are set. */
const SEEN = 4;
const MIN = 5;
const ZERO_COUNT = 6;
/** The zero threshold, once `SEEN`: the configured one, or wider. */
const THRESHOLD = 7;
/** 1 while the positive window holds a count. */
const POS_USED = 8;
const NEG_ORIGIN = 9;
const NEG_USED = 10;
const HEADER = 11;

/**
 * A double and its high and low 32 bits: the common path writes the value
 * and reads its bits. Module constants, which V8 reads without a load of
 * their own.
 */
const VALUE = /* @__PURE__ */ new Float64Array(1);
const HIGH = /* @__PURE__ */ new Int32Array(VALUE.buffer, HI * 4, 1);
const LOW = /* @__PURE__ */ new Int32Array(VALUE.buffer, (1 - HI) * 4, 1);

/**
 * The native buckets of every series of one histogram: where they live in
 * a series' slots, how a value is recorded, and how they are read back.
 */
export class NativeLayout {
  readonly config: NativeConfig;
  /** Slots per series. */
  readonly stride: number;
  readonly #size: number;
  readonly #scale: number;
  readonly #threshold: number;
  /** The octave tables, scale `s` from {@linkcode tableStart}. */
  readonly #tables: Int16Array;
  /** Scratch for moving a window: one window's counts. */
  readonly #scratch: Float64Array;

  constructor(config: NativeConfig) {
    this.config = config;
    this.#size = config.maxBuckets;
    this.#scale = config.scale;
    this.#threshold = config.zeroThreshold;
    this.stride = HEADER + 2 * config.maxBuckets;
    this.#tables = octaveTables();
    this.#scratch = new Float64Array(config.maxBuckets);
  }

  /**
   * Records a finite `value` (the caller counted it, with the sum) into the
   * native slots starting at `base`. No allocation.
   *
   * The common case, written straight and kept small so that V8 inlines it
   * into the caller's loop: a positive value within the minimum and maximum
   * seen, above the zero bucket, at a scale with an octave table, whose
   * bucket is inside the window. `FLOOR` folds the first four tests into
   * one: it is the zero threshold, or just below the minimum when that is
   * above it, or `Infinity` at a scale without a table (0 when fresh, with
   * `MAX` 0: no value passes). Values near a bucket boundary (1 in 70) are
   * done here too, by `Math.log`, so latency-like data never leaves this
   * path once its range is known. Everything else takes
   * {@linkcode #observeRest}.
   *
   * A value passing the two tests lands in a window in use: `MAX` is above
   * `FLOOR` only once a positive value was recorded above the zero bucket
   * (a zero bucket widened over every positive bucket also covers `MAX`).
   */
  observe(data: Float64Array, base: number, value: number): void {
    VALUE[0] = value;
    if (value > data[base + FLOOR]! && value <= data[base + MAX]!) {
      const scale = data[base + SCALE]! | 0;
      const hi = HIGH[0]!;
      const octave = ((hi >> 20) - 1023) << scale;
      const cell = this.#tables[
        tableStart(scale) + ((hi & 0xfffff) >>> (20 - EXTRA_BITS - scale))
      ]!;
      // Near a boundary: the SDK's way, `Math.log`, here rather than in a
      // method; a power of two by its bits, one bucket down.
      const index = cell >= 0
        ? octave + cell
        : (hi & 0xfffff) === 0 && LOW[0] === 0
        ? octave - 1
        : Math.min(
          Math.floor(Math.log(value) * (Math.LOG2E * (1 << scale))) | 0,
          (1024 << scale) - 1, // the SDK's cap, for values near 2^1024
        );
      // Whole numbers as int32 throughout: no int-to-double conversion on
      // the value's chain (measured about 1 ns of 9).
      const slot = index - (data[base + POS_ORIGIN]! | 0);
      if (slot >= 0 && slot < this.#size) {
        data[base + HEADER + slot]!++;
        return;
      }
    }
    this.#observeRest(data, base);
  }

  /**
   * {@linkcode observe} of any finite value, the one it stored in `VALUE`
   * (passed through memory rather than as an argument, so the call never
   * boxes it): min and max, the zero bucket, either sign, a bucket outside
   * the window, which moves or downscales it. One method, larger than V8
   * inlines (460 bytes of bytecode): the caller's loop holds only the
   * common path and a call.
   */
  #observeRest(data: Float64Array, base: number): void {
    const value = VALUE[0]!;
    if (data[base + SEEN] === 0) {
      data[base + SEEN] = 1;
      data[base + SCALE] = this.#scale;
      data[base + THRESHOLD] = this.#threshold;
      data[base + MIN] = value;
      data[base + MAX] = value;
    } else {
      if (value < data[base + MIN]!) data[base + MIN] = value;
      if (value > data[base + MAX]!) data[base + MAX] = value;
    }
    const negative = value < 0;
    const magnitude = negative ? -value : value;
    const size = this.#size;
    const origin = base + (negative ? NEG_ORIGIN : POS_ORIGIN);
    const used = base + (negative ? NEG_USED : POS_USED);
    const window = base + HEADER + (negative ? size : 0);
    while (magnitude > data[base + THRESHOLD]!) {
      const index = indexOf(magnitude, data[base + SCALE]!);
      if (data[used] === 0) {
        // The first bucket in the middle: room to grow either way.
        data[used] = 1;
        data[origin] = index - (size >> 1);
      }
      const slot = index - data[origin]!;
      if (slot >= 0 && slot < size) {
        data[window + slot]!++;
        this.#setFloor(data, base);
        return;
      }
      const first = data[origin]! + this.#first(data, window);
      const last = data[origin]! + this.#last(data, window);
      const from = index < first ? index : first;
      const to = index > last ? index : last;
      if (to - from < size) {
        // The buckets fit: the window moves to have them in its middle.
        this.#shift(
          data,
          window,
          origin,
          from - ((size - (to - from + 1)) >> 1),
        );
      } else {
        // Downscales, or widens the zero bucket (then maybe over the value).
        this.#makeRoom(data, base, from, to);
      }
    }
    data[base + ZERO_COUNT]!++;
    this.#setFloor(data, base);
  }

  /**
   * Sets `FLOOR` from the minimum and the zero threshold, which may have
   * widened; subnormals are left to the long way, whose index handles them.
   */
  #setFloor(data: Float64Array, base: number): void {
    const scale = data[base + SCALE]!;
    if (scale < 1 || scale > MAX_TABLE_SCALE) {
      // No octave table at this scale: no value takes the common path.
      data[base + FLOOR] = Infinity;
      return;
    }
    const min = data[base + MIN]!;
    const threshold = data[base + THRESHOLD]!;
    const floor = min > threshold ? nextDown(min) : threshold;
    data[base + FLOOR] = floor > MIN_NORMAL ? floor : MIN_NORMAL;
  }

  /** The first non-empty slot of a window in use. */
  #first(data: Float64Array, window: number): number {
    let i = 0;
    while (data[window + i] === 0) i++;
    return i;
  }

  /** The last non-empty slot of a window in use. */
  #last(data: Float64Array, window: number): number {
    let i = this.#size - 1;
    while (data[window + i] === 0) i--;
    return i;
  }

  /**
   * Makes the range `[from, to]` of one sign fit: the scale goes down by the
   * fewest steps (both signs), or, at the coarsest scale, the zero bucket
   * widens over the lowest buckets.
   */
  #makeRoom(data: Float64Array, base: number, from: number, to: number): void {
    const size = this.#size;
    const scale = data[base + SCALE]!;
    let change = 0;
    while (to - from >= size && scale - change > MIN_SCHEMA) {
      from >>= 1;
      to >>= 1;
      change++;
    }
    if (change > 0) {
      this.#rebuild(data, base, false, change, -Infinity);
      this.#rebuild(data, base, true, change, -Infinity);
      data[base + SCALE] = scale - change;
    }
    if (to - from >= size) {
      // At the coarsest scale: the zero bucket takes the lowest buckets.
      this.#rebuild(data, base, false, 0, to - size);
      this.#rebuild(data, base, true, 0, to - size);
      const widened = upperBound(scale - change, to - size);
      if (widened > data[base + THRESHOLD]!) data[base + THRESHOLD] = widened;
    }
  }

  /**
   * Rewrites one sign's window: its buckets `change` scales coarser (0: as
   * they are), those up to index `last` (after the change) into the zero
   * count, the rest in the middle of the window (the caller made sure they
   * fit). Marks the window unused when nothing is left in it.
   */
  #rebuild(
    data: Float64Array,
    base: number,
    negative: boolean,
    change: number,
    last: number,
  ): void {
    const size = this.#size;
    const used = base + (negative ? NEG_USED : POS_USED);
    if (data[used] === 0) return;
    const originAt = base + (negative ? NEG_ORIGIN : POS_ORIGIN);
    const window = base + HEADER + (negative ? size : 0);
    const origin = data[originAt]!;
    const scratch = this.#scratch;
    let from = Infinity;
    let to = -Infinity;
    for (let i = 0; i < size; i++) {
      const count = data[window + i]!;
      scratch[i] = count;
      data[window + i] = 0;
      if (count === 0) continue;
      const index = (origin + i) >> change;
      if (index <= last) {
        data[base + ZERO_COUNT]! += count;
      } else {
        if (index < from) from = index;
        if (index > to) to = index;
      }
    }
    if (from > to) {
      data[used] = 0;
      data[originAt] = 0;
      return;
    }
    const start = from - ((size - (to - from + 1)) >> 1);
    for (let i = 0; i < size; i++) {
      const count = scratch[i]!;
      if (count === 0) continue;
      const index = (origin + i) >> change;
      if (index > last) data[window + index - start]! += count;
    }
    data[originAt] = start;
  }

  /** Moves a window so that it starts at bucket `start`; its counts stay where they fit. */
  #shift(
    data: Float64Array,
    window: number,
    originAt: number,
    start: number,
  ): void {
    const size = this.#size;
    const delta = start - data[originAt]!;
    const scratch = this.#scratch;
    for (let i = 0; i < size; i++) {
      scratch[i] = data[window + i]!;
      data[window + i] = 0;
    }
    for (let i = 0; i < size; i++) {
      if (scratch[i] !== 0) data[window + i - delta] = scratch[i]!;
    }
    data[originAt] = start;
  }

  /** Reads the native buckets of the series whose native slots start at `base`. */
  read(data: Float64Array, base: number): NativeHistogram {
    const size = this.#size;
    if (data[base + SEEN] === 0) {
      return {
        schema: this.#scale,
        zeroThreshold: this.#threshold,
        zeroCount: 0,
        positive: { offset: 0, counts: [] },
        negative: { offset: 0, counts: [] },
      };
    }
    return {
      schema: data[base + SCALE]!,
      zeroThreshold: data[base + THRESHOLD]!,
      zeroCount: data[base + ZERO_COUNT]!,
      positive: this.#buckets(
        data,
        base + HEADER,
        base + POS_ORIGIN,
        base + POS_USED,
      ),
      negative: this.#buckets(
        data,
        base + HEADER + size,
        base + NEG_ORIGIN,
        base + NEG_USED,
      ),
      min: data[base + MIN]!,
      max: data[base + MAX]!,
    };
  }

  /** One window's non-empty range as snapshot buckets. */
  #buckets(
    data: Float64Array,
    window: number,
    origin: number,
    used: number,
  ): ExponentialBuckets {
    if (data[used] === 0) return { offset: 0, counts: [] };
    const first = this.#first(data, window);
    const last = this.#last(data, window);
    const counts: number[] = new Array(last - first + 1);
    for (let i = first; i <= last; i++) counts[i - first] = data[window + i]!;
    return { offset: data[origin]! + first, counts };
  }
}
