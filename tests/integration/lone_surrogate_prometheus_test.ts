/**
 * A real Prometheus scrapes label values that differ only in lone UTF-16
 * surrogates. Each encodes as U+FFFD, so before they were made well-formed
 * they made two identical series in one scrape, and Prometheus kept one of
 * the two samples: sum() said 2 where 3 were recorded.
 */
import assert from "node:assert/strict";
import { answers, freePort, type Peer, startPeer, waitFor } from "../_peers.ts";
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
    const appPort = freePort();
    const promPort = freePort();
    const prom = `http://127.0.0.1:${promPort}`;
    const dir = await Deno.makeTempDir({ prefix: "edgemetrics-lone-" });
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: appPort, onListen: () => {} },
      metricsHandler(registry),
    );
    let prometheus: Peer | undefined;
    try {
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: lone
    static_configs:
      - targets: ["127.0.0.1:${appPort}"]
`,
      );
      prometheus = await startPeer("prometheus", [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=warn",
      ], { ready: () => answers(`${prom}/-/ready`) });
      const query = async (q: string) => {
        const response = await fetch(
          `${prom}/api/v1/query?query=${encodeURIComponent(q)}`,
          { signal: AbortSignal.timeout(2_000) },
        );
        const body = await response.json();
        assert.equal(body.status, "success", JSON.stringify(body));
        return body.data.result as {
          metric: Record<string, string>;
          value: [number, string];
        }[];
      };
      await waitFor(
        "the first scrape",
        async () => (await query('up{job="lone"}'))[0]?.value[1] === "1",
      );
      await waitFor(
        "the counter",
        async () => (await query("lone_total")).length > 0,
      );
      const series = await query("lone_total");
      assert.equal(series.length, 1, JSON.stringify(series));
      assert.equal(series[0]!.metric.v, "x\ufffd");
      assert.equal(series[0]!.value[1], "3");
    } finally {
      await prometheus?.stop();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
