// What an npm user writes, in plain JavaScript: the package's three entries,
// a scrape and an OTLP push. Run by Node (with type stripping off) and Bun
// from a project that installed the packed tarball; prints what it saw.
import assert from "node:assert/strict";
import * as main from "@edgemetrics/edgemetrics";
import {
  Counter,
  Histogram,
  metricsHandler,
  Registry,
} from "@edgemetrics/edgemetrics/pull";
import {
  OtlpExporter,
  Registry as PushRegistry,
} from "@edgemetrics/edgemetrics/push";

// One class whichever entry it comes from: a registry made from one entry
// takes instruments made from another.
assert.equal(Registry, main.Registry);
assert.equal(PushRegistry, main.Registry);
assert.equal(Counter, main.Counter);

const registry = new Registry();
const requests = new Counter({
  name: "http_requests_total",
  help: "Total HTTP requests.",
  labelNames: ["method", "status"],
  registry,
});
const latency = new main.Histogram({
  name: "http_request_duration_seconds",
  help: "Request latency.",
  buckets: [0.1, 0.5],
  registry,
});
requests.inc({ method: "GET", status: "200" }, 3);
requests.labels("POST", "500").inc();
latency.observe(0.2);
latency.observe(0.05);
assert.equal(Histogram, main.Histogram);
assert.throws(
  () => requests.inc({ method: "GET", status: "200" }, -1),
  RangeError,
);

const response = await metricsHandler(registry)(
  new Request("http://localhost/metrics"),
);

const pushed = [];
const exporter = new OtlpExporter({
  url: "http://collector.test/v1/metrics",
  protocol: "json",
  resource: { "service.name": "npm-user" },
  registry,
  fetch: async (request) => {
    pushed.push(await request.json());
    return new Response("{}");
  },
});
await exporter.flush();
await exporter.shutdown();

const metrics = pushed[0].resourceMetrics[0].scopeMetrics[0].metrics;
console.log(JSON.stringify({
  status: response.status,
  contentType: response.headers.get("content-type"),
  text: await response.text(),
  otlp: metrics.map((m) => m.name),
}));
