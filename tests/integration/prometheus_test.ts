/**
 * A real Prometheus 2.42 scrapes examples/server.ts on loopback; the test
 * checks what Prometheus stored through its HTTP API. And promtool checks the
 * handler's text output, hostile label values included.
 */
import assert from "node:assert/strict";
import {
  answers,
  freePort,
  type Peer,
  promtoolCheckMetrics,
  startPeer,
} from "../_peers.ts";
import { startPrometheus } from "../_prometheus.ts";
import { Registry } from "../../src/registry.ts";
import { Counter } from "../../src/instruments/counter.ts";
import { metricsHandler } from "../../src/pull/handler.ts";

const EXAMPLE = "examples/server.ts";
/** The Accept header of a text-only scrape (Prometheus before OpenMetrics). */
const TEXT_ONLY_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";
const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Sends `count` requests at once and checks each status. */
async function send(
  base: string,
  method: string,
  path: (i: number) => string,
  count: number,
  status: number,
): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const response = await fetch(`${base}${path(i)}`, { method });
      await response.body?.cancel();
      assert.equal(response.status, status, `${method} ${path(i)}`);
    }),
  );
}

/** One request of every kind, so every series exists before Prometheus scrapes. */
async function sendEveryKind(base: string): Promise<number> {
  await send(base, "GET", () => "/health", 1, 200);
  await send(base, "GET", () => "/orders/1", 1, 200);
  await send(base, "DELETE", () => "/orders/1", 1, 405);
  await send(base, "GET", () => "/nowhere", 1, 404);
  await send(base, "POST", () => "/checkout", 1, 201);
  return 5;
}

Deno.test({
  name:
    "Prometheus scrapes examples/server.ts: target up, sum(http_requests_total) equals the requests sent, p99 in the checkout bucket",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const appPort = freePort();
    const app = `http://127.0.0.1:${appPort}`;
    let server: Peer | undefined;
    try {
      server = await startPeer(Deno.execPath(), [
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        String(appPort),
        "--allow-net",
        EXAMPLE,
      ], { ready: () => answers(`${app}/metrics`) });

      // Before the first scrape: every series gets its first sample, so
      // rate() sees the increase of the requests sent after it.
      let sent = await sendEveryKind(app);

      await using prom = await startPrometheus({
        scrape: [{ job: "demo", port: appPort }],
      });
      await prom.waitForScrape("demo");

      // After it: 20 fast requests (1 ms or so, bucket le=0.05) and 4
      // checkouts that wait 220 ms for the payment stand-in (bucket
      // 0.2 < le <= 0.3). Rank 0.99 × 24 = 23.76 > 20 fast: p99 is a
      // checkout (about 0.294; rate()'s extrapolation moves it a little).
      await Promise.all([
        send(app, "GET", (i) => `/orders/${84321 + i}`, 10, 200),
        send(app, "GET", () => "/health", 5, 200),
        send(app, "GET", (i) => `/nowhere/${i}`, 3, 404),
        send(app, "DELETE", () => "/orders/7", 2, 405),
        send(app, "POST", () => "/checkout", 4, 201),
      ]);
      sent += 24;

      await prom.waitForValue(
        "sum(http_requests_total)",
        sent,
        "Prometheus to scrape every request",
      );
      assert.equal(await prom.value("sum(http_requests_total)"), sent);
      assert.equal(await prom.value('up{job="demo"}'), 1);
      // Scrapes are not traffic: no /metrics route was recorded.
      assert.equal(
        await prom.value('sum(http_requests_total{route="/metrics"})'),
        undefined,
      );
      assert.equal(
        await prom.value(
          'sum(http_requests_total{route="/orders/{id}",status="200"})',
        ),
        11,
      );
      assert.equal(
        await prom.value('sum(http_requests_total{route="other"})'),
        4,
      );
      const p99 = await prom.value(
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))",
      );
      assert.ok(
        p99 !== undefined && p99 > 0.2 && p99 <= 0.3,
        `p99 ${p99} should fall in the bucket (0.2, 0.3]`,
      );

      // What Prometheus scraped also passes promtool as text 0.0.4.
      const scrape = await fetch(`${app}/metrics`, {
        headers: { Accept: TEXT_ONLY_ACCEPT },
      });
      assert.equal(scrape.headers.get("Content-Type"), TEXT_CONTENT_TYPE);
      const checked = await promtoolCheckMetrics(await scrape.text());
      assert.deepEqual(checked, { code: 0, output: "" });
    } finally {
      await server?.stop();
    }
  },
});

Deno.test("promtool check metrics passes on the handler's text with hostile label values", async () => {
  const registry = new Registry();
  const requests = new Counter({
    name: "hostile_requests_total",
    help: 'Requests with "quoted" help, a back\\slash\nand a second line.',
    labelNames: ["path", "agent"] as const,
    registry,
  });
  const hostile = [
    'say "hi"',
    "back\\slash\\",
    "line\nbreak\n# TYPE injected counter\ninjected 1",
    "unicode: Zürich ☃ 🚀 日本",
    "",
    '}\\"{ le="+Inf"',
  ];
  for (const value of hostile) {
    requests.inc({ path: value, agent: [...value].reverse().join("") });
  }
  const response = await metricsHandler(registry)(
    new Request("http://localhost/metrics", {
      headers: { Accept: TEXT_ONLY_ACCEPT },
    }),
  );
  assert.equal(response.headers.get("Content-Type"), TEXT_CONTENT_TYPE);
  const text = await response.text();
  // One HELP, one TYPE, one line per series: no value started a line.
  assert.equal(text.split("\n").length, 2 + hostile.length + 1);
  assert.doesNotMatch(text, /^injected/m);
  const checked = await promtoolCheckMetrics(text);
  assert.deepEqual(checked, { code: 0, output: "" });
});
