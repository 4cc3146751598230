/**
 * examples/grafana/edgemetrics_http.json against a real Prometheus 2.42
 * that scrapes examples/server.ts with examples/prometheus/slo_rules.yml
 * loaded: every panel's query, with Grafana's variables filled in as
 * Grafana would, returns data, and the figures match the traffic sent.
 */

import assert from "node:assert/strict";
import { answers, freePort, REPO_ROOT, startPeer, waitFor } from "../_peers.ts";
import { type Series, startPrometheus } from "../_prometheus.ts";

const DASHBOARD = `${REPO_ROOT}examples/grafana/edgemetrics_http.json`;
const RULES = `${REPO_ROOT}examples/prometheus/slo_rules.yml`;

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

/** A query's series: labels and the last value of each. */
type Result = Series[];

/** Grafana's variables as this dashboard uses them, for the job "demo". */
function fillVariables(expr: string): string {
  return expr.replaceAll("$job", "demo").replaceAll("$__rate_interval", "1m");
}

async function send(
  base: string,
  method: string,
  path: string,
  count: number,
): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${base}${path}`, { method });
      await response.body?.cancel();
    }),
  );
}

Deno.test("the Grafana dashboard is a valid import: unique panel ids, one data source variable, a job variable", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  assert.equal(typeof dashboard.uid, "string");
  assert.ok(dashboard.schemaVersion >= 36);
  const panels: Panel[] = dashboard.panels;
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
  const variables = dashboard.templating.list.map((v: { name: string }) =>
    v.name
  );
  assert.deepEqual(variables, ["datasource", "job"]);
  const queries = panels.filter((p) => p.type !== "row");
  assert.ok(queries.length >= 10);
  for (const panel of queries) {
    assert.deepEqual(panel.datasource, {
      type: "prometheus",
      uid: "${datasource}",
    }, panel.title);
    assert.ok(panel.targets!.length > 0, panel.title);
    for (const target of panel.targets!) {
      assert.match(
        target.expr,
        /job="\$job"/,
        `${panel.title}: ${target.expr}`,
      );
    }
  }
  // What the issue asks the dashboard to show.
  const exprs = queries.flatMap((p) => p.targets!.map((t) => t.expr)).join(
    "\n",
  );
  for (
    const needed of [
      "rate(http_requests_total",
      'status=~"5.."',
      "histogram_quantile(0.5,",
      "histogram_quantile(0.9,",
      "histogram_quantile(0.99,",
      "job:http_requests_errors:ratio_rate1h",
      "job:http_request_duration_slow:ratio_rate1h",
      "http_requests_in_flight",
    ]
  ) {
    assert.ok(exprs.includes(needed), `no panel queries ${needed}`);
  }
});

Deno.test({
  name:
    "every panel of the Grafana dashboard returns data from a real Prometheus that scraped examples/server.ts with the SLO rules",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
    const panels: Panel[] = dashboard.panels.filter((p: Panel) =>
      p.type !== "row"
    );
    const appPort = freePort();
    const app = `http://127.0.0.1:${appPort}`;
    await using _server = await startPeer(Deno.execPath(), [
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      String(appPort),
      "--allow-net",
      "examples/server.ts",
    ], { ready: () => answers(`${app}/metrics`) });
    // A first request of each kind before the first scrape, so rate()
    // sees every increase that follows.
    await send(app, "GET", "/orders/1", 1);
    await send(app, "GET", "/health", 1);
    await send(app, "GET", "/nowhere", 1);
    await send(app, "DELETE", "/orders/1", 1);
    await send(app, "POST", "/checkout", 1);
    await using prom = await startPrometheus({
      scrape: [{ job: "demo", port: appPort }],
      ruleFiles: [RULES],
    });
    await prom.waitForScrape("demo");
    // Traffic: 40 fast reads, 10 health checks, 6 not found, 4 not
    // allowed, and 4 checkouts that take 220 ms (slower than p90 but
    // faster than the 300 ms objective).
    await Promise.all([
      send(app, "GET", "/orders/84321", 40),
      send(app, "GET", "/health", 10),
      send(app, "GET", "/nowhere", 6),
      send(app, "DELETE", "/orders/7", 4),
      send(app, "POST", "/checkout", 4),
    ]);
    await waitFor(
      "Prometheus to scrape the traffic and evaluate the rules",
      async () =>
        (await prom.query('sum(http_requests_total{job="demo"})'))[0]
            ?.value === 69 &&
        (await prom.query('job:http_requests_errors:ratio_rate1d{job="demo"}'))
            .length === 1,
      30_000,
    );

    const results = new Map<string, Result>();
    for (const panel of panels) {
      for (const target of panel.targets!) {
        const expr = fillVariables(target.expr);
        const result = await prom.query(expr);
        assert.ok(
          result.length > 0,
          `panel "${panel.title}" (${target.refId}) returned no data: ${expr}`,
        );
        for (const { labels, value } of result) {
          assert.ok(
            Number.isFinite(value),
            `panel "${panel.title}" (${target.refId}) gave ${value} for ${
              JSON.stringify(labels)
            }: ${expr}`,
          );
        }
        results.set(`${panel.title}/${target.refId}`, result);
      }
    }

    // The figures say what the traffic was.
    const one = (key: string) => results.get(key)![0]!.value;
    const routes = results.get("Requests per second by route/A")!.map((r) =>
      r.labels.route
    ).sort();
    assert.deepEqual(routes, [
      "/checkout",
      "/health",
      "/orders/{id}",
      "other",
    ]);
    assert.equal(one("In-flight requests/A"), 0);
    assert.equal(one("Error ratio (5xx)/A"), 0);
    const statuses = results.get(
      "4xx and 5xx responses by route and status/A",
    )!.map((r) => `${r.labels.status} ${r.labels.route}`).sort();
    assert.deepEqual(statuses, ["404 other", "405 /orders/{id}"]);
    const [p50, p90, p99] = ["A", "B", "C"].map((ref) =>
      one(`Latency p50 / p90 / p99/${ref}`)
    );
    assert.ok(p50! < 0.05, `p50 ${p50}`); // most requests take about 1 ms
    assert.ok(p99! > 0.2 && p99! <= 0.3, `p99 ${p99}`); // a checkout
    assert.ok(p50! <= p90! && p90! <= p99!);
    // Every request was within 300 ms: the latency SLI is 1, no burn.
    assert.equal(one("Requests answered within 300 ms/A"), 1);
    assert.equal(one("Latency error budget burn rate/B"), 0);
    assert.equal(one("Availability error budget burn rate/B"), 0);
    assert.equal(one("Availability, last day/A"), 1);
    assert.equal(one("Within 300 ms, last day/A"), 1);
  },
});
