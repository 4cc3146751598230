import assert from "node:assert/strict";
import type { MetricFamily } from "../src/model.ts";
import { Registry } from "../src/registry.ts";
import { Counter } from "../src/instruments/counter.ts";
import { Gauge } from "../src/instruments/gauge.ts";
import {
  WorkerAggregator,
  type WorkerAggregatorOptions,
} from "../src/workers/aggregator.ts";
import { mergeSnapshots } from "../src/workers/merge.ts";
import {
  PACK_MIN_CHARS,
  packFamilies,
  unpackFamilies,
} from "../src/workers/_messages.ts";
import { waitFor } from "./_peers.ts";

/** A channel name no other test (or test file) uses. */
const channelName = () => `aggregator-test-${crypto.randomUUID()}`;

/** A registry with a counter of `value` and an `all` gauge of `heap`. */
function workerRegistry(value: number, heap: number): Registry {
  const registry = new Registry();
  const requests = new Counter({
    name: "http_requests_total",
    help: "Requests.",
    labelNames: ["status"] as const,
    registry,
    clock: { now: () => 1_000 * value, monotonic: () => 0 },
  });
  requests.inc({ status: "200" }, value);
  new Gauge({ name: "heap_bytes", help: "Heap.", aggregation: "all", registry })
    .set(heap);
  return registry;
}

const workerGauges = (responding: number, missing: number): MetricFamily[] => [
  {
    type: "gauge",
    name: "edgemetrics_workers_responding",
    help:
      "Workers that answered this scrape in time, the one answering included.",
    aggregation: "max",
    points: [{ labels: {}, value: responding }],
  },
  {
    type: "gauge",
    name: "edgemetrics_workers_missing",
    help:
      "Known workers that did not answer in time; their last answer stands in while recent, else their metrics are left out.",
    aggregation: "max",
    points: [{ labels: {}, value: missing }],
  },
];

/**
 * Worker `name` on `channel`, its registry holding `requests` requests and
 * `heap` bytes (see workerRegistry), with any other options.
 */
function worker(
  channel: string,
  name: string,
  requests: number,
  heap: number,
  options: Partial<WorkerAggregatorOptions> = {},
): WorkerAggregator {
  return new WorkerAggregator({
    registry: workerRegistry(requests, heap),
    channel,
    worker: name,
    ...options,
  });
}

/** A raw channel that says hello like a worker and answers requests with `answer`. */
function fakePeer(
  channel: string,
  answer?: (request: { from: string; request: string }) => unknown,
): { id: string; post(message: unknown): void; close(): void } {
  const id = `fake-${crypto.randomUUID()}`;
  const raw = new BroadcastChannel(channel);
  const envelope = { edgemetrics: 1, from: id, worker: "fake" };
  raw.onmessage = (event: MessageEvent) => {
    const data = event.data;
    if (data?.kind === "request" && answer !== undefined) {
      const families = answer(data);
      if (families !== undefined) {
        raw.postMessage({
          ...envelope,
          kind: "snapshot",
          to: data.from,
          request: data.request,
          families,
        });
      }
    }
  };
  raw.postMessage({ ...envelope, kind: "hello", reply: false });
  return {
    id,
    post: (message) => raw.postMessage(message),
    close: () => raw.close(),
  };
}

Deno.test("WorkerAggregator.collect() merges every worker's snapshot into service-wide totals", async () => {
  const channel = channelName();
  using a = worker(channel, "a", 2, 10);
  using b = worker(channel, "b", 3, 20);
  using c = worker(channel, "c", 5, 30);
  a.start();
  b.start();
  c.start();
  for (
    const [collector, order] of [[b, ["b", "a", "c"]], [a, [
      "a",
      "b",
      "c",
    ]]] as const
  ) {
    assert.deepEqual(await collector.collect(), [
      {
        type: "counter",
        name: "http_requests",
        help: "Requests.",
        points: [{ labels: { status: "200" }, value: 10, created: 2_000 }],
      },
      {
        type: "gauge",
        name: "heap_bytes",
        help: "Heap.",
        aggregation: "all",
        points: order.map((worker) => ({
          labels: { worker },
          value: { a: 10, b: 20, c: 30 }[worker],
        })),
      },
      ...workerGauges(3, 0),
    ]);
  }
  assert.deepEqual(a.peers.sort(), [b.id, c.id].sort());
});

Deno.test("WorkerAggregator.collect() applies the filter to the other workers' families too", async () => {
  const channel = channelName();
  using a = worker(channel, "a", 2, 10);
  using b = worker(channel, "b", 3, 20);
  a.start();
  b.start();
  assert.deepEqual(await a.collect((name) => name === "http_requests"), [
    {
      type: "counter",
      name: "http_requests",
      help: "Requests.",
      points: [{ labels: { status: "200" }, value: 5, created: 2_000 }],
    },
  ]);
});

Deno.test("WorkerAggregator.collect() leaves out and counts a worker that does not answer, without hanging", async () => {
  const channel = channelName();
  using a = worker(channel, "a", 2, 10, { timeoutMs: 300 });
  using b = worker(channel, "b", 3, 20);
  a.start();
  b.start();
  const silent = fakePeer(channel); // says hello, never answers
  try {
    await waitFor("the silent peer's hello", () => a.peers.length === 2);
    for (let round = 1; round <= 3; round++) {
      const started = performance.now();
      const families = await a.collect((name) => name !== "heap_bytes");
      const elapsed = performance.now() - started;
      assert.ok(
        elapsed >= 250 && elapsed < 2_000,
        `round ${round} took ${elapsed} ms`,
      );
      assert.deepEqual(families, [
        {
          type: "counter",
          name: "http_requests",
          help: "Requests.",
          points: [{ labels: { status: "200" }, value: 5, created: 2_000 }],
        },
        ...workerGauges(2, 1),
      ]);
    }
    // after three misses in a row it is forgotten: no more waiting for it
    assert.deepEqual(a.peers, [b.id]);
    const started = performance.now();
    const families = await a.collect((name) => name.startsWith("edgemetrics_"));
    assert.ok(performance.now() - started < 250);
    assert.deepEqual(families, workerGauges(2, 0));
  } finally {
    silent.close();
  }
});

Deno.test("WorkerAggregator.collect() stands in a late worker's last snapshot while it is recent, so totals do not drop", async () => {
  const channel = channelName();
  let t = 0;
  using a = worker(channel, "a", 2, 10, {
    timeoutMs: 150,
    staleAfterMs: 5_000,
    clock: { now: () => 1_700_000_000_000 + t, monotonic: () => t },
  });
  const registryB = workerRegistry(3, 20);
  let late = false;
  using b = new WorkerAggregator({
    // While late, b's collection outlasts a's deadline.
    registry: {
      collect: () => late ? new Promise(() => {}) : registryB.collect(),
    },
    channel,
    worker: "b",
  });
  a.start();
  b.start();
  await waitFor("b's hello", () => a.peers.length === 1);
  const requests = (value: number): MetricFamily => ({
    type: "counter",
    name: "http_requests",
    help: "Requests.",
    points: [{ labels: { status: "200" }, value, created: 2_000 }],
  });
  const scrape = () => a.collect((name) => name !== "heap_bytes");
  t = 1_000;
  assert.deepEqual(await scrape(), [requests(5), ...workerGauges(2, 0)]);
  late = true;
  t = 3_000; // b's answer from t = 1,000 is 2 s old: it stands in
  assert.deepEqual(await scrape(), [requests(5), ...workerGauges(1, 1)]);
  t = 6_500; // now 5.5 s old, past staleAfterMs: left out
  assert.deepEqual(await scrape(), [requests(2), ...workerGauges(1, 1)]);
});

Deno.test("WorkerAggregator.collect() stops waiting for a worker that said goodbye", async () => {
  const channel = channelName();
  using a = worker(channel, "a", 2, 10, { timeoutMs: 5_000 });
  const b = worker(channel, "b", 3, 20);
  a.start();
  b.start();
  await a.collect();
  assert.deepEqual(a.peers, [b.id]);
  b.close();
  const started = performance.now();
  const families = await a.collect((name) => name.startsWith("edgemetrics_"));
  assert.ok(performance.now() - started < 1_000);
  assert.deepEqual(families, workerGauges(1, 0));
  assert.deepEqual(a.peers, []);
});

Deno.test("WorkerAggregator.close() ends a collection that is waiting, with what it has", async () => {
  const channel = channelName();
  const a = worker(channel, "a", 2, 10, { timeoutMs: 10_000 });
  a.start();
  const silent = fakePeer(channel);
  try {
    await waitFor("the silent peer's hello", () => a.peers.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 250)); // past discovery
    const started = performance.now();
    const pending = a.collect((name) => name.startsWith("edgemetrics_"));
    setTimeout(() => a.close(), 50);
    assert.deepEqual(await pending, workerGauges(1, 1));
    assert.ok(performance.now() - started < 2_000);
    // closed: local snapshot only, no worker gauges
    assert.deepEqual(
      await a.collect((name) => name.startsWith("edgemetrics_")),
      [],
    );
  } finally {
    silent.close();
    a.close();
  }
});

Deno.test("WorkerAggregator.collect() reports an unmergeable answer and keeps the local family", async () => {
  const channel = channelName();
  const errors: string[] = [];
  using a = worker(channel, "a", 2, 10, {
    onError: (error) => errors.push(error.message),
  });
  const peer = fakePeer(channel, () => [
    {
      type: "gauge",
      name: "http_requests",
      help: "Wrong.",
      aggregation: "sum",
      points: [{ labels: {}, value: 1 }],
    },
    {
      type: "counter",
      name: "peer_only",
      help: "Peer.",
      points: [{ labels: {}, value: 4, created: 7 }],
    },
  ]);
  try {
    a.start();
    const families = await a.collect((name) => name !== "heap_bytes");
    assert.deepEqual(families, [
      {
        type: "counter",
        name: "http_requests",
        help: "Requests.",
        points: [{ labels: { status: "200" }, value: 2, created: 2_000 }],
      },
      {
        type: "counter",
        name: "peer_only",
        help: "Peer.",
        points: [{ labels: {}, value: 4, created: 7 }],
      },
      ...workerGauges(2, 0),
    ]);
    assert.deepEqual(errors, [
      'Cannot merge metric "http_requests" from worker "fake": it is a gauge there and a counter here',
    ]);
  } finally {
    peer.close();
  }
});

Deno.test("WorkerAggregator ignores foreign and malformed messages on its channel", async () => {
  const channel = channelName();
  using a = worker(channel, "a", 2, 10, { timeoutMs: 300 });
  a.start();
  // answers with a snapshot that is not one: ignored, so the peer counts as missing
  const broken = fakePeer(
    channel,
    () => [{ type: "counter", name: "x", points: "nope" }],
  );
  try {
    await waitFor("the broken peer's hello", () => a.peers.length === 1);
    broken.post("hello");
    broken.post({
      edgemetrics: 2,
      kind: "hello",
      from: "future",
      worker: "v2",
      reply: false,
    });
    broken.post({ edgemetrics: 1, kind: "launch", from: "odd", worker: "odd" });
    broken.post(null);
    const families = await a.collect((name) => name.startsWith("edgemetrics_"));
    assert.deepEqual(families, workerGauges(1, 1));
    assert.deepEqual(a.peers, [broken.id]);
  } finally {
    broken.close();
  }
});

Deno.test("WorkerAggregator gives workers that share a label distinct labels for all-gauges", async () => {
  const channel = channelName();
  using a = worker(channel, "api", 1, 10);
  using b = worker(channel, "api", 1, 20);
  a.start();
  b.start();
  const families = await a.collect((name) => name === "heap_bytes");
  assert.deepEqual(families, [{
    type: "gauge",
    name: "heap_bytes",
    help: "Heap.",
    aggregation: "all",
    points: [
      { labels: { worker: "api" }, value: 10 },
      { labels: { worker: `api-${b.id}` }, value: 20 },
    ],
  }]);
});

Deno.test("WorkerAggregator does nothing at construction: no id, no channel, no listener", () => {
  const originalUUID = crypto.randomUUID;
  const OriginalChannel = globalThis.BroadcastChannel;
  const originalAdd = globalThis.addEventListener;
  let uuids = 0;
  let channels = 0;
  let listeners = 0;
  const channel = channelName();
  crypto.randomUUID = () => {
    uuids++;
    return originalUUID.call(crypto);
  };
  globalThis.BroadcastChannel = class extends OriginalChannel {
    constructor(name: string) {
      super(name);
      channels++;
    }
  };
  globalThis.addEventListener =
    ((...args: Parameters<typeof addEventListener>) => {
      listeners++;
      return originalAdd(...args);
    }) as typeof addEventListener;
  try {
    const workers = new WorkerAggregator({ registry: new Registry(), channel });
    assert.deepEqual([uuids, channels, listeners], [0, 0, 0]);
    assert.match(workers.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual([uuids, channels, listeners], [1, 0, 0]);
    workers.start();
    assert.deepEqual([uuids, channels, listeners], [1, 1, 1]);
    workers.close();
  } finally {
    crypto.randomUUID = originalUUID;
    globalThis.BroadcastChannel = OriginalChannel;
    globalThis.addEventListener = originalAdd;
  }
});

Deno.test("WorkerAggregator closes its channel on the global unload event", async () => {
  const channel = channelName();
  using a = worker(channel, "a", 1, 1, { timeoutMs: 5_000 });
  const b = worker(channel, "b", 1, 1);
  a.start();
  b.start();
  await a.collect();
  assert.deepEqual(a.peers, [b.id]);
  dispatchEvent(new Event("unload")); // both close and say goodbye
  assert.equal(b.start(), true); // b reopens; a stays closed
  try {
    assert.deepEqual(
      await a.collect((name) => name.startsWith("edgemetrics_")),
      [],
    );
  } finally {
    b.close();
  }
});

Deno.test("WorkerAggregator.collect() serves the local snapshot where BroadcastChannel is missing", async () => {
  const OriginalChannel = globalThis.BroadcastChannel;
  // deno-lint-ignore no-explicit-any
  delete (globalThis as any).BroadcastChannel;
  try {
    const workers = new WorkerAggregator({
      registry: workerRegistry(2, 10),
      channel: channelName(),
    });
    assert.equal(workers.start(), false);
    assert.deepEqual(
      await workers.collect(),
      await workerRegistry(2, 10).collect(),
    );
    workers.close();
  } finally {
    globalThis.BroadcastChannel = OriginalChannel;
  }
});

Deno.test("WorkerAggregator times its discovery window on the injected clock", async () => {
  const channel = channelName();
  using b = worker(channel, "b", 3, 20);
  b.start();
  // a's clock jumps past the discovery window between start() and
  // collect(): it does not wait to hear of b, whose hello is still on its way.
  let t = 0;
  using a = worker(channel, "a", 2, 10, {
    clock: { now: () => 1_700_000_000_000 + t, monotonic: () => t },
  });
  a.start();
  t = 10_000;
  const families = await a.collect((name) => name.startsWith("edgemetrics_"));
  assert.deepEqual(families, workerGauges(1, 0));
});

Deno.test("new WorkerAggregator() rejects a bad channel, worker label, timeout or staleness", async (t) => {
  const cases = [
    [
      { channel: "" },
      TypeError,
      'Cannot create worker aggregator: channel must be a non-empty string, got ""',
    ],
    [
      { worker: 7 },
      TypeError,
      "Cannot create worker aggregator: worker must be a non-empty string, got 7",
    ],
    [
      { timeoutMs: 0 },
      RangeError,
      "Cannot create worker aggregator: timeoutMs must be a positive number of milliseconds, got 0",
    ],
    [
      { timeoutMs: Infinity },
      RangeError,
      "Cannot create worker aggregator: timeoutMs must be a positive number of milliseconds, got Infinity",
    ],
    [
      { staleAfterMs: -1 },
      RangeError,
      "Cannot create worker aggregator: staleAfterMs must be a number of milliseconds of at least 0, got -1",
    ],
  ] as const;
  for (const [options, type, message] of cases) {
    await t.step(message, () => {
      // deno-lint-ignore no-explicit-any
      assert.throws(() => new WorkerAggregator(options as any), {
        name: type.name,
        message,
      });
    });
  }
});

Deno.test("WorkerAggregator does not keep a Node process alive: the channel is unref()ed", async () => {
  const node =
    new URL("../.tools/node_modules/.bin/node", import.meta.url).pathname;
  const registry = new URL("../src/registry.ts", import.meta.url).href;
  const aggregator =
    new URL("../src/workers/aggregator.ts", import.meta.url).href;
  const script = `
    import { Registry } from ${JSON.stringify(registry)};
    import { WorkerAggregator } from ${JSON.stringify(aggregator)};
    const workers = new WorkerAggregator({ registry: new Registry(), channel: "node-unref-test" });
    const started = workers.start();
    const families = await workers.collect();
    console.log(JSON.stringify({ started, families: families.map((f) => f.name) }));
  `;
  const child = new Deno.Command(node, {
    args: ["--input-type=module", "-e", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // the process must end by itself; without unref() it would run forever
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(killer);
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stderr));
  assert.deepEqual(JSON.parse(decoder.decode(stdout)), {
    started: true,
    families: ["edgemetrics_workers_responding", "edgemetrics_workers_missing"],
  });
});

Deno.test("WorkerAggregator.collect() gives the worker gauges the registry's default labels", async () => {
  using workers = new WorkerAggregator({
    registry: new Registry({ defaultLabels: { service: "shop" } }),
    channel: channelName(),
  });
  const families = await workers.collect();
  assert.deepEqual(
    families.map((family) => [family.name, family.points[0]?.labels]),
    [
      ["edgemetrics_workers_responding", { service: "shop" }],
      ["edgemetrics_workers_missing", { service: "shop" }],
    ],
  );
});

/**
 * Replaces `BroadcastChannel` with one that records the channels open (by
 * name, in order of opening) and, per channel, the answers it is handed:
 * each is a snapshot the runtime deserialized for that channel.
 */
function trackChannels(): {
  open: () => string[];
  delivered: string[];
  [Symbol.dispose](): void;
} {
  const OriginalChannel = globalThis.BroadcastChannel;
  const open = new Set<BroadcastChannel>();
  const delivered: string[] = [];
  globalThis.BroadcastChannel = class extends OriginalChannel {
    constructor(name: string) {
      super(name);
      open.add(this);
      this.addEventListener("message", (event) => {
        const data = (event as MessageEvent).data;
        if (data?.kind === "snapshot") delivered.push(`${data.worker}>${name}`);
      });
    }
    override close(): void {
      open.delete(this);
      super.close();
    }
  };
  return {
    open: () => [...open].map((channel) => channel.name),
    delivered,
    [Symbol.dispose]: () => {
      globalThis.BroadcastChannel = OriginalChannel;
    },
  };
}

Deno.test("WorkerAggregator.collect() delivers each answer to the requesting worker only, not to every worker", async () => {
  using channels = trackChannels();
  const channel = channelName();
  const workers = ["a", "b", "c", "d"].map((worker, i) =>
    new WorkerAggregator({
      registry: workerRegistry(i + 1, 10 * (i + 1)),
      channel,
      worker,
    })
  );
  try {
    for (const worker of workers) worker.start();
    const [a, b, c, d] = workers as [
      WorkerAggregator,
      WorkerAggregator,
      WorkerAggregator,
      WorkerAggregator,
    ];
    await a.collect(); // discovery: every worker has heard of every other
    await b.collect();
    channels.delivered.length = 0;
    const families = await a.collect((name) => name === "http_requests");
    assert.deepEqual(families, [{
      type: "counter",
      name: "http_requests",
      help: "Requests.",
      points: [{
        labels: { status: "200" },
        value: 1 + 2 + 3 + 4,
        created: 1_000,
      }],
    }]);
    // N - 1 = 3 deliveries, each on a channel that only a listens on;
    // one shared channel would hand each answer to all 3 other workers (9)
    assert.deepEqual(channels.delivered.sort(), [
      `b>${channel}:${b.id}:${a.id}`,
      `c>${channel}:${c.id}:${a.id}`,
      `d>${channel}:${d.id}:${a.id}`,
    ]);
  } finally {
    for (const worker of workers) worker.close();
  }
  assert.deepEqual(channels.open(), []);
});

Deno.test("WorkerAggregator closes a worker's pair channels when it leaves, is forgotten, or this one closes", async () => {
  using channels = trackChannels();
  const channel = channelName();
  const a = worker(channel, "a", 2, 10, { timeoutMs: 100 });
  const b = worker(channel, "b", 3, 20);
  const c = worker(channel, "c", 5, 30);
  a.start();
  b.start();
  c.start();
  const silent = fakePeer(channel); // says hello, never answers
  const pairs = () => channels.open().filter((name) => name !== channel).sort();
  try {
    await waitFor("every hello", () => a.peers.length === 3);
    await a.collect(); // b and c answer a on their pair channels from now on
    await a.collect();
    const [ab, ba, ac, ca] = [
      `${channel}:${a.id}:${b.id}`,
      `${channel}:${b.id}:${a.id}`,
      `${channel}:${a.id}:${c.id}`,
      `${channel}:${c.id}:${a.id}`,
    ];
    const bc = [`${channel}:${b.id}:${c.id}`, `${channel}:${c.id}:${b.id}`];
    const silentA = `${channel}:${silent.id}:${a.id}`;
    const silentB = `${channel}:${silent.id}:${b.id}`;
    const silentC = `${channel}:${silent.id}:${c.id}`;
    assert.deepEqual(
      pairs(),
      // each inbox, and b's and c's outboxes to a (each has answered a)
      [ab, ba, ba, ac, ca, ca, ...bc, silentA, silentB, silentC].sort(),
    );
    b.close(); // says goodbye: a and c close their channels with b
    await waitFor(
      "b's goodbye",
      () => !a.peers.includes(b.id) && !c.peers.includes(b.id),
    );
    assert.deepEqual(pairs(), [ac, ca, ca, silentA, silentC].sort());
    await a.collect(); // the silent peer's third miss: a forgets it
    assert.deepEqual(a.peers, [c.id]);
    assert.deepEqual(pairs(), [ac, ca, ca, silentC].sort());
    a.close();
    c.close();
    assert.deepEqual(pairs(), []);
  } finally {
    silent.close();
    a.close();
    b.close();
    c.close();
  }
});

Deno.test("WorkerAggregator answers on the pair channel only a request that lists it, else on the shared channel", async () => {
  const channel = channelName();
  using a = worker(channel, "a", 2, 10);
  a.start();
  const id = `fake-${crypto.randomUUID()}`;
  const shared = new BroadcastChannel(channel);
  const pair = new BroadcastChannel(`${channel}:${a.id}:${id}`);
  const answers: string[] = [];
  for (const [where, raw] of [["shared", shared], ["pair", pair]] as const) {
    raw.onmessage = (event: MessageEvent) => {
      const { kind, to, request, families } = event.data;
      if (kind === "snapshot") {
        answers.push(`${request} on ${where} to ${to} (${families.length})`);
      }
    };
  }
  const ask = (request: string, peers?: string[]) =>
    shared.postMessage({
      edgemetrics: 1,
      from: id,
      worker: "fake",
      kind: "request",
      request,
      ...(peers === undefined ? {} : { peers }),
    });
  try {
    ask("old"); // an older version lists nobody
    ask("unheard", [`fake-${crypto.randomUUID()}`]); // has not heard of a
    ask("bad", "nope" as unknown as string[]); // malformed: ignored
    await waitFor("two answers", () => answers.length >= 2);
    ask("listed", [a.id]);
    await waitFor("three answers", () => answers.length >= 3);
    assert.deepEqual(answers.sort(), [
      `listed on pair to ${id} (2)`,
      `old on shared to ${id} (2)`,
      `unheard on shared to ${id} (2)`,
    ]);
  } finally {
    shared.close();
    pair.close();
  }
});

Deno.test("WorkerAggregator adds up Node and Bun worker threads, answers on pair channels, and lets the process end", async (t) => {
  const src = (path: string) =>
    JSON.stringify(new URL(`../src/${path}`, import.meta.url).href);
  const imports = `
    import { Registry } from ${src("registry.ts")};
    import { Counter } from ${src("instruments/counter.ts")};
    import { WorkerAggregator } from ${src("workers/aggregator.ts")};
    import { parentPort, Worker, workerData } from "node:worker_threads";
  `;
  const dir = await Deno.makeTempDir({ prefix: "aggregator-threads-" });
  // three threads count 1, 2 and 3 jobs, and answer until told to stop
  await Deno.writeTextFile(
    `${dir}/thread.mjs`,
    `${imports}
    const registry = new Registry();
    new Counter({ name: "jobs_total", help: "Jobs.", registry }).inc(workerData.n);
    new WorkerAggregator({ registry, channel: workerData.channel }).start();
    parentPort.once("message", () => parentPort.close());
    parentPort.postMessage("started");
  `,
  );
  // the main thread counts 10, scrapes three times, noting on which kind of
  // channel each answer arrives, then stops the threads; nothing closes the
  // aggregator, so its channels must not keep the process alive
  await Deno.writeTextFile(
    `${dir}/main.mjs`,
    `${imports}
    const channel = "threads-" + crypto.randomUUID();
    const arrivals = [];
    const Original = globalThis.BroadcastChannel;
    globalThis.BroadcastChannel = class extends Original {
      constructor(name) {
        super(name);
        this.addEventListener("message", (event) => {
          if (event.data?.kind === "snapshot") {
            arrivals.push(name === channel ? "shared" : "pair");
          }
        });
      }
    };
    const threads = [1, 2, 3].map((n) =>
      new Worker(new URL("./thread.mjs", import.meta.url), { workerData: { channel, n } })
    );
    await Promise.all(threads.map((thread) => new Promise((resolve) => thread.once("message", resolve))));
    const registry = new Registry();
    new Counter({ name: "jobs_total", help: "Jobs.", registry }).inc(10);
    const workers = new WorkerAggregator({ registry, channel });
    workers.start();
    const scrapes = [];
    for (let i = 0; i < 3; i++) {
      arrivals.length = 0;
      const families = await workers.collect();
      scrapes.push({
        values: families.map((family) => family.name + " " + family.points[0].value),
        arrivals: [...arrivals].sort(),
      });
    }
    for (const thread of threads) thread.postMessage("stop");
    console.log(JSON.stringify(scrapes));
  `,
  );
  const values = [
    "jobs 16",
    "edgemetrics_workers_responding 4",
    "edgemetrics_workers_missing 0",
  ];
  try {
    for (const runtime of ["node", "bun"]) {
      await t.step(runtime, async () => {
        const binary = new URL(
          `../.tools/node_modules/.bin/${runtime}`,
          import.meta.url,
        ).pathname;
        const child = new Deno.Command(binary, {
          args: [`${dir}/main.mjs`],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        const { code, stdout, stderr } = await child.output();
        clearTimeout(killer);
        const decoder = new TextDecoder();
        assert.equal(code, 0, decoder.decode(stderr));
        assert.deepEqual(JSON.parse(decoder.decode(stdout)), [
          // the first scrape asks before it has heard of the threads
          { values, arrivals: ["shared", "shared", "shared"] },
          { values, arrivals: ["pair", "pair", "pair"] },
          { values, arrivals: ["pair", "pair", "pair"] },
        ]);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A snapshot of everything JSON alone would lose or bend: non-finite numbers,
 * -0, integers past 2^53, `undefined` properties, empty and tag-like label
 * values, unicode and lone surrogates, every metric type, exemplars, and
 * `pad` more series so that it is packed.
 */
function hostileSnapshot(pad = 1000): MetricFamily[] {
  const odd = [
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    2 ** 53 + 2,
    -(2 ** 60),
    5e-324,
  ];
  const texts = [
    "",
    "\u0000",
    "\u0000\u0000",
    "\u0000NaN",
    "\u0000-0",
    "NaN",
    "Infinity",
    "-0",
    "null",
    "日本語 🎉",
    "\ud800",
    "x\udfffy",
    'quote " back \\ new\nline',
  ];
  // undefined properties are outside the types, but must survive too
  const families: unknown[] = [
    {
      type: "counter",
      name: "odd_total",
      help: "Help with a lone \udc00 surrogate and \u0000 NUL.",
      unit: undefined,
      points: texts.map((text, i) => ({
        labels: { text, empty: "" },
        value: odd[i % odd.length]!,
        created: -0,
        exemplar: i % 2 === 0 ? undefined : {
          labels: { trace_id: text },
          value: odd[(i + 1) % odd.length]!,
          timestamp: 2 ** 53 + 2,
        },
      })),
    },
    {
      type: "gauge",
      name: "odd_gauge",
      help: "",
      aggregation: "all",
      points: odd.map((value, i) => ({ labels: { i: `${i}` }, value })),
    },
    {
      type: "histogram",
      name: "odd_seconds",
      help: "Seconds.",
      unit: "seconds",
      bounds: [-Infinity, -0, 0.1, Infinity],
      points: [{
        labels: { text: "\ud83d" },
        counts: [0, 1, 2, 3, 2 ** 53 + 2],
        sum: NaN,
        count: Infinity,
        created: 0,
        exemplars: [
          null,
          undefined as unknown as null,
          {
            labels: {},
            value: -0,
            timestamp: NaN,
          },
          null,
          { labels: { a: "" }, value: Infinity, timestamp: 1 },
        ],
      }, {
        labels: { text: "" },
        counts: [0, 0, 0, 0, 0],
        sum: -0,
        count: 0,
        created: 1,
      }],
    },
    {
      type: "summary",
      name: "odd_bytes",
      help: "Bytes.",
      points: [{
        labels: {},
        count: 2 ** 53 + 2,
        sum: -Infinity,
        created: 3,
        quantiles: odd.map((value, i) => ({ quantile: i / 10, value })),
      }, {
        labels: { empty: "" },
        count: 0,
        sum: 0,
        created: 3,
        quantiles: [],
      }],
    },
    {
      type: "gauge",
      name: "padding",
      help: "Enough series to be packed.",
      aggregation: "sum",
      points: Array.from({ length: pad }, (_, i) => ({
        labels: { series: `series-${i}` },
        value: i,
      })),
    },
  ];
  return families as MetricFamily[];
}

Deno.test("packFamilies() and unpackFamilies() give back exactly the snapshot, NaN, Infinity, -0 and undefined included", async () => {
  const snapshot = hostileSnapshot();
  const packed = await packFamilies(snapshot);
  assert.ok(packed instanceof Uint8Array);
  assert.ok(packed.length * 5 < JSON.stringify(snapshot).length);
  // deepStrictEqual: NaN equals NaN, -0 differs from 0, undefined from missing
  assert.deepStrictEqual(await unpackFamilies(packed), snapshot);
  const [counter] = await unpackFamilies(packed) as MetricFamily[];
  assert.ok(counter?.type === "counter");
  assert.ok("unit" in counter && "exemplar" in counter.points[0]!);
  assert.ok(!("exemplar" in hostileSnapshot()[1]!.points[0]!));
  // small snapshots are sent as they are
  assert.equal(await packFamilies(hostileSnapshot(0)), undefined);
  assert.ok(JSON.stringify(hostileSnapshot(0)).length < PACK_MIN_CHARS);
});

Deno.test("packFamilies() packs nothing where CompressionStream is missing", async () => {
  const original = globalThis.CompressionStream;
  // deno-lint-ignore no-explicit-any
  delete (globalThis as any).CompressionStream;
  try {
    assert.equal(await packFamilies(hostileSnapshot()), undefined);
  } finally {
    globalThis.CompressionStream = original;
  }
});

Deno.test("unpackFamilies() returns undefined for bytes that are not gzipped JSON", async () => {
  const gzip = async (text: string) =>
    new Uint8Array(
      await new Response(
        new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer(),
    );
  assert.equal(await unpackFamilies(new Uint8Array([1, 2, 3])), undefined);
  assert.equal(await unpackFamilies(await gzip("{not json")), undefined);
  const truncated = (await packFamilies(hostileSnapshot()))!.slice(0, 100);
  assert.equal(await unpackFamilies(truncated), undefined);
});

Deno.test("WorkerAggregator sends a big answer as gzip bytes on the pair channel, and the merge is exactly the plain one", async () => {
  const channel = channelName();
  const snapshot = hostileSnapshot();
  using a = new WorkerAggregator({
    registry: new Registry(),
    channel,
    worker: "a",
  });
  using b = new WorkerAggregator({
    registry: { collect: () => Promise.resolve(hostileSnapshot()) },
    channel,
    worker: "b",
  });
  a.start();
  b.start();
  await a.collect(); // discovery: from now on b answers a on their pair channel
  const wire = new BroadcastChannel(`${channel}:${b.id}:${a.id}`);
  const seen: Record<string, unknown>[] = [];
  wire.onmessage = (event: MessageEvent) => seen.push(event.data);
  try {
    const families = await a.collect();
    await waitFor("the answer on the wire", () => seen.length === 1);
    const { families: plain, conflicts } = mergeSnapshots([
      { worker: "a", families: [] },
      { worker: "b", families: snapshot },
    ]);
    assert.deepStrictEqual(conflicts, []);
    assert.deepStrictEqual(families, [...plain, ...workerGauges(2, 0)]);
    const [message] = seen;
    assert.equal(message?.kind, "snapshot");
    assert.equal(message?.families, undefined);
    const packed = message?.packed;
    assert.ok(packed instanceof Uint8Array);
    assert.ok(packed.length * 5 < JSON.stringify(snapshot).length);
    assert.deepStrictEqual(await unpackFamilies(packed), snapshot);
  } finally {
    wire.close();
  }
});

Deno.test("WorkerAggregator ignores a packed answer that does not unpack into a snapshot, and counts its worker missing", async () => {
  const channel = channelName();
  const errors: string[] = [];
  using a = worker(channel, "a", 2, 10, {
    timeoutMs: 300,
    onError: (error) => errors.push(error.message),
  });
  a.start();
  const gzip = async (text: string) =>
    new Uint8Array(
      await new Response(
        new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer(),
    );
  const payloads = [
    new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), // a broken gzip
    await gzip("[{"), // not JSON
    await gzip('[{"type":"counter","name":"x","points":"nope"}]'), // not a snapshot
    (await packFamilies(hostileSnapshot()))!.slice(0, 200), // cut short
  ];
  const peers = payloads.map((packed) => {
    const peer: { post(message: unknown): void } = fakePeer(
      channel,
      ({ from, request }) => {
        peer.post({
          edgemetrics: 1,
          from: fake.id,
          worker: "fake",
          kind: "snapshot",
          to: from,
          request,
          packed,
        });
        return undefined;
      },
    );
    const fake = peer as ReturnType<typeof fakePeer>;
    return fake;
  });
  try {
    await waitFor("every hello", () => a.peers.length === peers.length);
    const families = await a.collect((name) => name.startsWith("edgemetrics_"));
    assert.deepEqual(families, workerGauges(1, peers.length));
    // like any malformed message: ignored, not reported
    assert.deepEqual(errors, []);
  } finally {
    for (const peer of peers) peer.close();
  }
});

Deno.test("WorkerAggregator does not take back a worker that said goodbye while its packed answer unpacked", async () => {
  const channel = channelName();
  using a = worker(channel, "a", 2, 10, { timeoutMs: 5_000 });
  a.start();
  const raw = new BroadcastChannel(channel);
  const id = `fake-${crypto.randomUUID()}`;
  const envelope = { edgemetrics: 1, from: id, worker: "fake" };
  const snapshot = hostileSnapshot();
  assert.ok(JSON.stringify(snapshot).length >= PACK_MIN_CHARS);
  raw.onmessage = async (event: MessageEvent) => {
    const data = event.data;
    if (data?.kind !== "request") return;
    const packed = await packFamilies(snapshot);
    // the goodbye lands while the answer is still being unpacked
    raw.postMessage({
      ...envelope,
      kind: "snapshot",
      to: data.from,
      request: data.request,
      packed,
    });
    raw.postMessage({ ...envelope, kind: "bye" });
  };
  try {
    raw.postMessage({ ...envelope, kind: "hello", reply: false });
    await waitFor("the fake's hello", () => a.peers.includes(id));
    await a.collect();
    // long enough for the unpacking to finish
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(a.peers, []);
  } finally {
    raw.close();
  }
});
