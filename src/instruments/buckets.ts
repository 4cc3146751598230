/**
 * Histogram bucket bounds: the default set and generators for linear and
 * exponential series.
 *
 * @module
 */

import { describe } from "../names.ts";

/**
 * The default histogram buckets, in seconds: 5 ms to 10 s, suited to the
 * latency of a web request. The `+Inf` bucket is implicit.
 *
 * @example
 * ```ts
 * import { DEFAULT_BUCKETS } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(DEFAULT_BUCKETS, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
 * ```
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
]);

/**
 * Returns `count` bucket bounds starting at `start`, each `width` above the
 * previous one. Bounds are rounded to 12 significant digits so float noise
 * (`0.1 + 0.2` = `0.30000000000000004`) never shows in an `le` label.
 *
 * @param start The first bound.
 * @param width The distance between bounds; positive.
 * @param count How many bounds; a whole number of at least 1.
 * @returns The bounds, strictly increasing.
 * @throws {RangeError} When an argument is not finite, `width` is not
 * positive, or `count` is not a whole number of at least 1.
 *
 * @example Ten buckets of 100 ms
 * ```ts
 * import { linearBuckets } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(linearBuckets(0.1, 0.1, 5), [0.1, 0.2, 0.3, 0.4, 0.5]);
 * ```
 */
export function linearBuckets(
  start: number,
  width: number,
  count: number,
): number[] {
  checkFinite("linear", "start", start);
  checkFinite("linear", "width", width);
  if (!(width > 0)) fail("linear", `width must be positive, got ${width}`);
  return generate("linear", count, (i) => start + i * width);
}

/**
 * Returns `count` bucket bounds starting at `start`, each `factor` times the
 * previous one. Bounds are rounded to 12 significant digits so float noise
 * never shows in an `le` label.
 *
 * @param start The first bound; positive.
 * @param factor The ratio between bounds; greater than 1.
 * @param count How many bounds; a whole number of at least 1.
 * @returns The bounds, strictly increasing.
 * @throws {RangeError} When an argument is not finite, `start` is not
 * positive, `factor` is not above 1, or `count` is not a whole number of at
 * least 1.
 *
 * @example Doubling from 1 ms
 * ```ts
 * import { exponentialBuckets } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(exponentialBuckets(0.001, 2, 4), [0.001, 0.002, 0.004, 0.008]);
 * ```
 */
export function exponentialBuckets(
  start: number,
  factor: number,
  count: number,
): number[] {
  checkFinite("exponential", "start", start);
  checkFinite("exponential", "factor", factor);
  if (!(start > 0)) {
    fail("exponential", `start must be positive, got ${start}`);
  }
  if (!(factor > 1)) {
    fail("exponential", `factor must be greater than 1, got ${factor}`);
  }
  return generate("exponential", count, (i) => start * factor ** i);
}

/**
 * Checks `count`, then returns the bounds `bound(0)` to `bound(count - 1)`
 * rounded to 12 significant digits, which removes binary float noise.
 * Rounding or overflow could make bounds equal or infinite: such a series
 * is refused.
 */
function generate(
  kind: string,
  count: number,
  bound: (i: number) => number,
): number[] {
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1) {
    fail(
      kind,
      `count must be a whole number of at least 1, got ${describe(count)}`,
    );
  }
  const bounds: number[] = [];
  for (let i = 0; i < count; i++) {
    const value = Number(bound(i).toPrecision(12));
    if (!Number.isFinite(value) || (i > 0 && !(value > bounds[i - 1]!))) {
      fail(
        kind,
        `bounds must be finite and strictly increasing, but bound ${
          i + 1
        } is ${value} after ${
          bounds[i - 1]
        }; use fewer buckets or a larger step`,
      );
    }
    bounds.push(value);
  }
  return bounds;
}

function checkFinite(kind: string, name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fail(
      kind,
      `${name} must be a finite number, got ${describe(value)}`,
    );
  }
}

function fail(kind: string, detail: string): never {
  throw new RangeError(`Cannot make ${kind} buckets: ${detail}`);
}
