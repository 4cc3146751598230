import assert from "node:assert/strict";
import {
  Counter,
  Gauge,
  Histogram,
  type MetricType,
  Summary,
} from "@edgemetrics/edgemetrics";
import {
  assertMetricName,
  isMetricName,
  isOtelInstrumentName,
  prometheusLabels,
  prometheusName,
  prometheusUnit,
} from "../src/names.ts";

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

Deno.test("prometheusName() translates OTel names, units and monotonic sums as the compatibility spec says", async (t) => {
  const cases: [string, string, MetricType, string][] = [
    [
      "http.server.request.duration",
      "s",
      "histogram",
      "http_server_request_duration_seconds",
    ],
    ["http.server.requests", "{request}", "counter", "http_server_requests"],
    ["jobs.done_total", "", "counter", "jobs_done"],
    ["system.cpu.utilization", "1", "gauge", "system_cpu_utilization_ratio"],
    ["net.io", "By/s", "counter", "net_io_bytes_per_second"],
    ["packets", "{packet}/s", "gauge", "packets_per_second"],
    ["latency_seconds", "s", "histogram", "latency_seconds"],
    ["a..b--c", "ms", "gauge", "a_b_c_milliseconds"],
    ["temp", "Cel", "gauge", "temp_celsius"],
    ["weird", "mA", "gauge", "weird"],
    ["1st.metric", "", "gauge", "_1st_metric"],
  ];
  for (const [name, unit, type, expected] of cases) {
    await t.step(
      `${name} in ${JSON.stringify(unit)} (${type}) → ${expected}`,
      () => {
        assert.equal(prometheusName(name, unit, type), expected);
        assert.ok(isMetricName(expected));
      },
    );
  }
});

Deno.test("prometheusUnit() gives OpenMetrics unit words, or none when it cannot", () => {
  assert.deepEqual(
    ["s", "ms", "By", "1", "%", "{request}", "By/s", "{packet}/s", "mA", ""]
      .map(
        prometheusUnit,
      ),
    [
      "seconds",
      "milliseconds",
      "bytes",
      "ratio",
      "percent",
      "",
      "bytes_per_second",
      "per_second",
      "",
      "",
    ],
  );
});

Deno.test("prometheusLabels() sanitises keys, stringifies typed values and joins colliding keys with ;", () => {
  assert.deepEqual(
    prometheusLabels({
      "http.route": "/a",
      "http_route": "/b",
      "code": 200,
      "ok": true,
      "1st": "x",
      "__meta": "y",
    }),
    {
      "key_1st": "x",
      "key__meta": "y",
      code: "200",
      http_route: "/a;/b",
      ok: "true",
    },
  );
  assert.equal(isOtelInstrumentName("http.server/duration-x_1"), true);
  assert.equal(isOtelInstrumentName("1abc"), false);
  assert.equal(isOtelInstrumentName("a".repeat(256)), false);
  assert.equal(isOtelInstrumentName("a b"), false);
});
