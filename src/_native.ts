/**
 * Arithmetic on the native (exponential) buckets of snapshot points: to a
 * coarser schema, a wider zero bucket, the sum of two points (merging
 * workers) and the difference of two (delta temporality). Pure functions of
 * plain data, shared by the merge, the delta tracker and the encoders; the
 * recording side is `instruments/_exponential.ts`.
 *
 * Bucket `k` at schema `s` holds `base ** k < |v| <= base ** (k + 1)` with
 * `base = 2 ** (2 ** -s)` (the OTLP numbering). One bucket at schema `s - 1`
 * is two at schema `s`: bucket `k` becomes `k >> 1`, so going `d` schemas
 * coarser is `k >> d`, exactly, with no estimate.
 *
 * @module
 */

import type { ExponentialBuckets, NativeHistogram } from "./model.ts";

/** The coarsest schema Prometheus accepts, and the floor of the recording side. */
export const MIN_SCHEMA = -4;
/** The finest schema Prometheus accepts. */
export const MAX_PROMETHEUS_SCHEMA = 8;
/** The finest scale OTel defines. */
export const MAX_SCHEMA = 20;

/**
 * Most buckets one side of a merged histogram keeps, unless an input already
 * had more: OTel's default, and what the recording side keeps by default.
 */
export const MERGED_BUCKETS = 160;

/**
 * The bucket indexes a finite value can have at `schema`: from the one
 * holding the smallest subnormal (2 ** -1074) to the one holding
 * `Number.MAX_VALUE`. Every index in range fits in 32 bits up to schema 20.
 */
export function indexRange(schema: number): [min: number, max: number] {
  const perOctave = 2 ** schema;
  return [Math.ceil(-1074 * perOctave) - 1, Math.ceil(1024 * perOctave) - 1];
}

/** The upper bound of bucket `index` at `schema`: `2 ** ((index + 1) * 2 ** -schema)`. */
export function upperBound(schema: number, index: number): number {
  return 2 ** ((index + 1) * 2 ** -schema);
}

/** Buckets moved `shift` schemas coarser: index `k` → `k >> shift`. */
function coarser(
  buckets: ExponentialBuckets,
  shift: number,
): ExponentialBuckets {
  if (shift === 0 || buckets.counts.length === 0) return buckets;
  const offset = buckets.offset >> shift;
  const last = (buckets.offset + buckets.counts.length - 1) >> shift;
  const counts = new Array<number>(last - offset + 1).fill(0);
  for (let i = 0; i < buckets.counts.length; i++) {
    counts[((buckets.offset + i) >> shift) - offset]! += buckets.counts[i]!;
  }
  return { offset, counts };
}

/** The same histogram at a coarser (or equal) `schema`. */
export function downscale(
  native: NativeHistogram,
  schema: number,
): NativeHistogram {
  const shift = native.schema - schema;
  if (shift <= 0) return native;
  return {
    ...native,
    schema,
    positive: coarser(native.positive, shift),
    negative: coarser(native.negative, shift),
  };
}

/**
 * The same histogram with a zero bucket of at least `threshold`: every
 * bucket whose upper bound is at most the threshold moves into the zero
 * count.
 */
export function widenZero(
  native: NativeHistogram,
  threshold: number,
): NativeHistogram {
  if (!(threshold > native.zeroThreshold)) return native;
  let zeroCount = native.zeroCount;
  const fold = (buckets: ExponentialBuckets): ExponentialBuckets => {
    let cut = 0;
    const n = buckets.counts.length;
    while (
      cut < n &&
      upperBound(native.schema, buckets.offset + cut) <= threshold
    ) {
      zeroCount += buckets.counts[cut]!;
      cut++;
    }
    return cut === 0 ? buckets : trim({
      offset: buckets.offset + cut,
      counts: buckets.counts.slice(cut),
    });
  };
  const positive = fold(native.positive);
  const negative = fold(native.negative);
  return {
    ...native,
    zeroThreshold: threshold,
    zeroCount,
    positive,
    negative,
  };
}

/** Buckets without empty buckets at either end (offset 0 when none are left). */
function trim(buckets: ExponentialBuckets): ExponentialBuckets {
  const counts = buckets.counts;
  let start = 0;
  let end = counts.length;
  while (start < end && counts[start] === 0) start++;
  while (end > start && counts[end - 1] === 0) end--;
  if (start === 0 && end === counts.length) return buckets;
  if (start === end) return { offset: 0, counts: [] };
  return { offset: buckets.offset + start, counts: counts.slice(start, end) };
}

/** `a + sign * b`, bucket by bucket, over the union of their ranges. */
function combine(
  a: ExponentialBuckets,
  b: ExponentialBuckets,
  sign: 1 | -1,
): ExponentialBuckets {
  if (b.counts.length === 0) return a;
  if (a.counts.length === 0 && sign === 1) return b;
  const aEnd = a.offset + a.counts.length;
  const bEnd = b.offset + b.counts.length;
  const offset = a.counts.length === 0
    ? b.offset
    : Math.min(a.offset, b.offset);
  const end = a.counts.length === 0 ? bEnd : Math.max(aEnd, bEnd);
  const counts = new Array<number>(end - offset).fill(0);
  for (let i = 0; i < a.counts.length; i++) {
    counts[a.offset + i - offset] = a.counts[i]!;
  }
  for (let i = 0; i < b.counts.length; i++) {
    counts[b.offset + i - offset]! += sign * b.counts[i]!;
  }
  return trim({ offset, counts });
}

/** `a` and `b` on a common schema (the coarser) and zero threshold (the wider). */
function align(
  a: NativeHistogram,
  b: NativeHistogram,
): [NativeHistogram, NativeHistogram] {
  const schema = Math.min(a.schema, b.schema);
  const threshold = Math.max(a.zeroThreshold, b.zeroThreshold);
  return [
    widenZero(downscale(a, schema), threshold),
    widenZero(downscale(b, schema), threshold),
  ];
}

/**
 * The native buckets of two series added up (two workers' shares of one
 * series): both taken to the coarser schema and the wider zero bucket, then
 * summed bucket by bucket; min and max of both when both have them.
 */
export function addNative(
  a: NativeHistogram,
  b: NativeHistogram,
): NativeHistogram {
  const [x, y] = fitted(...align(a, b));
  const sum: NativeHistogram = {
    schema: x.schema,
    zeroThreshold: x.zeroThreshold,
    zeroCount: x.zeroCount + y.zeroCount,
    positive: combine(x.positive, y.positive, 1),
    negative: combine(x.negative, y.negative, 1),
  };
  const min = minOf(x.min, y.min);
  const max = maxOf(x.max, y.max);
  return {
    ...sum,
    ...(min === undefined ? {} : { min }),
    ...(max === undefined ? {} : { max }),
  };
}

/**
 * Two aligned histograms taken as many schemas coarser as it takes for the
 * union of each side's buckets to fit in `MERGED_BUCKETS` (or the longest
 * input side): two isolates that saw far-apart values, or a report from a
 * misbehaving client, cannot make a merge allocate billions of buckets.
 * Counts are kept whole; only resolution is given up, as OTel's merge does.
 */
function fitted(
  x: NativeHistogram,
  y: NativeHistogram,
): [NativeHistogram, NativeHistogram] {
  const limit = Math.max(
    MERGED_BUCKETS,
    x.positive.counts.length,
    y.positive.counts.length,
    x.negative.counts.length,
    y.negative.counts.length,
  );
  let schema = x.schema;
  while (
    schema > MIN_SCHEMA &&
    (unionSpan(x.positive, y.positive, x.schema - schema) > limit ||
      unionSpan(x.negative, y.negative, x.schema - schema) > limit)
  ) {
    schema--;
  }
  return [downscale(x, schema), downscale(y, schema)];
}

/** How many buckets `a` and `b` span together once `shift` schemas coarser. */
function unionSpan(
  a: ExponentialBuckets,
  b: ExponentialBuckets,
  shift: number,
): number {
  let low = Infinity;
  let high = -Infinity;
  for (const side of [a, b]) {
    if (side.counts.length === 0) continue;
    low = Math.min(low, Math.floor(side.offset / 2 ** shift));
    high = Math.max(
      high,
      Math.floor((side.offset + side.counts.length - 1) / 2 ** shift),
    );
  }
  return high < low ? 0 : high - low + 1;
}

function minOf(a: number | undefined, b: number | undefined) {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function maxOf(a: number | undefined, b: number | undefined) {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/**
 * What `current` holds beyond `base` (a cumulative series minus its last
 * acknowledged state), on the coarser schema and wider zero bucket; without
 * min and max, which a difference cannot know. `undefined` when a bucket
 * went down, i.e. the series restarted.
 */
export function subtractNative(
  current: NativeHistogram,
  base: NativeHistogram,
): NativeHistogram | undefined {
  const [x, y] = align(current, base);
  const positive = combine(x.positive, y.positive, -1);
  const negative = combine(x.negative, y.negative, -1);
  const zeroCount = x.zeroCount - y.zeroCount;
  if (
    !(zeroCount >= 0) || positive.counts.some((c) => !(c >= 0)) ||
    negative.counts.some((c) => !(c >= 0))
  ) {
    return undefined;
  }
  return {
    schema: x.schema,
    zeroThreshold: x.zeroThreshold,
    zeroCount,
    positive,
    negative,
  };
}
