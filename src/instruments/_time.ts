/**
 * The `time(labels?, fn)` of Histogram, Summary and Gauge: runs a function
 * between a timer's start and end, sync or async, ending the timer whether
 * the function returns, throws or rejects.
 *
 * @module
 */

import { isPromise } from "./options.ts";

/** The arguments of `time`: `(fn)` or `(labels, fn)`, told apart by type. */
export function timeArguments<T, Labels>(
  metric: string,
  labelsOrFn: Labels | (() => T),
  fn: (() => T) | undefined,
): { labels: Labels | undefined; fn: () => T } {
  if (typeof labelsOrFn === "function") {
    return { labels: undefined, fn: labelsOrFn as () => T };
  }
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot time metric "${metric}": expected a function to time, got ${typeof fn}`,
    );
  }
  return { labels: labelsOrFn, fn };
}

/**
 * Calls `fn` and then `end`, once: at once when `fn` returns or throws, or
 * when the promise it returns settles. Returns what `fn` returned (a
 * promise settling like `fn`'s, after `end` ran) and rethrows what it threw.
 */
export function timeCall<T>(end: () => unknown, fn: () => T): T {
  let result: T;
  try {
    result = fn();
  } catch (error) {
    end();
    throw error;
  }
  if (!isPromise(result)) {
    end();
    return result;
  }
  return result.then(
    (value) => {
      end();
      return value;
    },
    (error) => {
      end();
      throw error;
    },
  ) as T;
}
