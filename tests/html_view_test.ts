/**
 * The HTML view of metricsHandler: negotiation (browsers get it, scrapers
 * never do), the page's headers and escaping, and the page as headless
 * Chromium renders it under its Content-Security-Policy.
 */

import assert from "node:assert/strict";
import {
  Counter,
  encodeHtml,
  Gauge,
  Histogram,
  metricsHandler,
  Registry,
  Summary,
} from "@edgemetrics/edgemetrics";
import { prefersHtml } from "../src/pull/_negotiate.ts";
import { startChromium } from "./_chromium.ts";
import { freePort } from "./_peers.ts";

/** What Chromium sends when it opens a URL. */
const CHROMIUM_ACCEPT =
  "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
/** What Prometheus 2.42 sends when it scrapes (scrape/scrape.go). */
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** A registry with one of each kind, and a label value that tries to inject HTML. */
function shop() {
  const registry = new Registry();
  const requests = new Counter({
    name: "http_requests_total",
    help: "Requests <served>.",
    labelNames: ["route", "status"] as const,
    registry,
  });
  requests.inc({ route: "/orders", status: "200" }, 10);
  requests.inc({ route: "/orders", status: "500" }, 2);
  requests.inc({ route: '<img src=x onerror="alert(1)">', status: "404" });
  new Gauge({ name: "queue_depth", help: "Jobs waiting.", registry }).set(7);
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "Latency.",
    unit: "seconds",
    labelNames: ["route"] as const,
    buckets: [0.1, 0.3, 1],
    registry,
  });
  for (const value of [0.05, 0.2, 0.2, 0.25, 0.5, 3]) {
    latency.observe({ route: "/orders" }, value);
  }
  const sizes = new Summary({
    name: "payload_bytes",
    help: "Payload sizes.",
    percentiles: [0.5, 0.9],
    registry,
  });
  for (let i = 1; i <= 100; i++) sizes.observe(i);
  return { registry, requests };
}

Deno.test("prefersHtml() is true for browsers and never for scrapers", () => {
  const cases: [string | null, boolean][] = [
    [CHROMIUM_ACCEPT, true],
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true],
    ["text/html", true],
    [PROMETHEUS_ACCEPT, false],
    ["text/plain;version=0.0.4;q=1,*/*;q=0.1", false],
    [null, false],
    ["*/*", false],
    ["text/*", false],
    ["text/html;q=0", false],
    ["text/html;q=0.5, text/plain", false],
    ["text/html;q=0.5, application/openmetrics-text", false],
  ];
  for (const [accept, expected] of cases) {
    assert.equal(prefersHtml(accept), expected, `${accept}`);
  }
});

Deno.test("metricsHandler() answers a browser with a page under a strict CSP carrying a fresh nonce", async () => {
  const { registry } = shop();
  const handler = metricsHandler(registry);
  const open = () =>
    handler(
      new Request("http://localhost/metrics", {
        headers: { Accept: CHROMIUM_ACCEPT, "Accept-Encoding": "gzip" },
      }),
    );
  const response = await open();
  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("Content-Type"),
    "text/html; charset=utf-8",
  );
  assert.equal(response.headers.get("Cache-Control"), "no-store");
  assert.equal(response.headers.get("X-Content-Type-Options"), "nosniff");
  assert.equal(response.headers.get("Vary"), "Accept, Accept-Encoding");
  const csp = response.headers.get("Content-Security-Policy")!;
  const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
  assert.ok(nonce !== undefined && nonce.length >= 22, csp);
  assert.equal(
    csp,
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
  // Gzipped like the scrapes, for a client that takes gzip.
  assert.equal(response.headers.get("Content-Encoding"), "gzip");
  const page = await new Response(
    response.body!.pipeThrough(new DecompressionStream("gzip")),
  ).text();
  // Exactly one style and one script, both with the nonce, nothing external.
  assert.deepEqual(page.match(/<script\b[^>]*>/g), [
    `<script nonce="${nonce}">`,
  ]);
  assert.deepEqual(page.match(/<style\b[^>]*>/g), [`<style nonce="${nonce}">`]);
  // No tag loads anything, styles inline or handles an event.
  const attributes = new Set<string>();
  for (
    const [, list] of page.matchAll(
      /<[a-z][a-z0-9]*((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*>/gi,
    )
  ) {
    for (const [, name] of list!.matchAll(/\s+([^\s=>]+)(?:="[^"]*")?/g)) {
      attributes.add(name!.toLowerCase());
    }
  }
  assert.ok(attributes.has("data-key") && attributes.has("nonce"));
  assert.deepEqual(
    [...attributes].filter((name) =>
      /^(src|href|style|on.*|srcset|action)$/.test(name)
    ),
    [],
  );
  // The label value that tries to inject is text.
  assert.match(page, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
  assert.match(page, /Requests &lt;served&gt;\./);
  // A new nonce per page.
  const again = (await open()).headers.get("Content-Security-Policy")!;
  assert.notEqual(again, csp);
});

Deno.test("metricsHandler() serves scrapers the same text as before, and text to browsers with html: false", async () => {
  const { registry } = shop();
  const expectedText = await registry.metrics();
  const handler = metricsHandler(registry);
  for (const accept of [undefined, "*/*", "text/plain"]) {
    const response = await handler(
      new Request("http://localhost/metrics", {
        headers: accept === undefined ? {} : { Accept: accept },
      }),
    );
    assert.equal(
      response.headers.get("Content-Type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    assert.equal(response.headers.get("Content-Security-Policy"), null);
    assert.equal(await response.text(), expectedText);
  }
  const scrape = await handler(
    new Request("http://localhost/metrics", {
      headers: { Accept: PROMETHEUS_ACCEPT },
    }),
  );
  assert.match(
    scrape.headers.get("Content-Type")!,
    /^application\/openmetrics-text/,
  );
  assert.match(await scrape.text(), /# EOF\n$/);
  const off = await metricsHandler(registry, { html: false })(
    new Request("http://localhost/metrics", {
      headers: { Accept: CHROMIUM_ACCEPT },
    }),
  );
  assert.equal(await off.text(), expectedText);
  const head = await handler(
    new Request("http://localhost/metrics", {
      method: "HEAD",
      headers: { Accept: CHROMIUM_ACCEPT },
    }),
  );
  assert.equal(head.headers.get("Content-Type"), "text/html; charset=utf-8");
  assert.equal(await head.text(), "");
});

Deno.test("encodeHtml() rejects a nonce that could break out of its attribute", () => {
  assert.throws(() => encodeHtml([], { nonce: '"><script>' }), {
    name: "TypeError",
    message:
      'Cannot encode HTML: nonce must be base64 characters, got "\\"><script>"',
  });
  assert.match(
    encodeHtml([], { nonce: "abc" }),
    /<p class="empty">No metrics registered\.<\/p>/,
  );
});

Deno.test("metricsHandler()'s HTML view renders in headless Chromium: tables, SVG bars, filter, counter rates, no CSP violation", async () => {
  const { registry, requests } = shop();
  const handler = metricsHandler(registry, { path: "/metrics" });
  const port = freePort();
  const requested: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (request) => {
      requested.push(
        `${request.method} ${new URL(request.url).pathname} ${
          request.headers.get("Accept")?.split(",")[0]
        }`,
      );
      return handler(request);
    },
  );
  try {
    await using browser = await startChromium();
    await browser.send("Runtime.enable");
    await browser.send("Log.enable");
    // Installed by DevTools, before any page script: CSP does not apply to it.
    await browser.send("Page.addScriptToEvaluateOnNewDocument", {
      source:
        `window.__violations = []; document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`,
    });
    const url = `http://127.0.0.1:${port}/metrics`;
    await browser.navigate(url);
    const dom = await browser.evaluate<{
      ready: string | undefined;
      title: string;
      families: { name: string; type: string; help: string; rows: number }[];
      header: string[];
      injected: string;
      rates: string[];
      bars: { le: string; count: number; height: number }[];
      count: string;
      violations: string[];
    }>(`(() => {
      const families = [...document.querySelectorAll("section.family")].map((s) => ({
        name: s.querySelector("h2 code").textContent,
        type: s.querySelector("h2 .type").textContent,
        help: s.querySelector(".help")?.textContent ?? "",
        rows: s.querySelectorAll("tbody tr").length,
      }));
      const requests = document.getElementById("family-http_requests_total");
      return {
        ready: document.body.dataset.ready,
        title: document.title,
        families,
        header: [...requests.querySelectorAll("thead th")].map((th) => th.textContent),
        injected: requests.querySelectorAll("tbody tr")[2].cells[0].textContent,
        rates: [...requests.querySelectorAll("td.rate")].map((td) => td.textContent),
        bars: [...document.querySelectorAll("#family-http_request_duration_seconds svg g.bucket")].map((g) => ({
          le: g.dataset.le,
          count: Number(g.dataset.count),
          height: Number(g.querySelector("rect").getAttribute("height")),
        })),
        count: document.getElementById("count").textContent,
        violations: window.__violations,
      };
    })()`);
    assert.equal(dom.ready, "true", "the page script did not run");
    assert.deepEqual(dom.violations, []);
    assert.equal(dom.title, "Metrics");
    assert.deepEqual(dom.families, [
      {
        name: "http_requests_total",
        type: "counter",
        help: "Requests <served>.",
        rows: 3,
      },
      { name: "queue_depth", type: "gauge", help: "Jobs waiting.", rows: 1 },
      {
        name: "http_request_duration_seconds",
        type: "histogram",
        help: "Latency.",
        rows: 1,
      },
      {
        name: "payload_bytes",
        type: "summary",
        help: "Payload sizes.",
        rows: 1,
      },
    ]);
    assert.deepEqual(dom.header, ["route", "status", "total", "rate"]);
    assert.equal(dom.injected, '<img src=x onerror="alert(1)">');
    assert.deepEqual(dom.rates, ["\u2013", "\u2013", "\u2013"]);
    // Per-bucket (not cumulative) counts, bars scaled to the fullest bucket.
    assert.deepEqual(dom.bars, [
      { le: "0.1", count: 1, height: 20 },
      { le: "0.3", count: 3, height: 60 },
      { le: "1.0", count: 1, height: 20 },
      { le: "+Inf", count: 1, height: 20 },
    ]);
    assert.equal(dom.count, "4 of 4 families");

    // The filter box: a family name shows that family; a label value its rows.
    const filtered = await browser.evaluate<
      { visible: string[]; rows: number; count: string }
    >(`(() => {
      const box = document.getElementById("filter");
      box.value = "500";
      box.dispatchEvent(new Event("input"));
      const visible = [...document.querySelectorAll("section.family:not(.hidden) h2 code")].map((c) => c.textContent);
      const rows = document.querySelectorAll("#family-http_requests_total tbody tr:not(.hidden)").length;
      return { visible, rows, count: document.getElementById("count").textContent };
    })()`);
    assert.deepEqual(filtered, {
      visible: ["http_requests_total"],
      rows: 1,
      count: "1 of 4 families",
    });
    const byName = await browser.evaluate<string[]>(`(() => {
      const box = document.getElementById("filter");
      box.value = "QUEUE";
      box.dispatchEvent(new Event("input"));
      return [...document.querySelectorAll("section.family:not(.hidden) h2 code")].map((c) => c.textContent);
    })()`);
    assert.deepEqual(byName, ["queue_depth"]);

    // Counter rates since the previous refresh: 30 more requests, Refresh.
    requests.inc({ route: "/orders", status: "200" }, 30);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refreshed = await browser.evaluate<
      { rates: string[]; total: string; filterKept: number }
    >(`(async () => {
      document.getElementById("refresh").click();
      for (let i = 0; i < 200 && document.body.dataset.refreshes !== "1"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const rows = document.querySelectorAll("#family-http_requests_total tbody tr");
      return {
        rates: [...rows].map((row) => row.querySelector("td.rate").textContent),
        total: rows[0].cells[2].textContent,
        filterKept: document.querySelectorAll("section.family:not(.hidden)").length,
      };
    })()`);
    assert.equal(refreshed.total, "40");
    assert.equal(
      refreshed.filterKept,
      1,
      "the filter still applies after a refresh",
    );
    const [orders, errors, other] = refreshed.rates;
    const perSecond = Number(/^([\d.]+)\/s$/.exec(orders!)?.[1]);
    // 30 more over the time between the two loads (at least the 300 ms waited).
    assert.ok(perSecond > 0 && perSecond <= 100, `rate ${orders}`);
    assert.deepEqual([errors, other], ["0.00/s", "0.00/s"]);

    // A reload (not Refresh) shows rates too, from sessionStorage.
    await browser.navigate(url);
    const afterReload = await browser.evaluate<string>(
      `document.querySelector("#family-http_requests_total td.rate").textContent`,
    );
    assert.match(afterReload, /^[\d.]+\/s$/);

    const shot = await browser.send("Page.captureScreenshot", {
      format: "png",
    }) as { data: string };
    const png = Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0));
    assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assert.ok(png.length > 10_000, `screenshot of ${png.length} bytes`);

    const violations = await browser.evaluate<string[]>("window.__violations");
    assert.deepEqual(violations, []);
    const errorsLogged = browser.events.filter((e) =>
      e.method === "Runtime.exceptionThrown" ||
      (e.method === "Log.entryAdded" &&
        (e.params.entry as { level: string }).level === "error")
    );
    assert.deepEqual(errorsLogged, []);
    // The browser asked for nothing but the page (twice) and its refresh.
    assert.deepEqual(requested, [
      "GET /metrics text/html",
      "GET /metrics text/html",
      "GET /metrics text/html",
    ]);
  } finally {
    await server.shutdown();
  }
});
