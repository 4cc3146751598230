/**
 * The scenario every runtime of the matrix runs: the same instruments, the
 * same recorded values, the same pull handler and the same OTLP push, so one
 * set of expectations (below) holds on every platform.
 *
 * Web standards only, like the module itself: it is imported as `.ts` by
 * Deno, Bun, Node 26 and Node 22, and bundled by `deno bundle` for workerd
 * and edge-runtime. Declaring the instruments does no random, timer or I/O work,
 * so it may run at a Worker's module scope.
 *
 * Routes:
 * - `GET /metrics`: {@linkcode metricsHandler} on the scenario's registry.
 * - `POST /record`: records {@linkcode RECORDED} (once per call).
 * - `POST /push?sink=<url>`: an {@linkcode OtlpExporter} (protobuf, the
 *   default) flushes the registry to `sink`. With a `waitUntil` (Workers,
 *   edge-runtime) the flush runs after the response (202); otherwise the
 *   response waits for it (204, or 500 with the error).
 * - `POST /remote-write?sink=<url>`: the same with a
 *   {@linkcode RemoteWriteExporter} (remote write 1.0, snappy), `job` set to
 *   the runtime's service name.
 *
 * @module
 */

import {
  Counter,
  Histogram,
  metricsHandler,
  OtlpExporter,
  Registry,
  RemoteWriteExporter,
} from "../../mod.ts";

/** What `POST /record` records, and what scrapes and pushes must show. */
export const RECORDED = {
  /** `scenario_requests_total{route}` increments. */
  requests: [["/a", 1], ["/a", 1], ["/b", 3]] as const,
  /** `scenario_latency_seconds` observations (bounds 0.25 and 1). */
  latencies: [0.25, 0.5, 0.5, 2] as const,
};

/** The Prometheus text 0.0.4 a scrape serves after one `POST /record`. */
export const EXPECTED_TEXT: string = [
  "# HELP scenario_requests_total Requests the scenario recorded.",
  "# TYPE scenario_requests_total counter",
  'scenario_requests_total{route="/a"} 2',
  'scenario_requests_total{route="/b"} 3',
  "# HELP scenario_latency_seconds Latencies the scenario recorded.",
  "# TYPE scenario_latency_seconds histogram",
  'scenario_latency_seconds_bucket{le="0.25"} 1',
  'scenario_latency_seconds_bucket{le="1.0"} 3',
  'scenario_latency_seconds_bucket{le="+Inf"} 4',
  "scenario_latency_seconds_sum 3.25",
  "scenario_latency_seconds_count 4",
  "",
].join("\n");

/** The `service.name` a runtime's push carries. */
export function serviceName(runtime: string): string {
  return `edgemetrics-matrix-${runtime}`;
}

/** Lets a flush outlive the response (a Worker's `ctx.waitUntil`). */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** The scenario's fetch handler for one runtime. */
export type ScenarioHandler = (
  request: Request,
  waitUntil?: WaitUntil,
) => Promise<Response>;

/**
 * Declares the scenario's instruments in a registry of their own and
 * returns its fetch handler.
 *
 * @param runtime Names the runtime in the pushed `service.name`.
 */
export function createScenario(runtime: string): ScenarioHandler {
  const registry = new Registry();
  const requests = new Counter({
    name: "scenario_requests_total",
    help: "Requests the scenario recorded.",
    labelNames: ["route"] as const,
    registry,
  });
  const latency = new Histogram({
    name: "scenario_latency_seconds",
    help: "Latencies the scenario recorded.",
    buckets: [0.25, 1],
    registry,
  });
  const metrics = metricsHandler(registry, { path: "/metrics" });

  return async function scenario(
    request: Request,
    waitUntil?: WaitUntil,
  ): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/metrics") return await metrics(request);
    if (request.method === "POST" && url.pathname === "/record") {
      for (const [route, by] of RECORDED.requests) requests.inc({ route }, by);
      for (const seconds of RECORDED.latencies) latency.observe(seconds);
      return new Response("recorded\n");
    }
    if (request.method === "POST" && url.pathname === "/push") {
      const exporter = new OtlpExporter({
        url: url.searchParams.get("sink") ?? "",
        resource: { "service.name": serviceName(runtime) },
        registry,
        timeoutMs: 5_000,
      });
      return await answerPush(exporter.flush(), waitUntil);
    }
    if (request.method === "POST" && url.pathname === "/remote-write") {
      const exporter = new RemoteWriteExporter({
        url: url.searchParams.get("sink") ?? "",
        job: serviceName(runtime),
        registry,
        timeoutMs: 5_000,
      });
      return await answerPush(exporter.flush(), waitUntil);
    }
    return new Response("Not Found\n", { status: 404 });
  };
}

/**
 * The answer to a push route: with a `waitUntil` the flush runs after the
 * response (202); otherwise the response waits for it (204, or 500 with the
 * error).
 */
async function answerPush(
  flushed: Promise<void>,
  waitUntil: WaitUntil | undefined,
): Promise<Response> {
  if (waitUntil !== undefined) {
    waitUntil(flushed.catch((error) => console.error("scenario push:", error)));
    return new Response("pushing\n", { status: 202 });
  }
  try {
    await flushed;
    return new Response(null, { status: 204 });
  } catch (error) {
    return new Response(`push failed: ${error}\n`, { status: 500 });
  }
}
