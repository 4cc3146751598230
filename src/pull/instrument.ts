/**
 * HTTP server metrics for any fetch-style handler: requests by method, route
 * and status, and latency by method and route.
 *
 * @module
 */

import type { Labels } from "../model.ts";
import type { Clock } from "../clock.ts";
import { DuplicateMetricError } from "../errors.ts";
import { warnOnce } from "../_warn.ts";
import { defaultRegistry, type Registry } from "../registry.ts";
import { Counter, type CounterChild } from "../instruments/counter.ts";
import { Histogram, type HistogramChild } from "../instruments/histogram.ts";
import { Gauge } from "../instruments/gauge.ts";
import {
  CANNOT_INSTRUMENT,
  type CompiledRoute,
  compileRoutes,
  pathnameOf,
  traceparentExemplar,
} from "./_routes.ts";

/**
 * Options of {@linkcode instrument}.
 *
 * @example Name routes by template, in a registry of your own
 * ```ts
 * import { type InstrumentOptions, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: InstrumentOptions = {
 *   routes: ["/orders/:id", "/health"],
 *   registry: new Registry(),
 *   buckets: [0.1, 0.3, 1],
 * };
 * assert.equal(options.routes?.length, 2);
 * ```
 */
export interface InstrumentOptions {
  /**
   * Route templates in URLPattern pathname syntax (`/orders/:id`), tried in
   * order; the first match names the request's route with its parameters
   * in braces (`/orders/{id}`), and a request that matches none is `other`,
   * so raw paths never become label values. Without URLPattern (older Bun),
   * literal segments, `:name` segments and a final `*` are understood.
   */
  routes?: readonly string[];
  /**
   * Names the route of a request instead of `routes`. It must return a value
   * from a small, fixed set (a template, never the raw path).
   */
  route?: (request: Request) => string;
  /** Where the two metrics are registered; default {@linkcode defaultRegistry}. */
  registry?: Registry;
  /** Prepended to both metric names, e.g. `shop_` gives `shop_http_requests_total`. */
  prefix?: string;
  /** Latency bucket bounds in seconds; default around a 300 ms SLO: 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5. */
  buckets?: readonly number[];
  /**
   * The exemplar labels to keep with a request's latency. Default: `trace_id`
   * and `span_id` from a sampled W3C `traceparent` header. `null`: none.
   */
  exemplar?: ((request: Request) => Labels | undefined) | null;
  /**
   * Also keep the gauge `http_requests_in_flight`: requests the handler has
   * started and not yet answered (default `false`). The dashboard in
   * `examples/grafana/` charts it.
   */
  inFlight?: boolean;
}

/** Latency buckets placed around a 300 ms SLO, in seconds. */
const DEFAULT_BUCKETS: readonly number[] = [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5];

/** Methods kept as label values; anything else is `OTHER`. */
const METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "CONNECT",
  "TRACE",
]);

const REQUEST_LABELS = ["method", "route", "status"] as const;
const LATENCY_LABELS = ["method", "route"] as const;

/** Cached children stop growing here; beyond it records go through label lookups. */
const MAX_CACHED = 2000;

/** The cached children of one method and route. */
interface RouteSeries {
  readonly latency: HistogramChild;
  readonly statuses: Map<number, CounterChild>;
}

/**
 * Wraps a fetch-style handler so every request it answers is counted in
 * `http_requests_total{method,route,status}` and timed in
 * `http_request_duration_seconds{method,route}` (a histogram, buckets around
 * a 300 ms SLO unless `buckets` says otherwise), and, with `inFlight: true`,
 * counted while it runs in the gauge `http_requests_in_flight`.
 *
 * The route label comes from `route`, else from the first of `routes` that
 * matches (`/orders/:id` → `/orders/{id}`), else it is `other`; the method
 * label is the HTTP method, or `OTHER` for a non-standard one. Both keep the
 * label sets bounded whatever the traffic. The duration runs until the
 * handler returns its `Response` (not until the body is sent). A handler
 * that throws is counted with status `500`, and the error is rethrown. A
 * sampled `traceparent` header becomes an exemplar on the latency bucket,
 * linking it to its trace in OpenMetrics scrapes. Extra arguments
 * (`info`, `env`, `ctx`) are passed through, so it wraps Deno, Bun and
 * Workers handlers alike. Recording a known method, route and status reuses
 * bound series and allocates nothing beyond the route lookup. A `route` or
 * `exemplar` option that throws is reported once with `console.warn` and
 * that request goes unrecorded; the response is never affected.
 *
 * Calling it twice with the same registry and prefix shares the two metrics,
 * so both calls must ask for the same `buckets` (or both for the default).
 * Serve `/metrics` beside the wrapped handler, not through it, unless you
 * want scrapes counted as traffic.
 *
 * @param handler The handler to measure.
 * @param options Routes, registry, prefix, buckets and exemplars.
 * @returns A handler that answers like `handler` and records each request.
 * @throws {TypeError} When a route template is invalid, or the registry holds
 * a different metric under one of the two names, or a latency histogram
 * with other buckets (from an earlier call with other `buckets`).
 * @throws {RangeError} When `buckets` are not sorted and distinct.
 *
 * @example Count and time the requests of a small service
 * ```ts
 * import { instrument, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const fetch = instrument(
 *   (request: Request) =>
 *     new Response(null, { status: new URL(request.url).pathname === "/health" ? 200 : 404 }),
 *   { routes: ["/orders/:id", "/health"], registry },
 * );
 * await fetch(new Request("http://localhost/health"));
 * await fetch(new Request("http://localhost/orders/84321", { method: "DELETE" }));
 *
 * const text = await registry.metrics();
 * assert.match(text, /^http_requests_total\{method="GET",route="\/health",status="200"\} 1$/m);
 * assert.match(text, /^http_requests_total\{method="DELETE",route="\/orders\/\{id\}",status="404"\} 1$/m);
 * assert.match(text, /^http_request_duration_seconds_count\{method="GET",route="\/health"\} 1$/m);
 * ```
 */
export function instrument<Rest extends unknown[]>(
  handler: (request: Request, ...rest: Rest) => Response | Promise<Response>,
  options: InstrumentOptions = {},
): (request: Request, ...rest: Rest) => Promise<Response> {
  if (typeof handler !== "function") {
    throw new TypeError(
      `${CANNOT_INSTRUMENT}: the handler must be a function, got ${typeof handler}`,
    );
  }
  const registry = options.registry ?? defaultRegistry;
  const prefix = options.prefix ?? "";
  const requests = shared(
    () =>
      new Counter({
        name: `${prefix}http_requests_total`,
        help: "Total HTTP requests.",
        labelNames: REQUEST_LABELS,
        registry,
      }),
    Counter,
    REQUEST_LABELS,
  );
  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  const latency = shared(
    () =>
      new Histogram({
        name: `${prefix}http_request_duration_seconds`,
        help: "Request latency in seconds.",
        unit: "seconds",
        labelNames: LATENCY_LABELS,
        buckets,
        registry,
      }),
    Histogram,
    LATENCY_LABELS,
  );
  const bounds = latency.bounds;
  if (
    bounds.length !== buckets.length ||
    bounds.some((bound, i) => bound !== buckets[i])
  ) {
    throw new TypeError(
      `${CANNOT_INSTRUMENT}: metric "${
        registry.prefix + latency.name
      }" is already registered with buckets [${
        bounds.join(", ")
      }], not the buckets [${
        buckets.join(", ")
      }] asked for; pass the same buckets to every instrument() on one registry`,
    );
  }
  const inFlight = options.inFlight === true
    ? shared(
      () =>
        new Gauge({
          name: `${prefix}http_requests_in_flight`,
          help: "HTTP requests being served.",
          registry,
        }),
      Gauge,
      [],
    )
    : undefined;
  const clock: Clock = registry.clock;
  const routeOf = options.route ?? routerOf(options.routes ?? []);
  const exemplarOf = options.exemplar === undefined
    ? traceparentExemplar
    : options.exemplar;

  const cache = new Map<string, Map<string, RouteSeries>>();
  let cached = 0;

  function record(
    request: Request,
    status: number,
    started: number,
  ): void {
    const seconds = (clock.monotonic() - started) / 1000;
    const method = METHODS.has(request.method) ? request.method : "OTHER";
    const route = routeOf(request);
    const exemplar = exemplarOf === null ? undefined : exemplarOf(request);
    let byMethod = cache.get(route);
    let series = byMethod?.get(method);
    if (series === undefined) {
      const child = latency.labels(method, route);
      if (cached >= MAX_CACHED) {
        child.observe(seconds, exemplar);
        requests.labels(method, route, String(status)).inc();
        return;
      }
      series = { latency: child, statuses: new Map() };
      if (byMethod === undefined) cache.set(route, byMethod = new Map());
      byMethod.set(method, series);
      cached++;
    }
    series.latency.observe(seconds, exemplar);
    let counter = series.statuses.get(status);
    if (counter === undefined) {
      counter = requests.labels(method, route, String(status));
      if (cached < MAX_CACHED) {
        series.statuses.set(status, counter);
        cached++;
      }
    }
    counter.inc();
  }

  /** Records, but never lets a failing `route` or `exemplar` option fail the request. */
  function safely(request: Request, status: number, started: number): void {
    try {
      record(request, status, started);
    } catch (error) {
      warnOnce(
        `instrument:${prefix}`,
        `could not record a request in "${prefix}http_requests_total": ${error}`,
      );
    }
  }

  return async function instrumented(
    request: Request,
    ...rest: Rest
  ): Promise<Response> {
    const started = clock.monotonic();
    inFlight?.inc();
    let response: Response;
    try {
      response = await handler(request, ...rest);
    } catch (error) {
      inFlight?.dec();
      safely(request, 500, started);
      throw error;
    }
    inFlight?.dec();
    safely(request, response.status, started);
    return response;
  };
}

/** Names routes by the first matching template, `other` when none matches. */
function routerOf(templates: readonly string[]): (request: Request) => string {
  const routes: CompiledRoute[] = compileRoutes(templates);
  return (request) => {
    if (routes.length === 0) return "other";
    const pathname = pathnameOf(request.url);
    for (const route of routes) {
      if (route.test(pathname)) return route.label;
    }
    return "other";
  };
}

/**
 * Registers a metric, or reuses the one of the same kind and label names that
 * a previous `instrument()` call registered under that name.
 */
function shared<M extends { readonly labelNames: readonly string[] }>(
  create: () => M,
  kind: abstract new (...args: never[]) => M,
  labelNames: readonly string[],
): M {
  try {
    return create();
  } catch (error) {
    if (!(error instanceof DuplicateMetricError)) throw error;
    const existing = error.existing;
    // Label names never contain a comma, so equal joins mean equal lists.
    if (
      existing instanceof kind &&
      existing.labelNames.join() === labelNames.join()
    ) {
      return existing;
    }
    throw new TypeError(
      `${CANNOT_INSTRUMENT}: ${error.message}, and it is not a ${kind.name} labelled ${
        labelNames.join(", ")
      } that instrument() can share`,
    );
  }
}
