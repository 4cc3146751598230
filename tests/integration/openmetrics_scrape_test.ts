/**
 * A real Prometheus 2.42 with exemplar storage scrapes metricsHandler: it
 * negotiates OpenMetrics, and the exemplar a traced request left on the
 * latency histogram comes back from /api/v1/query_exemplars.
 */
import assert from "node:assert/strict";
import { promtoolCheckMetrics, waitFor } from "../_peers.ts";
import { startPrometheus } from "../_prometheus.ts";
import { Registry } from "../../src/registry.ts";
import { metricsHandler } from "../../src/pull/handler.ts";
import { instrument } from "../../src/pull/instrument.ts";

/** What Prometheus 2.42 sends when it scrapes (scrape/scrape.go). */
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/** The Accept header of a text-only scrape (Prometheus before OpenMetrics). */
const TEXT_ONLY_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";
const OM_CONTENT_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

interface Served {
  userAgent: string | null;
  accept: string | null;
  contentType: string | null;
  status: number;
}

Deno.test({
  name:
    "Prometheus with exemplar storage scrapes metricsHandler as OpenMetrics and stores the traceparent exemplar",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const registry = new Registry();
    const app = instrument(
      (request: Request) =>
        Response.json({ id: new URL(request.url).pathname.split("/")[2] }),
      { registry, routes: ["/orders/:id"] },
    );
    const metrics = metricsHandler(registry);
    const served: Served[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (request) => {
        if (new URL(request.url).pathname !== "/metrics") return app(request);
        const response = await metrics(request);
        served.push({
          userAgent: request.headers.get("User-Agent"),
          accept: request.headers.get("Accept"),
          contentType: response.headers.get("Content-Type"),
          status: response.status,
        });
        return response;
      },
    );
    const base = `http://127.0.0.1:${server.addr.port}`;
    try {
      const traced = await fetch(`${base}/orders/84321`, {
        headers: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` },
      });
      assert.deepEqual(await traced.json(), { id: "84321" });

      await using prom = await startPrometheus({
        scrape: [{ job: "om", port: server.addr.port }],
        flags: ["--enable-feature=exemplar-storage"],
      });

      // The exemplar, as Prometheus stored it from an OpenMetrics scrape.
      const now = Date.now() / 1000;
      let found: {
        seriesLabels: Record<string, string>;
        exemplars: { labels: Record<string, string>; value: string }[];
      }[] = [];
      await waitFor("Prometheus to store the exemplar", async () => {
        found = (await prom.api("query_exemplars", {
          query: "http_request_duration_seconds_bucket",
          start: String(now - 300),
          end: String(now + 300),
        }) ?? []) as typeof found;
        return found.length > 0;
      });
      assert.equal(found.length, 1, JSON.stringify(found));
      const [series] = found;
      assert.equal(
        series!.seriesLabels.__name__,
        "http_request_duration_seconds_bucket",
      );
      assert.equal(series!.seriesLabels.route, "/orders/{id}");
      assert.equal(series!.seriesLabels.method, "GET");
      assert.equal(series!.seriesLabels.job, "om");
      assert.deepEqual(
        series!.exemplars.map((e) => e.labels),
        [{ trace_id: TRACE_ID, span_id: SPAN_ID }],
      );

      // The target is up and healthy.
      const targets = await prom.api("targets") as {
        activeTargets: { health: string; lastError: string }[];
      };
      const [target] = targets.activeTargets;
      assert.equal(target!.health, "up");
      assert.equal(target!.lastError, "");

      // Every scrape Prometheus made asked with its 2.42 header and got OpenMetrics.
      const scrapes = served.filter((s) =>
        s.userAgent?.startsWith("Prometheus/")
      );
      assert.ok(scrapes.length > 0, "Prometheus scraped the handler");
      for (const scrape of scrapes) {
        assert.deepEqual(scrape, {
          userAgent: scrape.userAgent,
          accept: PROMETHEUS_ACCEPT,
          contentType: OM_CONTENT_TYPE,
          status: 200,
        });
      }

      // The same handler, asked with the text-only header: 0.0.4, no exemplar, promtool passes.
      const text = await fetch(`${base}/metrics`, {
        headers: { Accept: TEXT_ONLY_ACCEPT },
      });
      assert.equal(text.headers.get("Content-Type"), TEXT_CONTENT_TYPE);
      const body = await text.text();
      assert.doesNotMatch(body, /# \{/);
      assert.match(
        body,
        /^http_request_duration_seconds_count\{method="GET",route="\/orders\/\{id\}"\} 1$/m,
      );
      assert.deepEqual(await promtoolCheckMetrics(body), {
        code: 0,
        output: "",
      });
    } finally {
      await server.shutdown();
    }
  },
});
