/**
 * Bounding a fetch-shaped call by its request's signal.
 *
 * @module
 */

/**
 * `promise`, or a rejection once `signal` aborts: a fetch-shaped function
 * (a Durable Object stub, a test double) may not honour the request's
 * signal itself.
 */
export function withSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", abort)
    );
  });
}
