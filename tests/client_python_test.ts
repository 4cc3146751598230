/**
 * The OpenMetrics encoder against client_python's strict parser (Debian's
 * python3-prometheus-client), which checks the specification's histogram
 * rules that Prometheus' own parser lets through: `_count` if and only if
 * `_sum`, no `_sum` beside a negative bucket bound, no negative or NaN sum.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MetricFamily } from "../src/model.ts";
import { encodeOpenMetrics } from "../src/encoders/openmetrics.ts";
import { Histogram } from "../src/instruments/histogram.ts";
import { Summary } from "../src/instruments/summary.ts";
import { Registry } from "../src/registry.ts";
import { clientPythonParse } from "./_client_python.ts";
import { ALL_KINDS } from "./testdata/text_snapshots.ts";

Deno.test("encodeOpenMetrics() of every kind of family is accepted by client_python's strict parser", async () => {
  const parsed = await clientPythonParse(encodeOpenMetrics(ALL_KINDS));
  assert.ok("families" in parsed, JSON.stringify(parsed));
  assert.deepEqual(
    parsed.families.map(([name, type]) => [name, type]),
    ALL_KINDS.map((family) => [family.name, family.type]),
  );
});

Deno.test("encodeOpenMetrics() leaves out _count with _sum of a histogram with a negative bound or a negative or NaN sum, and client_python's strict parser accepts it", async () => {
  const registry = new Registry({
    clock: { now: () => 0, monotonic: () => 0 },
  });
  const offset = new Histogram({
    name: "offset_seconds",
    help: "",
    buckets: [-1, 0, 1],
    registry,
  });
  offset.observe(-0.5);
  offset.observe(0.5);
  // The issue's case: a negative observation, so a negative sum.
  new Histogram({ name: "drift_seconds", help: "", buckets: [1], registry })
    .observe(-5);
  new Histogram({ name: "latency_seconds", help: "", buckets: [1], registry })
    .observe(0.25);
  // A summary's _count needs no _sum (the rule is the histogram's only).
  new Summary({ name: "delta_seconds", help: "", registry }).observe(-2);

  // Instruments drop non-finite observations, so a NaN sum only comes from a
  // collector's own family, like this one.
  const wide: MetricFamily = {
    type: "histogram",
    name: "wide_seconds",
    help: "",
    bounds: [1],
    points: [{ labels: {}, counts: [1, 1], sum: NaN, count: 2, created: 0 }],
  };
  const families = await registry.collect();
  families.splice(2, 0, wide);
  const text = encodeOpenMetrics(families, { created: false });
  assert.equal(
    text,
    `# TYPE offset_seconds histogram
offset_seconds_bucket{le="-1.0"} 0
offset_seconds_bucket{le="0.0"} 1
offset_seconds_bucket{le="1.0"} 2
offset_seconds_bucket{le="+Inf"} 2
# TYPE drift_seconds histogram
drift_seconds_bucket{le="1.0"} 1
drift_seconds_bucket{le="+Inf"} 1
# TYPE wide_seconds histogram
wide_seconds_bucket{le="1.0"} 1
wide_seconds_bucket{le="+Inf"} 2
# TYPE latency_seconds histogram
latency_seconds_bucket{le="1.0"} 1
latency_seconds_bucket{le="+Inf"} 1
latency_seconds_count 1
latency_seconds_sum 0.25
# TYPE delta_seconds summary
delta_seconds_count 1
# EOF
`,
  );
  const parsed = await clientPythonParse(text);
  assert.ok("families" in parsed, JSON.stringify(parsed));
  assert.deepEqual(
    parsed.families.map(([name, , samples]) => [
      name,
      samples.map(([sample, labels, value]) =>
        `${sample}${labels.le === undefined ? "" : `{${labels.le}}`} ${value}`
      ),
    ]),
    [
      ["offset_seconds", [
        "offset_seconds_bucket{-1.0} 0.0",
        "offset_seconds_bucket{0.0} 1.0",
        "offset_seconds_bucket{1.0} 2.0",
        "offset_seconds_bucket{+Inf} 2.0",
      ]],
      ["drift_seconds", [
        "drift_seconds_bucket{1.0} 1.0",
        "drift_seconds_bucket{+Inf} 1.0",
      ]],
      ["wide_seconds", [
        "wide_seconds_bucket{1.0} 1.0",
        "wide_seconds_bucket{+Inf} 2.0",
      ]],
      ["latency_seconds", [
        "latency_seconds_bucket{1.0} 1.0",
        "latency_seconds_bucket{+Inf} 1.0",
        "latency_seconds_count 1.0",
        "latency_seconds_sum 0.25",
      ]],
      ["delta_seconds", ["delta_seconds_count 1.0"]],
    ],
  );
});

Deno.test("clientPythonParse() rejects a histogram _count without _sum, as the test above relies on", async () => {
  assert.deepEqual(
    await clientPythonParse(
      '# TYPE x histogram\nx_bucket{le="+Inf"} 1\nx_count 1\n# EOF\n',
    ),
    { error: "_sum/_gsum must be present if _count is present: x" },
  );
});
