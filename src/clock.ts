/**
 * Where edgemetrics reads time from: injectable, so tests never sleep.
 *
 * @module
 */

/**
 * A source of time. Implementations must return wall-clock milliseconds since
 * the epoch from `now()` and a monotonic millisecond reading (any origin,
 * never going backwards) from `monotonic()`. Neither may throw.
 *
 * @example A clock that tests move by hand
 * ```ts
 * import { Counter, type Clock, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * let t = 1_000;
 * const clock: Clock = { now: () => t, monotonic: () => t };
 * const registry = new Registry({ clock });
 * new Counter({ name: "ticks_total", help: "Ticks.", registry });
 * t = 2_000;
 * const [family] = await registry.collect();
 * assert.equal(family?.type === "counter" && family.points[0]?.created, 1_000);
 * ```
 */
export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic time in milliseconds, for measuring durations. */
  monotonic(): number;
}

/**
 * The clock of the runtime: `Date.now()` and `performance.now()`.
 *
 * @example
 * ```ts
 * import { systemClock } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.ok(systemClock.now() > 1_600_000_000_000);
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
