/**
 * The classic bucket search of a histogram: which bucket a value falls in,
 * over bounds padded to a power of two so the search is unrolled.
 *
 * @module
 */

/**
 * The bucket of `value`: how many bounds are below it, i.e. the first bucket
 * whose bound is >= `value`, or `bounds.length` (the `+Inf` bucket).
 *
 * `search` holds the bounds padded with `+Infinity` to `2 ** steps - 1`
 * entries (see `HistogramState.search`), so the search always takes `steps`
 * halvings, unrolled below: on 12 buckets that measured about twice as fast
 * as a binary-search loop, whose exit the branch predictor cannot guess.
 */
export function bucketOf(
  search: Float64Array,
  steps: number,
  value: number,
): number {
  let i = 0;
  if (steps > 4) {
    if (steps > 8) return bucketByLoop(search, steps, value);
    if (steps >= 8 && search[i + 127]! < value) i += 128;
    if (steps >= 7 && search[i + 63]! < value) i += 64;
    if (steps >= 6 && search[i + 31]! < value) i += 32;
    if (search[i + 15]! < value) i += 16;
  }
  // `steps` is the same on every call: those tests are always predicted.
  if (steps >= 4 && search[i + 7]! < value) i += 8;
  if (steps >= 3 && search[i + 3]! < value) i += 4;
  if (steps >= 2 && search[i + 1]! < value) i += 2;
  if (search[i]! < value) i += 1;
  return i;
}

/** {@linkcode bucketOf} for more than 255 bounds. */
function bucketByLoop(
  search: Float64Array,
  steps: number,
  value: number,
): number {
  let i = 0;
  for (let step = 1 << (steps - 1); step > 0; step >>= 1) {
    if (search[i + step - 1]! < value) i += step;
  }
  return i;
}
