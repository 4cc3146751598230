/**
 * A real Prometheus 2.42 with `--enable-feature=native-histograms` scrapes a
 * native histogram from metricsHandler (asking for protobuf first), and
 * PromQL's native-histogram functions answer within the schema's relative
 * error of the true values of a seeded distribution. A second scrape job
 * reads the same histogram as text (classic buckets), and the classic
 * query answers within its bucket.
 */
import assert from "node:assert/strict";
import { waitFor } from "../_peers.ts";
import { startPrometheus } from "../_prometheus.ts";
import { Registry } from "../../src/registry.ts";
import { Histogram } from "../../src/instruments/histogram.ts";
import { metricsHandler } from "../../src/pull/handler.ts";
import { PROMETHEUS_PROTOBUF_CONTENT_TYPE } from "../../src/encoders/prometheus_protobuf.ts";
import { logNormal, seeded } from "../_seeded.ts";

const TEXT_ONLY_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";
const BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5];

/** The exact quantile `q` of sorted values, as the rank Prometheus targets. */
function trueQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

Deno.test({
  name:
    "Prometheus 2.42 with native histograms scrapes protobuf: histogram_count, histogram_sum and histogram_quantile within the schema's error; the classic query still works",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const registry = new Registry();
    const latency = new Histogram({
      name: "latency_seconds",
      help: "Latency.",
      buckets: BUCKETS,
      native: true,
      registry,
    });
    const handler = metricsHandler(registry);
    const served: string[] = [];
    const abort = new AbortController();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      signal: abort.signal,
      onListen() {},
    }, async (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/classic") {
        // The same histogram read as text: its classic buckets.
        const headers = new Headers(request.headers);
        headers.set("Accept", TEXT_ONLY_ACCEPT);
        return await handler(new Request(request.url, { headers }));
      }
      const response = await handler(request);
      served.push(response.headers.get("Content-Type") ?? "");
      return response;
    });
    try {
      const port = server.addr.port;
      await using prom = await startPrometheus({
        scrape: [
          { job: "native", port },
          { job: "classic", port, path: "/classic" },
        ],
        flags: ["--enable-feature=native-histograms"],
      });
      // A first scrape of both jobs before the seeded values, so rate() sees
      // exactly them as the increase. The empty histogram is already native
      // to Prometheus 2.42: its zero threshold (2^-128) is above 0.
      await waitFor(
        "the first scrapes",
        async () =>
          (await prom.value(
              'histogram_count(latency_seconds{job="native"})',
            )) === 0 &&
          (await prom.value('latency_seconds_count{job="classic"}')) === 0,
      );

      const random = seeded(2023);
      const values = Array.from(
        { length: 4000 },
        () => logNormal(random, 0.15, 0.8),
      );
      for (const v of values) latency.observe(v);
      const sorted = [...values].sort((a, b) => a - b);
      const sum = values.reduce((a, b) => a + b, 0);
      const native = (await latency.collect()).points[0]!.native!;
      const relativeError = 2 ** (2 ** -native.schema) - 1;

      await prom.waitForValue(
        'histogram_count(latency_seconds{job="native"})',
        values.length,
        "Prometheus to scrape the observations as a native histogram",
      );
      assert.ok(
        served.some((type) => type === PROMETHEUS_PROTOBUF_CONTENT_TYPE),
        `Prometheus asked for protobuf: ${[...new Set(served)]}`,
      );
      const gotSum = await prom.value(
        'histogram_sum(latency_seconds{job="native"})',
      );
      assert.ok(Math.abs(gotSum! - sum) <= 1e-9 * sum, `${gotSum} vs ${sum}`);

      for (const q of [0.5, 0.9, 0.99]) {
        const promql =
          `histogram_quantile(${q}, rate(latency_seconds{job="native"}[1m]))`;
        let got: number | undefined;
        // rate() needs the scrape after the one that first saw the values.
        await waitFor(`${promql} to have a value`, async () => {
          got = await prom.value(promql);
          return got !== undefined && Number.isFinite(got);
        });
        const want = trueQuantile(sorted, q);
        assert.ok(
          got !== undefined && Math.abs(got - want) / want <= relativeError,
          `p${
            q * 100
          }: ${got} vs true ${want}, schema ${native.schema} allows ${relativeError}`,
        );
      }

      // The classic buckets of the same histogram, scraped as text.
      await prom.waitForValue(
        'latency_seconds_count{job="classic"}',
        values.length,
        "the classic job to see the observations",
      );
      const p90 = await prom.value(
        'histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket{job="classic"}[1m])))',
      );
      const want = trueQuantile(sorted, 0.9);
      const upper = BUCKETS.find((bound) => bound >= want)!;
      const lower = BUCKETS[BUCKETS.indexOf(upper) - 1] ?? 0;
      assert.ok(
        p90 !== undefined && p90 >= lower && p90 <= upper,
        `classic p90 ${p90} should fall in (${lower}, ${upper}] with the true ${want}`,
      );
      // And the native series is not mixed with classic samples.
      assert.equal(
        await prom.value('latency_seconds_count{job="native"}'),
        undefined,
      );
    } finally {
      abort.abort();
      await server.finished;
    }
  },
});
