// A Cloudflare Worker as an npm user writes it, from the main entry of the
// installed package (tree-shaking leaves the push side out), bundled by
// esbuild and run in workerd. POST /record records; GET /metrics serves.
import {
  Counter,
  Histogram,
  metricsHandler,
  Registry,
} from "@edgemetrics/edgemetrics";

const registry = new Registry();
const requests = new Counter({
  name: "http_requests_total",
  help: "Total HTTP requests.",
  labelNames: ["method", "status"],
  registry,
});
const latency = new Histogram({
  name: "http_request_duration_seconds",
  help: "Request latency.",
  buckets: [0.1, 0.5],
  registry,
});
const metrics = metricsHandler(registry);

export default {
  fetch(request) {
    if (new URL(request.url).pathname === "/metrics") return metrics(request);
    requests.inc({ method: "GET", status: "200" }, 3);
    requests.labels("POST", "500").inc();
    latency.observe(0.2);
    latency.observe(0.05);
    return new Response("recorded\n");
  },
};
