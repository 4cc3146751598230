import assert from "node:assert/strict";
import {
  type Clock,
  type CollectHook,
  Counter,
  Registry,
} from "@edgemetrics/edgemetrics";
import { captureWarnings } from "./_warnings.ts";

function fixedClock(t = 1_000): Clock & { t: number } {
  const clock = { t, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

Deno.test("Counter.inc() starts an unlabeled counter at 0 and adds 1 or the amount", async () => {
  const clock = fixedClock(5_000);
  const registry = new Registry({ clock });
  const jobs = new Counter({ name: "jobs_total", help: "Jobs.", registry });
  assert.deepEqual(await jobs.collect(), {
    type: "counter",
    name: "jobs",
    help: "Jobs.",
    points: [{ labels: {}, value: 0, created: 5_000 }],
  });
  jobs.inc();
  jobs.inc(2.5);
  assert.deepEqual(await registry.collect(), [{
    type: "counter",
    name: "jobs",
    help: "Jobs.",
    points: [{ labels: {}, value: 3.5, created: 5_000 }],
  }]);
});

Deno.test("Counter.inc(labels) creates one series per label set, numbers as strings", async () => {
  const clock = fixedClock();
  const registry = new Registry({ clock });
  const requests = new Counter({
    name: "http_requests_total",
    help: "Requests.",
    labelNames: ["method", "status"] as const,
    registry,
  });
  requests.inc({ method: "GET", status: 200 });
  clock.t = 2_000;
  requests.inc({ status: "500", method: "POST" }, 4);
  requests.inc({ method: "GET", status: "200" });
  assert.deepEqual((await requests.collect()).points, [
    { labels: { method: "GET", status: "200" }, value: 2, created: 1_000 },
    { labels: { method: "POST", status: "500" }, value: 4, created: 2_000 },
  ]);
});

Deno.test("Counter.inc() with an exemplar keeps the latest one per series", async () => {
  const clock = fixedClock(7);
  const counter = new Counter({
    name: "orders_total",
    help: "Orders.",
    labelNames: ["shop"],
    registry: null,
    clock,
  });
  counter.inc({ shop: "a" }, 1, { trace_id: "aa" });
  clock.t = 8;
  counter.labels("a").inc(2, { trace_id: "bb" });
  counter.inc({ shop: "b" });
  assert.deepEqual((await counter.collect()).points, [
    {
      labels: { shop: "a" },
      value: 3,
      created: 7,
      exemplar: { labels: { trace_id: "bb" }, value: 2, timestamp: 8 },
    },
    { labels: { shop: "b" }, value: 1, created: 8 },
  ]);
});

Deno.test("Counter without labels adds every form of record into its one series; reset() restarts it", async () => {
  const clock = fixedClock(3);
  const jobs = new Counter({
    name: "all_forms_total",
    help: "X.",
    registry: null,
    clock,
  });
  const child = jobs.labels();
  assert.equal(jobs.labels({}), child);
  jobs.inc();
  jobs.inc(2);
  jobs.inc({}, 3, { trace_id: "cc" });
  child.inc(4);
  child.inc();
  assert.throws(() => jobs.inc(-1), {
    name: "RangeError",
    message:
      'Cannot increment counter "all_forms_total": a counter only goes up, got -1',
  });
  assert.deepEqual((await jobs.collect()).points, [{
    labels: {},
    value: 11,
    created: 3,
    exemplar: { labels: { trace_id: "cc" }, value: 3, timestamp: 3 },
  }]);
  clock.t = 4;
  jobs.reset();
  assert.deepEqual((await jobs.collect()).points, [
    { labels: {}, value: 0, created: 4 },
  ]);
  child.inc(5);
  jobs.inc();
  assert.deepEqual((await jobs.collect()).points, [
    { labels: {}, value: 6, created: 4 },
  ]);
});

Deno.test("Counter.inc() drops an exemplar over 128 code points without throwing", async () => {
  const counter = new Counter({
    name: "exemplar_too_long_total",
    help: "X.",
    registry: null,
    clock: fixedClock(),
  });
  const warnings = captureWarnings(() => {
    counter.inc({}, 1, { trace_id: "x".repeat(120) }); // 8 + 120 = 128: kept
    counter.inc({}, 1, { trace_id: "é".repeat(121) }); // 129: dropped
    counter.inc({}, 1, { trace_id: "y".repeat(200) }); // dropped, no second warning
  });
  const point = (await counter.collect()).points[0];
  assert.equal(point?.value, 3);
  assert.deepEqual(point?.exemplar?.labels, { trace_id: "x".repeat(120) });
  assert.deepEqual(warnings, [
    'edgemetrics: dropped an exemplar of metric "exemplar_too_long_total": its labels have 129 code points, more than the 128 OpenMetrics allows',
  ]);
});

Deno.test("Counter.inc() counts a surrogate pair in an exemplar as one code point", async () => {
  const counter = new Counter({
    name: "exemplar_emoji_total",
    help: "X.",
    registry: null,
    clock: fixedClock(),
  });
  const warnings = captureWarnings(() => {
    // 8 + 120 = 128 code points in 248 UTF-16 units: kept.
    counter.inc({}, 1, { trace_id: "\u{1F600}".repeat(120) });
    // A lone surrogate is one code point too: 8 + 121 = 129, dropped.
    counter.inc({}, 1, { trace_id: "\u{1F600}".repeat(120) + "\ud800" });
  });
  const point = (await counter.collect()).points[0];
  assert.equal(point?.value, 2);
  assert.deepEqual(point?.exemplar?.labels, {
    trace_id: "\u{1F600}".repeat(120),
  });
  assert.deepEqual(warnings, [
    'edgemetrics: dropped an exemplar of metric "exemplar_emoji_total": its labels have 129 code points, more than the 128 OpenMetrics allows',
  ]);
});

Deno.test("Counter.inc() ignores NaN with one warning and keeps the total", async () => {
  const counter = new Counter({
    name: "nan_counter_total",
    help: "X.",
    registry: null,
    clock: fixedClock(),
  });
  const warnings = captureWarnings(() => {
    counter.inc(1);
    counter.inc(NaN);
    counter.labels().inc(NaN);
    counter.inc(Infinity);
  });
  assert.equal((await counter.collect()).points[0]?.value, 1);
  assert.deepEqual(warnings, [
    'edgemetrics: ignored a non-finite increment of counter "nan_counter_total", got NaN: NaN and ±Infinity never enter a total or a sum (this warning is shown once per metric)',
  ]);
});

Deno.test("Counter.inc() ignores +Inf, which would leave the counter at +Inf for good", async () => {
  const counter = new Counter({
    name: "inf_total",
    help: "X.",
    labelNames: ["k"] as const,
    registry: null,
  });
  captureWarnings(() => {
    counter.inc({ k: "a" }, 2);
    counter.inc({ k: "a" }, Infinity);
    counter.labels("a").inc(Infinity);
  });
  assert.equal((await counter.collect()).points[0]?.value, 2);
});

Deno.test("Counter.labels() returns the same cached child for positional and object forms", async () => {
  const counter = new Counter({
    name: "cached_total",
    help: "X.",
    labelNames: ["a", "b"] as const,
    registry: null,
  });
  const child = counter.labels("x", 1);
  assert.equal(counter.labels("x", 1), child);
  assert.equal(counter.labels("x", "1"), child);
  assert.equal(counter.labels({ b: 1, a: "x" }), child);
  assert.notEqual(counter.labels("x", 2), child);
  child.inc();
  counter.labels({ a: "x", b: "1" }).inc(2);
  assert.deepEqual(
    (await counter.collect()).points.map((p) => [p.labels, p.value]),
    [[{ a: "x", b: "1" }, 3], [{ a: "x", b: "2" }, 0]],
  );
});

Deno.test("Counter.remove() forgets a series; its bound child stays valid and starts over", async () => {
  const clock = fixedClock(1);
  const counter = new Counter({
    name: "removed_total",
    help: "X.",
    labelNames: ["k"],
    registry: null,
    clock,
  });
  const a = counter.labels("a");
  const b = counter.labels("b");
  a.inc(5, { trace_id: "t" });
  b.inc(1);
  counter.remove({ k: "a" });
  counter.remove({ k: "missing" }); // no such series: nothing happens
  assert.deepEqual((await counter.collect()).points, [
    { labels: { k: "b" }, value: 1, created: 1 },
  ]);
  clock.t = 2;
  a.inc();
  b.inc();
  assert.deepEqual((await counter.collect()).points, [
    { labels: { k: "b" }, value: 2, created: 1 },
    { labels: { k: "a" }, value: 1, created: 2 },
  ]);
  assert.notEqual(counter.labels("a"), a); // a fresh child after remove…
  counter.labels("a").inc(); // …that records into the same series
  assert.equal((await counter.collect()).points[1]?.value, 2);
});

Deno.test("Counter.remove(...values) forgets a series given positionally", async () => {
  const counter = new Counter({
    name: "removed_positional_total",
    help: "X.",
    labelNames: ["method", "status"] as const,
    registry: null,
  });
  counter.inc({ method: "GET", status: 200 });
  counter.inc({ method: "GET", status: 500 });
  counter.remove("GET", 200);
  assert.deepEqual(
    (await counter.collect()).points.map((p) => p.labels),
    [{ method: "GET", status: "500" }],
  );
  assert.throws(() => counter.remove("GET"), {
    name: "TypeError",
    message:
      'Cannot remove from metric "removed_positional_total": expected 2 label values (method, status), got 1',
  });
  assert.throws(() => counter.remove({ method: "GET" } as never), {
    name: "TypeError",
    message:
      'Cannot record to metric "removed_positional_total": label "status" must be a string or number, got undefined (missing)',
  });
});

Deno.test("Counter.reset() forgets every series; children stay valid", async () => {
  const clock = fixedClock(1);
  const labeled = new Counter({
    name: "reset_labeled_total",
    help: "X.",
    labelNames: ["k"],
    registry: null,
    clock,
  });
  const child = labeled.labels("a");
  child.inc(3);
  labeled.reset();
  assert.deepEqual((await labeled.collect()).points, []);
  clock.t = 9;
  child.inc();
  assert.deepEqual((await labeled.collect()).points, [
    { labels: { k: "a" }, value: 1, created: 9 },
  ]);

  clock.t = 1;
  const plain = new Counter({
    name: "reset_plain_total",
    help: "X.",
    registry: null,
    clock,
  });
  plain.inc(4);
  clock.t = 3;
  plain.reset();
  assert.deepEqual((await plain.collect()).points, [
    { labels: {}, value: 0, created: 3 },
  ]);
});

Deno.test("Counter keeps a unit in its family", async () => {
  const counter = new Counter({
    name: "sent_bytes_total",
    help: "Bytes sent.",
    unit: "bytes",
    registry: null,
    clock: fixedClock(0),
  });
  assert.deepEqual(await counter.collect(), {
    type: "counter",
    name: "sent_bytes",
    help: "Bytes sent.",
    unit: "bytes",
    points: [{ labels: {}, value: 0, created: 0 }],
  });
});

Deno.test("Counter collect hook runs before each snapshot, sync or async", async () => {
  const registry = new Registry({ clock: fixedClock(0) });
  let external = 0;
  new Counter({
    name: "hook_sync_total",
    help: "X.",
    registry,
    collect(metric) {
      assert.equal(this, metric);
      metric.inc(external);
      external = 0;
    },
  });
  new Counter({
    name: "hook_async_total",
    help: "X.",
    labelNames: ["k"],
    registry,
    async collect(metric) {
      await Promise.resolve();
      metric.inc({ k: "v" }, 2);
    },
  });
  external = 5;
  const values = (families: Awaited<ReturnType<Registry["collect"]>>) =>
    families.map((f) => [f.name, f.points.map((p) => "value" in p && p.value)]);
  assert.deepEqual(values(await registry.collect()), [
    ["hook_sync", [5]],
    ["hook_async", [2]],
  ]);
  assert.deepEqual(values(await registry.collect()), [
    ["hook_sync", [5]],
    ["hook_async", [4]],
  ]);
});

Deno.test("Counter rejects bad input with exact messages", async (t) => {
  const counter = new Counter({
    name: "bad_total",
    help: "X.",
    labelNames: ["method"] as const,
    registry: null,
  });
  const plain = new Counter({
    name: "plain_total",
    help: "X.",
    registry: null,
  });
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "negative increment",
      () => plain.inc(-1),
      RangeError,
      'Cannot increment counter "plain_total": a counter only goes up, got -1',
    ],
    [
      "negative increment on a child",
      () => counter.labels("GET").inc(-0.5),
      RangeError,
      'Cannot increment counter "bad_total": a counter only goes up, got -0.5',
    ],
    [
      "negative increment with labels",
      () => counter.inc({ method: "GET" }, -Infinity),
      RangeError,
      'Cannot increment counter "bad_total": a counter only goes up, got -Infinity',
    ],
    [
      "non-number amount",
      () => plain.inc("3" as unknown as number),
      TypeError,
      'Cannot increment counter "plain_total": the amount must be a number, got "3"',
    ],
    [
      "non-number amount with labels",
      () => counter.inc({ method: "GET" }, null as unknown as number),
      TypeError,
      'Cannot increment counter "bad_total": the amount must be a number, got null',
    ],
    [
      "bigint amount",
      () => plain.inc(1n as unknown as number),
      TypeError,
      'Cannot increment counter "plain_total": the amount must be a number, got 1n',
    ],
    [
      "labels missing on a labeled counter",
      () => counter.inc(),
      TypeError,
      'Cannot record to metric "bad_total": labels "method" are required',
    ],
    [
      "a label missing from the object",
      () => counter.inc({} as { method: string }),
      TypeError,
      'Cannot record to metric "bad_total": label "method" must be a string or number, got undefined (missing)',
    ],
    [
      "an undeclared label (checked when the series is created)",
      () => counter.inc({ method: "PUT", path: "/" } as { method: string }),
      TypeError,
      'Cannot record to metric "bad_total": label "path" is not declared (declared: method)',
    ],
    [
      "labels on an unlabeled counter",
      () => plain.inc({ method: "GET" } as never),
      TypeError,
      'Cannot record to metric "plain_total": label "method" is not declared (declared: none)',
    ],
    [
      "a label value of the wrong type",
      () => counter.inc({ method: true as unknown as string }),
      TypeError,
      'Cannot record to metric "bad_total": label "method" must be a string or number, got true',
    ],
    [
      "too many positional values",
      () => counter.labels("GET", "extra"),
      TypeError,
      'Cannot record to metric "bad_total": expected 1 label values (method), got 2',
    ],
    [
      "too few positional values",
      () => counter.labels(),
      TypeError,
      'Cannot record to metric "bad_total": expected 1 label values (method), got 0',
    ],
    [
      "a collect hook that is not a function",
      () =>
        new Counter({
          name: "hook_total",
          help: "X.",
          registry: null,
          collect: 1 as never,
        }),
      TypeError,
      'Cannot declare metric "hook_total": collect must be a function, got 1',
    ],
    [
      "a name that is only the _total suffix",
      () => new Counter({ name: "_total", help: "X.", registry: null }),
      TypeError,
      'Cannot declare counter "_total": the name must not be empty once the _total suffix is removed, got ""',
    ],
    [
      "a name that is only the _total suffix, in a registry",
      () =>
        new Counter({ name: "_total", help: "X.", registry: new Registry() }),
      TypeError,
      'Cannot declare counter "_total": the name must not be empty once the _total suffix is removed, got ""',
    ],
  ];
  for (const [what, act, type, message] of cases) {
    await t.step(what, () => {
      assert.throws(act, (error: unknown) => {
        assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
        assert.equal((error as Error).message, message);
        return true;
      });
    });
  }
  // Nothing but the series that labels("GET") created was recorded.
  assert.deepEqual(
    (await counter.collect()).points.map((p) => [p.labels, p.value]),
    [[{ method: "GET" }, 0]],
  );
});

Deno.test("Counter.inc(value, exemplar) keeps an exemplar on an unlabeled counter", async () => {
  const clock = fixedClock(10);
  const jobs = new Counter({
    name: "unlabeled_exemplar_total",
    help: "X.",
    registry: null,
    clock,
  });
  jobs.inc(2, { trace_id: "aa", span_id: "01" });
  clock.t = 11;
  jobs.inc(undefined, { trace_id: "bb" }); // the default amount, 1
  jobs.inc(4);
  assert.deepEqual((await jobs.collect()).points, [{
    labels: {},
    value: 7,
    created: 10,
    exemplar: { labels: { trace_id: "bb" }, value: 1, timestamp: 11 },
  }]);
  // The labeled form still needs labels, exemplar or not.
  const byShop = new Counter({
    name: "labeled_exemplar_total",
    help: "X.",
    labelNames: ["shop"] as const,
    registry: null,
  });
  assert.throws(() => byShop.inc(1, { trace_id: "cc" }), {
    name: "TypeError",
    message:
      'Cannot record to metric "labeled_exemplar_total": labels "shop" are required',
  });
});

Deno.test("Counter.inc(labels) checks labels when a series is created; an extra key on an existing series is ignored", async () => {
  const counter = new Counter({
    name: "checked_total",
    help: "X.",
    labelNames: ["k"] as const,
    registry: null,
  });
  const extra = { k: "a", bogus: "1" } as unknown as { k: string };
  assert.throws(() => counter.inc(extra), {
    name: "TypeError",
    message:
      'Cannot record to metric "checked_total": label "bogus" is not declared (declared: k)',
  });
  counter.inc({ k: "a" });
  // Documented: the lookup of an existing series reads only declared names.
  counter.inc(extra, 2);
  assert.deepEqual(
    (await counter.collect()).points.map((p) => [p.labels, p.value]),
    [[{ k: "a" }, 3]],
  );
});

Deno.test("CollectHook is declared with the options it types: options.ts imports no instrument", async () => {
  const source = await Deno.readTextFile(
    new URL("../src/instruments/options.ts", import.meta.url),
  );
  const imports = [...source.matchAll(/from\s+"(\.[^"]+)"/g)].map((m) => m[1]);
  const instruments = [
    "counter",
    "gauge",
    "histogram",
    "summary",
    "observable",
  ];
  assert.deepEqual(
    imports.filter((path) =>
      instruments.some((kind) => path === `./${kind}.ts`)
    ),
    [],
  );
  // Still public, from the package root.
  const hook: CollectHook<Counter> = (counter) => counter.inc();
  const counter = new Counter({
    name: "hooked_total",
    help: "X.",
    registry: null,
    collect: hook,
  });
  assert.equal((await counter.collect()).points[0]?.value, 1);
});
