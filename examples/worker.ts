/**
 * A Cloudflare Worker (or any `export default { fetch }` runtime) that counts
 * its requests, serves them to Prometheus at `/metrics`, and pushes them to an
 * OpenTelemetry collector after each response with `ctx.waitUntil`, which
 * keeps the isolate alive until the export is done without delaying the
 * response.
 *
 * Cloudflare Workers forbid random values, timers and I/O at module scope.
 * Declaring instruments and the handler here does none of them, and the
 * exporter is made on the first request (it needs the `env` bindings); it
 * makes its `service.instance.id` on its first export, one per isolate, so
 * the cumulative streams of different isolates never merge.
 *
 * Bindings: `OTLP_ENDPOINT` (default `http://localhost:4318/v1/metrics`)
 * and optionally `OTLP_API_KEY`, sent as the `x-api-key` header.
 *
 * @module
 */

import {
  Counter,
  metricsHandler,
  OtlpExporter,
  Registry,
} from "@edgemetrics/edgemetrics";

/** The bindings this worker reads. */
interface Env {
  OTLP_ENDPOINT?: string;
  OTLP_API_KEY?: string;
}

/** The part of Cloudflare's ExecutionContext this worker uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

const registry = new Registry();
const requests = new Counter({
  name: "worker_requests_total",
  help: "Requests served by the worker.",
  labelNames: ["route", "status"] as const,
  registry,
});
const serveMetrics = metricsHandler(registry, { path: "/metrics" });

let exporter: OtlpExporter | undefined;

/** The isolate's exporter, made on the first request that needs it. */
function exporterFor(env: Env): OtlpExporter {
  return exporter ??= new OtlpExporter({
    url: env.OTLP_ENDPOINT ?? "http://localhost:4318/v1/metrics",
    ...(env.OTLP_API_KEY ? { headers: { "x-api-key": env.OTLP_API_KEY } } : {}),
    resource: { "service.name": "edge-worker" },
    registry,
    timeoutMs: 5_000,
    deadlineMs: 20_000,
  });
}

export default {
  async fetch(
    request: Request,
    env: Env,
    ctx: ExecutionContext,
  ): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/metrics") return await serveMetrics(request);
    const route = url.pathname === "/" ? "/" : "other";
    const response = route === "/"
      ? new Response("hello from the edge\n")
      : new Response("not found\n", { status: 404 });
    requests.inc({ route, status: String(response.status) });
    // Export after the response; a failed export is logged, never thrown
    // into the request. Overlapping flushes coalesce into one.
    ctx.waitUntil(
      exporterFor(env).flush().catch((error) =>
        console.error("metrics export failed:", error)
      ),
    );
    return response;
  },
};
