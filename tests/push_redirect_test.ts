/**
 * Push exporters against a receiver that redirects, over real loopback HTTP
 * with the runtime's own fetch: a redirect never counts as delivery, and
 * with delta temporality nothing recorded is lost to it.
 */
import assert from "node:assert/strict";
import { Counter, OtlpExporter, Pushgateway, Registry } from "../mod.ts";

/** A loopback receiver: the first POST/PUT to `path` is redirected with `status`; the rest is recorded. */
function redirecting(status: number) {
  const received: { method: string; path: string; body: string }[] = [];
  let redirected = false;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      const body = await request.text();
      if (!redirected && request.method !== "GET") {
        redirected = true;
        return new Response(null, {
          status,
          headers: { location: `${path}?moved` },
        });
      }
      received.push({ method: request.method, path, body });
      return new Response("{}", {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    },
  );
  return { server, received, base: `http://127.0.0.1:${server.addr.port}` };
}

for (const status of [301, 302, 303, 307, 308]) {
  Deno.test(`OtlpExporter.flush() rejects a ${status} redirect naming its Location, and delta keeps the data`, async () => {
    const { server, received, base } = redirecting(status);
    try {
      const registry = new Registry();
      const c = new Counter({ name: "redirected", help: "R.", registry });
      const exporter = new OtlpExporter({
        url: `${base}/v1/metrics`,
        protocol: "json",
        temporality: "delta",
        resource: { "service.name": "redirect" },
        registry,
        sleep: () => Promise.resolve(),
      });
      c.inc(5);
      await assert.rejects(exporter.flush(), (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `^Cannot export metrics to ${base}/v1/metrics: got HTTP ${status} [A-Za-z ]+ redirecting to "/v1/metrics\\?moved" \\(a redirect never counts as delivery: set the URL to the final address\\) after 1 attempt \\(not retryable\\)$`,
          ),
        );
        return true;
      });
      c.inc(1);
      await exporter.shutdown();
      // Only the final export arrived, carrying all six: none went to the
      // redirect's target, none was lost.
      assert.equal(received.length, 1);
      assert.equal(received[0]!.method, "POST");
      assert.equal(received[0]!.path, "/v1/metrics");
      const point = JSON.parse(received[0]!.body).resourceMetrics[0]
        .scopeMetrics[0].metrics[0].sum.dataPoints[0];
      assert.equal(point.asDouble ?? Number(point.asInt), 6);
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("Pushgateway.push() rejects a 303 redirect naming its Location", async () => {
  const { server, received, base } = redirecting(303);
  try {
    const registry = new Registry();
    const c = new Counter({ name: "pushed_total", help: "P.", registry });
    c.inc(2);
    const gateway = new Pushgateway({
      url: base,
      job: "redirect",
      registry,
      sleep: () => Promise.resolve(),
    });
    await assert.rejects(
      gateway.push(),
      /^Error: Cannot push metrics to http:\/\/127\.0\.0\.1:\d+\/metrics\/job\/redirect: got HTTP 303 See Other redirecting to "\/metrics\/job\/redirect\?moved" \(a redirect never counts as delivery/,
    );
    assert.equal(received.length, 0);
    await gateway.push();
    assert.equal(received.length, 1);
    assert.equal(received[0]!.method, "PUT");
    assert.match(received[0]!.body, /^pushed_total 2$/m);
  } finally {
    await server.shutdown();
  }
});
