/**
 * Cloudflare Workers metrics with service-wide totals: every isolate reports
 * its deltas to one Durable Object at most every 10 seconds, and Prometheus
 * scrapes the object's totals through the Worker at `/metrics`.
 *
 * - `MetricsObject` is the Durable Object: a {@linkcode MetricsAggregator}
 *   over the object's own storage (each report one transaction).
 * - The Worker counts its requests and, from each request, lets the
 *   isolate's {@linkcode MetricsReporter} start a report in the background
 *   through `ctx.waitUntil` when 10 s have passed since the last one. Cost:
 *   about one Durable Object request per isolate per 10 s, whatever the
 *   traffic.
 * - `GET /metrics` is forwarded to the object (protect it with a token:
 *   set `METRICS_TOKEN`).
 * - A cron trigger flushes, so an isolate that only runs scheduled work
 *   reports before it ends.
 *
 * Nothing runs at module scope: the reporter's id and its clock start on
 * the first request.
 *
 * wrangler.jsonc:
 *
 * ```jsonc
 * {
 *   "name": "edge",
 *   "main": "examples/worker_aggregated.ts",
 *   "compatibility_date": "2026-07-01",
 *   "durable_objects": {
 *     "bindings": [{ "name": "METRICS", "class_name": "MetricsObject" }]
 *   },
 *   "migrations": [{ "tag": "v1", "new_sqlite_classes": ["MetricsObject"] }],
 *   "triggers": { "crons": ["* * * * *"] },
 *   "vars": { "METRICS_TOKEN": "change-me" }
 * }
 * ```
 *
 * For more series than one object holds comfortably, spread them over
 * several objects: `shards: 4` on the reporter, `fetch: (request, shard) =>
 * objectFor(env, shard).fetch(request)`, and scrape through
 * `metricsHandler(new ShardedSource({ shards: 4, fetch: … }))` (see the
 * README).
 *
 * @module
 */

import {
  Counter,
  durableObjectStorage,
  type DurableObjectStorageLike,
  Histogram,
  MetricsAggregator,
  MetricsReporter,
  Registry,
} from "../mod.ts";

/** The part of a Durable Object namespace binding this Worker uses. */
interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** The bindings this Worker reads. */
interface Env {
  METRICS: DurableObjectNamespaceLike;
  METRICS_TOKEN?: string;
}

/** The part of Cloudflare's ExecutionContext this Worker uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** The Durable Object that keeps the service-wide totals. */
export class MetricsObject {
  #aggregator: MetricsAggregator;

  /** Called by the runtime with the object's state and the bindings. */
  constructor(state: { storage: DurableObjectStorageLike }, env: Env) {
    this.#aggregator = new MetricsAggregator({
      storage: durableObjectStorage(state.storage),
      ...(env.METRICS_TOKEN
        ? { metrics: { auth: { bearer: env.METRICS_TOKEN } } }
        : {}),
    });
  }

  /** Reports, scrapes and shard snapshots. */
  fetch(request: Request): Promise<Response> {
    return this.#aggregator.fetch(request);
  }
}

const registry = new Registry();
const requests = new Counter({
  name: "worker_requests_total",
  help: "Requests served by the worker.",
  labelNames: ["route", "status"] as const,
  registry,
});
const latency = new Histogram({
  name: "worker_request_duration_seconds",
  help: "Time to answer, in seconds.",
  labelNames: ["route"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registry,
});

let reporter: MetricsReporter | undefined;

/** The isolate's reporter, made on the first request (it needs `env`). */
function reporterFor(env: Env): MetricsReporter {
  return reporter ??= new MetricsReporter({
    registry,
    fetch: (request) => aggregatorOf(env).fetch(request),
    intervalMs: 10_000,
  });
}

function aggregatorOf(env: Env) {
  return env.METRICS.get(env.METRICS.idFromName("metrics"));
}

export default {
  async fetch(
    request: Request,
    env: Env,
    ctx: ExecutionContext,
  ): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/metrics") {
      // The object serves the scrape (auth included): forward it as it is.
      return await aggregatorOf(env).fetch(request);
    }
    const started = performance.now();
    const route = url.pathname === "/" ? "/" : "other";
    const response = route === "/"
      ? new Response("hello from the edge\n")
      : new Response("not found\n", { status: 404 });
    requests.inc({ route, status: String(response.status) });
    latency.observe({ route }, (performance.now() - started) / 1000);
    // Most requests do nothing here; one per 10 s starts a report.
    reporterFor(env).schedule(ctx);
    return response;
  },

  scheduled(_event: unknown, env: Env, ctx: ExecutionContext): void {
    ctx.waitUntil(
      reporterFor(env).flush().catch((error) =>
        console.error("metrics report failed:", error)
      ),
    );
  },
};
