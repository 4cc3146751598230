/**
 * The aggregator off Cloudflare, as an aggregation gateway for short-lived
 * jobs with the in-memory store: behind `Deno.serve` scraped by a real
 * Prometheus that answers PromQL with the jobs' totals, and behind
 * `Bun.serve` in a real Bun.
 */
import assert from "node:assert/strict";
import { answers, freePort, startPeer, TOOLS_BIN } from "../_peers.ts";
import { startPrometheus } from "../_prometheus.ts";
import { Registry } from "../../src/registry.ts";
import { Counter } from "../../src/instruments/counter.ts";
import { Histogram } from "../../src/instruments/histogram.ts";
import { MetricsAggregator } from "../../src/aggregate/aggregator.ts";
import { MetricsReporter } from "../../src/aggregate/reporter.ts";

const TOKEN = "gateway-token";

/**
 * One short-lived job: its own registry, `items` items processed, each
 * taking `seconds`, reported once at the end over HTTP, as a job would.
 */
async function job(
  url: string,
  queue: string,
  items: number,
  seconds: number,
): Promise<void> {
  const registry = new Registry();
  const processed = new Counter({
    name: "jobs_items_processed_total",
    help: "Items processed by batch jobs.",
    labelNames: ["queue"] as const,
    registry,
  });
  const duration = new Histogram({
    name: "jobs_item_duration_seconds",
    help: "Time per item.",
    buckets: [0.1, 1],
    registry,
  });
  for (let i = 0; i < items; i++) {
    processed.inc({ queue });
    duration.observe(seconds);
  }
  const reporter = new MetricsReporter({
    registry,
    url,
    headers: { Authorization: `Bearer ${TOKEN}` },
    fetch: (request) => fetch(request),
  });
  await reporter.flush();
}

Deno.test({
  name:
    "MetricsAggregator behind Deno.serve adds up short-lived jobs' reports, and a real Prometheus answers PromQL with the totals",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const port = freePort();
    const aggregator = new MetricsAggregator({
      auth: { bearer: TOKEN },
      metrics: { path: "/metrics" },
    });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: () => {} },
      aggregator.fetch,
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      // Reports without the token are refused.
      const refused = await fetch(`${base}/report`, {
        method: "POST",
        body: "{}",
      });
      await refused.body?.cancel();
      assert.equal(refused.status, 401);

      await Promise.all([
        job(`${base}/report`, "emails", 40, 0.05),
        job(`${base}/report`, "emails", 2, 0.5),
        job(`${base}/report`, "images", 7, 3),
      ]);
      await using prom = await startPrometheus({
        scrape: [{ job: "gateway", port, honorLabels: true }],
      });
      await prom.waitForValue(
        "sum(jobs_items_processed_total)",
        49,
        "Prometheus to scrape the gateway",
      );
      assert.equal(
        await prom.value('jobs_items_processed_total{queue="emails"}'),
        42,
      );
      assert.equal(
        await prom.value('jobs_item_duration_seconds_bucket{le="0.1"}'),
        40,
      );
      assert.equal(
        await prom.value('jobs_item_duration_seconds_bucket{le=~"1|1[.]0"}'),
        42,
      );
      assert.equal(
        await prom.value("jobs_item_duration_seconds_count"),
        49,
      );
      // More jobs add to the totals; the Pushgateway would have replaced them.
      await job(`${base}/report`, "images", 5, 3);
      await prom.waitForValue(
        'jobs_items_processed_total{queue="images"}',
        12,
        "Prometheus to see the next job",
      );
      assert.equal(
        await prom.value("sum(edgemetrics_aggregate_reports_total)"),
        4,
      );
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name:
    "MetricsAggregator behind Bun.serve in a real Bun adds up the reports of two jobs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const bun = await startPeer(`${TOOLS_BIN}bun`, [
      "run",
      "tests/runtimes/aggregate_bun_gateway.ts",
    ], {
      env: { PORT: String(port), TOKEN },
      ready: () => answers(`${base}/metrics`),
    });
    try {
      await job(`${base}/report`, "emails", 3, 0.05);
      await job(`${base}/report`, "emails", 4, 0.05);
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(text, /^jobs_items_processed_total\{queue="emails"\} 7$/m);
      assert.match(text, /^jobs_item_duration_seconds_count 7$/m);
      assert.match(bun.output(), /aggregating on 127\.0\.0\.1/);
    } finally {
      await bun.stop();
    }
  },
});
