/**
 * The aggregator: receives many reporters' deltas and serves the
 * service-wide cumulative totals to Prometheus.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import { type Clock, systemClock } from "../clock.ts";
import type { CollectFilter } from "../registry.ts";
import {
  type MetricsAuth,
  metricsHandler,
  type MetricsHandlerOptions,
  type MetricsSource,
} from "../pull/handler.ts";
import { positive } from "../push/_delivery_options.ts";
import { type AggregateStorage, MemoryStorage } from "./storage.ts";
import { Applier } from "./_applier.ts";
import { encodeFamilies, parseReport, REPORT_CONTENT_TYPE } from "./_report.ts";

/**
 * Options of {@linkcode MetricsAggregator}.
 *
 * @example A gateway that keeps gauges of silent reporters for 2 minutes
 * ```ts
 * import type { MetricsAggregatorOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: MetricsAggregatorOptions = {
 *   gaugeExpiryMs: 120_000,
 *   auth: { bearer: "reporters-token" },
 *   metrics: { path: "/metrics" },
 * };
 * assert.equal(options.gaugeExpiryMs, 120_000);
 * ```
 */
export interface MetricsAggregatorOptions {
  /** Where the state lives (default: a new {@linkcode MemoryStorage}). */
  storage?: AggregateStorage;
  /**
   * A reporter that has not reported for this long has its gauges left out
   * of scrapes and removed, in milliseconds (default 60,000). Counters,
   * histograms and summaries are totals and never expire.
   */
  gaugeExpiryMs?: number;
  /**
   * A reporter silent for this long is forgotten, its last sequence number
   * with it, in milliseconds (default one hour, at least `gaugeExpiryMs`).
   * A retry arrives within its reporter's delivery deadline, far sooner.
   */
  forgetReportersMs?: number;
  /**
   * The most series kept, totals and gauges together (default 100,000).
   * New series past it are left out and counted in
   * `edgemetrics_aggregate_dropped_series_total`.
   */
  maxSeries?: number;
  /** Where time comes from (default the system clock). */
  clock?: Clock;
  /**
   * Who may send reports and read `/snapshot`; refused requests answer 401.
   * Default: anyone may report, which suits a Durable Object (only your
   * Workers can reach it); set it for a gateway on a network. Without it,
   * `/snapshot` takes the scrape's `metrics.auth`, so the totals are never
   * readable there without the scrape's credentials.
   */
  auth?: MetricsAuth;
  /** How scrapes are served: path, auth, format, compression (see {@linkcode metricsHandler}). */
  metrics?: MetricsHandlerOptions;
}

/** The path reports are posted to. */
export const AGGREGATE_REPORT_PATH = "/report";
/** The path a shard's snapshot is read from (see {@linkcode ShardedSource}). */
export const AGGREGATE_SNAPSHOT_PATH = "/snapshot";

const OWNER = "MetricsAggregator";

/**
 * Keeps service-wide cumulative totals from the deltas that many
 * {@linkcode MetricsReporter}s send, and serves them through
 * {@linkcode metricsHandler}: a `(Request) => Promise<Response>` core for a
 * Durable Object's `fetch`, or for `Deno.serve`/`Bun.serve` as an
 * aggregation gateway for short-lived jobs (which the Pushgateway is not: it
 * replaces a group's values and never adds them up).
 *
 * Routes of {@linkcode MetricsAggregator.fetch}:
 * - `POST /report`: applies a report. Each (reporter id, sequence number)
 *   is applied once: a retry or duplicate of a report already applied
 *   answers 200 and changes nothing. A body that is not a report answers 400;
 *   a storage failure answers 503 and changes nothing, so the reporter's
 *   retry applies it in full.
 * - `GET /snapshot`: this aggregator's families as exact JSON, for a
 *   {@linkcode ShardedSource} that merges shards.
 * - anything else: the scrape, by {@linkcode metricsHandler} with the
 *   `metrics` options (text, OpenMetrics, gzip, HEAD, `?name[]=`, auth).
 *
 * What the totals are: counters and histograms add every reporter's deltas
 * (histograms only over the bounds first seen for the name), summaries add
 * count and sum (their quantiles cannot be added and are not served), and
 * gauges are each live reporter's latest value, combined by the family's
 * `aggregation` (`sum`, `max`, `min`, or `all`, one series per reporter
 * under a `worker` label holding its id). Data whose kind or bounds disagree
 * with what is stored is left out and reported once with `console.warn`.
 *
 * The aggregator also serves its own metrics:
 * `edgemetrics_aggregate_reports_total{outcome}` (applied, duplicate,
 * rejected, failed; since this instance started), `edgemetrics_aggregate_reporters`
 * (reporters heard within `gaugeExpiryMs`), `edgemetrics_aggregate_series`
 * and `edgemetrics_aggregate_dropped_series_total`.
 *
 * State is read from storage on the first request, then kept in memory:
 * each report is one write of the series it changed (and its sequence
 * number), in one transaction, and a scrape reads memory only. Reports are
 * applied one at a time.
 *
 * @example Apply a report, see its duplicate ignored, scrape the total
 * ```ts
 * import { Counter, MetricsAggregator, MetricsReporter, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const aggregator = new MetricsAggregator();
 * const registry = new Registry();
 * const jobs = new Counter({ name: "jobs_total", help: "Jobs done.", registry });
 * const posted: Request[] = [];
 * const reporter = new MetricsReporter({
 *   registry,
 *   fetch: (request) => {
 *     posted.push(request.clone());
 *     return aggregator.fetch(request);
 *   },
 * });
 * jobs.inc(3);
 * await reporter.flush();
 * await aggregator.fetch(posted[0]!); // the same report again: a duplicate
 *
 * const scrape = await aggregator.fetch(new Request("http://agg/metrics?name[]=jobs_total"));
 * assert.equal(await scrape.text(), "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 3\n");
 * ```
 */
export class MetricsAggregator implements MetricsSource {
  /**
   * Handles one request: a report, a snapshot or a scrape (see the class
   * documentation). Never throws and never rejects. Bound, so it can be
   * passed around as a handler.
   */
  readonly fetch: (request: Request) => Promise<Response>;

  #applier: Applier;
  #reportGate: Gate | undefined;
  #snapshotGate: Gate | undefined;

  /**
   * Creates an aggregator; it reads its storage on the first request.
   *
   * @param options Storage, expiry, limits, auth and scrape options.
   * @throws {RangeError} When a time or limit is not a number above 0.
   * @throws {TypeError} When an option has the wrong shape.
   */
  constructor(options: MetricsAggregatorOptions = {}) {
    const storage = options.storage ?? new MemoryStorage();
    if (
      typeof storage?.list !== "function" ||
      typeof storage.write !== "function"
    ) {
      throw new TypeError(
        `Cannot create ${OWNER}: storage must have list() and write()`,
      );
    }
    const gaugeExpiryMs = positive(
      OWNER,
      "gaugeExpiryMs",
      options.gaugeExpiryMs,
      60_000,
    );
    const limits = {
      gaugeExpiryMs,
      forgetMs: Math.max(
        gaugeExpiryMs,
        positive(OWNER, "forgetReportersMs", options.forgetReportersMs, 3.6e6),
      ),
      maxSeries: positive(OWNER, "maxSeries", options.maxSeries, 100_000),
    };
    this.#applier = new Applier(
      storage,
      limits,
      options.clock ?? systemClock,
    );
    this.#reportGate = gate(options.auth);
    this.#snapshotGate = gate(options.auth ?? options.metrics?.auth);
    const scrape = metricsHandler(this, options.metrics ?? {});
    this.fetch = async (request) => {
      try {
        const { pathname } = new URL(request.url);
        if (pathname === AGGREGATE_REPORT_PATH && request.method === "POST") {
          return await guarded(
            this.#reportGate,
            request,
            () => this.#report(request),
          );
        }
        if (pathname === AGGREGATE_SNAPSHOT_PATH && request.method === "GET") {
          return await guarded(
            this.#snapshotGate,
            request,
            async () =>
              new Response(encodeFamilies(await this.collect()), {
                headers: {
                  "Content-Type": REPORT_CONTENT_TYPE,
                  "Cache-Control": "no-store",
                },
              }),
          );
        }
        return await scrape(request);
      } catch (error) {
        console.error(`${OWNER}: cannot answer ${request.url}:`, error);
        return text(500, "Internal Server Error\n");
      }
    };
  }

  /**
   * The service-wide snapshot: totals, live reporters' gauges and the
   * aggregator's own metrics, sorted by name.
   *
   * @param filter Which families to include, by name and kind.
   * @returns The families.
   */
  async collect(filter?: CollectFilter): Promise<MetricFamily[]> {
    const families = await this.#applier.families();
    return filter === undefined
      ? families
      : families.filter((family) => filter(family.name, family.type));
  }

  async #report(request: Request): Promise<Response> {
    const report = parseReport(await request.text());
    if (typeof report === "string") {
      this.#applier.rejected();
      return text(400, `Cannot apply the report: ${report}\n`);
    }
    const outcome = await this.#applier.apply(report);
    return outcome === "failed"
      ? text(503, "Cannot store the report\n")
      : json(outcome === "applied" ? { applied: true } : { duplicate: true });
  }
}

/** A handler that answers 401 to the requests `auth` refuses. */
type Gate = (request: Request) => Promise<Response>;

/**
 * The scrape handler checks auth already (bearer in constant time, or a
 * predicate): reuse it, asked with a HEAD request carrying the same headers.
 */
function gate(auth: MetricsAuth | undefined): Gate | undefined {
  return auth === undefined
    ? undefined
    : metricsHandler({ collect: () => Promise.resolve([]) }, { auth });
}

async function guarded(
  check: Gate | undefined,
  request: Request,
  answer: () => Promise<Response>,
): Promise<Response> {
  if (check !== undefined) {
    const verdict = await check(
      new Request(request.url, { method: "HEAD", headers: request.headers }),
    );
    if (verdict.status === 401) return text(401, "Unauthorized\n");
  }
  return await answer();
}

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": "no-store",
    },
  });
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), {
    headers: {
      "Content-Type": "application/json",
      "Cache-Control": "no-store",
    },
  });
}
