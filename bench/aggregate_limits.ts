/**
 * Measures what one aggregator Durable Object takes, in real workerd
 * (miniflare on Node 26, storage persisted on local disk):
 *
 * - reports per second into one object (each report: 20 counter series and
 *   one 8-bucket histogram series, from 200 reporters, 32 in flight);
 * - for 10k, 50k and 100k stored series: the scrape's size (text 0.0.4,
 *   uncompressed and gzipped), the shard snapshot's size, the time of a
 *   scrape, and of the first scrape after the object was reset (it reads
 *   all its storage back);
 * - bytes per series, to say how many series fit under a 32 MiB answer.
 *
 * `deno run -A bench/aggregate_limits.ts`. Local workerd is not Cloudflare's
 * edge (no network between Worker and object, a local SQLite file): the
 * figures bound the code's own cost, not the platform's.
 *
 * @module
 */

import { freePort, startPeer, TOOLS_BIN } from "../tests/_peers.ts";
import { bundle } from "../tests/runtimes/_build.ts";
import { encodeReport } from "../src/aggregate/_report.ts";
import type { MetricFamily } from "../src/model.ts";

const dir = await Deno.makeTempDir({ prefix: "edgemetrics-limits-" });
const object = `${dir}/object.mjs`;
await bundle("tests/runtimes/aggregate_object_entry.ts", "esm", object);
const port = freePort();
const base = `http://127.0.0.1:${port}`;
await Deno.writeTextFile(
  `${dir}/config.json`,
  JSON.stringify({
    port,
    persist: `${dir}/do`,
    workers: [{
      name: "aggregator",
      file: object,
      bindings: { SHARDS: "1", STORE: Deno.args[0] ?? "durable" },
      durableObjects: { AGG: { className: "TestAggregator" } },
    }],
  }),
);
const peer = await startPeer(`${TOOLS_BIN}node`, [
  "tests/runtimes/miniflare_workers_driver.ts",
  `${dir}/config.json`,
], {
  env: { NO_COLOR: "1" },
  ready: async () => (await fetch(`${base}/agg/0/metrics`)).ok,
  readyTimeoutMs: 60_000,
});

async function post(
  shard: string,
  reporter: string,
  seq: number,
  families: MetricFamily[],
) {
  const response = await fetch(`${base}/agg/${shard}/report`, {
    method: "POST",
    body: encodeReport({ edgemetrics: 1, reporter, seq, families }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${text}`);
}

function counters(prefix: string, from: number, count: number): MetricFamily {
  return {
    type: "counter",
    name: "bench_requests",
    help: "Requests.",
    points: Array.from({ length: count }, (_, i) => ({
      labels: { route: `/${prefix}/${from + i}`, status: "200" },
      value: 1,
      created: 1_700_000_000_000,
    })),
  };
}

const histogram: MetricFamily = {
  type: "histogram",
  name: "bench_latency_seconds",
  help: "Latency.",
  bounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  points: [{
    labels: { route: "/" },
    counts: [1, 2, 3, 4, 5, 6, 7, 8, 9],
    sum: 12.5,
    count: 45,
    created: 1_700_000_000_000,
  }],
};

try {
  // Reports per second into one object.
  const reporters = 200;
  const perReporter = 10;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < reporters * perReporter) {
      const i = next++;
      const reporter = `r${i % reporters}`;
      const seq = Math.floor(i / reporters) + 1;
      await post("rate", reporter, seq, [counters("rate", 0, 20), histogram]);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `reports into one object: ${reporters * perReporter} in ${
      seconds.toFixed(1)
    } s = ${
      Math.round(reporters * perReporter / seconds)
    } reports/s (21 series each, 32 in flight)`,
  );

  // Series per object.
  let stored = 0;
  let seq = 0;
  for (const target of [10_000, 50_000, 100_000]) {
    const loadStart = performance.now();
    while (stored < target) {
      await post("size", "loader", ++seq, [counters("size", stored, 1_000)]);
      stored += 1_000;
    }
    const loadMs = performance.now() - loadStart;
    let t = performance.now();
    const text = await (await fetch(`${base}/agg/size/metrics`, {
      headers: { "Accept-Encoding": "identity", Accept: "text/plain" },
    })).arrayBuffer();
    const scrapeMs = performance.now() - t;
    const gzipped = (await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer()).byteLength;
    const snapshot = await (await fetch(`${base}/agg/size/snapshot`))
      .arrayBuffer();
    const before = await (await fetch(`${base}/agg/size/instance`)).text();
    await (await fetch(`${base}/abort/size`)).body?.cancel();
    while (
      (await (await fetch(`${base}/agg/size/instance`)).text()) === before
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t = performance.now();
    await (await fetch(`${base}/agg/size/metrics`)).arrayBuffer();
    const coldMs = performance.now() - t;
    console.log(
      `${target} counter series: scrape ${
        (text.byteLength / 2 ** 20).toFixed(1)
      } MiB text (${Math.round(text.byteLength / target)} B/series; gzip ${
        (gzipped / 2 ** 20).toFixed(2)
      } MiB) in ${Math.round(scrapeMs)} ms, snapshot ${
        (snapshot.byteLength / 2 ** 20).toFixed(1)
      } MiB (${
        Math.round(snapshot.byteLength / target)
      } B/series), first scrape after a reset ${
        Math.round(coldMs)
      } ms, loading took ${Math.round(loadMs)} ms (1,000-series reports)`,
    );
  }
} finally {
  await peer.stop();
  await Deno.remove(dir, { recursive: true });
}
