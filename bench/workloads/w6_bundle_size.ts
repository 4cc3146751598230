/**
 * W6, size: what a Cloudflare Worker ships, minified + gzip, per use case,
 * bundled by esbuild from the built npm package (as `npm install` leaves it):
 *
 * - pull only: Counter, Histogram and `metricsHandler`;
 * - push only: Counter, Histogram and `OtlpExporter`, beside the same Worker
 *   written with the OpenTelemetry SDK and its OTLP/HTTP exporter;
 * - the OTel meter with OTLP, once `deno.json` exports `./otel`: everything
 *   that entry exports plus `OtlpExporter` (an upper bound: a Worker that
 *   uses less ships less);
 * - every public entry whole (`export *`), so an entry nobody imports shows
 *   what it would cost, and a new entry gets its row with no change here.
 *
 * @module
 */

import { type Bundle, bundleWorker } from "../bundle.ts";
import { type InstalledPackage, specifierOf } from "../package.ts";
import type { Impl, Row } from "../results.ts";
import { TOOLS_MODULES } from "../../tests/_npm.ts";

/** One Worker to bundle. */
interface WorkerCase {
  case: string;
  impl: Impl;
  source: string;
  /** What the row's note says about the source. */
  about?: string;
}

/** A Worker that records on every request and serves `/metrics`. */
function pullWorker(pkg: string): string {
  return `import { Counter, Histogram, metricsHandler } from "${pkg}";
const requests = new Counter({ name: "requests_total", help: "Requests.", labelNames: ["status"] });
const latency = new Histogram({ name: "request_duration_seconds", help: "Latency." });
const metrics = metricsHandler();
export default {
  fetch(request) {
    if (new URL(request.url).pathname === "/metrics") return metrics(request);
    const start = performance.now();
    const response = new Response("hello\\n");
    requests.inc({ status: String(response.status) });
    latency.observe((performance.now() - start) / 1000);
    return response;
  },
};
`;
}

/** The same Worker, pushing OTLP after each response instead. */
function pushWorker(pkg: string): string {
  return `import { Counter, Histogram, OtlpExporter } from "${pkg}";
const requests = new Counter({ name: "requests_total", help: "Requests.", labelNames: ["status"] });
const latency = new Histogram({ name: "request_duration_seconds", help: "Latency." });
let exporter;
export default {
  fetch(request, env, ctx) {
    const start = performance.now();
    const response = new Response("hello\\n");
    requests.inc({ status: String(response.status) });
    latency.observe((performance.now() - start) / 1000);
    exporter ??= new OtlpExporter({ url: env.OTLP_ENDPOINT, resource: { "service.name": "worker" } });
    ctx.waitUntil(exporter.flush());
    return response;
  },
};
`;
}

/** The push Worker written with the OpenTelemetry SDK, as its docs show. */
const OTEL_PUSH_WORKER =
  `import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
let provider, requests, latency;
export default {
  fetch(request, env, ctx) {
    if (provider === undefined) {
      provider = new MeterProvider({
        resource: resourceFromAttributes({ "service.name": "worker" }),
        readers: [new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: env.OTLP_ENDPOINT }),
          exportIntervalMillis: 60000,
        })],
      });
      const meter = provider.getMeter("worker");
      requests = meter.createCounter("requests");
      latency = meter.createHistogram("request_duration", { unit: "s" });
    }
    const start = performance.now();
    const response = new Response("hello\\n");
    requests.add(1, { status: String(response.status) });
    latency.record((performance.now() - start) / 1000);
    ctx.waitUntil(provider.forceFlush());
    return response;
  },
};
`;

/** Case names, shared with the goals. */
export const BUNDLE_CASES = {
  pull: "bundle, Worker pull only (Counter, Histogram, metricsHandler)",
  push: "bundle, Worker push only (Counter, Histogram, OtlpExporter)",
  otel: "bundle, Worker OTel meter + OTLP (all of ./otel, OtlpExporter)",
} as const;

/**
 * One copy of each OTel package, as npm would dedupe them in an application:
 * `.tools` also holds older ones for other peers, so the exporter and its
 * base each got nested copies of the 3.1.0 SDK (core, resources, sdk-metrics,
 * otlp-transformer, …). Every `@opentelemetry/*` import but the API resolves
 * from the exporter's folder, through each package's exports map.
 */
const OTEL_RESOLVE = {
  filter: /^@opentelemetry\//,
  except: ["@opentelemetry/api"],
  dir: `${TOOLS_MODULES}@opentelemetry/exporter-metrics-otlp-http/`,
};

function sizeRow(c: WorkerCase, bundle: Bundle): Row {
  const notes = [
    `${(bundle.bytes / 1000).toFixed(1)} kB minified`,
    bundle.nodeBuiltins.length === 0
      ? "no node: imports"
      : `imports ${bundle.nodeBuiltins.join(", ")}`,
  ];
  if (c.about !== undefined) notes.push(c.about);
  return {
    workload: "W6",
    case: c.case,
    impl: c.impl,
    value: bundle.gzipBytes / 1000,
    unit: "kB gz",
    note: notes.join("; "),
    detail: {
      minifiedBytes: bundle.bytes,
      gzipBytes: bundle.gzipBytes,
      nodeBuiltins: bundle.nodeBuiltins,
    },
  };
}

/** The Workers W6 bundles, for the installed package. */
export function workerCases(pkg: InstalledPackage): WorkerCase[] {
  const cases: WorkerCase[] = [
    {
      case: BUNDLE_CASES.pull,
      impl: "edgemetrics",
      source: pullWorker(pkg.name),
    },
    {
      case: BUNDLE_CASES.push,
      impl: "edgemetrics",
      source: pushWorker(pkg.name),
    },
    {
      case: BUNDLE_CASES.push,
      impl: "OTel",
      source: OTEL_PUSH_WORKER,
      about:
        "sdk-metrics 3.1.0 + exporter-metrics-otlp-http 0.301.0, one copy each",
    },
  ];
  const otel = pkg.entries.find((e) => e.subpath === "./otel");
  if (otel !== undefined) {
    cases.push({
      case: BUNDLE_CASES.otel,
      impl: "edgemetrics",
      source: `export * from "${specifierOf(pkg, otel)}";\n` +
        `export { OtlpExporter } from "${pkg.name}";\n`,
      about: "upper bound: every export of ./otel kept",
    });
  }
  for (const entry of pkg.entries) {
    cases.push({
      case: `bundle, entry ${entry.subpath} whole (export *)`,
      impl: "edgemetrics",
      source: `export * from "${specifierOf(pkg, entry)}";\n`,
    });
  }
  return cases;
}

/** Runs W6's bundle sizes over the installed package; `dir` receives the bundles. */
export async function w6Size(
  pkg: InstalledPackage,
  dir: string,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [i, c] of workerCases(pkg).entries()) {
    const entry = `${dir}/worker_${i}.mjs`;
    await Deno.writeTextFile(entry, c.source);
    const bundle = await bundleWorker(entry, `${dir}/worker_${i}.min.js`, {
      nodePaths: [pkg.nodeModules, TOOLS_MODULES],
      ...(c.impl === "OTel" ? { resolveFrom: OTEL_RESOLVE } : {}),
    });
    rows.push(sizeRow(c, bundle));
  }
  return rows;
}
