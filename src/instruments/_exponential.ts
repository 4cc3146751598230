/**
 * The native (exponential) histogram aggregation: base-2 exponential buckets
 * kept in a series' own slots of the table's `Float64Array`, recorded with
 * no allocation, downscaled automatically when a value would need more
 * buckets than the limit.
 *
 * Per series, after the classic slots, {@linkcode NativeLayout.stride}
 * slots: a header, then a ring of `maxBuckets` counts for positive values
 * and one for negative values. Bucket `k` of a sign lives in slot
 * `k mod maxBuckets` of its ring; a sign's used range `[low, low + width)`
 * never spans more than `maxBuckets` indexes, so no two buckets share a
 * slot, and every slot outside the range is zero. A fresh series' slots are
 * all zero, which the header is laid out to read as "empty, at the
 * configured scale, with the configured zero threshold".
 *
 * Indexes follow the OpenTelemetry JS SDK's mapping exactly (exact powers of
 * two by their bits, other values by `Math.log`), so the same observations
 * give the same buckets as its `ExponentialHistogram` aggregation.
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
import type { NativeHistogram } from "../model.ts";

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

/** Header slots, relative to a series' native base. */
const DROP = 0; // configured scale minus the current scale (0 when fresh)
const ZERO_COUNT = 1;
const THRESHOLD = 2; // a zero threshold widened past the configured one, or 0
const SEEN = 3; // 1 once a finite value was recorded: min and max are set
const MIN = 4;
const MAX = 5;
// Per sign, three slots: the lowest bucket index; the width in buckets (0:
// no bucket); the origin, the index whose count is in the ring's slot 0.
// The range always holds the origin, so an index's slot is `index - origin`,
// plus the ring size when negative: no division on the hot path.
const POS_LOW = 6;
const NEG_LOW = 9;
const HEADER = 12;

/** The default zero threshold, 2^-128, client_golang's. */
const DEFAULT_ZERO_THRESHOLD = 2.938735877055719e-39;

/** A double and its two 32-bit halves, to read a value's bits. */
const BITS = /* @__PURE__ */ new Float64Array(1);
const WORDS = /* @__PURE__ */ new Uint32Array(BITS.buffer);
/** Which half of `WORDS` holds the sign, exponent and top of the significand. */
const HI: number = /* @__PURE__ */ new Uint8Array(
  new Uint16Array([1]).buffer,
)[0]!;
const LO = 1 - HI;

/** The smallest normal double, 2^-1022. */
const MIN_NORMAL = 2.2250738585072014e-308;

/** Scales up to this one find an index by table instead of `Math.log`. */
const MAX_TABLE_SCALE = 8;
/** Mantissa bits a table reads beyond the scale: 1 cell in 16 holds a boundary. */
const EXTRA_BITS = 6;

/** Scales 1..8 in one array, made on first use (never at import). */
let octaveTables: Int16Array | undefined;

/**
 * Where the table of `scale` (1..8) starts in {@linkcode octaveTables}: each
 * has `2 ** (scale + EXTRA_BITS)` cells, so the ones before it add up to this.
 */
function tableStart(scale: number): number {
  return (1 << (scale + EXTRA_BITS)) - (1 << (1 + EXTRA_BITS));
}

/**
 * The tables of every scale 1..8, one after another. For a scale, the
 * bucket within an octave for each cell of the top `scale + EXTRA_BITS`
 * mantissa bits, where the SDK's `Math.floor(Math.log(v) * factor)` is the
 * same for every value of the cell (with a wide margin for its rounding);
 * -1 where a bucket boundary is near, which then takes `Math.log`.
 */
function makeOctaveTables(): Int16Array {
  if (octaveTables !== undefined) return octaveTables;
  const tables = new Int16Array(tableStart(MAX_TABLE_SCALE + 1));
  for (let scale = 1; scale <= MAX_TABLE_SCALE; scale++) {
    const start = tableStart(scale);
    const cells = 2 ** (scale + EXTRA_BITS);
    const factor = Math.LOG2E * 2 ** scale;
    for (let c = 0; c < cells; c++) {
      const from = Math.log(1 + c / cells) * factor;
      const to = Math.log(1 + (c + 1) / cells) * factor;
      const low = Math.floor(from - 1e-6);
      tables[start + c] = low === Math.floor(to + 1e-6) ? low : -1;
    }
    // The first cell holds the powers of two, which the SDK puts one bucket
    // down: they take the long way, so the table needs no second test.
    tables[start] = -1;
  }
  return octaveTables = tables;
}

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
  /** `Math.LOG2E * 2 ** scale` at index `scale - MIN_SCHEMA`. */
  readonly #factors: Float64Array;
  /** `2 ** scale` at index `scale - MIN_SCHEMA`. */
  readonly #powers: Float64Array;
  /** {@linkcode makeOctaveTables}: scale `s` from {@linkcode tableStart}. */
  readonly #tables: Int16Array;
  // A double and its two 32-bit halves, to read a value's bits: fields
  // rather than module constants, one load each on the hot path.
  readonly #bits: Float64Array;
  readonly #words: Uint32Array;
  /** Which half of `#words` holds the sign, exponent and top of the significand. */
  readonly #hi: number;
  /** Scratch for a downscale: one ring's counts. */
  readonly #scratch: Float64Array;

  constructor(config: NativeConfig) {
    this.config = config;
    this.#size = config.maxBuckets;
    this.#scale = config.scale;
    this.#threshold = config.zeroThreshold;
    this.stride = HEADER + 2 * config.maxBuckets;
    this.#factors = new Float64Array(MAX_SCHEMA - MIN_SCHEMA + 1);
    this.#powers = new Float64Array(MAX_SCHEMA - MIN_SCHEMA + 1);
    for (let s = MIN_SCHEMA; s <= MAX_SCHEMA; s++) {
      this.#factors[s - MIN_SCHEMA] = Math.LOG2E * 2 ** s;
      this.#powers[s - MIN_SCHEMA] = 2 ** s;
    }
    this.#tables = makeOctaveTables();
    this.#bits = new Float64Array(1);
    this.#words = new Uint32Array(this.#bits.buffer);
    this.#hi = new Uint8Array(new Uint16Array([1]).buffer)[0]!;
    this.#scratch = new Float64Array(config.maxBuckets);
  }

  /**
   * Records `value` (not NaN: the caller counted it, with the sum) into the
   * native slots starting at `base`. No allocation.
   *
   * The common case written straight: a finite value outside the zero
   * bucket, within the min and max seen, whose bucket is in its sign's
   * range. Everything else goes to {@linkcode #observeEdge}. A fresh
   * series' min and max read 0, so its first value other than 0 is outside
   * them, and 0 is in the zero bucket: the `SEEN` test stays off this path.
   */
  observe(data: Float64Array, base: number, value: number): void {
    const negative = value < 0;
    const magnitude = negative ? -value : value;
    if (
      !(magnitude < Infinity) || magnitude <= this.#threshold ||
      magnitude <= data[base + THRESHOLD]! || value < data[base + MIN]! ||
      value > data[base + MAX]!
    ) {
      this.#observeEdge(data, base, value);
      return;
    }
    const index = this.#bucket(
      magnitude,
      (this.#scale - data[base + DROP]!) | 0,
    );
    const low = negative ? base + NEG_LOW : base + POS_LOW;
    const first = data[low]!;
    // An empty sign has width 0: no index passes.
    if (index >= first && index < first + data[low + 1]!) {
      const size = this.#size;
      let slot = index - data[low + 2]!;
      if (slot < 0) slot += size;
      data[(negative ? base + HEADER + size : base + HEADER) + slot]!++;
      return;
    }
    this.#observeSlow(data, base, magnitude, negative);
  }

  /**
   * {@linkcode #indexOf}, by its table lookup in the common case: small
   * enough for V8 to inline, which keeps {@linkcode observe} small enough
   * to be inlined in turn.
   */
  #bucket(magnitude: number, scale: number): number {
    this.#bits[0] = magnitude;
    const hi = this.#words[this.#hi]!;
    const cell = scale > 0 && scale <= MAX_TABLE_SCALE && magnitude > MIN_NORMAL
      ? this.#tables[
        tableStart(scale) + ((hi & 0xfffff) >>> (20 - EXTRA_BITS - scale))
      ]!
      : -1;
    return cell >= 0
      ? ((((hi >>> 20) & 0x7ff) - 1023) << scale) + cell
      : this.#indexOf(magnitude, scale);
  }

  /** {@linkcode observe} of any value: min and max, the zero bucket, ±Infinity. */
  #observeEdge(data: Float64Array, base: number, value: number): void {
    if (value - value !== 0) return; // ±Infinity: counted, in no bucket
    if (data[base + SEEN] === 0) {
      data[base + SEEN] = 1;
      data[base + MIN] = value;
      data[base + MAX] = value;
    } else {
      if (value < data[base + MIN]!) data[base + MIN] = value;
      if (value > data[base + MAX]!) data[base + MAX] = value;
    }
    const negative = value < 0;
    const magnitude = negative ? -value : value;
    const widened = data[base + THRESHOLD]!;
    if (magnitude <= this.#threshold || magnitude <= widened) {
      data[base + ZERO_COUNT]!++;
      return;
    }
    this.#observeSlow(data, base, magnitude, negative);
  }

  /**
   * Records a value outside the zero bucket: into an empty sign, extending
   * its range, or after a downscale.
   */
  #observeSlow(
    data: Float64Array,
    base: number,
    magnitude: number,
    negative: boolean,
  ): void {
    const low = negative ? base + NEG_LOW : base + POS_LOW;
    const size = this.#size;
    for (;;) {
      const index = this.#bucket(
        magnitude,
        (this.#scale - data[base + DROP]!) | 0,
      );
      const width = data[low + 1]!;
      if (width === 0) {
        data[low] = index;
        data[low + 1] = 1;
        data[low + 2] = index;
      } else {
        const first = data[low]!;
        const last = first + width - 1;
        if (index < first) {
          if (last - index >= size) {
            this.#makeRoom(data, base, index, last);
            if (magnitude <= data[base + THRESHOLD]!) break;
            continue;
          }
          data[low] = index;
          data[low + 1] = last - index + 1;
        } else if (index > last) {
          if (index - first >= size) {
            this.#makeRoom(data, base, first, index);
            if (magnitude <= data[base + THRESHOLD]!) break;
            continue;
          }
          data[low + 1] = index - first + 1;
        }
      }
      let slot = index - data[low + 2]!;
      if (slot < 0) slot += size;
      data[(negative ? base + HEADER + size : base + HEADER) + slot]!++;
      return;
    }
    // The zero bucket widened over the value.
    data[base + ZERO_COUNT]!++;
  }

  /**
   * The bucket of a positive finite `value` at `scale`, as the OTel JS SDK
   * maps it: exact powers of two by their bits, other values by
   * `Math.floor(Math.log(value) * 2 ** scale / Math.LN2)`, which the octave
   * tables give without the logarithm where no bucket boundary is near.
   * {@linkcode observe} does the common case itself.
   */
  #indexOf(value: number, scale: number): number {
    if (scale > 0) {
      const power = this.#powers[scale - MIN_SCHEMA]!;
      if (value <= MIN_NORMAL) return -1022 * power - 1;
      BITS[0] = value;
      const hi = WORDS[HI]!;
      const exponent = ((hi & 0x7ff00000) >> 20) - 1023;
      const mantissa = hi & 0xfffff;
      if (mantissa === 0 && WORDS[LO] === 0) {
        return exponent * power - 1;
      }
      if (scale <= MAX_TABLE_SCALE) {
        const cell = this.#tables[
          tableStart(scale) + (mantissa >>> (20 - EXTRA_BITS - scale))
        ]!;
        if (cell >= 0) return exponent * power + cell;
      }
      const index = Math.floor(
        Math.log(value) * this.#factors[scale - MIN_SCHEMA]!,
      );
      const max = 1024 * power - 1;
      return index >= max ? max : index;
    }
    const shift = -scale;
    if (value < MIN_NORMAL) return (-1022 >> shift) - (shift < 2 ? 1 : 0);
    BITS[0] = value;
    const hi = WORDS[HI]!;
    const exponent = ((hi & 0x7ff00000) >> 20) - 1023;
    const power = (hi & 0xfffff) === 0 && WORDS[LO] === 0;
    return (exponent - (power ? 1 : 0)) >> shift;
  }

  /**
   * Makes the range `[from, to]` of one sign fit: the scale goes down by the
   * fewest steps (both signs), or, at the coarsest scale, the zero bucket
   * widens over the lowest buckets.
   */
  #makeRoom(data: Float64Array, base: number, from: number, to: number): void {
    const size = this.#size;
    const scale = this.#scale - data[base + DROP]!;
    let change = 0;
    while (to - from >= size && scale - change > MIN_SCHEMA) {
      from >>= 1;
      to >>= 1;
      change++;
    }
    if (change > 0) {
      this.#rebuild(data, base, POS_LOW, change, -Infinity);
      this.#rebuild(data, base, NEG_LOW, change, -Infinity);
      data[base + DROP]! += change;
    }
    if (to - from >= size) {
      // At the coarsest scale: the zero bucket takes the lowest buckets.
      this.#rebuild(data, base, POS_LOW, 0, to - size);
      this.#rebuild(data, base, NEG_LOW, 0, to - size);
      data[base + THRESHOLD] = upperBound(scale - change, to - size);
    }
  }

  /**
   * Rebuilds one sign's ring: buckets `change` scales coarser, those up to
   * index `last` (after the change) moved into the zero count, the origin
   * at the new lowest bucket.
   */
  #rebuild(
    data: Float64Array,
    base: number,
    low: number,
    change: number,
    last: number,
  ): void {
    const width = data[base + low + 1]!;
    if (width === 0) return;
    const size = this.#size;
    const ring = base + HEADER + (low === NEG_LOW ? size : 0);
    const first = data[base + low]!;
    const origin = data[base + low + 2]!;
    const scratch = this.#scratch;
    for (let i = 0; i < width; i++) {
      let slot = first + i - origin;
      if (slot < 0) slot += size;
      scratch[i] = data[ring + slot]!;
      data[ring + slot] = 0;
    }
    // The new range: non-empty buckets above `last`, at the new scale.
    let from = Infinity;
    let to = -Infinity;
    for (let i = 0; i < width; i++) {
      const index = (first + i) >> change;
      if (index <= last) {
        data[base + ZERO_COUNT]! += scratch[i]!;
      } else if (scratch[i] !== 0) {
        if (index < from) from = index;
        if (index > to) to = index;
      }
    }
    if (from > to) {
      data[base + low] = 0;
      data[base + low + 1] = 0;
      data[base + low + 2] = 0;
      return;
    }
    for (let i = 0; i < width; i++) {
      const index = (first + i) >> change;
      if (index > last) data[ring + index - from]! += scratch[i]!;
    }
    data[base + low] = from;
    data[base + low + 1] = to - from + 1;
    data[base + low + 2] = from;
  }

  /** Reads the native buckets of the series whose native slots start at `base`. */
  read(data: Float64Array, base: number): NativeHistogram {
    const size = this.#size;
    const buckets = (low: number, ring: number) => {
      const first = data[base + low]!;
      const width = data[base + low + 1]!;
      const origin = data[base + low + 2]!;
      const counts: number[] = new Array(width);
      for (let i = 0; i < width; i++) {
        let slot = first + i - origin;
        if (slot < 0) slot += size;
        counts[i] = data[ring + slot]!;
      }
      return { offset: width === 0 ? 0 : first, counts };
    };
    const native = {
      schema: this.#scale - data[base + DROP]!,
      zeroThreshold: Math.max(this.#threshold, data[base + THRESHOLD]!),
      zeroCount: data[base + ZERO_COUNT]!,
      positive: buckets(POS_LOW, base + HEADER),
      negative: buckets(NEG_LOW, base + HEADER + size),
    };
    return data[base + SEEN] === 0
      ? native
      : { ...native, min: data[base + MIN]!, max: data[base + MAX]! };
  }
}
