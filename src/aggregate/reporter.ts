/**
 * The reporter: one per isolate, sending what its registry recorded since the
 * last acknowledged report to a {@linkcode MetricsAggregator}.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import type { Clock } from "../clock.ts";
import { defaultRegistry } from "../registry.ts";
import type { MetricsSource } from "../pull/handler.ts";
import { deliver, describeError } from "../push/_delivery.ts";
import {
  checkHeaders,
  type DeliveryOptions,
  type DeliverySettings,
  httpUrl,
  positive,
  resolveDelivery,
} from "../push/_delivery_options.ts";
import { Serial } from "../push/_serial.ts";
import { DeltaTracker } from "../push/_delta.ts";
import {
  encodeReport,
  REPORT_CONTENT_TYPE,
  reportFamilies,
} from "./_report.ts";
import { shardOf } from "./shards.ts";
import { withSignal } from "./_signal.ts";

/**
 * Options of {@linkcode MetricsReporter}: where reports go, how often, and
 * the delivery options (retries, timeout, deadline) of every push exporter.
 *
 * @example Report to a Durable Object every 10 seconds
 * ```ts
 * import type { MetricsReporterOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const stub = { fetch: (_request: Request) => Promise.resolve(new Response("{}")) };
 * const options: MetricsReporterOptions = {
 *   fetch: (request) => stub.fetch(request),
 *   intervalMs: 10_000,
 * };
 * assert.equal(options.intervalMs, 10_000);
 * ```
 */
export interface MetricsReporterOptions extends Omit<DeliveryOptions, "fetch"> {
  /**
   * Sends one report: a Durable Object stub's `fetch`, the global `fetch`
   * (to a gateway), or the aggregator's own `fetch` in tests. With several
   * shards, `shard` says which aggregator the report is for.
   */
  fetch: (request: Request, shard: number) => Promise<Response>;
  /** What to report (default {@linkcode defaultRegistry}). */
  registry?: MetricsSource;
  /** How many aggregators the metrics are spread over, by {@linkcode shardOf} (default 1). */
  shards?: number;
  /** The report URL (default `http://aggregator.internal/report`); a Durable Object only sees its path. */
  url?: string;
  /** Request headers, e.g. `Authorization` for a gateway. */
  headers?: Record<string, string>;
  /** The shortest time between two reports started by {@linkcode MetricsReporter.schedule}, in milliseconds (default 10,000). */
  intervalMs?: number;
  /** Where a failed background report is reported (default `console.error`); its data stays for the next one. */
  onError?: (error: Error) => void;
}

/** What `waitUntil` takes: Cloudflare's `ExecutionContext` and its likes. */
export interface WaitUntil {
  /** Keeps the isolate alive until `promise` settles, after the response. */
  waitUntil(promise: Promise<unknown>): void;
}

/** One shard's report sequence. */
interface Shard {
  readonly delta: DeltaTracker;
  readonly settings: DeliverySettings;
  /** The last sequence number acknowledged. */
  seq: number;
  /** The report sent and not yet acknowledged: resent as it is. */
  pending:
    | { readonly seq: number; readonly body: string; commit(): void }
    | undefined;
  /** The status of the last answer, to tell a refused report from a lost one. */
  status: number;
}

const OWNER = "MetricsReporter";

/**
 * Reports an isolate's metrics to a {@linkcode MetricsAggregator}: the
 * delta since the last acknowledged report of counters, histograms and
 * summaries' count and sum, and the current value of gauges.
 *
 * Exactly once: each report carries the isolate's id (a random UUID made on
 * the first report) and a sequence number. A report that fails (an error
 * status, a thrown fetch, no answer within `timeoutMs`) is retried by the
 * shared delivery (429, 502, 503, 504, network errors and timeouts, with
 * backoff, within `deadlineMs`); one that still fails is kept, and the next
 * report resends it unchanged, with the same sequence number, before it
 * reports anything newer. The aggregator applies each (id, sequence) once,
 * so a report that arrived but whose answer was lost is not counted twice,
 * and nothing recorded is lost while the isolate lives. Only a report the
 * aggregator refuses as malformed (400) is given up, with an error.
 *
 * Cost: {@linkcode MetricsReporter.schedule}, called from each request,
 * starts a report at most every `intervalMs` (default 10 s), in the
 * background through `ctx.waitUntil`. Reports grow with isolates × time,
 * not with requests. No timer is ever started, so it is safe to create at
 * module scope in a Cloudflare Worker. What an isolate recorded after its
 * last report is lost if it is evicted before the next one: at most one
 * interval of its data. A shorter interval, or {@linkcode MetricsReporter.flush}
 * at the end of a cron trigger or job, makes that smaller.
 *
 * @example Count in an isolate, report, and read the aggregator's total
 * ```ts
 * import { Counter, MetricsAggregator, MetricsReporter, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const aggregator = new MetricsAggregator();
 * const registry = new Registry();
 * const hits = new Counter({ name: "hits_total", help: "Hits.", registry });
 * const reporter = new MetricsReporter({ registry, fetch: aggregator.fetch });
 *
 * hits.inc(2);
 * await reporter.flush();
 * hits.inc(3);
 * await reporter.flush(); // sends the delta: 3
 *
 * const [total] = await aggregator.collect((name) => name === "hits");
 * assert.equal(total?.type === "counter" && total.points[0]?.value, 5);
 * ```
 */
export class MetricsReporter {
  /** The shortest time between two scheduled reports, in milliseconds. */
  readonly intervalMs: number;
  /** How many aggregators the metrics are spread over. */
  readonly shards: number;

  #registry: MetricsSource;
  #url: string;
  #headers: Record<string, string>;
  #clock: Clock;
  #onError: (error: Error) => void;
  #shards: Shard[];
  #serial = new Serial<void>();
  #id: string | undefined;
  #last: number | undefined;

  /**
   * Creates a reporter; it sends nothing until it is scheduled or flushed.
   *
   * @param options Where reports go, how often, and delivery options.
   * @throws {TypeError} When `fetch` is missing, the URL is not http(s), or a header is invalid.
   * @throws {RangeError} When `intervalMs`, `shards` or a delivery option is out of range.
   */
  constructor(options: MetricsReporterOptions) {
    const send = options?.fetch;
    if (typeof send !== "function") {
      throw new TypeError(
        `Cannot create ${OWNER}: fetch must be a function (a Durable Object stub's fetch, or fetch), got ${typeof send}`,
      );
    }
    const shards = options.shards ?? 1;
    if (!Number.isInteger(shards) || shards < 1) {
      throw new RangeError(
        `Cannot create ${OWNER}: shards must be a whole number above 0, got ${
          JSON.stringify(shards)
        }`,
      );
    }
    this.shards = shards;
    this.intervalMs = positive(OWNER, "intervalMs", options.intervalMs, 10_000);
    this.#url = httpUrl(
      OWNER,
      options.url ?? "http://aggregator.internal/report",
    );
    this.#headers = {
      ...options.headers,
      "Content-Type": REPORT_CONTENT_TYPE,
    };
    checkHeaders(OWNER, this.#headers);
    this.#registry = options.registry ?? defaultRegistry;
    const { fetch: _, ...rest } = options;
    const settings = resolveDelivery(OWNER, {
      timeoutMs: 5_000,
      deadlineMs: 20_000,
      maxAttempts: 3,
      ...rest,
    });
    this.#clock = settings.clock;
    this.#onError = options.onError ??
      ((error) => console.error(`edgemetrics: ${error.message}`));
    this.#shards = Array.from({ length: shards }, (_, index): Shard => {
      const shard: Shard = {
        delta: new DeltaTracker({ summaries: true }),
        seq: 0,
        pending: undefined,
        status: 0,
        settings: {
          ...settings,
          // A Durable Object stub may not honour the request's signal:
          // the attempt's timeout must end it all the same.
          fetch: async (request) => {
            const response = await withSignal(
              send(request, index),
              request.signal,
            );
            shard.status = response.status;
            return response;
          },
        },
      };
      return shard;
    });
  }

  /** This isolate's reporter id, made on first use. */
  get id(): string {
    return this.#id ??= crypto.randomUUID();
  }

  /**
   * Starts a report in the background when `intervalMs` has passed since the
   * last one started (the first call only starts the clock), and hands it to
   * `ctx.waitUntil` so the isolate stays alive until it is delivered. Call it
   * from every request; most calls do nothing. Never throws: a failed report
   * goes to `onError`, and its data to the next report.
   *
   * @param ctx The request's execution context; without one, the report
   * runs unawaited.
   * @returns Whether a report was started.
   *
   * @example
   * ```ts
   * import { MetricsReporter, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * let now = 0;
   * const reporter = new MetricsReporter({
   *   registry: new Registry(),
   *   fetch: () => Promise.resolve(new Response("{}")),
   *   intervalMs: 10_000,
   *   clock: { now: () => now, monotonic: () => now },
   * });
   * const waited: Promise<unknown>[] = [];
   * const ctx = { waitUntil: (promise: Promise<unknown>) => void waited.push(promise) };
   * assert.equal(reporter.schedule(ctx), false); // starts the clock
   * now = 9_999;
   * assert.equal(reporter.schedule(ctx), false);
   * now = 10_000;
   * assert.equal(reporter.schedule(ctx), true);
   * await Promise.all(waited);
   * ```
   */
  schedule(ctx?: WaitUntil): boolean {
    const now = this.#clock.monotonic();
    if (this.#last === undefined) {
      this.#last = now;
      return false;
    }
    if (now - this.#last < this.intervalMs) return false;
    this.#last = now;
    const report = this.flush().catch((error) =>
      this.#onError(error instanceof Error ? error : new Error(String(error)))
    );
    ctx?.waitUntil(report);
    return true;
  }

  /**
   * Reports now: every pending report, then everything recorded before the
   * call. Concurrent calls share a run. For the end of a short job or a cron
   * trigger (`ctx.waitUntil(reporter.flush())`).
   *
   * @returns A promise that resolves once the aggregator acknowledged.
   * @throws {Error} When a report could not be delivered (its data is kept
   * for the next report), or was refused as malformed (its data is dropped).
   */
  flush(): Promise<void> {
    return this.#serial.run(() => this.#report());
  }

  /**
   * Flushes, so `await using reporter = new MetricsReporter(…)` reports what
   * a short job recorded when it leaves the scope.
   *
   * @example
   * ```ts
   * import { Counter, MetricsAggregator, MetricsReporter, Registry } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const aggregator = new MetricsAggregator();
   * const registry = new Registry();
   * {
   *   await using reporter = new MetricsReporter({ registry, fetch: aggregator.fetch });
   *   new Counter({ name: "rows_total", help: "Rows.", registry }).inc(7);
   * }
   * const [rows] = await aggregator.collect((name) => name === "rows");
   * assert.equal(rows?.type === "counter" && rows.points[0]?.value, 7);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.flush();
  }

  async #report(): Promise<void> {
    const families = await this.#registry.collect();
    const time = this.#clock.now();
    const parts: MetricFamily[][] = this.#shards.map(() => []);
    for (const family of families) {
      parts[shardOf(family.name, this.shards)]!.push(family);
    }
    const results = await Promise.allSettled(
      this.#shards.map((shard, i) => this.#send(shard, parts[i]!, time)),
    );
    const failed = results.flatMap((result) =>
      result.status === "rejected" ? [result.reason] : []
    );
    if (failed.length > 0) {
      throw failed.length === 1 ? failed[0] : new AggregateError(
        failed,
        `${failed.length} of ${this.shards} shards failed: ${
          failed.map(describeError).join("; ")
        }`,
      );
    }
  }

  async #send(
    shard: Shard,
    families: MetricFamily[],
    time: number,
  ): Promise<void> {
    // A report left from before goes first, as it was; then this one.
    for (let round = 0; round < 2; round++) {
      const fresh = shard.pending === undefined;
      if (fresh) {
        const batch = shard.delta.prepare(families, time);
        const news = reportFamilies(batch.families, families);
        if (news.length === 0) {
          batch.commit();
          return;
        }
        shard.pending = {
          seq: shard.seq + 1,
          body: encodeReport({
            edgemetrics: 1,
            reporter: this.id,
            seq: shard.seq + 1,
            families: news,
          }),
          commit: batch.commit,
        };
      }
      const pending = shard.pending!;
      shard.status = 0;
      try {
        await deliver(
          "Cannot report metrics to",
          {
            method: "POST",
            url: this.#url,
            headers: this.#headers,
            body: pending.body,
          },
          shard.settings,
        );
      } catch (error) {
        if (shard.status !== 400) throw error;
        shard.pending = undefined;
        pending.commit();
        shard.seq = pending.seq;
        throw new Error(
          `${
            describeError(error)
          }; the aggregator refused the report, its data is dropped`,
          { cause: error },
        );
      }
      shard.pending = undefined;
      pending.commit();
      shard.seq = pending.seq;
      if (fresh) return;
    }
  }
}
