/**
 * A small order service, instrumented: requests and latency by route, orders
 * placed, and `/metrics` for Prometheus.
 *
 * Run it with `deno task demo`, then:
 *
 * ```sh
 * curl -X POST localhost:8000/checkout
 * curl localhost:8000/orders/84321
 * curl localhost:8000/metrics
 * curl -H 'Accept: application/openmetrics-text' localhost:8000/metrics
 * ```
 *
 * @module
 */

import {
  Counter,
  instrument,
  metricsHandler,
  WorkerAggregator,
} from "@edgemetrics/edgemetrics";

// Declared once at module scope, in the default registry.
const ordersPlaced = new Counter({
  name: "orders_placed_total",
  help: "Orders placed.",
});

/** Stands in for a payment provider that takes 220 ms to answer. */
function chargeCard(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 220));
}

type Params = Record<string, string | undefined>;

/** The service's routes: the same templates name the `route` label. */
const routes: {
  method: string;
  path: string;
  handle: (request: Request, params: Params) => Response | Promise<Response>;
}[] = [
  { method: "GET", path: "/health", handle: () => new Response("ok\n") },
  {
    method: "GET",
    path: "/orders/:id",
    handle: (_request, { id }) => Response.json({ id, status: "shipped" }),
  },
  {
    method: "POST",
    path: "/checkout",
    handle: async () => {
      await chargeCard();
      ordersPlaced.inc();
      return Response.json({ status: "placed" }, { status: 201 });
    },
  },
];
const patterns = routes.map((route) => ({
  ...route,
  pattern: new URLPattern({ pathname: route.path }),
}));

async function app(request: Request): Promise<Response> {
  for (const { method, pattern, handle } of patterns) {
    const match = pattern.exec(request.url);
    if (match === null) continue;
    if (request.method !== method) {
      return new Response("Method Not Allowed\n", {
        status: 405,
        headers: { Allow: method },
      });
    }
    return await handle(request, match.pathname.groups);
  }
  return new Response("Not Found\n", { status: 404 });
}

// Counts http_requests_total{method,route,status} and times
// http_request_duration_seconds{method,route}: `/orders/84321` is recorded as
// `/orders/{id}`, unknown paths as `other`. A sampled `traceparent` header
// becomes an exemplar (trace_id, span_id) on the latency bucket, shown in
// OpenMetrics scrapes.
const measured = instrument(app, {
  routes: routes.map((route) => route.path),
  inFlight: true, // http_requests_in_flight, charted by examples/grafana/
});
// Under `deno serve --parallel` every worker has its own registry: a scrape
// answered through the aggregator reports the whole service's totals,
// whichever worker it reaches. With one worker it is the local registry.
const workers = new WorkerAggregator();
workers.start(); // Deno allows I/O at module scope: answer peers from the start
// An open BroadcastChannel would keep the worker alive after SIGTERM.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => workers.close());
}
const metrics = metricsHandler(workers);

export default {
  fetch(request: Request): Promise<Response> {
    // Scrapes are served beside the measured app, so they don't count as traffic.
    return new URL(request.url).pathname === "/metrics"
      ? metrics(request)
      : measured(request);
  },
} satisfies Deno.ServeDefaultExport;
