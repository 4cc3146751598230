/**
 * Coalesced collection: scrapes that arrive while a collection with the
 * same filter is running wait for that one instead of starting their own,
 * so ten dashboards and two Prometheus replicas scraping at once cost one
 * collection (one run of every callback), not twelve.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import type { CollectFilter } from "../registry.ts";

/** Anything that collects a snapshot for a filter, like a registry. */
interface Source {
  collect(filter?: CollectFilter): Promise<readonly MetricFamily[]>;
}

/**
 * Returns a collect function over `source` that shares one running
 * collection among the callers asking for the same `key` (the handler's
 * `name[]` values). A collection is shared only while it runs: the first
 * call after it settled starts a new one, so nobody is served a snapshot
 * taken before it asked and finished before it arrived. The snapshot is
 * shared as is: encoders only read it.
 */
export function coalesce(
  source: Source,
): (key: string, filter: CollectFilter | undefined) => Promise<
  readonly MetricFamily[]
> {
  const running = new Map<string, Promise<readonly MetricFamily[]>>();
  return (key, filter) => {
    const shared = running.get(key);
    if (shared !== undefined) return shared;
    let collection: Promise<readonly MetricFamily[]>;
    try {
      collection = source.collect(filter);
    } catch (error) {
      // A source that throws instead of rejecting fails this scrape only.
      return Promise.reject(error);
    }
    const settled = (): void => {
      if (running.get(key) === tracked) running.delete(key);
    };
    const tracked = Promise.resolve(collection);
    tracked.then(settled, settled);
    running.set(key, tracked);
    return tracked;
  };
}
