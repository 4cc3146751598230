/**
 * A real Prometheus 2.42 scrapes a handler fed only by `@opentelemetry/api`
 * calls (the real API package, with edgemetrics' MeterProvider registered
 * as its global provider) and answers PromQL with the translated names:
 * `http_server_request_duration_seconds_bucket`, `target_info`, …
 */
import assert from "node:assert/strict";
import {
  MeterProvider,
  metricsHandler,
  Registry,
} from "@edgemetrics/edgemetrics";
import { promtoolCheckMetrics } from "../_peers.ts";
import { startPrometheus } from "../_prometheus.ts";
import { api } from "../otel/_api.ts";

Deno.test({
  name:
    "Prometheus scrapes a handler fed only by @opentelemetry/api: translated names, typed attributes as labels, target_info",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { metrics } = api;
    metrics.disable();
    const registry = new Registry();
    const provider = new MeterProvider({
      registry,
      resource: { "service.name": "shop", "service.version": "1.4.2" },
    });
    assert.equal(metrics.setGlobalMeterProvider(provider), true);

    // Only API calls from here on, as an instrumented library makes them.
    const meter = metrics.getMeter("shop.http", "1.0.0");
    const duration = meter.createHistogram("http.server.request.duration", {
      unit: "s",
      description: "Duration of HTTP server requests.",
      advice: { explicitBucketBoundaries: [0.05, 0.1, 0.5, 1] },
    });
    const requests = meter.createCounter("http.server.requests", {
      unit: "{request}",
    });
    const active = meter.createUpDownCounter("http.server.active_requests", {
      unit: "{request}",
    });
    const heap = metrics.getMeter("runtime").createObservableGauge(
      "process.memory.usage",
      { unit: "By" },
    );
    heap.addCallback((result) =>
      result.observe(4096, { "memory.type": "heap" })
    );
    const record = (route: string, code: number, seconds: number) => {
      const attributes = {
        "http.route": route,
        "http.response.status_code": code,
      };
      active.add(1, { "http.route": route });
      requests.add(1, attributes);
      duration.record(seconds, attributes);
      active.add(-1, { "http.route": route });
    };
    for (let i = 0; i < 9; i++) record("/cart", 200, 0.02);
    record("/cart", 200, 0.3);
    for (let i = 0; i < 3; i++) record("/orders/{id}", 404, 0.07);
    active.add(2, { "http.route": "/stream" });

    const handle = metricsHandler(registry);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      handle,
    );
    try {
      await using prom = await startPrometheus({
        scrape: [{ job: "otel", port: server.addr.port }],
      });
      await prom.waitForScrape("otel");
      await prom.waitForValue(
        "sum(http_server_request_duration_seconds_count)",
        13,
        "the histogram to be stored",
      );
      assert.equal(
        await prom.value(
          'http_server_request_duration_seconds_bucket{http_route="/cart",http_response_status_code="200",le="0.05"}',
        ),
        9,
      );
      assert.equal(
        await prom.value(
          'http_server_request_duration_seconds_bucket{http_route="/orders/{id}",le="0.1"}',
        ),
        3,
      );
      assert.equal(
        await prom.value('sum(http_server_requests_total{http_route="/cart"})'),
        10,
      );
      assert.equal(
        await prom.value("sum(http_server_active_requests)"),
        2,
      );
      assert.equal(
        await prom.value('process_memory_usage_bytes{memory_type="heap"}'),
        4096,
      );
      const target = await prom.query('target_info{job="otel"}');
      assert.equal(target.length, 1);
      assert.equal(target[0]!.value, 1);
      assert.equal(target[0]!.labels.service_name, "shop");
      assert.equal(target[0]!.labels.service_version, "1.4.2");
      // The metadata Prometheus keeps says what each family is.
      const meta = await prom.api("metadata", {
        metric: "http_server_active_requests",
      }) as Record<string, { type: string }[]>;
      assert.equal(meta.http_server_active_requests![0]!.type, "gauge");

      // The same text parses in promtool; its only remarks are the lint
      // for instruments created without a description (OTel makes it
      // optional), which exits 3 but is not a format error.
      const text = await (await handle(
        new Request("http://localhost/metrics", {
          headers: { Accept: "text/plain;version=0.0.4" },
        }),
      )).text();
      const checked = await promtoolCheckMetrics(text);
      assert.deepEqual(checked, {
        code: 3,
        output: [
          "http_server_active_requests no help text",
          "http_server_requests_total no help text",
          "process_memory_usage_bytes no help text",
          "",
        ].join("\n"),
      });
    } finally {
      await server.shutdown();
      metrics.disable();
    }
  },
});
