/**
 * A scrape that stays cheap: coalesced collections, the in-flight cap and
 * `cacheMs` on observable instruments.
 */

import assert from "node:assert/strict";
import {
  type Clock,
  metricsHandler,
  ObservableCounter,
  ObservableGauge,
  Registry,
} from "@edgemetrics/edgemetrics";
import { coalesce } from "../src/pull/_coalesce.ts";

function manualClock(t = 0): Clock & { t: number } {
  const clock = { t, now: () => clock.t, monotonic: () => clock.t };
  return clock;
}

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  return { opened, open };
}

Deno.test("metricsHandler() runs the observe callback once for 50 concurrent scrapes", async () => {
  const registry = new Registry();
  let calls = 0;
  const slow = gate();
  new ObservableGauge({
    name: "expensive_value",
    help: "Read from a slow source.",
    registry,
    async observe(result) {
      calls++;
      await slow.opened;
      result.observe(42);
    },
  });
  const handler = metricsHandler(registry);
  const scrapes = Array.from(
    { length: 50 },
    (_, i) =>
      handler(
        new Request("http://localhost/metrics", {
          // Half ask for OpenMetrics: one collection serves both formats.
          headers: i % 2 === 0
            ? { Accept: "application/openmetrics-text; version=1.0.0" }
            : {},
        }),
      ),
  );
  // Let every scrape reach the collection before the source answers.
  await new Promise((resolve) => setTimeout(resolve, 10));
  slow.open();
  const responses = await Promise.all(scrapes);
  assert.equal(calls, 1);
  for (const [i, response] of responses.entries()) {
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /^expensive_value 42$/m);
    assert.equal(text.endsWith("# EOF\n"), i % 2 === 0);
  }
  // The collection is shared only while it runs: the next scrape runs again.
  await (await handler(new Request("http://localhost/metrics"))).text();
  assert.equal(calls, 2);
});

Deno.test("metricsHandler() shares a collection only between scrapes with the same name[] filter", async () => {
  const registry = new Registry();
  const calls = { a: 0, b: 0 };
  const slow = gate();
  for (const name of ["a", "b"] as const) {
    new ObservableGauge({
      name,
      help: name,
      registry,
      async observe(result) {
        calls[name]++;
        await slow.opened;
        result.observe(1);
      },
    });
  }
  const handler = metricsHandler(registry);
  const get = (query: string) =>
    handler(new Request(`http://localhost/metrics${query}`));
  const pending = [get("?name[]=a"), get("?name[]=a"), get(""), get("")];
  slow.open();
  const bodies = await Promise.all(
    (await Promise.all(pending)).map((r) => r.text()),
  );
  assert.deepEqual(calls, { a: 2, b: 1 });
  assert.equal(bodies[0], "# HELP a a\n# TYPE a gauge\na 1\n");
  assert.equal(bodies[1], bodies[0]);
  assert.match(bodies[2]!, /^b 1$/m);
});

Deno.test("coalesce() turns a source that throws into one failed scrape, then collects again", async () => {
  let calls = 0;
  const collect = coalesce({
    collect() {
      calls++;
      if (calls === 1) throw new Error("boom");
      return Promise.resolve([]);
    },
  });
  await assert.rejects(collect("", undefined), /boom/);
  assert.deepEqual(await collect("", undefined), []);
  assert.equal(calls, 2);
});

Deno.test("metricsHandler() with maxInFlight answers 503 with Retry-After beyond the cap, without collecting", async () => {
  const registry = new Registry();
  let calls = 0;
  const slow = gate();
  new ObservableGauge({
    name: "slow_value",
    help: "Slow.",
    registry,
    async observe(result) {
      calls++;
      await slow.opened;
      result.observe(1);
    },
  });
  const handler = metricsHandler(registry, {
    maxInFlight: 2,
    retryAfterSeconds: 5,
  });
  const get = () => handler(new Request("http://localhost/metrics"));
  const first = get();
  const second = get();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const third = await get();
  assert.equal(third.status, 503);
  assert.equal(third.headers.get("Retry-After"), "5");
  assert.equal(third.headers.get("Cache-Control"), "no-store");
  assert.equal(await third.text(), "Service Unavailable: too many scrapes\n");
  slow.open();
  assert.equal((await first).status, 200);
  assert.equal((await second).status, 200);
  assert.equal(calls, 1);
  // The slots are free again once the scrapes were served.
  const after = await get();
  assert.equal(after.status, 200);
  assert.equal(
    await after.text(),
    "# HELP slow_value Slow.\n# TYPE slow_value gauge\nslow_value 1\n",
  );
  // A scrape whose collection failed frees its slot too.
  const failing = metricsHandler(
    { collect: () => Promise.reject(new Error("down")) },
    { maxInFlight: 1 },
  );
  const error = console.error;
  console.error = () => {};
  try {
    assert.equal((await failing(new Request("http://x/"))).status, 500);
    assert.equal((await failing(new Request("http://x/"))).status, 500);
  } finally {
    console.error = error;
  }
});

Deno.test("metricsHandler() rejects a maxInFlight or retryAfterSeconds out of range", () => {
  for (const maxInFlight of [0, 1.5, -1, NaN]) {
    assert.throws(
      () => metricsHandler(new Registry(), { maxInFlight }),
      {
        name: "RangeError",
        message:
          `Cannot create metrics handler: maxInFlight must be a whole number of at least 1, got ${maxInFlight}`,
      },
    );
  }
  assert.throws(
    () => metricsHandler(new Registry(), { retryAfterSeconds: Infinity }),
    {
      name: "RangeError",
      message:
        "Cannot create metrics handler: retryAfterSeconds must be a whole number of at least 0, got Infinity",
    },
  );
  // Infinity lifts the cap, as for maxSeries.
  metricsHandler(new Registry(), { maxInFlight: Infinity });
});

Deno.test("ObservableGauge with cacheMs serves the last value and refreshes at most once per window", async () => {
  const clock = manualClock(0);
  const registry = new Registry({ clock });
  let calls = 0;
  new ObservableGauge({
    name: "sync_source",
    help: "X.",
    registry,
    cacheMs: 1000,
    observe(result) {
      result.observe(++calls);
    },
  });
  const value = async () =>
    (await registry.collect())[0]?.points[0] as { value: number };
  assert.equal((await value()).value, 1);
  clock.t = 999;
  assert.equal((await value()).value, 1);
  assert.equal(calls, 1);
  clock.t = 1000;
  assert.equal((await value()).value, 2);
  clock.t = 1500;
  assert.equal((await value()).value, 2);
  assert.equal(calls, 2);
});

Deno.test("ObservableCounter with cacheMs never makes a scrape wait for a slow source once it answered", async () => {
  const clock = manualClock(0);
  const registry = new Registry({ clock });
  let total = 10;
  let calls = 0;
  let release = gate();
  new ObservableCounter({
    name: "slow_source_total",
    help: "X.",
    registry,
    cacheMs: 100,
    async observe(result) {
      calls++;
      const value = total;
      await release.opened;
      result.observe(value);
    },
  });
  const value = async () =>
    ((await registry.collect())[0]?.points[0] as { value: number }).value;
  // The first collection has nothing to serve: it waits.
  const first = value();
  release.open();
  assert.equal(await first, 10);

  // Past the window: the last value is served at once, a refresh starts.
  release = gate();
  total = 20;
  clock.t = 100;
  assert.equal(await value(), 10);
  assert.equal(calls, 2);
  // While it runs, collections share it and still get the last value.
  clock.t = 300;
  assert.equal(await value(), 10);
  assert.equal(calls, 2);
  release.open();
  await new Promise((resolve) => setTimeout(resolve, 0));
  // The window runs from when the refresh answered.
  assert.equal(await value(), 20);
  clock.t = 399;
  assert.equal(await value(), 20);
  assert.equal(calls, 2);
  clock.t = 400;
  await value();
  assert.equal(calls, 3);
});

Deno.test("ObservableGauge with cacheMs reports a failed background refresh at the next collection", async () => {
  const clock = manualClock(0);
  const errors: string[] = [];
  const registry = new Registry({
    clock,
    onError: (error, metric) => errors.push(`${metric}: ${error}`),
  });
  let fail = false;
  new ObservableGauge({
    name: "flaky_source",
    help: "X.",
    registry,
    cacheMs: 10,
    async observe(result) {
      await Promise.resolve();
      if (fail) throw new Error("source down");
      result.observe(7);
    },
  });
  assert.equal((await registry.collect()).length, 1);
  fail = true;
  clock.t = 10;
  // Served stale while the refresh fails in the background.
  assert.equal((await registry.collect()).length, 1);
  await new Promise((resolve) => setTimeout(resolve, 0));
  // The failure is reported, and the stale value is not served as fresh.
  assert.deepEqual(await registry.collect(), []);
  assert.deepEqual(errors, ["flaky_source: Error: source down"]);
  // Once the source is back, the next collection waits for it and serves it.
  fail = false;
  const [family] = await registry.collect();
  assert.equal((family?.points[0] as { value: number }).value, 7);
});

Deno.test("ObservableGauge with cacheMs stops serving the last value once its refresh hangs past the window (at least 5 s), and starts over", async () => {
  const clock = manualClock(0);
  const errors: string[] = [];
  const registry = new Registry({
    clock,
    onError: (error, metric) => errors.push(`${metric}: ${error}`),
  });
  let hang = false;
  let value = 7;
  new ObservableGauge({
    name: "hanging_source",
    help: "X.",
    registry,
    cacheMs: 100,
    observe(result) {
      if (hang) return new Promise<void>(() => {}); // never settles
      result.observe(value);
      return undefined;
    },
  });
  const values = async () =>
    (await registry.collect()).map((f) =>
      (f.points[0] as { value: number }).value
    );
  assert.deepEqual(await values(), [7]);
  hang = true;
  clock.t = 100; // past the window: a refresh starts, and hangs
  assert.deepEqual(await values(), [7]);
  clock.t = 5_100; // pending 5,000 ms: still within the 5 s floor
  assert.deepEqual(await values(), [7]);
  assert.deepEqual(errors, []);
  clock.t = 5_101;
  assert.deepEqual(await values(), []);
  assert.equal(errors.length, 1);
  assert.match(
    errors[0]!,
    /^hanging_source: Error: its refresh has not settled after 5001 ms/,
  );
  // The next collection starts a new refresh and waits for it.
  hang = false;
  value = 9;
  assert.deepEqual(await values(), [9]);
});

Deno.test("observable instruments reject a cacheMs that is negative or not finite", () => {
  for (const cacheMs of [-1, Infinity, NaN, "5"]) {
    assert.throws(
      () =>
        new ObservableGauge({
          name: "g",
          help: "X.",
          registry: null,
          cacheMs: cacheMs as number,
          observe: () => {},
        }),
      {
        name: "RangeError",
        message: new RegExp(
          `^Cannot declare metric "g": cacheMs must be a finite number of milliseconds of at least 0, got `,
        ),
      },
    );
  }
});
