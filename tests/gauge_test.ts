import assert from "node:assert/strict";
import { type Clock, Gauge, Registry } from "@edgemetrics/edgemetrics";
import { captureWarnings } from "./_warnings.ts";

function manualClock(t = 0): Clock & { t: number } {
  const clock = { t, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

Deno.test("Gauge.inc()/dec()/set() move an unlabeled gauge from 0", async () => {
  const gauge = new Gauge({ name: "level", help: "Level.", registry: null });
  assert.deepEqual(await gauge.collect(), {
    type: "gauge",
    name: "level",
    help: "Level.",
    aggregation: "sum",
    points: [{ labels: {}, value: 0 }],
  });
  gauge.inc();
  gauge.inc(4);
  gauge.dec();
  gauge.dec(0.5);
  assert.equal((await gauge.collect()).points[0]?.value, 3.5);
  gauge.set(-2);
  assert.equal((await gauge.collect()).points[0]?.value, -2);
});

Deno.test("Gauge.inc()/dec()/set() with labels keep one series per label set", async () => {
  const gauge = new Gauge({
    name: "queue_depth",
    help: "Depth.",
    labelNames: ["queue", "shard"] as const,
    registry: null,
  });
  gauge.set({ queue: "emails", shard: 1 }, 10);
  gauge.inc({ queue: "emails", shard: "1" }, 2);
  gauge.dec({ queue: "sms", shard: 1 });
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { queue: "emails", shard: "1" }, value: 12 },
    { labels: { queue: "sms", shard: "1" }, value: -1 },
  ]);
});

Deno.test("Gauge.set() records NaN and ±Infinity as runtime data; inc() ignores them", async () => {
  const gauge = new Gauge({
    name: "special",
    help: "X.",
    labelNames: ["v"],
    registry: null,
  });
  gauge.set({ v: "nan" }, NaN);
  gauge.labels("inf").set(Infinity);
  gauge.set({ v: "-inf" }, -Infinity);
  captureWarnings(() => gauge.inc({ v: "-inf" }, Infinity));
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { v: "nan" }, value: NaN },
    { labels: { v: "inf" }, value: Infinity },
    { labels: { v: "-inf" }, value: -Infinity },
  ]);
});

Deno.test("Gauge renders special values in the text format", async () => {
  const registry = new Registry();
  const gauge = new Gauge({
    name: "special_text",
    help: "X.",
    labelNames: ["v"],
    registry,
  });
  gauge.set({ v: "nan" }, NaN);
  gauge.set({ v: "inf" }, Infinity);
  gauge.set({ v: "-inf" }, -Infinity);
  assert.equal(
    await registry.metrics(),
    "# HELP special_text X.\n# TYPE special_text gauge\n" +
      'special_text{v="nan"} NaN\n' +
      'special_text{v="inf"} +Inf\n' +
      'special_text{v="-inf"} -Inf\n',
  );
});

Deno.test("Gauge.setToCurrentTime() sets seconds since the epoch from the clock", async () => {
  const clock = manualClock(1_700_000_000_250);
  const gauge = new Gauge({
    name: "last_success_seconds",
    help: "X.",
    labelNames: ["job"],
    registry: null,
    clock,
  });
  gauge.setToCurrentTime({ job: "a" });
  clock.t += 1_000;
  gauge.labels("b").setToCurrentTime();
  const plain = new Gauge({ name: "now_s", help: "X.", registry: null, clock });
  plain.setToCurrentTime();
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { job: "a" }, value: 1_700_000_000.25 },
    { labels: { job: "b" }, value: 1_700_000_001.25 },
  ]);
  assert.equal((await plain.collect()).points[0]?.value, 1_700_000_001.25);
});

Deno.test("Gauge.startTimer() end function sets and returns elapsed seconds", async () => {
  const clock = manualClock(100);
  const gauge = new Gauge({
    name: "duration_seconds",
    help: "X.",
    labelNames: ["step", "outcome"] as const,
    registry: null,
    clock,
  });
  const end = gauge.startTimer({ step: "load" });
  clock.t = 350;
  assert.equal(end({ outcome: "ok" }), 0.25);
  const child = gauge.labels("save", "ok").startTimer();
  clock.t = 2_350;
  assert.equal(child(), 2);
  const plain = new Gauge({
    name: "run_seconds",
    help: "X.",
    registry: null,
    clock,
  });
  const endPlain = plain.startTimer();
  clock.t = 2_400;
  assert.equal(endPlain(), 0.05);
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { step: "load", outcome: "ok" }, value: 0.25 },
    { labels: { step: "save", outcome: "ok" }, value: 2 },
  ]);
  assert.equal((await plain.collect()).points[0]?.value, 0.05);
});

Deno.test("Gauge.labels() returns a cached child with every method", async () => {
  const clock = manualClock(3_000);
  const gauge = new Gauge({
    name: "child_gauge",
    help: "X.",
    labelNames: ["k"] as const,
    registry: null,
    clock,
  });
  const child = gauge.labels("a");
  assert.equal(gauge.labels({ k: "a" }), child);
  child.inc(5);
  child.dec(2);
  assert.equal((await gauge.collect()).points[0]?.value, 3);
  child.set(7);
  assert.equal((await gauge.collect()).points[0]?.value, 7);
  child.setToCurrentTime();
  assert.equal((await gauge.collect()).points[0]?.value, 3);
});

Deno.test("Gauge.remove() and reset() keep bound children valid", async () => {
  const gauge = new Gauge({
    name: "removable",
    help: "X.",
    labelNames: ["k"] as const,
    registry: null,
  });
  const a = gauge.labels("a");
  const b = gauge.labels("b");
  a.set(1);
  b.set(2);
  gauge.remove("a");
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { k: "b" }, value: 2 },
  ]);
  a.inc();
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { k: "b" }, value: 2 },
    { labels: { k: "a" }, value: 1 },
  ]);
  gauge.reset();
  assert.deepEqual((await gauge.collect()).points, []);
  b.dec();
  assert.deepEqual((await gauge.collect()).points, [
    { labels: { k: "b" }, value: -1 },
  ]);
});

Deno.test("Gauge carries its aggregation and unit into the family", async () => {
  const gauge = new Gauge({
    name: "heap_bytes",
    help: "Heap.",
    unit: "bytes",
    aggregation: "max",
    registry: null,
  });
  assert.equal(gauge.aggregation, "max");
  assert.deepEqual(await gauge.collect(), {
    type: "gauge",
    name: "heap_bytes",
    help: "Heap.",
    unit: "bytes",
    aggregation: "max",
    points: [{ labels: {}, value: 0 }],
  });
});

Deno.test("Gauge collect hook sets the value at collection, sync or async", async () => {
  const registry = new Registry();
  let depth = 4;
  new Gauge({
    name: "hook_gauge",
    help: "X.",
    registry,
    collect() {
      this.set(depth);
    },
  });
  new Gauge({
    name: "hook_gauge_async",
    help: "X.",
    labelNames: ["q"] as const,
    registry,
    async collect(gauge) {
      gauge.set({ q: "a" }, await Promise.resolve(depth * 2));
    },
  });
  assert.equal(
    await registry.metrics(),
    "# HELP hook_gauge X.\n# TYPE hook_gauge gauge\nhook_gauge 4\n" +
      '# HELP hook_gauge_async X.\n# TYPE hook_gauge_async gauge\nhook_gauge_async{q="a"} 8\n',
  );
  depth = 1;
  assert.match(await registry.metrics(), /^hook_gauge 1$/m);
});

Deno.test("Gauge rejects bad input with exact messages", async (t) => {
  const gauge = new Gauge({
    name: "bad_gauge",
    help: "X.",
    labelNames: ["k"] as const,
    registry: null,
  });
  const plain = new Gauge({ name: "plain_gauge", help: "X.", registry: null });
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "set a string",
      () => plain.set("1" as unknown as number),
      TypeError,
      'Cannot set gauge "plain_gauge": the value must be a number, got "1"',
    ],
    [
      "set with labels but no value",
      () => (gauge.set as (l: unknown) => void)({ k: "a" }),
      TypeError,
      'Cannot set gauge "bad_gauge": the value must be a number, got undefined',
    ],
    [
      "inc by a string on a child",
      () => gauge.labels("a").inc("2" as unknown as number),
      TypeError,
      'Cannot increment gauge "bad_gauge": the amount must be a number, got "2"',
    ],
    [
      "dec by null",
      () => plain.dec(null as unknown as number),
      TypeError,
      'Cannot decrement gauge "plain_gauge": the amount must be a number, got null',
    ],
    [
      "labels missing",
      () => gauge.set(1),
      TypeError,
      'Cannot record to metric "bad_gauge": labels "k" are required',
    ],
    [
      "an undeclared label",
      () => gauge.inc({ k: "z", x: "1" } as { k: string }),
      TypeError,
      'Cannot record to metric "bad_gauge": label "x" is not declared (declared: k)',
    ],
    [
      "a timer ended without labels",
      () => gauge.startTimer()(),
      TypeError,
      'Cannot record to metric "bad_gauge": labels "k" are required',
    ],
    [
      "a timer ended with an undeclared label",
      () => gauge.startTimer({ k: "t" })({ y: "1" } as never),
      TypeError,
      'Cannot record to metric "bad_gauge": label "y" is not declared (declared: k)',
    ],
    [
      "an unknown aggregation",
      () =>
        new Gauge({
          name: "agg",
          help: "X.",
          registry: null,
          aggregation: "avg" as never,
        }),
      TypeError,
      'Cannot declare metric "agg": aggregation must be one of "sum", "max", "min", "all", got "avg"',
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
});
