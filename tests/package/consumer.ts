// A TypeScript user's file, type-checked by tsc against the package's .d.ts
// (strict, moduleResolution bundler and nodenext). The @ts-expect-error lines
// prove the declarations carry real types, not `any`.
import {
  Counter,
  Histogram,
  metricsHandler,
  Registry,
} from "@edgemetrics/edgemetrics/pull";
import {
  OtlpExporter,
  type OtlpExporterOptions,
} from "@edgemetrics/edgemetrics/push";
import type {
  MetricFamily,
  Registry as MainRegistry,
} from "@edgemetrics/edgemetrics";

const registry: MainRegistry = new Registry();
const requests = new Counter({
  name: "http_requests_total",
  help: "Total HTTP requests.",
  labelNames: ["method", "status"] as const,
  registry,
});
requests.inc({ method: "GET", status: "200" });
requests.labels("GET", "200").inc(2);
// @ts-expect-error: "route" is not one of the counter's label names
requests.inc({ route: "/" });
// @ts-expect-error: an increment is a number
requests.inc({ method: "GET", status: "200" }, "1");

const latency = new Histogram({
  name: "latency_seconds",
  help: "Latency.",
  registry,
});
const end: () => number = latency.startTimer();
end();

const fetchMetrics: (request: Request) => Promise<Response> = metricsHandler(
  registry,
);
const options: OtlpExporterOptions = {
  url: "http://collector.test/v1/metrics",
  protocol: "json",
  registry,
};
// @ts-expect-error: protocol is "protobuf" or "json"
const wrong: OtlpExporterOptions = { protocol: "grpc" };
const exporter = new OtlpExporter(options);
const families: Promise<MetricFamily[]> = registry.collect();

export { exporter, families, fetchMetrics, wrong };
