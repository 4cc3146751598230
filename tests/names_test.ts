import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, Summary } from "@edgemetrics/edgemetrics";
import { assertMetricName } from "../src/names.ts";

Deno.test("metric and label names that follow the Prometheus rules are accepted", () => {
  for (
    const name of ["a", "_x", "ns:sub_name", "A1_b2", "http_requests_total"]
  ) {
    assertMetricName(name);
  }
  const gauge = new Gauge({
    name: "ns:valid_name",
    help: "X.",
    labelNames: ["_private", "Route", "a1"] as const,
    registry: null,
  });
  assert.deepEqual(gauge.labelNames, ["_private", "Route", "a1"]);
});

Deno.test("declarations that break a naming rule throw with exact messages", async (t) => {
  const cases: [string, () => unknown, string][] = [
    [
      "a metric name starting with a digit",
      () => new Counter({ name: "1st_total", help: "X.", registry: null }),
      'Cannot declare metric "1st_total": a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*',
    ],
    [
      "a metric name with a dash",
      () => new Gauge({ name: "http-requests", help: "X.", registry: null }),
      'Cannot declare metric "http-requests": a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*',
    ],
    [
      "an empty metric name",
      () => new Gauge({ name: "", help: "X.", registry: null }),
      'Cannot declare metric "": a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*',
    ],
    [
      "a metric name that is not a string",
      () =>
        new Gauge({
          name: 42 as unknown as string,
          help: "X.",
          registry: null,
        }),
      "Cannot declare metric 42: a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*",
    ],
    [
      "a label name with a colon",
      () =>
        new Gauge({
          name: "g",
          help: "X.",
          labelNames: ["ns:route"],
          registry: null,
        }),
      'Cannot declare metric "g": label name "ns:route" must match [a-zA-Z_][a-zA-Z0-9_]*',
    ],
    [
      "a label name starting with a digit",
      () =>
        new Gauge({
          name: "g",
          help: "X.",
          labelNames: ["1a"],
          registry: null,
        }),
      'Cannot declare metric "g": label name "1a" must match [a-zA-Z_][a-zA-Z0-9_]*',
    ],
    [
      "a label name starting with __",
      () =>
        new Counter({
          name: "c_total",
          help: "X.",
          labelNames: ["__name__"],
          registry: null,
        }),
      'Cannot declare metric "c_total": label name "__name__" starts with "__", which Prometheus reserves',
    ],
    [
      "le on a histogram",
      () =>
        new Histogram({
          name: "h_seconds",
          help: "X.",
          labelNames: ["le"],
          registry: null,
        }),
      'Cannot declare metric "h_seconds": label name "le" is reserved for this kind of metric',
    ],
    [
      "quantile on a summary",
      () =>
        new Summary({
          name: "s_seconds",
          help: "X.",
          labelNames: ["quantile"],
          registry: null,
        }),
      'Cannot declare metric "s_seconds": label name "quantile" is reserved for this kind of metric',
    ],
    [
      "a label name twice",
      () =>
        new Gauge({
          name: "g",
          help: "X.",
          labelNames: ["route", "route"],
          registry: null,
        }),
      'Cannot declare metric "g": label name "route" appears more than once',
    ],
    [
      "labelNames as a string",
      () =>
        new Gauge({
          name: "g",
          help: "X.",
          labelNames: "route" as unknown as string[],
          registry: null,
        }),
      'Cannot declare metric "g": labelNames must be an array of strings, got "route"',
    ],
    [
      "a label name that is not a string",
      () =>
        new Gauge({
          name: "g",
          help: "X.",
          labelNames: [7 as unknown as string],
          registry: null,
        }),
      'Cannot declare metric "g": label name 7 must match [a-zA-Z_][a-zA-Z0-9_]*',
    ],
    [
      "help that is not a string",
      () =>
        new Gauge({
          name: "g",
          help: undefined as unknown as string,
          registry: null,
        }),
      'Cannot declare metric "g": help must be a string, got undefined',
    ],
    [
      "a unit the name does not end with",
      () =>
        new Gauge({
          name: "heap_size",
          help: "X.",
          unit: "bytes",
          registry: null,
        }),
      'Cannot declare metric "heap_size": a metric with unit "bytes" must have a name ending in "_bytes"',
    ],
    [
      "a malformed unit",
      () =>
        new Gauge({
          name: "heap_Bytes",
          help: "X.",
          unit: "Bytes",
          registry: null,
        }),
      'Cannot declare metric "heap_Bytes": unit "Bytes" must be lowercase words joined by "_"',
    ],
    [
      "options that are not an object",
      () => new Gauge(null as never),
      "Cannot declare metric: options must be an object, got null",
    ],
  ];
  for (const [what, act, message] of cases) {
    await t.step(what, () => {
      assert.throws(act, (error: unknown) => {
        assert.ok(
          error instanceof TypeError,
          `expected TypeError, got ${error}`,
        );
        assert.equal(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("a counter's unit is checked against its name without _total", () => {
  const counter = new Counter({
    name: "sent_bytes_total",
    help: "X.",
    unit: "bytes",
    registry: null,
  });
  assert.equal(counter.unit, "bytes");
});
