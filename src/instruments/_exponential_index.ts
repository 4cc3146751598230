/**
 * The bucket index of a value in base-2 exponential buckets, exactly as the
 * OpenTelemetry JS SDK maps it: exact powers of two by their bits, scales
 * up to 0 by the exponent, finer scales by
 * `Math.floor(Math.log(v) * 2 ** scale / Math.LN2)`. So the same
 * observations give the same buckets as its `ExponentialHistogram`.
 *
 * The logarithm is the slow part, so scales 1..8 read the bucket within an
 * octave from a table instead, indexed by the top mantissa bits: a cell
 * holds the bucket every value of the cell has, or {@linkcode BOUNDARY}
 * where a bucket boundary is near, and only those values take the
 * logarithm. The native histogram's common path does that lookup itself
 * (see `_exponential.ts`).
 *
 * @module
 */

/** A double and its two 32-bit halves, to read a value's bits. */
const BITS = /* @__PURE__ */ new Float64Array(1);
const WORDS = /* @__PURE__ */ new Int32Array(BITS.buffer);
/** Which half of `WORDS` holds the sign, exponent and top of the significand. */
export const HI: number = /* @__PURE__ */ new Uint8Array(
  new Uint16Array([1]).buffer,
)[0]!;
const LO = 1 - HI;

/** The smallest normal double, 2^-1022. */
export const MIN_NORMAL = 2.2250738585072014e-308;

/** Scales 1 up to this one have a table. */
export const MAX_TABLE_SCALE = 8;
/** Mantissa bits a table reads beyond the scale: 1 cell in 64 holds a boundary. */
export const EXTRA_BITS = 6;
/** A table cell near a bucket boundary: its values take the logarithm. */
export const BOUNDARY = -1;

/** Scales 1..8 in one array, made on first use (never at import). */
let cached: Int16Array | undefined;

/**
 * Where the table of `scale` (1..8) starts in {@linkcode octaveTables}'s array: each
 * has `2 ** (scale + EXTRA_BITS)` cells, so the ones before it add up to this.
 */
export function tableStart(scale: number): number {
  return (1 << (scale + EXTRA_BITS)) - (1 << (1 + EXTRA_BITS));
}

/**
 * The tables of every scale 1..8, one after another. For a scale, the
 * bucket within an octave for each cell of the top `scale + EXTRA_BITS`
 * mantissa bits, where the SDK's `Math.floor(Math.log(v) * factor)` is the
 * same for every value of the cell (with a wide margin for its rounding);
 * {@linkcode BOUNDARY} where a bucket boundary is near.
 */
export function octaveTables(): Int16Array {
  if (cached !== undefined) return cached;
  const tables = new Int16Array(tableStart(MAX_TABLE_SCALE + 1));
  for (let scale = 1; scale <= MAX_TABLE_SCALE; scale++) {
    const start = tableStart(scale);
    const cells = 2 ** (scale + EXTRA_BITS);
    const factor = Math.LOG2E * 2 ** scale;
    for (let c = 0; c < cells; c++) {
      const from = Math.log(1 + c / cells) * factor;
      const to = Math.log(1 + (c + 1) / cells) * factor;
      const low = Math.floor(from - 1e-6);
      tables[start + c] = low === Math.floor(to + 1e-6) ? low : BOUNDARY;
    }
    // The first cell holds the powers of two, which the SDK puts one bucket
    // down: they take the long way, so the table needs no second test.
    tables[start] = BOUNDARY;
  }
  return cached = tables;
}

/**
 * The bucket of a positive finite `value` at `scale` (-4..20), as the OTel
 * JS SDK maps it. Not on the common path: it may allocate the tables once.
 */
export function indexOf(value: number, scale: number): number {
  if (scale > 0) {
    // Not `2 ** scale`: V8 calls `pow` for it.
    const power = 1 << scale;
    if (value <= MIN_NORMAL) return -1022 * power - 1;
    BITS[0] = value;
    const hi = WORDS[HI]!;
    const exponent = ((hi & 0x7ff00000) >> 20) - 1023;
    const mantissa = hi & 0xfffff;
    if (mantissa === 0 && WORDS[LO] === 0) return exponent * power - 1;
    if (scale <= MAX_TABLE_SCALE) {
      const cell = octaveTables()[
        tableStart(scale) + (mantissa >>> (20 - EXTRA_BITS - scale))
      ]!;
      if (cell >= 0) return exponent * power + cell;
    }
    const index = Math.floor(Math.log(value) * (Math.LOG2E * power));
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

/** The largest double below a positive finite `value`. */
export function nextDown(value: number): number {
  BITS[0] = value;
  if (WORDS[LO] === 0) WORDS[HI]!--;
  WORDS[LO]!--;
  return BITS[0]!;
}
