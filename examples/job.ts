/**
 * A batch job that pushes its metrics when it ends: to a Prometheus
 * Pushgateway (for Prometheus to scrape) and to an OpenTelemetry collector
 * over OTLP/HTTP. Both read the same registry.
 *
 * ```sh
 * deno run --allow-net --allow-env examples/job.ts
 * ```
 *
 * Where to push comes from the environment, with localhost defaults:
 * `PUSHGATEWAY_URL` (default `http://localhost:9091`), and the standard
 * `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
 * (default `http://localhost:4318/v1/metrics`), `OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`. `JOB_INSTANCE` names this run in the
 * Pushgateway grouping key, so concurrent runs never overwrite each other.
 *
 * Pitfalls this example avoids: the exporters are created when the job
 * starts, not shared across forks; the OTLP exporter makes its
 * `service.instance.id` on its first export, one per process; the grouping
 * key identifies the job instance; and both pushes happen in `finally`, so a
 * failing job still reports how far it got.
 *
 * @module
 */

import {
  Counter,
  Gauge,
  Histogram,
  OtlpExporter,
  Pushgateway,
  Registry,
} from "@edgemetrics/edgemetrics";

/** Reads an environment variable where there is one, without requiring permission. */
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

const registry = new Registry();
const rows = new Counter({
  name: "import_rows_total",
  help: "Rows handled by the import, by outcome.",
  labelNames: ["outcome"] as const,
  registry,
});
const batchSeconds = new Histogram({
  name: "import_batch_duration_seconds",
  help: "Time to import one batch.",
  unit: "seconds",
  buckets: [0.01, 0.05, 0.1, 0.5, 1],
  registry,
});
const lastSuccess = new Gauge({
  name: "import_last_success_timestamp_seconds",
  help: "When the import last finished without error.",
  registry,
});

/** Stands in for the real work: imports `count` rows in batches. */
async function importRows(count: number): Promise<void> {
  for (let done = 0; done < count; done += 100) {
    const end = batchSeconds.startTimer();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const batch = Math.min(100, count - done);
    rows.inc({ outcome: "imported" }, batch - 1);
    rows.inc({ outcome: "skipped" }, 1);
    end();
  }
}

/** Runs the job and pushes its metrics, whatever happens. */
export async function main(): Promise<void> {
  const pushgateway = new Pushgateway({
    url: env("PUSHGATEWAY_URL") ?? "http://localhost:9091",
    job: "nightly_import",
    groupingKey: { instance: env("JOB_INSTANCE") ?? "local" },
    registry,
    timeoutMs: 5_000,
  });
  // Leaving this scope flushes to the collector and shuts the exporter down.
  await using _otlp = new OtlpExporter({
    resource: { "service.name": env("OTEL_SERVICE_NAME") ?? "nightly-import" },
    registry,
    timeoutMs: 5_000,
    deadlineMs: 15_000,
  });
  try {
    await importRows(1_000);
    lastSuccess.setToCurrentTime();
  } finally {
    // Push even when the job failed: the counters say how far it got.
    await pushgateway.push();
  }
}

if (import.meta.main) {
  await main();
  console.log("pushed import metrics");
}
