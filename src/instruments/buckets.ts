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
 * Options of {@linkcode sloBuckets}.
 *
 * @example Two latency targets, finer around them
 * ```ts
 * import type { SloBucketsOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: SloBucketsOptions = { targets: [0.1, 0.3], margin: 0.2 };
 * assert.equal(options.targets.length, 2);
 * ```
 */
export interface SloBucketsOptions {
  /** The SLO thresholds (e.g. `[0.1, 0.3]` seconds); each becomes a bound. */
  targets: readonly number[];
  /** The lowest bound of the ladder; default: the smallest target / 10. */
  min?: number;
  /** The highest bound; default: the largest target × 10. */
  max?: number;
  /** Bounds per power of ten in the ladder from `min` to `max` (default 3). */
  perDecade?: number;
  /**
   * How far beside each target the two extra bounds sit, relative
   * (default 0.1: at 0.9 and 1.1 times the target); ladder bounds closer
   * to a target than that are left out.
   */
  margin?: number;
}

/**
 * Returns histogram bounds for latency SLOs: every target is a bound, so
 * "the share of requests faster than the target" is an exact bucket ratio,
 * with a bound just below and just above each target, so quantiles near
 * the threshold (and a target moved by a little) stay accurate; around
 * them, a ladder of `perDecade` bounds per power of ten from `min` to `max`
 * (values rounded to two significant digits) keeps the rest of the range
 * visible at a low series cost.
 *
 * @param options The targets and the ladder's range and density.
 * @returns The bounds, strictly increasing.
 * @throws {TypeError} When `targets` is not an array of numbers.
 * @throws {RangeError} When `targets` is empty, a target, `min` or `max` is
 * not a positive finite number, `min` is not below `max`, a target lies
 * outside `min`..`max`, `perDecade` is not a whole number from 1 to 20, or
 * `margin` is not above 0 and below 0.5.
 *
 * @example Buckets for 100 ms and 300 ms latency objectives
 * ```ts
 * import { Histogram, Registry, sloBuckets } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const buckets = sloBuckets({ targets: [0.1, 0.3] });
 * assert.deepEqual(buckets, [
 *   0.01, 0.022, 0.046, 0.09, 0.1, 0.11, 0.22, 0.27, 0.3, 0.33, 0.46, 1, 2.2, 3,
 * ]);
 * const latency = new Histogram({ name: "rpc_seconds", help: "RPC time.", buckets, registry: new Registry() });
 * assert.equal(latency.name, "rpc_seconds");
 * ```
 */
export function sloBuckets(options: SloBucketsOptions): number[] {
  const targets: unknown = options?.targets;
  if (
    !Array.isArray(targets) || targets.some((t) => typeof t !== "number")
  ) {
    throw new TypeError(
      `Cannot make SLO buckets: targets must be an array of numbers, got ${
        describe(targets)
      }`,
    );
  }
  if (targets.length === 0) fail("SLO", "targets must not be empty");
  for (const target of targets as number[]) {
    checkPositive("targets", target);
  }
  const lowest = Math.min(...targets), highest = Math.max(...targets);
  const min = options.min ?? lowest / 10;
  const max = options.max ?? highest * 10;
  checkPositive("min", min);
  checkPositive("max", max);
  if (!(min < max)) {
    fail("SLO", `min must be below max, got min ${min} and max ${max}`);
  }
  if (lowest < min || highest > max) {
    fail(
      "SLO",
      `targets must lie between min ${min} and max ${max}, got ${
        lowest < min ? lowest : highest
      }`,
    );
  }
  const perDecade = options.perDecade ?? 3;
  if (!Number.isInteger(perDecade) || perDecade < 1 || perDecade > 20) {
    fail(
      "SLO",
      `perDecade must be a whole number from 1 to 20, got ${
        describe(perDecade)
      }`,
    );
  }
  const margin = options.margin ?? 0.1;
  if (typeof margin !== "number" || !(margin > 0 && margin < 0.5)) {
    fail(
      "SLO",
      `margin must be above 0 and below 0.5, got ${describe(margin)}`,
    );
  }
  const round = (value: number): number => Number(value.toPrecision(12));
  const nearTarget = (value: number): boolean =>
    (targets as number[]).some((t) =>
      value > t * (1 - margin) && value < t * (1 + margin)
    );
  const bounds = new Set<number>([round(min), round(max)]);
  const first = Math.floor(Math.log10(min) * perDecade);
  const last = Math.ceil(Math.log10(max) * perDecade);
  for (let k = first; k <= last; k++) {
    const value = Number((10 ** (k / perDecade)).toPrecision(2));
    if (value >= min && value <= max) bounds.add(round(value));
  }
  for (const bound of [...bounds]) {
    if (nearTarget(bound)) bounds.delete(bound);
  }
  for (const target of targets as number[]) {
    bounds.add(round(target * (1 - margin)));
    bounds.add(round(target));
    bounds.add(round(target * (1 + margin)));
  }
  return [...bounds].filter((b) => b >= min && b <= max).sort((a, b) => a - b);
}

function checkPositive(name: string, value: unknown): void {
  if (
    typeof value !== "number" || !Number.isFinite(value) || !(value > 0)
  ) {
    fail(
      "SLO",
      `${name} must be positive and finite, got ${describe(value)}`,
    );
  }
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
