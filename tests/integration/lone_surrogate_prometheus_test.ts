/**
 * A real Prometheus scrapes label values that differ only in lone UTF-16
 * surrogates. Each encodes as U+FFFD, so before they were made well-formed
 * they made two identical series in one scrape, and Prometheus kept one of
 * the two samples: sum() said 2 where 3 were recorded.
 */
import assert from "node:assert/strict";
import { waitFor } from "../_peers.ts";
import { startPrometheus } from "../_prometheus.ts";
import { Counter, metricsHandler, Registry } from "../../mod.ts";

Deno.test({
  name:
    "Prometheus stores one series with every increment for label values that differ only in lone surrogates",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const registry = new Registry();
    const c = new Counter({
      name: "lone_total",
      help: "Values with lone surrogates.",
      labelNames: ["v"] as const,
      registry,
    });
    c.inc({ v: JSON.parse('"x\\ud800"') });
    c.inc({ v: JSON.parse('"x\\udc00"') });
    c.labels("x\ufffd").inc();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      metricsHandler(registry),
    );
    try {
      await using prom = await startPrometheus({
        scrape: [{ job: "lone", port: server.addr.port }],
      });
      await prom.waitForScrape("lone");
      await waitFor(
        "the counter",
        async () => (await prom.query("lone_total")).length > 0,
      );
      const series = await prom.query("lone_total");
      assert.equal(series.length, 1, JSON.stringify(series));
      assert.equal(series[0]!.labels.v, "x\ufffd");
      assert.equal(series[0]!.value, 3);
    } finally {
      await server.shutdown();
    }
  },
});
