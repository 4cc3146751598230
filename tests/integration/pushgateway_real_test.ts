/**
 * A real Pushgateway (Debian `prometheus-pushgateway` 1.5, on PATH) receives
 * push, pushAdd and delete from {@linkcode Pushgateway}; its
 * `/api/v1/metrics` must then show exactly the expected groups and values,
 * including grouping-key values with `/` in them and empty ones.
 */
import assert from "node:assert/strict";
import { Counter, Pushgateway, Registry } from "../../mod.ts";
import { answers, freePort, run, startPeer } from "../_peers.ts";

interface ApiGroup {
  labels: Record<string, string>;
  [metric: string]: unknown;
}

type Groups = Record<
  string,
  Record<string, { type: string; samples: [Record<string, string>, string][] }>
>;

/** The gateway's groups as `{ "<group labels>": { metric: { type, samples } } }`, without its own push-time gauges. */
async function groups(base: string): Promise<Groups> {
  const response = await fetch(`${base}/api/v1/metrics`);
  const body = await response.json() as { status: string; data: ApiGroup[] };
  assert.equal(body.status, "success");
  const out: Groups = {};
  for (const group of body.data) {
    const metrics: Groups[string] = {};
    for (const [name, value] of Object.entries(group)) {
      if (
        name === "labels" || name === "last_push_successful" ||
        name === "push_time_seconds" || name === "push_failure_time_seconds"
      ) continue;
      const family = value as {
        type: string;
        metrics: { labels: Record<string, string>; value: string }[];
      };
      metrics[name] = {
        type: family.type,
        samples: family.metrics.map((m) => [m.labels, m.value]),
      };
    }
    out[JSON.stringify(group.labels)] = metrics;
  }
  return out;
}

function registryWith(
  name: string,
  values: Record<string, number>,
): Registry {
  const registry = new Registry();
  const counter = new Counter({
    name,
    help: `${name} help.`,
    labelNames: ["queue"] as const,
    registry,
  });
  for (const [queue, value] of Object.entries(values)) {
    counter.inc({ queue }, value);
  }
  return registry;
}

Deno.test("Pushgateway push(), pushAdd() and delete() change a real Pushgateway's groups as expected", async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  await using _peer = await startPeer("prometheus-pushgateway", [
    `--web.listen-address=127.0.0.1:${port}`,
    "--persistence.file=",
  ], { ready: () => answers(`${base}/-/ready`) });

  const slashed = { instance: "host/1", path: "/var/lib/db" };
  const a = registryWith("rows_imported", { orders: 42, users: 7 });
  const gwA = new Pushgateway({
    url: base,
    job: "nightly",
    groupingKey: slashed,
    registry: a,
  });
  await gwA.push();
  const groupA = JSON.stringify({
    instance: "host/1",
    job: "nightly",
    path: "/var/lib/db",
  });
  assert.deepEqual(await groups(base), {
    [groupA]: {
      rows_imported_total: {
        type: "COUNTER",
        samples: [
          [{ ...slashed, job: "nightly", queue: "orders" }, "42"],
          [{ ...slashed, job: "nightly", queue: "users" }, "7"],
        ],
      },
    },
  });

  // pushAdd keeps the group's other metrics and replaces same-named ones.
  const b = registryWith("rows_rejected", { orders: 3 });
  await new Pushgateway({
    url: base,
    job: "nightly",
    groupingKey: slashed,
    registry: b,
  }).pushAdd();
  // A second group: an empty grouping-key value and a job name with a slash.
  const c = registryWith("rows_imported", { orders: 1 });
  const gwC = new Pushgateway({
    url: base,
    job: "etl/nightly",
    groupingKey: { instance: "" },
    registry: c,
  });
  await gwC.push();
  const groupC = JSON.stringify({ instance: "", job: "etl/nightly" });
  const afterAdd = await groups(base);
  assert.deepEqual(afterAdd[groupA], {
    rows_imported_total: {
      type: "COUNTER",
      samples: [
        [{ ...slashed, job: "nightly", queue: "orders" }, "42"],
        [{ ...slashed, job: "nightly", queue: "users" }, "7"],
      ],
    },
    rows_rejected_total: {
      type: "COUNTER",
      samples: [[{ ...slashed, job: "nightly", queue: "orders" }, "3"]],
    },
  });
  assert.deepEqual(Object.keys(afterAdd).sort(), [groupA, groupC].sort());
  assert.deepEqual(afterAdd[groupC], {
    rows_imported_total: {
      type: "COUNTER",
      samples: [[{ instance: "", job: "etl/nightly", queue: "orders" }, "1"]],
    },
  });

  // push (PUT) replaces the whole group: rows_rejected goes away.
  await gwA.push();
  assert.deepEqual(Object.keys((await groups(base))[groupA]!), [
    "rows_imported_total",
  ]);

  await gwA.delete();
  assert.deepEqual(Object.keys(await groups(base)), [groupC]);
  await gwC.delete();
  assert.deepEqual(await groups(base), {});
});

Deno.test("Pushgateway keeps a job and grouping values of . and .. as values on a real Pushgateway", async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  await using _peer = await startPeer("prometheus-pushgateway", [
    `--web.listen-address=127.0.0.1:${port}`,
    "--persistence.file=",
  ], { ready: () => answers(`${base}/-/ready`) });
  const gw = new Pushgateway({
    url: base,
    job: "..",
    groupingKey: { instance: ".", zone: ".." },
    registry: registryWith("dots", { q: 2 }),
  });
  await gw.push();
  const group = { instance: ".", job: "..", zone: ".." };
  assert.deepEqual(await groups(base), {
    [JSON.stringify(group)]: {
      dots_total: {
        type: "COUNTER",
        samples: [[{ ...group, queue: "q" }, "2"]],
      },
    },
  });
  await gw.delete();
  assert.deepEqual(await groups(base), {});
});

Deno.test("Pushgateway rejects with the gateway's 400 when a push is inconsistent", async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  await using _peer = await startPeer("prometheus-pushgateway", [
    `--web.listen-address=127.0.0.1:${port}`,
    "--persistence.file=",
  ], { ready: () => answers(`${base}/-/ready`) });
  // One group holds clash_total as a counter; another pushes it as a gauge.
  await new Pushgateway({
    url: base,
    job: "first",
    registry: registryWith("clash", { q: 1 }),
  }).push();
  const registry = new Registry();
  registry.register({
    name: "clash_total",
    type: "gauge",
    collect: () => ({
      type: "gauge",
      name: "clash_total",
      help: "clash help.",
      aggregation: "sum",
      points: [{ labels: {}, value: 1 }],
    }),
  });
  const gw = new Pushgateway({ url: base, job: "second", registry });
  await assert.rejects(
    gw.push(),
    (error: Error) => {
      assert.match(
        error.message,
        new RegExp(
          `^Cannot push metrics to ${base}/metrics/job/second: got HTTP 400 Bad Request \\(".*"\\) after 1 attempt \\(not retryable\\)$`,
        ),
      );
      return true;
    },
  );
});

Deno.test("examples/job.ts pushes its metrics to a real Pushgateway and to an OTLP collector when it ends", async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  await using _peer = await startPeer("prometheus-pushgateway", [
    `--web.listen-address=127.0.0.1:${port}`,
    "--persistence.file=",
  ], { ready: () => answers(`${base}/-/ready`) });
  const received: { type: string | null; size: number }[] = [];
  await using collector = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.arrayBuffer();
      received.push({
        type: request.headers.get("content-type"),
        size: body.byteLength,
      });
      return new Response(null, { status: 200 });
    },
  );
  const { code, stdout, stderr } = await run(Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-env",
    "examples/job.ts",
  ], {
    env: {
      PUSHGATEWAY_URL: base,
      JOB_INSTANCE: "runner/7",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}`,
      NO_COLOR: "1",
    },
  });
  assert.equal(code, 0, stdout + stderr);
  assert.equal(stdout, "pushed import metrics\n");
  const group = JSON.stringify({ instance: "runner/7", job: "nightly_import" });
  const pushed = (await groups(base))[group]!;
  assert.deepEqual(pushed["import_rows_total"], {
    type: "COUNTER",
    samples: [
      [
        { instance: "runner/7", job: "nightly_import", outcome: "imported" },
        "990",
      ],
      [
        { instance: "runner/7", job: "nightly_import", outcome: "skipped" },
        "10",
      ],
    ],
  });
  assert.equal(
    (pushed["import_batch_duration_seconds"] as { type: string }).type,
    "HISTOGRAM",
  );
  assert.equal(
    (pushed["import_last_success_timestamp_seconds"] as { type: string }).type,
    "GAUGE",
  );
  assert.equal(received.length, 1);
  assert.equal(received[0]!.type, "application/x-protobuf");
  assert.ok(received[0]!.size > 100);
});
