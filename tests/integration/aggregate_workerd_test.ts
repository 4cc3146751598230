/**
 * The aggregator in real workerd (miniflare on Node 26): several edge Worker
 * scripts (isolates standing in for machines) report to one Durable Object
 * namespace; thousands of requests give totals exactly equal to what was
 * recorded, with and without injected faults and restarts of the object,
 * and the aggregator's cost is measured in requests per 1,000 Worker
 * requests.
 */
import assert from "node:assert/strict";
import {
  answers,
  freePort,
  type Peer,
  startPeer,
  TOOLS_BIN,
  waitFor,
} from "../_peers.ts";
import { bundle } from "../runtimes/_build.ts";

const NODE = `${TOOLS_BIN}node`;
const BUCKETS = [1, 2, 3];

/** What the edges were asked to record, to compare with the scrape. */
class Expected {
  requests = new Map<string, number>(); // `${worker} ${route}`
  buckets = new Map<string, number[]>(); // route → per-bucket counts
  sums = new Map<string, number>();
  last = new Map<string, number>(); // worker → last value

  record(worker: string, route: string, value: number): void {
    const key = `${worker} ${route}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const counts = this.buckets.get(route) ?? [0, 0, 0, 0];
    const index = BUCKETS.findIndex((bound) => value <= bound);
    counts[index === -1 ? BUCKETS.length : index]!++;
    this.buckets.set(route, counts);
    this.sums.set(route, (this.sums.get(route) ?? 0) + value);
    this.last.set(worker, value);
  }

  get total(): number {
    let total = 0;
    for (const count of this.requests.values()) total += count;
    return total;
  }
}

interface Run {
  readonly base: string;
  readonly peer: Peer;
}

/** Bundles the aggregator script and the edge script once. */
async function bundles() {
  const dir = await Deno.makeTempDir({ prefix: "edgemetrics-aggregate-" });
  const object = `${dir}/object.mjs`;
  const edge = `${dir}/edge.mjs`;
  await bundle("tests/runtimes/aggregate_object_entry.ts", "esm", object);
  await bundle("tests/runtimes/aggregate_entry.ts", "esm", edge);
  return { dir, object, edge };
}

/** Starts one miniflare with the aggregator script and `edges` edge scripts. */
async function start(
  files: { dir: string; object: string; edge: string },
  options: {
    edges: number;
    shards: number;
    intervalMs: number;
    faults: boolean;
    persist?: string;
  },
): Promise<Run> {
  const port = freePort();
  const edges = Array.from({ length: options.edges }, (_, i) => `w${i}`);
  const config = {
    port,
    ...(options.persist === undefined ? {} : { persist: options.persist }),
    workers: [
      {
        name: "aggregator",
        file: files.object,
        bindings: { SHARDS: String(options.shards) },
        durableObjects: { AGG: { className: "TestAggregator" } },
        serviceBindings: Object.fromEntries(
          edges.map((name) => [name.toUpperCase(), name]),
        ),
      },
      ...edges.map((name) => ({
        name,
        file: files.edge,
        bindings: {
          WORKER: name,
          INTERVAL_MS: String(options.intervalMs),
          TIMEOUT_MS: "300",
          SHARDS: String(options.shards),
          FAULTS: options.faults ? "1" : "0",
        },
        durableObjects: {
          AGG: { className: "TestAggregator", scriptName: "aggregator" },
        },
      })),
    ],
  };
  const configFile = `${files.dir}/config-${port}.json`;
  await Deno.writeTextFile(configFile, JSON.stringify(config));
  const base = `http://127.0.0.1:${port}`;
  const peer = await startPeer(NODE, [
    "tests/runtimes/miniflare_workers_driver.ts",
    configFile,
  ], {
    env: { NO_COLOR: "1" },
    ready: () => answers(`${base}/metrics`),
    readyTimeoutMs: 60_000,
  });
  return { base, peer };
}

/**
 * Sends `count` hits spread round-robin over `edges`, `concurrency` at a
 * time, recording what each should count; `during` runs once, half way.
 */
async function traffic(
  base: string,
  edges: number,
  count: number,
  expected: Expected,
  during?: () => Promise<void>,
): Promise<number> {
  const routes = ["/", "/orders", "/cart"];
  let next = 0;
  let middle: Promise<void> | undefined;
  const started = performance.now();
  const concurrency = 16;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        if (i === Math.floor(count / 2) && during !== undefined) {
          middle = during();
        }
        const worker = `w${i % edges}`;
        const route = routes[i % routes.length]!;
        const value = (i % 9) * 0.5; // 0 … 4: every bucket, +Inf included
        const response = await fetch(
          `${base}/w/${worker}/hit?route=${
            encodeURIComponent(route)
          }&value=${value}`,
          { signal: AbortSignal.timeout(10_000) },
        );
        assert.equal(await response.text(), "ok\n");
        expected.record(worker, route, value);
      }
    }),
  );
  await middle;
  return performance.now() - started;
}

/** One last hit per edge with a known value, so the gauge's max is known. */
async function lastValues(
  base: string,
  edges: number,
  from: number,
  expected: Expected,
): Promise<void> {
  for (let i = 0; i < edges; i++) {
    const response = await fetch(
      `${base}/w/w${i}/hit?route=%2F&value=${from + i}`,
    );
    assert.equal(await response.text(), "ok\n");
    expected.record(`w${i}`, "/", from + i);
  }
}

/** Flushes every edge, retrying while injected faults make a flush fail. */
async function flushAll(base: string, edges: number): Promise<void> {
  for (let i = 0; i < edges; i++) {
    await waitFor(
      `w${i} to flush`,
      async () => {
        const response = await fetch(`${base}/w/w${i}/flush`, {
          method: "POST",
          signal: AbortSignal.timeout(15_000),
        });
        await response.body?.cancel();
        return response.ok;
      },
      60_000,
      10,
    );
  }
}

/**
 * The scrape through the router's ShardedSource (or `path`), as sample →
 * value.
 */
async function scrape(
  base: string,
  path = "/metrics",
): Promise<Map<string, number>> {
  const response = await fetch(`${base}${path}`, {
    headers: { Accept: "text/plain" },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(response.status, 200);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** Asserts that the scrape holds exactly what `expected` recorded. */
function assertTotals(samples: Map<string, number>, expected: Expected): void {
  const requests = [...samples].filter(([name]) =>
    name.startsWith("edge_requests_total{")
  );
  assert.equal(requests.length, expected.requests.size);
  for (const [key, count] of expected.requests) {
    const [worker, route] = key.split(" ");
    assert.equal(
      samples.get(`edge_requests_total{worker="${worker}",route="${route}"}`),
      count,
      key,
    );
  }
  for (const [route, counts] of expected.buckets) {
    let cumulative = 0;
    for (let i = 0; i <= BUCKETS.length; i++) {
      cumulative += counts[i]!;
      const le = i < BUCKETS.length ? BUCKETS[i]!.toFixed(1) : "+Inf";
      assert.equal(
        samples.get(`edge_value_bucket{route="${route}",le="${le}"}`),
        cumulative,
        `${route} le=${le}`,
      );
    }
    assert.equal(samples.get(`edge_value_count{route="${route}"}`), cumulative);
    assert.equal(
      samples.get(`edge_value_sum{route="${route}"}`),
      expected.sums.get(route),
    );
  }
}

function reportsReceived(samples: Map<string, number>): number {
  let total = 0;
  for (const [name, value] of samples) {
    if (name.startsWith("edgemetrics_aggregate_reports_total{")) total += value;
  }
  return total;
}

Deno.test({
  name:
    "MetricsAggregator in workerd: 4 edge scripts share one Durable Object namespace; 4,000 requests give exact totals; aggregator requests stay within isolates × run time ÷ interval whatever the request count",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const files = await bundles();
    const edges = 4;
    const intervalMs = 250;
    let run: Run | undefined;
    try {
      run = await start(files, {
        edges,
        shards: 1,
        intervalMs,
        faults: false,
      });
      const expected = new Expected();
      const rows: string[] = [];
      // Two runs of different request counts: reports follow time, not requests.
      for (const count of [1_000, 3_000]) {
        const before = reportsReceived(await scrape(run.base));
        const ms = await traffic(run.base, edges, count, expected);
        const reports: number = reportsReceived(await scrape(run.base)) -
          before;
        // Each isolate starts a report at most once per interval, plus the
        // one its first interval may leave in flight at the end.
        const bound = edges * (Math.floor(ms / intervalMs) + 1);
        rows.push(
          `${count} requests in ${
            (ms / 1000).toFixed(1)
          } s: ${reports} reports (bound ${bound}) = ${
            (reports / count * 1000).toFixed(1)
          } per 1,000 requests`,
        );
        assert.ok(reports <= bound, rows.at(-1)!);
      }
      console.log(
        `aggregator requests, ${edges} isolates, interval ${intervalMs} ms:\n  ${
          rows.join("\n  ")
        }`,
      );
      await lastValues(run.base, edges, 10, expected);
      await flushAll(run.base, edges);
      const samples = await scrape(run.base);
      assertTotals(samples, expected);
      assert.equal(samples.get("edge_last_value"), 10 + edges - 1);
      assert.equal(samples.get("edgemetrics_aggregate_reporters"), edges);
      assert.equal(
        samples.get('edgemetrics_aggregate_reports_total{outcome="duplicate"}'),
        0,
      );
    } finally {
      await run?.peer.stop();
      await Deno.remove(files.dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "MetricsAggregator in workerd under faults: 503s, throws, hangs past the timeout, lost answers, duplicated reports, the object reset mid-run and restarted from persisted storage; nothing lost or counted twice, over 2 shards",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const files = await bundles();
    const persist = `${files.dir}/do`;
    const edges = 3;
    const options = {
      edges,
      shards: 2,
      intervalMs: 100,
      faults: true,
      persist,
    };
    const injected: Record<string, number> = {};
    const countFaults = async (base: string) => {
      for (let i = 0; i < edges; i++) {
        const faults = await (await fetch(`${base}/w/w${i}/faults`)).json();
        for (const [kind, n] of Object.entries(faults)) {
          injected[kind] = (injected[kind] ?? 0) + (n as number);
        }
      }
    };
    const instance = async (base: string, shard: number) =>
      await (await fetch(`${base}/agg/${shard}/instance`)).text();
    let resets = 0;
    const reset = async (base: string) => {
      for (const shard of [0, 1]) {
        const before = await instance(base, shard);
        const response = await fetch(`${base}/abort/${shard}`);
        await response.body?.cancel();
        // The next request meets a new instance, its memory rebuilt from storage.
        await waitFor(
          `shard ${shard} to restart`,
          async () => (await instance(base, shard)) !== before,
        );
        resets++;
      }
    };
    let run: Run | undefined;
    try {
      const expected = new Expected();
      run = await start(files, options);
      await traffic(run.base, edges, 1_500, expected, () => reset(run!.base));
      await lastValues(run.base, edges, 10, expected);
      await flushAll(run.base, edges);
      await countFaults(run.base);
      assertTotals(await scrape(run.base), expected);

      // A new workerd on the same storage: the objects come back with it.
      await run.peer.stop();
      run = await start(files, options);
      assertTotals(await scrape(run.base), expected);
      await traffic(run.base, edges, 1_500, expected, () => reset(run!.base));
      await lastValues(run.base, edges, 20, expected);
      await flushAll(run.base, edges);
      await countFaults(run.base);
      const samples = await scrape(run.base);
      assertTotals(samples, expected);
      assert.equal(samples.get("edge_last_value"), 20 + edges - 1);
      // One of the objects can serve the merged scrape itself.
      for (const shard of [0, 1]) {
        assertTotals(await scrape(run.base, `/agg/${shard}/merged`), expected);
      }
      assert.equal(resets, 4);
      for (const kind of ["503", "throw", "hang", "lost", "duplicate"]) {
        assert.ok((injected[kind] ?? 0) > 0, `${kind} faults were injected`);
      }
      console.log(
        `faults injected over ${expected.total} requests: ${
          JSON.stringify(injected)
        }`,
      );
    } finally {
      await run?.peer.stop();
      await Deno.remove(files.dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "examples/worker_aggregated.ts in workerd, its object SQLite-backed: requests reported by the 10 s schedule reach its Durable Object, scraped at /metrics behind METRICS_TOKEN",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "edgemetrics-example-" });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    let peer: Peer | undefined;
    try {
      const file = `${dir}/example.mjs`;
      await bundle("examples/worker_aggregated.ts", "esm", file);
      await Deno.writeTextFile(
        `${dir}/config.json`,
        JSON.stringify({
          port,
          workers: [{
            name: "edge",
            file,
            bindings: { METRICS_TOKEN: "t0ken" },
            // SQLite-backed, as the example's wrangler config declares it.
            durableObjects: {
              METRICS: { className: "MetricsObject", useSQLite: true },
            },
          }],
        }),
      );
      peer = await startPeer(NODE, [
        "tests/runtimes/miniflare_workers_driver.ts",
        `${dir}/config.json`,
      ], {
        env: { NO_COLOR: "1" },
        // Scrapes are not counted: poll those (401 without the token).
        ready: async () => {
          const response = await fetch(`${base}/metrics`, {
            signal: AbortSignal.timeout(2_000),
          });
          await response.body?.cancel();
          return response.status === 401;
        },
        readyTimeoutMs: 60_000,
      });
      const scrape = async (token?: string) => {
        const response = await fetch(`${base}/metrics`, {
          headers: token ? { Authorization: `Bearer ${token}` } : {},
        });
        return { status: response.status, text: await response.text() };
      };
      // The reporter's clock starts with the first request it sees.
      const started = Date.now();
      for (let i = 0; i < 5; i++) {
        assert.equal(
          await (await fetch(`${base}/`)).text(),
          "hello from the edge\n",
        );
      }
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      // Nothing is reported before the interval: no request to the object.
      assert.doesNotMatch(
        (await scrape("t0ken")).text,
        /worker_requests_total/,
      );
      // The first request after 10 s starts a report through waitUntil.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, 10_500 - (Date.now() - started)))
      );
      await (await fetch(`${base}/`)).body?.cancel();
      let text = "";
      await waitFor("the report to reach the object", async () => {
        text = (await scrape("t0ken")).text;
        return /worker_requests_total\{route="\/",status="200"\} 6$/m.test(
          text,
        );
      });
      assert.match(
        text,
        /^worker_requests_total\{route="other",status="404"\} 1$/m,
      );
      assert.match(
        text,
        /^worker_request_duration_seconds_count\{route="\/"\} 6$/m,
      );
      assert.match(
        text,
        /^edgemetrics_aggregate_reports_total\{outcome="applied"\} 1$/m,
      );
    } finally {
      await peer?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
