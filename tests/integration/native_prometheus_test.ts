/**
 * A real Prometheus 2.42 with `--enable-feature=native-histograms` scrapes a
 * native histogram from metricsHandler (asking for protobuf first), and
 * PromQL's native-histogram functions answer within the schema's relative
 * error of the true values of a seeded distribution. A second scrape job
 * reads the same histogram as text (classic buckets), and the classic
 * query answers within its bucket.
 */
import assert from "node:assert/strict";
import { freePort, type Peer, startPeer, waitFor } from "../_peers.ts";
import { Registry } from "../../src/registry.ts";
import { Histogram } from "../../src/instruments/histogram.ts";
import { metricsHandler } from "../../src/pull/handler.ts";
import { PROMETHEUS_PROTOBUF_CONTENT_TYPE } from "../../src/encoders/prometheus_protobuf.ts";
import { logNormal, seeded } from "../_seeded.ts";

const TEXT_ONLY_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";
const BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5];

async function query(
  base: string,
  promql: string,
): Promise<number | undefined> {
  const url = `${base}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  const body = await response.json();
  assert.equal(body.status, "success", JSON.stringify(body));
  const result = body.data.result as { value: [number, string] }[];
  if (result.length === 0) return undefined;
  assert.equal(result.length, 1, JSON.stringify(result));
  return Number(result[0]!.value[1]);
}

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
    const appPort = freePort();
    const promPort = freePort();
    const prom = `http://127.0.0.1:${promPort}`;
    const abort = new AbortController();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: appPort,
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
    const dir = await Deno.makeTempDir({ prefix: "edgemetrics-native-" });
    let prometheus: Peer | undefined;
    try {
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: native
    static_configs:
      - targets: ["127.0.0.1:${appPort}"]
  - job_name: classic
    metrics_path: /classic
    static_configs:
      - targets: ["127.0.0.1:${appPort}"]
`,
      );
      prometheus = await startPeer("prometheus", [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--enable-feature=native-histograms",
        "--log.level=warn",
      ], {
        ready: async () => {
          const r = await fetch(`${prom}/-/ready`);
          await r.body?.cancel();
          return r.ok;
        },
      });
      // A first scrape of both jobs before the seeded values, so rate() sees
      // exactly them as the increase. The empty histogram is already native
      // to Prometheus 2.42: its zero threshold (2^-128) is above 0.
      await waitFor(
        "the first scrapes",
        async () =>
          (await query(
              prom,
              'histogram_count(latency_seconds{job="native"})',
            )) === 0 &&
          (await query(prom, 'latency_seconds_count{job="classic"}')) === 0,
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

      await waitFor(
        "Prometheus to scrape the observations as a native histogram",
        async () =>
          (await query(
            prom,
            'histogram_count(latency_seconds{job="native"})',
          )) ===
            values.length,
      );
      assert.ok(
        served.some((type) => type === PROMETHEUS_PROTOBUF_CONTENT_TYPE),
        `Prometheus asked for protobuf: ${[...new Set(served)]}`,
      );
      const gotSum = await query(
        prom,
        'histogram_sum(latency_seconds{job="native"})',
      );
      assert.ok(Math.abs(gotSum! - sum) <= 1e-9 * sum, `${gotSum} vs ${sum}`);

      for (const q of [0.5, 0.9, 0.99]) {
        const promql =
          `histogram_quantile(${q}, rate(latency_seconds{job="native"}[1m]))`;
        let got: number | undefined;
        // rate() needs the scrape after the one that first saw the values.
        await waitFor(`${promql} to have a value`, async () => {
          got = await query(prom, promql);
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
      await waitFor(
        "the classic job to see the observations",
        async () =>
          (await query(prom, 'latency_seconds_count{job="classic"}')) ===
            values.length,
      );
      const p90 = await query(
        prom,
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
        await query(prom, 'latency_seconds_count{job="native"}'),
        undefined,
      );
    } finally {
      await prometheus?.stop();
      abort.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
