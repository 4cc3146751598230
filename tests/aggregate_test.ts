import assert from "node:assert/strict";
import { Registry } from "../src/registry.ts";
import { Counter } from "../src/instruments/counter.ts";
import { Gauge } from "../src/instruments/gauge.ts";
import { Histogram } from "../src/instruments/histogram.ts";
import { Summary } from "../src/instruments/summary.ts";
import type { HistogramPoint, MetricFamily } from "../src/model.ts";
import { UpDownCounter } from "../src/instruments/up_down_counter.ts";
import { decodePrometheusProtobuf } from "./_prometheus_decode.ts";
import { MetricsAggregator } from "../src/aggregate/aggregator.ts";
import { MetricsReporter } from "../src/aggregate/reporter.ts";
import { ShardedSource, shardOf } from "../src/aggregate/shards.ts";
import {
  type AggregateStorage,
  durableObjectStorage,
  MemoryStorage,
} from "../src/aggregate/storage.ts";
import { encodeReport, parseFamilies } from "../src/aggregate/_report.ts";
import { DeltaTracker } from "../src/push/_delta.ts";

const EPOCH = 1_700_000_000_000;

/** A clock that only moves when told. */
function fakeClock() {
  let t = 0;
  return {
    clock: { now: () => EPOCH + t, monotonic: () => t },
    advance: (ms: number) => void (t += ms),
  };
}

/** Delivery options that never sleep for real. */
const FAST = { sleep: () => Promise.resolve(), random: () => 0 } as const;

/** One isolate: its own registry and instruments of every kind. */
function isolate(
  send: (request: Request, shard: number) => Promise<Response>,
  options: { shards?: number; timeoutMs?: number; maxAttempts?: number } = {},
) {
  const registry = new Registry();
  const requests = new Counter({
    name: "requests_total",
    help: "Requests.",
    labelNames: ["route"] as const,
    registry,
  });
  const latency = new Histogram({
    name: "latency_seconds",
    help: "Latency.",
    buckets: [0.1, 0.5],
    registry,
  });
  const sizes = new Summary({
    name: "size_bytes",
    help: "Sizes.",
    percentiles: [0.5],
    registry,
  });
  const inflight = new Gauge({
    name: "inflight",
    help: "In flight.",
    aggregation: "sum",
    registry,
  });
  const peak = new Gauge({
    name: "peak",
    help: "Peak.",
    aggregation: "max",
    registry,
  });
  const heap = new Gauge({
    name: "heap_bytes",
    help: "Heap.",
    aggregation: "all",
    registry,
  });
  const reporter = new MetricsReporter({
    registry,
    fetch: send,
    ...FAST,
    ...options,
  });
  return { registry, requests, latency, sizes, inflight, peak, heap, reporter };
}

/** An isolate with only a labelled request counter. */
function counterOnly(
  send: (request: Request, shard: number) => Promise<Response>,
) {
  const registry = new Registry();
  const requests = new Counter({
    name: "requests_total",
    help: "Requests.",
    labelNames: ["route"] as const,
    registry,
  });
  const reporter = new MetricsReporter({ registry, fetch: send, ...FAST });
  return { requests, reporter };
}

/** The families of a collect, by name, without the aggregator's own. */
async function totals(
  source: { collect(): Promise<readonly MetricFamily[]> },
): Promise<Record<string, MetricFamily>> {
  const out: Record<string, MetricFamily> = {};
  for (const family of await source.collect()) {
    if (!family.name.startsWith("edgemetrics_")) out[family.name] = family;
  }
  return out;
}

function counterValue(family: MetricFamily | undefined, route: string) {
  assert.equal(family?.type, "counter");
  return family.points.find((point) => point.labels.route === route)?.value;
}

Deno.test("MetricsAggregator adds counters, histograms and summaries' count and sum from several reporters, and combines gauges by aggregation", async () => {
  const aggregator = new MetricsAggregator();
  const a = isolate(aggregator.fetch);
  const b = isolate(aggregator.fetch);
  a.requests.inc({ route: "/a" }, 2);
  b.requests.inc({ route: "/a" }, 3);
  b.requests.inc({ route: "/b" });
  a.latency.observe(0.05);
  b.latency.observe(0.3);
  b.latency.observe(7);
  a.sizes.observe(100);
  b.sizes.observe(300);
  a.inflight.set(4);
  b.inflight.set(6);
  a.peak.set(10);
  b.peak.set(30);
  a.heap.set(1);
  b.heap.set(2);
  await a.reporter.flush();
  await b.reporter.flush();
  // A second round: only deltas travel, and they add up.
  a.requests.inc({ route: "/a" }, 5);
  a.latency.observe(0.2);
  a.inflight.set(1);
  await a.reporter.flush();
  await b.reporter.flush();

  const got = await totals(aggregator);
  assert.equal(counterValue(got.requests, "/a"), 10);
  assert.equal(counterValue(got.requests, "/b"), 1);
  const latency = got.latency_seconds;
  assert.equal(latency?.type, "histogram");
  assert.deepEqual(latency.bounds, [0.1, 0.5]);
  assert.deepEqual(latency.points[0]?.counts, [1, 2, 1]);
  assert.equal(latency.points[0]?.count, 4);
  assert.ok(Math.abs(latency.points[0]!.sum - 7.55) < 1e-9);
  const sizes = got.size_bytes;
  assert.equal(sizes?.type, "summary");
  assert.deepEqual(
    sizes.points.map((p) => [p.count, p.sum, p.quantiles]),
    [[2, 400, []]],
  );
  assert.deepEqual(got.inflight?.points, [{ labels: {}, value: 7 }]);
  assert.deepEqual(got.peak?.points, [{ labels: {}, value: 30 }]);
  assert.deepEqual(
    got.heap_bytes?.points,
    [
      { labels: { worker: a.reporter.id }, value: 1 },
      { labels: { worker: b.reporter.id }, value: 2 },
    ],
  );
});

Deno.test("MetricsAggregator applies a report once: the same (reporter, seq) again answers duplicate and changes nothing", async () => {
  const aggregator = new MetricsAggregator();
  const body = encodeReport({
    edgemetrics: 1,
    reporter: "r1",
    seq: 1,
    families: [{
      type: "counter",
      name: "jobs",
      help: "Jobs.",
      points: [{ labels: {}, value: 5, created: EPOCH }],
    }],
  });
  const post = () =>
    aggregator.fetch(
      new Request("http://agg/report", { method: "POST", body }),
    );
  assert.deepEqual(await (await post()).json(), { applied: true });
  assert.deepEqual(await (await post()).json(), { duplicate: true });
  const got = await totals(aggregator);
  assert.deepEqual(got.jobs?.points, [{
    labels: {},
    value: 5,
    created: EPOCH,
  }]);
  const scrape = await aggregator.fetch(
    new Request("http://agg/metrics?name[]=edgemetrics_aggregate_reports"),
  );
  const text = await scrape.text();
  assert.match(
    text,
    /^edgemetrics_aggregate_reports_total\{outcome="applied"\} 1$/m,
  );
  assert.match(
    text,
    /^edgemetrics_aggregate_reports_total\{outcome="duplicate"\} 1$/m,
  );
});

Deno.test("MetricsAggregator answers 400 to a body that is not a report, and the reporter gives that report up with an error", async () => {
  const aggregator = new MetricsAggregator();
  for (
    const body of [
      "nope",
      "{}",
      '{"edgemetrics":1,"reporter":"r","seq":0,"families":[]}',
      '{"edgemetrics":1,"reporter":"r","seq":1,"families":[{"name":"x"}]}',
      '{"edgemetrics":1,"reporter":"r","seq":1,"families":[{"type":"counter","name":"x","help":"","points":[{"labels":{},"value":"7","created":0}]}]}',
      '{"edgemetrics":1,"reporter":"r","seq":1,"families":[{"type":"counter","name":"x","help":"","points":[{"labels":{},"value":-1,"created":0}]}]}',
      '{"edgemetrics":1,"reporter":"r","seq":1,"families":[{"type":"gauge","name":"x","help":"","aggregation":"sum","points":[{"labels":{"a":1},"value":1}]}]}',
    ]
  ) {
    const response = await aggregator.fetch(
      new Request("http://agg/report", { method: "POST", body }),
    );
    assert.equal(response.status, 400, body);
    assert.match(await response.text(), /^Cannot apply the report: /);
  }
  const one = isolate(() =>
    Promise.resolve(new Response("bad", { status: 400 }))
  );
  one.requests.inc({ route: "/" });
  await assert.rejects(
    one.reporter.flush(),
    /refused the report, its data is dropped/,
  );
});

Deno.test("MetricsReporter keeps a report that failed (503, thrown, hung past timeoutMs, answer lost) and resends it with the same seq: totals exact", async (t) => {
  type Fault = "503" | "throw" | "hang" | "lost" | "duplicate";
  for (
    const fault of ["503", "throw", "hang", "lost", "duplicate"] as Fault[]
  ) {
    await t.step(fault, async () => {
      const aggregator = new MetricsAggregator();
      const seqs: number[] = [];
      let failing = true;
      const one = isolate(async (request) => {
        seqs.push(JSON.parse(await request.clone().text()).seq);
        if (!failing) return aggregator.fetch(request);
        switch (fault) {
          case "503":
            return new Response("busy", { status: 503 });
          case "throw":
            throw new TypeError("network down");
          case "hang":
            return new Promise<Response>(() => {});
          case "lost":
            await aggregator.fetch(request);
            throw new TypeError(
              "connection reset after the aggregator applied it",
            );
          case "duplicate": {
            await aggregator.fetch(request.clone());
            return aggregator.fetch(request);
          }
        }
      }, { timeoutMs: 20, maxAttempts: 2 });
      one.requests.inc({ route: "/" }, 4);
      if (fault === "duplicate") {
        await one.reporter.flush();
      } else {
        await assert.rejects(one.reporter.flush());
      }
      failing = false;
      one.requests.inc({ route: "/" }, 6);
      await one.reporter.flush();
      assert.equal(counterValue((await totals(aggregator)).requests, "/"), 10);
      // The failed report went again unchanged before a new one.
      assert.deepEqual(
        seqs,
        fault === "duplicate" ? [1, 2] : [1, 1, 1, 2],
      );
    });
  }
});

Deno.test("MetricsAggregator answers 503 and changes nothing when storage fails; the retry applies the report in full", async () => {
  const memory = new MemoryStorage();
  let fail = 1;
  const storage: AggregateStorage = {
    list: (prefix) => memory.list(prefix),
    write: (puts, deletes) =>
      fail-- > 0
        ? Promise.reject(new Error("storage down"))
        : memory.write(puts, deletes),
  };
  const errors: unknown[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const aggregator = new MetricsAggregator({ storage });
    const one = isolate(aggregator.fetch);
    one.requests.inc({ route: "/" }, 3);
    await one.reporter.flush();
    assert.equal(counterValue((await totals(aggregator)).requests, "/"), 3);
    assert.equal(errors.length, 1);
    // A fresh aggregator over the same storage (a restarted object) sees it.
    const restarted = new MetricsAggregator({ storage: memory });
    assert.equal(counterValue((await totals(restarted)).requests, "/"), 3);
  } finally {
    console.error = error;
  }
});

Deno.test("MetricsAggregator restarted over the same storage keeps totals and still refuses an applied (reporter, seq)", async () => {
  const storage = new MemoryStorage();
  let aggregator = new MetricsAggregator({ storage });
  const bodies: Request[] = [];
  const one = isolate((request) => {
    bodies.push(request.clone());
    return aggregator.fetch(request);
  });
  one.requests.inc({ route: "/" }, 2);
  one.latency.observe(0.3);
  await one.reporter.flush();
  aggregator = new MetricsAggregator({ storage });
  const again = await aggregator.fetch(bodies[0]!);
  assert.deepEqual(await again.json(), { duplicate: true });
  one.requests.inc({ route: "/" }, 1);
  await one.reporter.flush();
  const got = await totals(aggregator);
  assert.equal(counterValue(got.requests, "/"), 3);
  assert.equal(got.latency_seconds?.type, "histogram");
  assert.deepEqual(got.latency_seconds.points[0]?.counts, [0, 1, 0]);
});

Deno.test("MetricsAggregator leaves out and then removes the gauges of a reporter silent for gaugeExpiryMs; totals stay", async () => {
  const { clock, advance } = fakeClock();
  const storage = new MemoryStorage();
  const aggregator = new MetricsAggregator({
    storage,
    clock,
    gaugeExpiryMs: 1_000,
    forgetReportersMs: 5_000,
  });
  const a = isolate(aggregator.fetch);
  const b = isolate(aggregator.fetch);
  a.inflight.set(2);
  b.inflight.set(5);
  a.requests.inc({ route: "/" });
  await a.reporter.flush();
  await b.reporter.flush();
  assert.deepEqual((await totals(aggregator)).inflight?.points, [{
    labels: {},
    value: 7,
  }]);
  advance(600);
  await b.reporter.flush();
  advance(600); // a: 1,200 ms silent; b: 600 ms
  let got = await totals(aggregator);
  assert.deepEqual(got.inflight?.points, [{ labels: {}, value: 5 }]);
  assert.equal(counterValue(got.requests, "/"), 1);
  // The next report removes a's gauge entries (3 gauges) from storage.
  const owners = async () =>
    [...(await storage.list("g\u0000")).keys()].map((key) =>
      key.split("\u0000")[1]
    );
  assert.equal((await owners()).filter((id) => id === a.reporter.id).length, 3);
  await b.reporter.flush();
  assert.deepEqual(await owners(), [
    b.reporter.id,
    b.reporter.id,
    b.reporter.id,
  ]);
  // Forgotten after forgetReportersMs: its sequence record goes too.
  advance(5_000);
  await b.reporter.flush();
  assert.equal((await storage.list("r\u0000")).size, 1);
  got = await totals(aggregator);
  assert.equal(counterValue(got.requests, "/"), 1);
});

Deno.test("MetricsAggregator leaves out a family whose kind or bounds differ from the stored one and warns once", async () => {
  const aggregator = new MetricsAggregator();
  const post = (seq: number, family: MetricFamily) =>
    aggregator.fetch(
      new Request("http://agg/report", {
        method: "POST",
        body: encodeReport({
          edgemetrics: 1,
          reporter: "r",
          seq,
          families: [family],
        }),
      }),
    );
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    await post(1, {
      type: "histogram",
      name: "h",
      help: "H.",
      bounds: [1],
      points: [{ labels: {}, counts: [1, 0], sum: 0.5, count: 1, created: 0 }],
    });
    await post(2, {
      type: "histogram",
      name: "h",
      help: "H.",
      bounds: [2],
      points: [{ labels: {}, counts: [1, 0], sum: 1.5, count: 1, created: 0 }],
    });
    await post(3, {
      type: "counter",
      name: "h",
      help: "H.",
      points: [{ labels: {}, value: 1, created: 0 }],
    });
  } finally {
    console.warn = warn;
  }
  const got = await totals(aggregator);
  assert.equal(got.h?.type, "histogram");
  assert.deepEqual(got.h.points[0]?.counts, [1, 0]);
  assert.equal(warnings.length, 2);
  assert.match(
    warnings[0]!,
    /Cannot merge metric "h" from reporter "r": bucket bounds differ/,
  );
  assert.match(
    warnings[1]!,
    /Cannot aggregate metric "h" from reporter "r": it is a counter there and a histogram here/,
  );
});

Deno.test("MetricsAggregator leaves out new series past maxSeries and counts them", async () => {
  const aggregator = new MetricsAggregator({ maxSeries: 2 });
  const one = counterOnly(aggregator.fetch);
  for (const route of ["/1", "/2", "/3"]) one.requests.inc({ route });
  const warn = console.warn;
  console.warn = () => {};
  try {
    await one.reporter.flush();
  } finally {
    console.warn = warn;
  }
  const text = await (await aggregator.fetch(new Request("http://agg/metrics")))
    .text();
  assert.match(text, /^requests_total\{route="\/1"\} 1$/m);
  assert.match(text, /^requests_total\{route="\/2"\} 1$/m);
  assert.doesNotMatch(text, /route="\/3"/);
  assert.match(text, /^edgemetrics_aggregate_dropped_series_total 1$/m);
});

Deno.test("MetricsAggregator with auth answers 401 to reports without the token; the reporter's headers carry it", async () => {
  const aggregator = new MetricsAggregator({ auth: { bearer: "s3cret" } });
  const refused = await aggregator.fetch(
    new Request("http://agg/report", { method: "POST", body: "{}" }),
  );
  assert.equal(refused.status, 401);
  const snapshot = await aggregator.fetch(new Request("http://agg/snapshot"));
  assert.equal(snapshot.status, 401);
  const one = isolate(aggregator.fetch);
  const registry = one.registry;
  one.requests.inc({ route: "/" });
  const authed = new MetricsReporter({
    registry,
    fetch: aggregator.fetch,
    headers: { Authorization: "Bearer s3cret" },
  });
  await authed.flush();
  assert.equal(counterValue((await totals(aggregator)).requests, "/"), 1);
});

Deno.test("MetricsAggregator serves /snapshot only with the scrape's credentials when no report auth is set", async () => {
  const aggregator = new MetricsAggregator({
    metrics: { auth: { bearer: "scrape" } },
  });
  const read = (token?: string) =>
    aggregator.fetch(
      new Request("http://agg/snapshot", {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      }),
    ).then(async (response) => {
      await response.body?.cancel();
      return response.status;
    });
  assert.equal(await read(), 401);
  assert.equal(await read("wrong"), 401);
  assert.equal(await read("scrape"), 200);
  // Reports need no token: the object is reachable only through bindings.
  const one = counterOnly(aggregator.fetch);
  one.requests.inc({ route: "/" });
  await one.reporter.flush();
});

Deno.test("MetricsAggregator serves scrapes through metricsHandler: OpenMetrics by Accept, gzip, path", async () => {
  const aggregator = new MetricsAggregator({ metrics: { path: "/metrics" } });
  const one = isolate(aggregator.fetch);
  one.requests.inc({ route: "/" }, 2);
  await one.reporter.flush();
  const om = await aggregator.fetch(
    new Request("http://agg/metrics", {
      headers: { Accept: "application/openmetrics-text; version=1.0.0" },
    }),
  );
  assert.match(
    om.headers.get("Content-Type")!,
    /^application\/openmetrics-text/,
  );
  const text = await om.text();
  assert.match(text, /^requests_total\{route="\/"\} 2$/m);
  assert.match(text, /# EOF\n$/);
  const gz = await aggregator.fetch(
    new Request("http://agg/metrics", {
      headers: { "Accept-Encoding": "gzip" },
    }),
  );
  assert.equal(gz.headers.get("Content-Encoding"), "gzip");
  assert.equal(
    (await aggregator.fetch(new Request("http://agg/other"))).status,
    404,
  );
});

Deno.test("MetricsReporter.schedule() starts a report at most every intervalMs, through waitUntil, and flush() reports at once", async () => {
  const { clock, advance } = fakeClock();
  const aggregator = new MetricsAggregator();
  let posts = 0;
  const registry = new Registry();
  const hits = new Counter({ name: "hits_total", help: "Hits.", registry });
  const reporter = new MetricsReporter({
    registry,
    clock,
    intervalMs: 1_000,
    fetch: (request) => {
      posts++;
      return aggregator.fetch(request);
    },
  });
  const waited: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p) };
  // 10,000 requests over 5.5 s of fake time, the clock started by the
  // first: reports at 1.1, 2.2, 3.3 and 4.4 s (the last request is at 4.95 s).
  for (let i = 0; i < 10_000; i++) {
    hits.inc();
    reporter.schedule(ctx);
    if (i % 1_000 === 999) {
      advance(550);
      await Promise.all(waited); // time passes: the report is delivered
    }
  }
  await Promise.all(waited);
  assert.equal(waited.length, 4);
  assert.equal(posts, 4);
  await reporter.flush();
  assert.equal(posts, 5);
  const [total] = await aggregator.collect((name) => name === "hits");
  assert.equal(total?.type === "counter" && total.points[0]?.value, 10_000);
  // Nothing new: a flush sends nothing.
  await reporter.flush();
  assert.equal(posts, 5);
});

Deno.test("MetricsReporter with shards sends each family to shardOf(name) and ShardedSource merges the shards", async () => {
  const shards = [0, 1, 2].map(() => new MetricsAggregator());
  const fetch = (request: Request, shard: number) =>
    shards[shard]!.fetch(request);
  const a = isolate(fetch, { shards: 3 });
  const b = isolate(fetch, { shards: 3 });
  a.requests.inc({ route: "/" }, 2);
  b.requests.inc({ route: "/" }, 5);
  a.latency.observe(0.2);
  a.heap.set(3);
  b.heap.set(4);
  await a.reporter.flush();
  await b.reporter.flush();
  for (const name of ["requests", "latency_seconds", "heap_bytes"]) {
    const home = shardOf(name, 3);
    for (let i = 0; i < 3; i++) {
      const names = (await shards[i]!.collect()).map((f) => f.name);
      assert.equal(names.includes(name), i === home, `${name} in shard ${i}`);
    }
  }
  const source = new ShardedSource({ shards: 3, fetch });
  const got = await totals(source);
  assert.equal(counterValue(got.requests, "/"), 7);
  assert.equal(got.latency_seconds?.type, "histogram");
  assert.equal(got.latency_seconds.points[0]?.count, 1);
  assert.deepEqual(
    got.heap_bytes?.points.map((p) => (p as { value: number }).value).sort(),
    [3, 4],
  );
  const own = (await source.collect()).find((f) =>
    f.name === "edgemetrics_aggregate_reporters"
  );
  assert.deepEqual(own?.points, [{ labels: {}, value: 6 }]);

  // A shard that fails is left out and counted; the rest is served.
  const errors: unknown[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const broken = new ShardedSource({
      shards: 3,
      fetch: (request, shard) =>
        shard === shardOf("requests", 3)
          ? Promise.reject(new Error("down"))
          : fetch(request, shard),
    });
    const families = await broken.collect();
    assert.equal(families.find((f) => f.name === "requests"), undefined);
    assert.deepEqual(
      families.find((f) => f.name === "edgemetrics_aggregate_shards_missing")
        ?.points,
      [{ labels: {}, value: 1 }],
    );
    assert.equal(errors.length, 1);
  } finally {
    console.error = error;
  }
});

Deno.test("durableObjectStorage() writes a report in one transaction, in batches of 128 keys, and nothing when it fails", async () => {
  const data = new Map<string, unknown>();
  const calls: string[] = [];
  let failAt = -1;
  const storage = durableObjectStorage({
    list: ({ prefix }) =>
      Promise.resolve(
        new Map([...data].filter(([key]) => key.startsWith(prefix))),
      ),
    transaction: async (closure) => {
      const staged = new Map(data);
      let n = 0;
      const result = await closure({
        put: (entries) => {
          if (n++ === failAt) return Promise.reject(new Error("too big"));
          calls.push(`put ${Object.keys(entries).length}`);
          for (const [k, v] of Object.entries(entries)) staged.set(k, v);
          return Promise.resolve();
        },
        delete: (keys) => {
          calls.push(`delete ${keys.length}`);
          return Promise.resolve(
            keys.filter((key) => staged.delete(key)).length,
          );
        },
      });
      data.clear();
      for (const [k, v] of staged) data.set(k, v);
      return result;
    },
  });
  const aggregator = new MetricsAggregator({ storage });
  const one = counterOnly(aggregator.fetch);
  for (let i = 0; i < 300; i++) one.requests.inc({ route: `/${i}` });
  await one.reporter.flush();
  // 300 series, a family entry and the reporter's record: 302 puts.
  assert.deepEqual(calls, ["put 128", "put 128", "put 46"]);
  assert.equal(data.size, 302);

  failAt = 1;
  calls.length = 0;
  const errors: unknown[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    for (let i = 0; i < 300; i++) one.requests.inc({ route: `/${i}` });
    await assert.rejects(one.reporter.flush());
  } finally {
    console.error = error;
  }
  const restarted = new MetricsAggregator({ storage });
  const got = await totals(restarted);
  assert.equal(
    got.requests?.points.every((p) => (p as { value: number }).value === 1),
    true,
  );
});

Deno.test("durableObjectStorage() and MetricsReporter refuse wrong shapes with a TypeError naming the rule", () => {
  assert.throws(
    // @ts-expect-error: not a storage
    () => durableObjectStorage({}),
    /Cannot create Durable Object storage: expected state.storage/,
  );
  assert.throws(
    // @ts-expect-error: no fetch
    () => new MetricsReporter({}),
    /Cannot create MetricsReporter: fetch must be a function/,
  );
  assert.throws(
    () => new MetricsReporter({ fetch: (r) => fetch(r), shards: 0 }),
    RangeError,
  );
  assert.throws(
    () => new MetricsReporter({ fetch: (r) => fetch(r), intervalMs: -1 }),
    /intervalMs must be a number above 0/,
  );
  assert.throws(
    () => new MetricsAggregator({ gaugeExpiryMs: 0 }),
    /Cannot create MetricsAggregator: gaugeExpiryMs must be a number above 0/,
  );
});

/** A counter report of `value` from `reporter`. */
function counterReport(reporter: string, seq: number, value: number): string {
  return encodeReport({
    edgemetrics: 1,
    reporter,
    seq,
    families: [{
      type: "counter",
      name: "jobs",
      help: "Jobs.",
      points: [{ labels: {}, value, created: EPOCH }],
    }],
  });
}

Deno.test("MetricsAggregator writes the reports that arrive during a write in one batch, a duplicate in the batch applied once", async () => {
  const memory = new MemoryStorage();
  const writes: number[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const storage: AggregateStorage = {
    list: (prefix) => memory.list(prefix),
    write: async (puts, deletes) => {
      writes.push(puts.size);
      if (writes.length === 1) await gate;
      await memory.write(puts, deletes);
    },
  };
  const aggregator = new MetricsAggregator({ storage });
  const post = (body: string) =>
    aggregator.fetch(
      new Request("http://agg/report", { method: "POST", body }),
    ).then((response) => response.json());
  const first = post(counterReport("a", 1, 1));
  await new Promise((resolve) => setTimeout(resolve, 10));
  const rest = Promise.all([
    post(counterReport("b", 1, 2)),
    post(counterReport("c", 1, 3)),
    post(counterReport("c", 1, 3)), // a duplicate, in the same batch
    post(counterReport("d", 1, 4)),
  ]);
  release();
  assert.deepEqual(await first, { applied: true });
  assert.deepEqual(await rest, [
    { applied: true },
    { applied: true },
    { duplicate: true },
    { applied: true },
  ]);
  // One write for the first report, one for the batch: the jobs series
  // once, three reporter records.
  assert.deepEqual(writes, [3, 4]);
  const [jobs] = await aggregator.collect((name) => name === "jobs");
  assert.equal(jobs?.type === "counter" && jobs.points[0]?.value, 10);
});

Deno.test("MetricsAggregator answers 503 to every report of a batch whose write fails, shows none of them, and applies their retries", async () => {
  const memory = new MemoryStorage();
  let fail = false;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const storage: AggregateStorage = {
    list: (prefix) => memory.list(prefix),
    write: async (puts, deletes) => {
      await gate;
      if (fail) throw new Error("storage down");
      await memory.write(puts, deletes);
    },
  };
  const aggregator = new MetricsAggregator({ storage });
  const post = (body: string) =>
    aggregator.fetch(
      new Request("http://agg/report", { method: "POST", body }),
    ).then((response) => response.status);
  assert.equal(await post(counterReport("a", 1, 1)), 200);
  fail = true;
  gate = new Promise<void>((resolve) => release = resolve);
  const errors: unknown[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    const statuses = Promise.all([
      post(counterReport("a", 2, 10)),
      post(counterReport("b", 1, 100)),
    ]);
    // A scrape during the write waits for it, and sees none of the batch.
    const during = aggregator.collect((name) => name === "jobs");
    release();
    assert.deepEqual(await statuses, [503, 503]);
    const [jobs] = await during;
    assert.equal(jobs?.type === "counter" && jobs.points[0]?.value, 1);
  } finally {
    console.error = error;
  }
  // One batch or two, depending on when each body was read: each logged.
  assert.ok(errors.length >= 1 && errors.length <= 2, String(errors.length));
  fail = false;
  assert.equal(await post(counterReport("a", 2, 10)), 200);
  assert.equal(await post(counterReport("b", 1, 100)), 200);
  const [jobs] = await aggregator.collect((name) => name === "jobs");
  assert.equal(jobs?.type === "counter" && jobs.points[0]?.value, 111);
});

Deno.test("DeltaTracker with summaries turns a summary's count and sum into deltas without quantiles, and leaves them cumulative without it", () => {
  const point = (count: number, sum: number) => ({
    labels: {},
    count,
    sum,
    created: EPOCH,
    quantiles: [{ quantile: 0.5, value: 7 }],
  });
  const family = (count: number, sum: number): MetricFamily[] => [{
    type: "summary",
    name: "s",
    help: "S.",
    points: [point(count, sum)],
  }];
  const tracker = new DeltaTracker({ summaries: true });
  const first = tracker.prepare(family(2, 10), EPOCH + 1_000);
  assert.deepEqual(first.families[0]?.points, [{
    ...point(2, 10),
    quantiles: [],
  }]);
  first.commit();
  const second = tracker.prepare(family(5, 16), EPOCH + 2_000);
  assert.deepEqual(second.families[0]?.points, [{
    labels: {},
    count: 3,
    sum: 6,
    created: EPOCH + 1_000,
    quantiles: [],
  }]);
  // Not committed: the next batch still counts from the first.
  const third = tracker.prepare(family(6, 20), EPOCH + 3_000);
  assert.equal(
    third.families[0]?.type === "summary" && third.families[0].points[0]?.count,
    4,
  );
  const plain = new DeltaTracker();
  const cumulative = plain.prepare(family(2, 10), EPOCH);
  cumulative.commit();
  assert.deepEqual(
    plain.prepare(family(5, 16), EPOCH + 1_000).families,
    family(5, 16),
  );
});

/** Two isolates' up-down counter and native histogram, at different scales. */
function nativeIsolate(
  send: (request: Request, shard: number) => Promise<Response>,
  scale: number,
) {
  const registry = new Registry();
  const conns = new UpDownCounter({
    name: "conns",
    help: "Open connections.",
    labelNames: ["pool"] as const,
    registry,
  });
  const rtt = new Histogram({
    name: "rtt_seconds",
    help: "Round trips.",
    native: { scale },
    registry,
  });
  const reporter = new MetricsReporter({ registry, fetch: send, ...FAST });
  return { conns, rtt, reporter };
}

/** The OTLP-numbered bucket of `value` at `schema`, computed without the library. */
function bucketOf(schema: number, value: number): number {
  return Math.ceil(Math.log2(Math.abs(value)) * 2 ** schema) - 1;
}

/** { index: count } of the observations at `schema` with the given sign. */
function expectedBuckets(schema: number, values: number[], sign: 1 | -1) {
  const out: Record<number, number> = {};
  for (const value of values) {
    if (value * sign > 0) {
      const k = bucketOf(schema, value);
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}

/** { index: count } of native buckets, empty buckets left out. */
function bucketMap(buckets: { offset: number; counts: readonly number[] }) {
  const out: Record<number, number> = {};
  buckets.counts.forEach((count, i) => {
    if (count !== 0) out[buckets.offset + i] = count;
  });
  return out;
}

/** Expands Prometheus spans and deltas to { index: count }, OTLP-numbered. */
function expandSpans(
  spans: { offset?: number; length?: number }[] | undefined,
  deltas: number[] | undefined,
) {
  const out: Record<number, number> = {};
  let index = 0;
  let count = 0;
  let d = 0;
  for (const span of spans ?? []) {
    index += span.offset ?? 0;
    for (let i = 0; i < (span.length ?? 0); i++) {
      count += deltas![d++]!;
      if (count !== 0) out[index - 1] = count; // Prometheus numbers k + 1
      index++;
    }
  }
  return out;
}

/** Records, by the body, every report the reporter sent (to send again). */
function recording(aggregator: MetricsAggregator) {
  const sent: string[] = [];
  const send = async (request: Request) => {
    sent.push(await request.clone().text());
    return aggregator.fetch(request);
  };
  return { sent, send };
}

Deno.test("MetricsAggregator adds up-down counters' deltas (negative ones too) and native histograms' buckets at the coarsest scale, each report once", async () => {
  const aggregator = new MetricsAggregator({ metrics: { path: "/metrics" } });
  const { sent, send } = recording(aggregator);
  const a = nativeIsolate(send, 3);
  const b = nativeIsolate(send, 1);
  const observedA = [1.5, 3, 0.25, -2];
  const observedB = [0.75, -0.5, 0, 4];
  a.conns.add({ pool: "db" }, 5);
  b.conns.add({ pool: "db" }, 2);
  b.conns.add({ pool: "cache" }, -3);
  for (const v of observedA.slice(0, 2)) a.rtt.observe(v);
  for (const v of observedB.slice(0, 2)) b.rtt.observe(v);
  await a.reporter.flush();
  await b.reporter.flush();
  // Second round: a's pool shrinks below what it reported (a negative delta).
  a.conns.add({ pool: "db" }, -7);
  b.conns.add({ pool: "cache" }, 1);
  for (const v of observedA.slice(2)) a.rtt.observe(v);
  for (const v of observedB.slice(2)) b.rtt.observe(v);
  await a.reporter.flush();
  await b.reporter.flush();
  assert.equal(sent.length, 4);
  // Every report again: each answers duplicate and changes nothing.
  for (const body of sent) {
    const answer = await aggregator.fetch(
      new Request("http://agg/report", { method: "POST", body }),
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { duplicate: true });
  }

  const got = await totals(aggregator);
  const conns = got.conns;
  assert.equal(conns?.type, "updowncounter");
  assert.deepEqual(
    Object.fromEntries(conns.points.map((p) => [p.labels.pool, p.value])),
    { db: 0, cache: -2 },
  );
  const rtt = got.rtt_seconds;
  assert.equal(rtt?.type, "histogram");
  const point = rtt.points[0]!;
  const all = [...observedA, ...observedB];
  assert.equal(point.count, 8);
  assert.equal(point.sum, all.reduce((x, y) => x + y, 0));
  const native = point.native!;
  assert.equal(native.schema, 1, "the coarser of scales 3 and 1");
  assert.equal(native.zeroCount, 1);
  assert.deepEqual(bucketMap(native.positive), expectedBuckets(1, all, 1));
  assert.deepEqual(bucketMap(native.negative), expectedBuckets(1, all, -1));
  assert.equal(
    native.min,
    undefined,
    "deltas carry no min or max: a total cannot know them",
  );

  // The scrape shows the totals: Prometheus text…
  const text = await (await aggregator.fetch(
    new Request("http://agg/metrics", {
      headers: { Accept: "text/plain;version=0.0.4" },
    }),
  )).text();
  assert.match(text, /^conns\{pool="db"\} 0$/m);
  assert.match(text, /^conns\{pool="cache"\} -2$/m);
  assert.match(text, /^rtt_seconds_count 8$/m);
  // …and the Prometheus protobuf exposition, decoded by protobufjs over
  // client_model's metrics.proto.
  const proto = await aggregator.fetch(
    new Request("http://agg/metrics", {
      headers: {
        Accept:
          "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
      },
    }),
  );
  assert.match(proto.headers.get("Content-Type")!, /protobuf/);
  const decoded = Object.fromEntries(
    decodePrometheusProtobuf(new Uint8Array(await proto.arrayBuffer()))
      .map((family) => [family.name, family]),
    // deno-lint-ignore no-explicit-any
  ) as Record<string, any>;
  assert.equal(decoded.conns.type, "GAUGE");
  assert.deepEqual(
    Object.fromEntries(
      // deno-lint-ignore no-explicit-any
      decoded.conns.metric.map((m: any) => [m.label[0].value, m.gauge.value]),
    ),
    { db: 0, cache: -2 },
  );
  const h = decoded.rtt_seconds.metric[0].histogram;
  assert.equal(h.sample_count, 8);
  assert.equal(h.schema, 1);
  assert.equal(h.zero_count, 1);
  assert.deepEqual(
    expandSpans(h.positive_span, h.positive_delta),
    expectedBuckets(1, all, 1),
  );
  assert.deepEqual(
    expandSpans(h.negative_span, h.negative_delta),
    expectedBuckets(1, all, -1),
  );
});

/** A report of one family with one point. */
function onePointReport(family: Record<string, unknown>, point: unknown) {
  return encodeReport({
    edgemetrics: 1,
    reporter: "r",
    seq: 1,
    families: [
      { help: "", ...family, points: [point] } as unknown as MetricFamily,
    ],
  });
}

Deno.test("MetricsAggregator accepts negative up-down counter deltas and refuses malformed native points with 400", async () => {
  const native = {
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 1,
    positive: { offset: 0, counts: [2] },
    negative: { offset: 0, counts: [] },
  };
  const histogram = { type: "histogram", name: "h", bounds: [] };
  const good = { labels: {}, counts: [3], count: 3, sum: 2, created: EPOCH };
  const post = (body: string) =>
    new MetricsAggregator().fetch(
      new Request("http://agg/report", { method: "POST", body }),
    );
  assert.equal(
    (await post(onePointReport(
      { type: "updowncounter", name: "u" },
      { labels: {}, value: -4, created: EPOCH },
    ))).status,
    200,
  );
  assert.equal(
    (await post(onePointReport(histogram, { ...good, native }))).status,
    200,
  );
  const bad: [string, unknown][] = [
    ["updowncounter without a number", {
      type: "updowncounter",
      point: { labels: {}, value: "1", created: EPOCH },
    }],
    ["a fractional bucket", { positive: { offset: 0, counts: [1.5] } }],
    ["a negative bucket", { negative: { offset: 0, counts: [-1] } }],
    ["a NaN bucket", { positive: { offset: 0, counts: [NaN] } }],
    ["a negative zero count", { zeroCount: -1 }],
    ["a fractional zero count", { zeroCount: 0.5 }],
    ["a negative zero threshold", { zeroThreshold: -1 }],
    ["a schema past 20", { schema: 21 }],
    ["a schema below -4", { schema: -5 }],
    ["a fractional offset", { positive: { offset: 0.5, counts: [1] } }],
    // At schema 0 bucket 1023 holds Number.MAX_VALUE and bucket -1075 the
    // smallest subnormal: past them no finite value can land.
    ["a bucket past the largest double", {
      positive: { offset: 1023, counts: [1, 1] },
    }],
    ["a bucket below the smallest subnormal", {
      negative: { offset: -1076, counts: [1] },
    }],
  ];
  for (const [why, change] of bad) {
    const { type, point, ...rest } = change as Record<string, unknown>;
    const body = type === "updowncounter"
      ? onePointReport({ type, name: "u" }, point)
      : onePointReport(histogram, {
        ...good,
        native: { ...native, ...rest },
      });
    const answer = await post(body);
    assert.equal(answer.status, 400, why);
    assert.match(await answer.text(), /must/, why);
  }
});

Deno.test("MetricsAggregator keeps a native total bounded when reports hold far-apart buckets: it goes coarser, every count kept", async () => {
  const aggregator = new MetricsAggregator();
  const post = async (seq: number, offset: number) => {
    const body = encodeReport({
      edgemetrics: 1,
      reporter: "r",
      seq,
      families: [{
        type: "histogram",
        name: "h",
        help: "",
        bounds: [],
        points: [{
          labels: {},
          counts: [2],
          count: 2,
          sum: 2,
          created: EPOCH,
          native: {
            schema: 20,
            zeroThreshold: 0,
            zeroCount: 0,
            positive: { offset, counts: [1, 1] },
            negative: { offset: 0, counts: [] },
          },
        }],
      } as unknown as MetricFamily],
    });
    const answer = await aggregator.fetch(
      new Request("http://agg/report", { method: "POST", body }),
    );
    assert.equal(answer.status, 200, await answer.text());
  };
  // The lowest and highest buckets a finite value has at scale 20: two
  // billion buckets apart, which a dense merge would have to allocate.
  await post(1, -1126170625);
  await post(2, 1073741822);
  const families = parseFamilies(
    await (await aggregator.fetch(new Request("http://agg/snapshot"))).text(),
  )!;
  const native = (families[0]!.points[0] as HistogramPoint).native!;
  assert.ok(native.positive.counts.length <= 160, "at most 160 buckets");
  assert.ok(native.schema < 20, `went coarser, got scale ${native.schema}`);
  assert.equal(native.positive.counts.reduce((a, b) => a + b, 0), 4);
  assert.equal(native.zeroCount, 0);
});

Deno.test("durableObjectStorage() round-trips up-down counters' negative totals and native buckets through a restart", async () => {
  const data = new Map<string, unknown>();
  // Durable Object storage keeps values by the structured clone algorithm.
  const storage = durableObjectStorage({
    list: ({ prefix }) =>
      Promise.resolve(
        new Map(
          [...data].filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key, structuredClone(value)]),
        ),
      ),
    transaction: (closure) =>
      closure({
        put: (entries) => {
          for (const [k, v] of Object.entries(entries)) {
            data.set(k, structuredClone(v));
          }
          return Promise.resolve();
        },
        delete: (keys) =>
          Promise.resolve(keys.filter((key) => data.delete(key)).length),
      }),
  });
  let target = new MetricsAggregator({ storage });
  const send = (request: Request) => target.fetch(request);
  const a = nativeIsolate(send, 2);
  const b = nativeIsolate(send, 0);
  a.conns.add({ pool: "db" }, -3);
  b.conns.add({ pool: "db" }, -1.5);
  for (const v of [-8, 0, 3]) a.rtt.observe(v);
  b.rtt.observe(-0.5);
  await a.reporter.flush();
  await b.reporter.flush();
  const before = await totals(target);

  target = new MetricsAggregator({ storage });
  const after = await totals(target);
  assert.deepEqual(after, before);
  assert.deepEqual(
    after.conns?.points.map((p) => (p as { value: number }).value),
    [-4.5],
  );
  const native = (after.rtt_seconds?.points[0] as HistogramPoint).native!;
  assert.equal(native.schema, 0);
  assert.equal(native.zeroCount, 1);
  assert.deepEqual(bucketMap(native.negative), { 2: 1, [-2]: 1 });
  assert.deepEqual(bucketMap(native.positive), { 1: 1 });
  // The restarted aggregator keeps adding to what it loaded.
  a.conns.add({ pool: "db" }, 1);
  b.rtt.observe(-8);
  await a.reporter.flush();
  await b.reporter.flush();
  const last = await totals(target);
  assert.deepEqual(
    last.conns?.points.map((p) => (p as { value: number }).value),
    [-3.5],
  );
  const grown = (last.rtt_seconds?.points[0] as HistogramPoint).native!;
  assert.deepEqual(bucketMap(grown.negative), { 2: 2, [-2]: 1 });
});
