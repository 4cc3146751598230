/**
 * The text encoders against Prometheus 2.42's own parsers:
 *
 * - text 0.0.4 through `promtool check metrics` (the exposition parser and
 *   its lint rules);
 * - OpenMetrics 1.0 through `promtool tsdb create-blocks-from openmetrics`,
 *   which reads with the same OpenMetrics parser a scrape uses, followed by
 *   `promtool tsdb dump` to read back every series and value it stored.
 *   `promtool check metrics` cannot check OpenMetrics (it only reads 0.0.4),
 *   and the backfill needs a timestamp on every sample, so the test adds one
 *   to each sample line of the encoder's output (and changes nothing else).
 *
 * @module
 */
import assert from "node:assert/strict";
import { encodePrometheusText } from "../src/encoders/prometheus_text.ts";
import { encodeOpenMetrics } from "../src/encoders/openmetrics.ts";
import type { MetricFamily } from "../src/model.ts";
import { promtoolCheckMetrics, run } from "./_peers.ts";
import { ALL_KINDS, HOSTILE_VALUES } from "./testdata/text_snapshots.ts";

/** Every kind of family, each series labeled with one hostile value. */
function hostileFamilies(): MetricFamily[] {
  const labels = (i: number) => ({ i: String(i), v: HOSTILE_VALUES[i]! });
  const exemplar = (i: number) => ({
    labels: { trace_id: HOSTILE_VALUES[i]! },
    value: i,
    timestamp: 1_700_000_000_000,
  });
  return [
    {
      type: "counter",
      name: "hostile_events",
      help: 'Help with \\ backslash, "quotes" and a\nline feed.',
      points: HOSTILE_VALUES.map((_, i) => ({
        labels: labels(i),
        value: i,
        created: 1_700_000_000_000,
        exemplar: exemplar(i),
      })),
    },
    {
      type: "gauge",
      name: "hostile_level",
      help: "Hostile gauge.",
      aggregation: "sum",
      points: HOSTILE_VALUES.map((_, i) => ({ labels: labels(i), value: i })),
    },
    {
      type: "histogram",
      name: "hostile_latency_seconds",
      help: "Hostile histogram.",
      unit: "seconds",
      bounds: [0.1, 1],
      points: HOSTILE_VALUES.map((_, i) => ({
        labels: labels(i),
        counts: [0, i, 0],
        sum: i / 2,
        count: i,
        created: 1_700_000_000_000,
        exemplars: [null, exemplar(i), null],
      })),
    },
    {
      type: "summary",
      name: "hostile_size_bytes",
      help: "Hostile summary.",
      unit: "bytes",
      points: HOSTILE_VALUES.map((_, i) => ({
        labels: labels(i),
        count: i,
        sum: i * 2,
        created: 1_700_000_000_000,
        quantiles: [{ quantile: 0.5, value: i }],
      })),
    },
  ];
}

/**
 * Adds ` <timestamp>` after the value of every sample line (before an
 * exemplar), skipping over the quoted label values.
 */
function withTimestamps(text: string, timestamp: string): string {
  return text.split("\n").map((line) => {
    if (line === "" || line.startsWith("#")) return line;
    let i = 0;
    while (i < line.length && line[i] !== "{" && line[i] !== " ") i++;
    if (line[i] === "{") {
      let quoted = false;
      for (i++; i < line.length; i++) {
        const char = line[i];
        if (quoted) {
          if (char === "\\") i++;
          else if (char === '"') quoted = false;
        } else if (char === '"') quoted = true;
        else if (char === "}") {
          i++;
          break;
        }
      }
    }
    let end = i + 1; // past the space before the value
    while (end < line.length && line[end] !== " ") end++;
    return line.slice(0, end) + " " + timestamp + line.slice(end);
  }).join("\n");
}

/**
 * Feeds OpenMetrics text to Prometheus' OpenMetrics parser (via the promtool
 * backfill) and returns the exit code, the parser's messages and the dump of
 * what it stored, one `{labels} value timestamp` line per series.
 */
async function openMetricsThroughPrometheus(
  text: string,
): Promise<{ code: number; output: string; dump: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "edgemetrics_om_" });
  try {
    const input = `${dir}/input.om`;
    await Deno.writeTextFile(input, text);
    const created = await run("promtool", [
      "tsdb",
      "create-blocks-from",
      "openmetrics",
      input,
      `${dir}/data`,
    ]);
    if (created.code !== 0) {
      return {
        code: created.code,
        output: created.stdout + created.stderr,
        dump: [],
      };
    }
    await Deno.mkdir(`${dir}/data/wal`, { recursive: true });
    const dumped = await run("promtool", ["tsdb", "dump", `${dir}/data`]);
    assert.equal(dumped.code, 0, dumped.stderr);
    return {
      code: 0,
      output: created.stdout + created.stderr,
      dump: dumped.stdout.split("\n").filter((line) => line !== ""),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Undoes Go's `strconv.Quote` (what `promtool tsdb dump` prints). */
function unquoteGo(quoted: string): string {
  const simple: Record<string, string> = {
    a: "\x07",
    b: "\b",
    f: "\f",
    n: "\n",
    r: "\r",
    t: "\t",
    v: "\v",
    "\\": "\\",
    '"': '"',
  };
  return quoted.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[abfnrtv\\"])/g,
    (_, escape: string) =>
      escape.length === 1
        ? simple[escape]!
        : String.fromCodePoint(parseInt(escape.slice(1), 16)),
  );
}

/** Parses one dump line into its labels and value. */
function parseDumpLine(
  line: string,
): { labels: Record<string, string>; value: string } {
  const labels: Record<string, string> = {};
  const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(, |\})/y;
  pair.lastIndex = 1;
  let match;
  while ((match = pair.exec(line)) !== null) {
    labels[match[1]!] = unquoteGo(match[2]!);
    if (match[3] === "}") break;
  }
  const [value] = line.slice(pair.lastIndex + 1).split(" ");
  return { labels, value: value! };
}

const TIMESTAMP = "1700000300";

Deno.test("encodePrometheusText() output of every kind passes promtool check metrics without a lint warning", async () => {
  const { code, output } = await promtoolCheckMetrics(
    encodePrometheusText(ALL_KINDS),
  );
  assert.equal(output, "");
  assert.equal(code, 0);
});

Deno.test("encodePrometheusText() output with hostile label values and HELP passes promtool check metrics, one series per value", async () => {
  const text = encodePrometheusText(hostileFamilies());
  const { code, output } = await promtoolCheckMetrics(text);
  assert.equal(output, "");
  assert.equal(code, 0);
  // --extended counts the series promtool parsed: no value merged with
  // another one or broke out into a series of its own.
  const extended = await run("promtool", ["check", "metrics", "--extended"], {
    stdin: text,
  });
  assert.equal(extended.code, 0, extended.stderr);
  const n = HOSTILE_VALUES.length;
  const cardinality = Object.fromEntries(
    extended.stdout.trim().split("\n").slice(1).map((line) => {
      const [name, count] = line.trim().split(/\s+/);
      return [name!, Number(count)];
    }),
  );
  assert.deepEqual(cardinality, {
    hostile_events_total: n,
    hostile_level: n,
    hostile_latency_seconds: 5 * n, // 3 buckets, _sum, _count
    hostile_size_bytes: 3 * n, // 1 quantile, _sum, _count
    Total: 10 * n,
  });
});

Deno.test("promtool check metrics rejects a label value with a raw line feed (the check can fail)", async () => {
  const { code } = await promtoolCheckMetrics(
    '# HELP broken_total Broken.\n# TYPE broken_total counter\nbroken_total{a="x\ny"} 1\n',
  );
  assert.notEqual(code, 0);
});

Deno.test("encodeOpenMetrics() output of every kind reads back unchanged through Prometheus' OpenMetrics parser", async () => {
  const { code, output, dump } = await openMetricsThroughPrometheus(
    withTimestamps(encodeOpenMetrics(ALL_KINDS), TIMESTAMP),
  );
  assert.equal(code, 0, output);
  const golden = await Deno.readTextFile(
    new URL("./testdata/all_kinds.om.dump", import.meta.url),
  );
  assert.deepEqual(dump, golden.trimEnd().split("\n"));
});

Deno.test("encodeOpenMetrics() output with hostile label values in series and exemplars reads back unchanged through Prometheus' OpenMetrics parser", async () => {
  const { code, output, dump } = await openMetricsThroughPrometheus(
    withTimestamps(encodeOpenMetrics(hostileFamilies()), TIMESTAMP),
  );
  assert.equal(code, 0, output);
  const n = HOSTILE_VALUES.length;
  // counter: _total, _created; gauge; histogram: 3 buckets, _count, _sum,
  // _created; summary: 1 quantile, _count, _sum, _created.
  assert.equal(dump.length, n * (2 + 1 + 6 + 4));
  const seen = new Map<string, number>();
  for (const line of dump) {
    const { labels, value } = parseDumpLine(line);
    const i = Number(labels.i);
    // Prometheus drops a label whose value is empty.
    assert.equal(labels.v ?? "", HOSTILE_VALUES[i], line);
    const name = labels.__name__!;
    seen.set(name, (seen.get(name) ?? 0) + 1);
    if (name === "hostile_events_total" || name === "hostile_level") {
      assert.equal(Number(value), i, line);
    }
  }
  assert.equal(seen.get("hostile_events_total"), n);
  assert.equal(seen.get("hostile_latency_seconds_bucket"), 3 * n);
});

Deno.test("encodeOpenMetrics() output of a histogram with a negative bound (no _sum, no _count) reads back through Prometheus' OpenMetrics parser", async () => {
  const { code, output, dump } = await openMetricsThroughPrometheus(
    withTimestamps(
      encodeOpenMetrics([{
        type: "histogram",
        name: "offset_seconds",
        help: "Clock offset.",
        unit: "seconds",
        bounds: [-1, 0, 1],
        points: [{
          labels: { host: "a" },
          counts: [1, 0, 1, 1],
          sum: 0.5,
          count: 3,
          created: 1_700_000_000_000,
        }],
      }]),
      TIMESTAMP,
    ),
  );
  assert.equal(code, 0, output);
  assert.deepEqual(
    dump.map((line) => {
      const { labels, value } = parseDumpLine(line);
      return `${labels.__name__}{le=${labels.le}} ${value}`;
    }).sort(),
    [
      "offset_seconds_bucket{le=+Inf} 3",
      "offset_seconds_bucket{le=-1.0} 1",
      "offset_seconds_bucket{le=0.0} 1",
      "offset_seconds_bucket{le=1.0} 2",
      "offset_seconds_created{le=undefined} 1.7e+09",
    ],
  );
});

Deno.test("Prometheus' OpenMetrics parser rejects text without # EOF or with a raw line feed (the check can fail)", async () => {
  const noEof = await openMetricsThroughPrometheus(
    "# TYPE foo counter\nfoo_total 1 1700000000\n",
  );
  assert.notEqual(noEof.code, 0);
  assert.match(noEof.output, /# EOF/);
  const lineFeed = await openMetricsThroughPrometheus(
    '# TYPE foo counter\nfoo_total{a="x\ny"} 1 1700000000\n# EOF\n',
  );
  assert.notEqual(lineFeed.code, 0);
});
