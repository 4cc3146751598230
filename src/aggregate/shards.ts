/**
 * Spreading series over several aggregators by a hash of the metric name,
 * and the scrape that merges them back.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import type { CollectFilter } from "../registry.ts";
import type { MetricsSource } from "../pull/handler.ts";
import { mergeSnapshots } from "../workers/merge.ts";
import { positive } from "../push/_delivery_options.ts";
import { parseFamilies } from "./_report.ts";
import { withSignal } from "./_signal.ts";

/**
 * The shard (0 to `shards - 1`) that holds the metric `name`: FNV-1a of the
 * name's UTF-16 code units, modulo `shards`. Every reporter and every scrape
 * computes the same one, so one family always lives in one aggregator.
 *
 * @param name The family name.
 * @param shards How many aggregators there are.
 * @returns The shard index.
 *
 * @example
 * ```ts
 * import { shardOf } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const shard = shardOf("http_requests", 4);
 * assert.ok(shard >= 0 && shard < 4);
 * assert.equal(shardOf("http_requests", 4), shard);
 * assert.equal(shardOf("http_requests", 1), 0);
 * ```
 */
export function shardOf(name: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * Options of {@linkcode ShardedSource}.
 *
 * @example Four Durable Objects named shard-0 … shard-3
 * ```ts
 * import type { ShardedSourceOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const stubs = [0, 1, 2, 3].map(() => ({ fetch: (_r: Request) => Promise.resolve(new Response("[]")) }));
 * const options: ShardedSourceOptions = {
 *   shards: 4,
 *   fetch: (request, shard) => stubs[shard]!.fetch(request),
 * };
 * assert.equal(options.shards, 4);
 * ```
 */
export interface ShardedSourceOptions {
  /** How many aggregators there are. */
  shards: number;
  /** Sends a request to one aggregator, e.g. `env.AGG.get(env.AGG.idFromName(\`shard-${shard}\`)).fetch(request)`. */
  fetch: (request: Request, shard: number) => Promise<Response>;
  /** The snapshot URL (default `http://aggregator.internal/snapshot`); only its path matters to a Durable Object. */
  url?: string;
  /** Request headers, e.g. the aggregators' `Authorization`. */
  headers?: Record<string, string>;
  /** How long one shard may take to answer, in milliseconds (default 5,000). */
  timeoutMs?: number;
}

const OWNER = "ShardedSource";

/**
 * A {@linkcode MetricsSource} that reads every shard's snapshot
 * (`GET /snapshot` of each {@linkcode MetricsAggregator}) at each scrape
 * and merges them with {@linkcode mergeSnapshots}: serve it with
 * `metricsHandler(new ShardedSource(…))` from a small router Worker, or
 * from one of the aggregators itself.
 *
 * A family lives in one shard (see {@linkcode shardOf}) and passes through
 * unchanged; families found in several shards (the aggregators' own
 * metrics) are merged. A shard that fails or does not answer in time is
 * left out, reported with `console.error`, and counted in
 * `edgemetrics_aggregate_shards_missing`; the others are served.
 *
 * @example Two in-memory shards, scraped as one
 * ```ts
 * import {
 *   Counter, metricsHandler, MetricsAggregator, MetricsReporter, Registry, ShardedSource,
 * } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const shards = [new MetricsAggregator(), new MetricsAggregator()];
 * const fetch = (request: Request, shard: number) => shards[shard]!.fetch(request);
 * const registry = new Registry();
 * for (const name of ["a", "b", "c", "d"]) {
 *   new Counter({ name: `${name}_total`, help: "Things.", registry }).inc();
 * }
 * await new MetricsReporter({ registry, shards: 2, fetch }).flush();
 *
 * const scrape = metricsHandler(new ShardedSource({ shards: 2, fetch }));
 * const text = await (await scrape(new Request("http://router/metrics"))).text();
 * for (const name of ["a", "b", "c", "d"]) assert.match(text, new RegExp(`^${name}_total 1$`, "m"));
 * assert.match(text, /^edgemetrics_aggregate_reports_total\{outcome="applied"\} 2$/m);
 * ```
 */
export class ShardedSource implements MetricsSource {
  #shards: number;
  #fetch: (request: Request, shard: number) => Promise<Response>;
  #url: string;
  #headers: Record<string, string>;
  #timeoutMs: number;

  /**
   * Creates the source; it reads nothing until a scrape collects.
   *
   * @param options The shards and how to reach them.
   * @throws {RangeError} When `shards` is not a whole number above 0.
   * @throws {TypeError} When `fetch` is not a function.
   */
  constructor(options: ShardedSourceOptions) {
    const shards = options?.shards;
    if (typeof shards !== "number" || !Number.isInteger(shards) || shards < 1) {
      throw new RangeError(
        `Cannot create ${OWNER}: shards must be a whole number above 0, got ${
          JSON.stringify(shards)
        }`,
      );
    }
    if (typeof options.fetch !== "function") {
      throw new TypeError(
        `Cannot create ${OWNER}: fetch must be a function, got ${typeof options
          .fetch}`,
      );
    }
    this.#shards = shards;
    this.#fetch = options.fetch;
    this.#url = options.url ?? "http://aggregator.internal/snapshot";
    this.#headers = options.headers ?? {};
    this.#timeoutMs = positive(OWNER, "timeoutMs", options.timeoutMs, 5_000);
  }

  /**
   * Every shard's families, merged.
   *
   * @param filter Which families to include, by name and kind.
   * @returns The families, sorted by name.
   */
  async collect(filter?: CollectFilter): Promise<MetricFamily[]> {
    const answers = await Promise.all(
      Array.from({ length: this.#shards }, (_, shard) => this.#read(shard)),
    );
    const byName = new Map<string, MetricFamily[]>();
    let missing = 0;
    for (const families of answers) {
      if (families === undefined) {
        missing++;
        continue;
      }
      for (const family of families) {
        if (filter !== undefined && !filter(family.name, family.type)) continue;
        const list = byName.get(family.name);
        if (list === undefined) byName.set(family.name, [family]);
        else list.push(family);
      }
    }
    const out: MetricFamily[] = [];
    for (const list of byName.values()) {
      if (list.length === 1) {
        out.push(list[0]!);
        continue;
      }
      const merged = mergeSnapshots(
        list.map((family, i) => ({ worker: `shard-${i}`, families: [family] })),
      );
      for (const conflict of merged.conflicts) console.warn(conflict.message);
      out.push(...merged.families);
    }
    const gauge: MetricFamily = {
      type: "gauge",
      name: "edgemetrics_aggregate_shards_missing",
      help: "Shards that did not answer this scrape.",
      aggregation: "sum",
      points: [{ labels: {}, value: missing }],
    };
    if (filter === undefined || filter(gauge.name, gauge.type)) out.push(gauge);
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  async #read(shard: number): Promise<MetricFamily[] | undefined> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      const request = new Request(this.#url, {
        headers: this.#headers,
        signal,
      });
      const response = await withSignal(this.#fetch(request, shard), signal);
      const text = await withSignal(response.text(), signal);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const families = parseFamilies(text);
      if (families === undefined) throw new Error("the answer is no snapshot");
      return families;
    } catch (error) {
      console.error(
        `${OWNER}: shard ${shard} left out of the scrape: ${
          signal.aborted
            ? `no answer within ${this.#timeoutMs} ms`
            : error instanceof Error
            ? error.message
            : String(error)
        }`,
      );
      return undefined;
    }
  }
}
