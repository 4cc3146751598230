/**
 * RemoteWriteExporter against a real Prometheus 2.42 started with
 * `--web.enable-remote-write-receiver` on loopback: PromQL must answer the
 * exact values the job recorded (counters, gauges, histogram_quantile over
 * the classic buckets), written directly and through a fault-injecting
 * proxy (503, 429 with Retry-After, a request that hangs after Prometheus
 * stored it); and a batch Prometheus refuses with 400 is dropped with one
 * warning that quotes Prometheus. With `--enable-feature=native-histograms`,
 * native histograms arrive as native series: `histogram_count` and
 * `histogram_sum` are exact.
 */
import assert from "node:assert/strict";
import { freePort } from "../_peers.ts";
import { type Prometheus, startPrometheus } from "../_prometheus.ts";
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  RemoteWriteExporter,
} from "../../mod.ts";

/** The single value of an instant query. */
async function value(prom: Prometheus, promql: string): Promise<number> {
  const result = await prom.query(promql);
  assert.equal(result.length, 1, `${promql}: ${JSON.stringify(result)}`);
  return result[0]!.value;
}

/** Prometheus' histogram_quantile interpolation inside one bucket. */
function interpolate(
  start: number,
  end: number,
  below: number,
  inBucket: number,
  rank: number,
): number {
  return start + (end - start) * ((rank - below) / inBucket);
}

/** What a job records, and the exact answers PromQL must give for it. */
function recordJob(registry: Registry) {
  const rows = new Counter({
    name: "import_rows_total",
    help: "Rows imported.",
    labelNames: ["table"] as const,
    registry,
  });
  const lag = new Gauge({
    name: "import_lag_seconds",
    help: "How far behind the source the import is.",
    registry,
  });
  const latency = new Histogram({
    name: "import_batch_seconds",
    help: "Time to import one batch.",
    buckets: [0.1, 0.5, 1],
    registry,
  });
  return {
    first() {
      rows.inc({ table: "orders" }, 1200);
      rows.inc({ table: "customers" }, 35);
      lag.set(12.5);
      for (const v of [0.05, 0.05, 0.3, 0.3]) latency.observe(v);
    },
    second() {
      rows.inc({ table: "orders" }, 800);
      lag.set(0.25);
      // cumulative: le=0.1 → 2, le=0.5 → 6, le=1 → 8, +Inf → 10
      for (const v of [0.3, 0.3, 0.7, 0.7, 3, 3]) latency.observe(v);
    },
    async check(prom: Prometheus, job: string) {
      const sel = `job="${job}",instance="runner-1"`;
      assert.equal(
        await value(prom, `import_rows_total{${sel},table="orders"}`),
        2000,
      );
      assert.equal(
        await value(prom, `import_rows_total{${sel},table="customers"}`),
        35,
      );
      assert.equal(await value(prom, `import_lag_seconds{${sel}}`), 0.25);
      assert.equal(await value(prom, `import_batch_seconds_count{${sel}}`), 10);
      assert.equal(
        await value(prom, `import_batch_seconds_sum{${sel}}`),
        0.05 + 0.05 + 0.3 + 0.3 + 0.3 + 0.3 + 0.7 + 0.7 + 3 + 3,
      );
      const buckets = await prom.query(`import_batch_seconds_bucket{${sel}}`);
      assert.deepEqual(
        Object.fromEntries(buckets.map((b) => [b.labels.le, b.value])),
        { "0.1": 2, "0.5": 6, "1.0": 8, "+Inf": 10 },
      );
      const q = (phi: number) =>
        value(
          prom,
          `histogram_quantile(${phi}, import_batch_seconds_bucket{${sel}})`,
        );
      // rank 5 of 10 falls in (0.1, 0.5]: 2 below, 4 inside
      assert.equal(await q(0.5), interpolate(0.1, 0.5, 2, 4, 5));
      // rank 7.5 falls in (0.5, 1]: 6 below, 2 inside
      assert.equal(await q(0.75), interpolate(0.5, 1, 6, 2, 7.5));
      // rank 9.5 falls in +Inf: Prometheus answers the highest finite bound
      assert.equal(await q(0.95), 1);
    },
  };
}

/** The faults the proxy plays, one per request, then it passes through. */
type Fault = "503" | "429" | "hang" | "pass";

/** A loopback proxy in front of Prometheus that misbehaves on a schedule. */
function faultProxy(target: string, faults: Fault[]) {
  const seen: { fault: Fault; body: Uint8Array; headers: Headers }[] = [];
  const hung = new Set<() => void>();
  const port = freePort();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen() {} },
    async (request) => {
      const body = new Uint8Array(await request.arrayBuffer());
      const fault = faults.shift() ?? "pass";
      seen.push({ fault, body, headers: request.headers });
      if (fault === "503") {
        return new Response("overloaded", { status: 503 });
      }
      if (fault === "429") {
        return new Response("slow down", {
          status: 429,
          headers: { "retry-after": "1" },
        });
      }
      const forwarded = await fetch(`${target}/api/v1/write`, {
        method: "POST",
        headers: request.headers,
        body,
      });
      const answer = new Uint8Array(await forwarded.arrayBuffer());
      if (fault === "hang") {
        // Prometheus stored the batch; the answer never reaches the client.
        // (Released by close(), or after the client surely gave up.)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          hung.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        return new Response(null, { status: 504 });
      }
      return new Response(answer.length > 0 ? answer : null, {
        status: forwarded.status,
      });
    },
  );
  return {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    seen,
    async close() {
      for (const resolve of hung) resolve();
      await server.shutdown();
    },
  };
}

Deno.test({
  name:
    "RemoteWriteExporter writes into a real Prometheus 2.42: PromQL answers the exact counters, gauge and histogram_quantile, directly and through 503, 429 and a hung request",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using prom = await startPrometheus({
      flags: ["--web.enable-remote-write-receiver"],
    });

    await t.step(
      "directly: two flushes of a job, the second with await using",
      async () => {
        const registry = new Registry();
        const job = recordJob(registry);
        const exporter = new RemoteWriteExporter({
          url: `${prom.url}/api/v1/write`,
          job: "import_direct",
          instance: "runner-1",
          registry,
        });
        job.first();
        await exporter.flush();
        job.second();
        {
          await using _last = exporter;
        }
        await job.check(prom, "import_direct");
      },
    );

    await t.step(
      "through a proxy that answers 503, 429 with Retry-After, and hangs once after Prometheus stored the batch",
      async () => {
        const proxy = faultProxy(prom.url, ["503", "429", "pass", "hang"]);
        try {
          const registry = new Registry();
          const job = recordJob(registry);
          const errors: Error[] = [];
          const exporter = new RemoteWriteExporter({
            url: proxy.url,
            job: "import_faults",
            instance: "runner-1",
            registry,
            // 9 series (2 counters, 1 gauge, 6 histogram): batches of 6 and 3
            maxSeriesPerRequest: 6,
            timeoutMs: 3_000, // room for a loaded Prometheus; the hang costs this once
            deadlineMs: 20_000,
            initialBackoffMs: 50,
            onError: (error) => errors.push(error),
          });
          job.first();
          job.second();
          const started = performance.now();
          await exporter.flush();
          const elapsed = performance.now() - started;
          await exporter.shutdown();
          assert.deepEqual(errors, []);
          // batch 1: 503, 429, ok; batch 2: hang, ok; then shutdown's 2 batches
          const faults = proxy.seen.map((s) => s.fault);
          assert.deepEqual(faults.slice(0, 5), [
            "503",
            "429",
            "pass",
            "hang",
            "pass",
          ]);
          assert.ok(
            elapsed >= 1_000,
            `Retry-After: 1 was honoured (${elapsed} ms)`,
          );
          // Every retry resent the same bytes.
          assert.deepEqual(proxy.seen[1]!.body, proxy.seen[0]!.body);
          assert.deepEqual(proxy.seen[2]!.body, proxy.seen[0]!.body);
          assert.deepEqual(proxy.seen[4]!.body, proxy.seen[3]!.body);
          assert.notDeepEqual(proxy.seen[3]!.body, proxy.seen[0]!.body);
          for (const { headers } of proxy.seen) {
            assert.equal(headers.get("content-encoding"), "snappy");
            assert.equal(
              headers.get("content-type"),
              "application/x-protobuf",
            );
            assert.equal(
              headers.get("x-prometheus-remote-write-version"),
              "0.1.0",
            );
            assert.match(headers.get("user-agent") ?? "", /^edgemetrics\//);
          }
          await job.check(prom, "import_faults");
        } finally {
          await proxy.close();
        }
      },
    );

    await t.step(
      "a batch Prometheus refuses with 400 (samples too old) is dropped with one warning quoting Prometheus",
      async () => {
        const registry = new Registry();
        new Gauge({ name: "stale_value", help: "Old.", registry }).set(1);
        const errors: Error[] = [];
        const exporter = new RemoteWriteExporter({
          url: `${prom.url}/api/v1/write`,
          job: "import_old",
          registry,
          // Three hours ago: before what Prometheus' head block accepts.
          clock: {
            now: () => Date.now() - 3 * 3600_000,
            monotonic: () => performance.now(),
          },
          onError: (error) => errors.push(error),
        });
        await exporter.flush();
        await exporter.shutdown();
        assert.equal(errors.length, 2, errors.join("\n"));
        assert.match(errors[0]!.message, /^Dropped a batch of metrics/);
        assert.match(errors[0]!.message, /HTTP 400/);
        assert.match(errors[0]!.message, /out of bounds/);
        assert.deepEqual(
          await prom.query('stale_value{job="import_old"}'),
          [],
        );
      },
    );
  },
});

Deno.test({
  name:
    "RemoteWriteExporter writes native histograms into a real Prometheus 2.42 (native-histograms on): histogram_count and histogram_sum are exact, native-only and with classic buckets",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using prom = await startPrometheus({
      flags: [
        "--web.enable-remote-write-receiver",
        "--enable-feature=native-histograms",
      ],
    });
    const registry = new Registry();
    const nativeOnly = new Histogram({
      name: "job_step_seconds",
      help: "Time per step.",
      labelNames: ["step"] as const,
      native: true,
      registry,
    });
    const both = new Histogram({
      name: "job_payload_bytes",
      help: "Payload sizes.",
      buckets: [100, 1000],
      native: true,
      registry,
    });
    // Values whose sums are exact in binary floating point.
    const steps = [0.25, 0.5, 3, 0, 0.125, 96, 1024];
    for (const v of steps) nativeOnly.observe({ step: "load" }, v);
    nativeOnly.observe({ step: "save" }, -2);
    const sizes = [50, 400, 400, 2048, 1 / 1024];
    for (const v of sizes) both.observe(v);
    const exporter = new RemoteWriteExporter({
      url: `${prom.url}/api/v1/write`,
      job: "native_job",
      registry,
    });
    await exporter.flush();
    await exporter.shutdown();

    const sel = 'job="native_job"';
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.equal(
      await value(
        prom,
        `histogram_count(job_step_seconds{${sel},step="load"})`,
      ),
      steps.length,
    );
    assert.equal(
      await value(prom, `histogram_sum(job_step_seconds{${sel},step="load"})`),
      sum(steps),
    );
    assert.equal(
      await value(prom, `histogram_sum(job_step_seconds{${sel},step="save"})`),
      -2,
    );
    // Native only: no classic series at all.
    assert.deepEqual(
      await prom.query(`{__name__=~"job_step_seconds_.+",${sel}}`),
      [],
    );
    // Classic and native: both, with the same count and sum.
    assert.equal(
      await value(prom, `histogram_count(job_payload_bytes{${sel}})`),
      sizes.length,
    );
    assert.equal(
      await value(prom, `histogram_sum(job_payload_bytes{${sel}})`),
      sum(sizes),
    );
    assert.equal(
      await value(prom, `job_payload_bytes_count{${sel}}`),
      sizes.length,
    );
    assert.equal(
      await value(prom, `job_payload_bytes_bucket{${sel},le="1000.0"}`),
      4,
    );
    // The native buckets arrived: 4 of the 5 sizes are at most 512 = 2^9,
    // a bucket boundary at every schema, so the fraction is exact.
    assert.equal(
      await value(
        prom,
        `histogram_fraction(0, 512, job_payload_bytes{${sel}}) * 5`,
      ),
      4,
    );
  },
});
