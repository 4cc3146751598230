/**
 * Where a {@linkcode MetricsAggregator} keeps its totals: a small key-value
 * interface, with one implementation in memory and an adapter over a
 * Cloudflare Durable Object's `state.storage`.
 *
 * Nothing of Cloudflare is imported: the adapter takes any object with the
 * few methods it calls (structural types).
 *
 * @module
 */

/**
 * The storage a {@linkcode MetricsAggregator} keeps its state in.
 *
 * Contract: `list` returns every entry whose key starts with `prefix`, with
 * the values as they were written (structured-clone semantics: `NaN` and
 * `Infinity` survive). `write` applies all its puts and deletes, or none of
 * them, and resolves once they are durable; when it rejects, nothing was
 * written. The aggregator calls them one at a time, never concurrently.
 *
 * @example A store of your own over a Map (what {@linkcode MemoryStorage} does)
 * ```ts
 * import type { AggregateStorage } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const data = new Map<string, unknown>();
 * const storage: AggregateStorage = {
 *   list: (prefix) =>
 *     Promise.resolve(new Map([...data].filter(([key]) => key.startsWith(prefix)))),
 *   write: (puts, deletes) => {
 *     for (const key of deletes) data.delete(key);
 *     for (const [key, value] of puts) data.set(key, structuredClone(value));
 *     return Promise.resolve();
 *   },
 * };
 * await storage.write(new Map([["a", 1]]), []);
 * assert.deepEqual(await storage.list(""), new Map([["a", 1]]));
 * ```
 */
export interface AggregateStorage {
  /**
   * Every entry whose key starts with `prefix`.
   *
   * @param prefix The start of the keys to list; `""` lists everything.
   * @returns The entries, by key.
   */
  list(prefix: string): Promise<Map<string, unknown>>;
  /**
   * Writes `puts` and removes `deletes`, atomically.
   *
   * @param puts The values to write, by key.
   * @param deletes The keys to remove.
   */
  write(
    puts: ReadonlyMap<string, unknown>,
    deletes: readonly string[],
  ): Promise<void>;
}

/**
 * An {@linkcode AggregateStorage} in memory: for an aggregation gateway
 * behind `Deno.serve` or `Bun.serve`, and for tests. Its state ends with the
 * process. Values are copied in and out with `structuredClone`, as a Durable
 * Object's storage does, so nothing outside can change what is stored.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * await storage.write(new Map<string, unknown>([["r:a", { seq: 1 }], ["t:x", 2]]), []);
 * await storage.write(new Map(), ["t:x"]);
 * assert.deepEqual(await storage.list("r:"), new Map([["r:a", { seq: 1 }]]));
 * assert.equal(storage.size, 1);
 * ```
 */
export class MemoryStorage implements AggregateStorage {
  #data = new Map<string, unknown>();

  /** How many entries it holds. */
  get size(): number {
    return this.#data.size;
  }

  /**
   * Every entry whose key starts with `prefix`, copied.
   *
   * @param prefix The start of the keys to list.
   * @returns The entries, by key.
   */
  list(prefix: string): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    for (const [key, value] of this.#data) {
      if (key.startsWith(prefix)) out.set(key, structuredClone(value));
    }
    return Promise.resolve(out);
  }

  /**
   * Writes `puts` and removes `deletes`.
   *
   * @param puts The values to write, by key.
   * @param deletes The keys to remove.
   */
  write(
    puts: ReadonlyMap<string, unknown>,
    deletes: readonly string[],
  ): Promise<void> {
    // Clone first: a value that cannot be cloned fails before anything changes.
    const copies = [...puts].map(([key, value]) =>
      [key, structuredClone(value)] as const
    );
    for (const key of deletes) this.#data.delete(key);
    for (const [key, value] of copies) this.#data.set(key, value);
    return Promise.resolve();
  }
}

/**
 * The part of a Durable Object transaction that {@linkcode durableObjectStorage}
 * uses (Cloudflare's `DurableObjectTransaction`).
 *
 * @example
 * ```ts
 * import type { DurableObjectTransactionLike } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const txn: DurableObjectTransactionLike = {
 *   put: () => Promise.resolve(),
 *   delete: (keys) => Promise.resolve(keys.length),
 * };
 * assert.equal(await txn.delete(["a", "b"]), 2);
 * ```
 */
export interface DurableObjectTransactionLike {
  /** Writes up to 128 entries. */
  put(entries: Record<string, unknown>): Promise<void>;
  /** Removes up to 128 keys; resolves with how many existed. */
  delete(keys: string[]): Promise<number>;
}

/**
 * The part of a Durable Object's `state.storage` that
 * {@linkcode durableObjectStorage} uses (Cloudflare's
 * `DurableObjectStorage`, key-value or SQLite-backed).
 *
 * @example
 * ```ts
 * import type { DurableObjectStorageLike } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const storage: DurableObjectStorageLike = {
 *   list: () => Promise.resolve(new Map()),
 *   transaction: (closure) =>
 *     closure({ put: () => Promise.resolve(), delete: () => Promise.resolve(0) }),
 * };
 * assert.equal(typeof storage.transaction, "function");
 * ```
 */
export interface DurableObjectStorageLike {
  /** Lists the entries whose keys start with `prefix`, in key order. */
  list(options: { prefix: string }): Promise<Map<string, unknown>>;
  /** Runs `closure` in a transaction: all its writes happen, or none. */
  transaction<T>(
    closure: (txn: DurableObjectTransactionLike) => Promise<T>,
  ): Promise<T>;
}

/** Durable Object storage takes at most this many keys per put or delete. */
const DO_BATCH = 128;

/**
 * An {@linkcode AggregateStorage} over a Durable Object's `state.storage`:
 * every report's changes are written in one transaction (in batches of 128
 * keys, the API's limit per call), so a report is stored whole or not at
 * all, together with the sequence number that makes its retry a duplicate.
 *
 * Durable Object storage limits a key to 2,048 bytes and (key-value backend)
 * a value to 128 KiB; the aggregator stores one entry per series, and leaves
 * out (and reports) a series whose key would be longer.
 *
 * @param storage The Durable Object's `state.storage` (or `ctx.storage`).
 * @returns The storage for {@linkcode MetricsAggregator}.
 * @throws {TypeError} When `storage` has no `list` or `transaction` method.
 *
 * @example In a Durable Object class (here with a stand-in for `state.storage`)
 * ```ts
 * import {
 *   type DurableObjectStorageLike,
 *   durableObjectStorage,
 *   MetricsAggregator,
 * } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * export class MetricsObject {
 *   #aggregator: MetricsAggregator;
 *   constructor(state: { storage: DurableObjectStorageLike }) {
 *     this.#aggregator = new MetricsAggregator({ storage: durableObjectStorage(state.storage) });
 *   }
 *   fetch(request: Request): Promise<Response> {
 *     return this.#aggregator.fetch(request);
 *   }
 * }
 *
 * const data = new Map<string, unknown>();
 * const object = new MetricsObject({
 *   storage: {
 *     list: () => Promise.resolve(new Map(data)),
 *     transaction: (closure) =>
 *       closure({
 *         put: (entries) => Promise.resolve(void Object.entries(entries).forEach(([k, v]) => data.set(k, v))),
 *         delete: (keys) => Promise.resolve(keys.filter((key) => data.delete(key)).length),
 *       }),
 *   },
 * });
 * const response = await object.fetch(new Request("http://do/metrics"));
 * assert.equal(response.status, 200);
 * ```
 */
export function durableObjectStorage(
  storage: DurableObjectStorageLike,
): AggregateStorage {
  if (
    typeof storage !== "object" || storage === null ||
    typeof storage.list !== "function" ||
    typeof storage.transaction !== "function"
  ) {
    throw new TypeError(
      "Cannot create Durable Object storage: expected state.storage, an object with list() and transaction()",
    );
  }
  return {
    list: (prefix) => storage.list({ prefix }),
    write: (puts, deletes) =>
      storage.transaction(async (txn) => {
        for (let i = 0; i < deletes.length; i += DO_BATCH) {
          await txn.delete(deletes.slice(i, i + DO_BATCH));
        }
        const entries = [...puts];
        for (let i = 0; i < entries.length; i += DO_BATCH) {
          await txn.put(Object.fromEntries(entries.slice(i, i + DO_BATCH)));
        }
      }),
  };
}
