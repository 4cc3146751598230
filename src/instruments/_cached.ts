/**
 * The `cacheMs` of observable instruments: serve the last value, refresh at
 * most once per window, and never make a scrape wait for a slow source
 * once a value is known (stale-while-revalidate).
 *
 * @module
 */

import { describe } from "../names.ts";
import { isPromise } from "./options.ts";

/**
 * Checks a `cacheMs` option: a finite number of milliseconds, at least 0
 * (0 or omitted: no cache).
 */
export function checkCacheMs(metric: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `Cannot declare metric "${metric}": cacheMs must be a finite number of milliseconds of at least 0, got ${
        describe(value)
      }`,
    );
  }
  return value;
}

/**
 * Wraps `refresh` (a collection that may be slow) so that:
 * - within `windowMs` of the end of the last refresh, the last value is
 *   returned without calling `refresh`;
 * - after it, a new refresh starts and the last value is returned at once
 *   (an async refresh replaces it when it settles); only while no value is
 *   known yet (the first collection, or after a failure) does a collection
 *   wait for the refresh;
 * - at most one refresh runs at a time: callers during one share it;
 * - a refresh that fails after the last value was served is not lost: the
 *   next collection throws its error (the registry reports it) and the value
 *   is forgotten, so a broken source is never served as if it were fresh;
 * - so is a refresh that hangs: once it has run longer than the window (and
 *   at least {@linkcode HUNG_REFRESH_MS}), the next collection throws, the
 *   value is forgotten and the refresh abandoned (what it answers later is
 *   ignored), so the collection after starts a new one.
 */
/** The least time a refresh may run before a collection gives it up. */
export const HUNG_REFRESH_MS = 5000;

export function cached<F>(
  refresh: (signal?: AbortSignal) => F | Promise<F>,
  windowMs: number,
  monotonic: () => number,
): (signal?: AbortSignal) => F | Promise<F> {
  let value: { family: F } | undefined;
  let refreshedAt = -Infinity;
  let running: Promise<F> | undefined;
  let startedAt = 0;
  let failure: { error: unknown } | undefined;

  return (signal) => {
    if (failure !== undefined) {
      const { error } = failure;
      failure = undefined;
      throw error;
    }
    if (value !== undefined && monotonic() - refreshedAt < windowMs) {
      return value.family;
    }
    if (running !== undefined) {
      const pendingMs = monotonic() - startedAt;
      if (
        value === undefined || pendingMs <= Math.max(windowMs, HUNG_REFRESH_MS)
      ) {
        return value?.family ?? running;
      }
      running = undefined;
      value = undefined;
      throw new Error(
        `its refresh has not settled after ${
          Math.round(pendingMs)
        } ms: the last value is no longer served, and the next collection starts a new refresh`,
      );
    }
    refreshedAt = monotonic();
    startedAt = refreshedAt;
    let result: F | Promise<F>;
    try {
      // The signal of the collection that starts the refresh: a registry
      // aborts it only when it waits for the refresh and gives up.
      result = refresh(signal);
    } catch (error) {
      value = undefined;
      throw error;
    }
    if (!isPromise(result)) {
      value = { family: result };
      return result;
    }
    const served = value;
    const attempt: Promise<F> = result.then(
      (family) => {
        if (running !== attempt) return family; // abandoned as hung
        running = undefined;
        value = { family };
        refreshedAt = monotonic();
        return family;
      },
      (error) => {
        if (running !== attempt) throw error; // abandoned as hung
        running = undefined;
        value = undefined;
        // Served stale meanwhile: report at the next collection instead.
        if (served !== undefined) failure = { error };
        throw error;
      },
    );
    running = attempt;
    if (served === undefined) return attempt;
    attempt.catch(() => {}); // reported by the next collection
    return served.family;
  };
}
