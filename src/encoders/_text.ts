/**
 * The Prometheus text 0.0.4 and OpenMetrics 1.0 exposition, written by one
 * walker for both formats (they share their sample lines), with the number
 * formatting and escaping it needs, and its per-series text cache. Private: not
 * re-exported by `mod.ts`; `prometheus_text.ts` and `openmetrics.ts` are the
 * public entry points.
 *
 * A series' labels are escaped and rendered once in its life, not once per
 * scrape: the instruments hand out the same frozen label object for a
 * series at every collection, and {@linkcode LabelCache} keeps what was
 * derived from it. HELP and `le` values are rendered once per family; per
 * sample, only the value is formatted. So the encoders stay close to the
 * cost of concatenating the output.
 *
 * @module
 */

import type {
  CounterFamily,
  CounterPoint,
  Exemplar,
  GaugeFamily,
  GaugePoint,
  HistogramFamily,
  HistogramPoint,
  Labels,
  MetricFamily,
  MetricType,
  SummaryFamily,
  SummaryPoint,
  UpDownCounterFamily,
} from "../model.ts";
import { LabelCache, labelsOfPoint } from "../_label_cache.ts";

const LABEL_VALUE_SPECIAL = /[\\"\n]/;
const LABEL_VALUE_SPECIAL_ALL = /[\\"\n]/g;
const HELP_004_SPECIAL = /[\\\n]/;
const HELP_004_SPECIAL_ALL = /[\\\n]/g;

function escapeChar(char: string): string {
  return char === "\n" ? "\\n" : "\\" + char;
}

/**
 * Escapes a label value for both text formats: `\` → `\\`, `"` → `\"`,
 * line feed → `\n`. Every other character (including `\r`, which neither
 * format treats as a line break) is written as is. OpenMetrics escapes HELP
 * text the same way.
 */
function escapeLabelValue(value: string): string {
  // Testing first is faster than a replace that finds nothing.
  return LABEL_VALUE_SPECIAL.test(value)
    ? value.replace(LABEL_VALUE_SPECIAL_ALL, escapeChar)
    : value;
}

/** Escapes HELP text for text 0.0.4: `\` → `\\`, line feed → `\n`. */
function escapeHelp004(help: string): string {
  return HELP_004_SPECIAL.test(help)
    ? help.replace(HELP_004_SPECIAL_ALL, escapeChar)
    : help;
}

/**
 * Renders a label set as `a="x",b="y"` (no braces), in the label set's own
 * order, or `""` for an empty set. Callers render it once per series and
 * reuse it for every sample of that series.
 */
function renderLabelPairs(labels: Labels): string {
  // join() makes one flat string; `+=` would keep a rope of every piece
  // alive for as long as the text is cached.
  const pairs: string[] = [];
  for (const name in labels) {
    pairs.push(name + '="' + escapeLabelValue(labels[name] as string) + '"');
  }
  return pairs.join(",");
}

/**
 * A series' text, rendered once in its life: the line heads written before
 * each value. Every head starts with the line feed that ends the previous
 * line, so a sample line is one concatenation of a cached head and the
 * value (the fewest rope pieces), in both formats. OpenMetrics takes its
 * `_created` line's labels (`{pairs} `) from the end of a head, so a series
 * keeps one string per sample kind and never its label pairs apart (~80
 * bytes per series less).
 */
export interface SeriesText {
  /** The family kind it was rendered for. */
  readonly type: MetricType;
  /** The family name it was rendered for (without `_total`). */
  readonly name: string;
  /**
   * `\nname{pairs} ` for counters (`name_total`) and gauges;
   * `\nname_bucket{pairs,` for histograms (the `le` label follows);
   * `\nname{pairs,quantile="` for summaries.
   */
  readonly head: string;
  /** `\nname_sum{pairs} ` (histograms and summaries). */
  readonly sum: string;
  /** `\nname_count{pairs} ` (histograms and summaries). */
  readonly count: string;
}

const SERIES_TEXTS = /* @__PURE__ */ new LabelCache<SeriesText>();

/**
 * The text of each series of a family (`name` without `_total`, of kind
 * `type`), aligned with `points`, from the shared cache. Read the array
 * before the next call.
 */
export function seriesTexts(
  points: readonly { readonly labels: Labels }[],
  type: MetricType,
  name: string,
): readonly SeriesText[] {
  return SERIES_TEXTS.lookup(
    points,
    labelsOfPoint,
    (text) => text.name === name && text.type === type,
    (labels) => renderSeries(labels, type, name),
  );
}

/** Renders a series' {@linkcode SeriesText}. */
function renderSeries(
  labels: Labels,
  type: MetricType,
  name: string,
): SeriesText {
  const pairs = renderLabelPairs(labels);
  const braced = pairs === "" ? " " : "{" + pairs + "} ";
  const open = pairs === "" ? "{" : "{" + pairs + ",";
  const summed = type === "histogram" || type === "summary";
  // join() makes flat strings: a rope leaf that is itself a rope costs more.
  return {
    type,
    name,
    head: type === "counter"
      ? ["\n", name, "_total", braced].join("")
      : type === "gauge" || type === "updowncounter"
      ? ["\n", name, braced].join("")
      : type === "histogram"
      ? ["\n", name, "_bucket", open].join("")
      : ["\n", name, open, 'quantile="'].join(""),
    sum: summed ? ["\n", name, "_sum", braced].join("") : "",
    count: summed ? ["\n", name, "_count", braced].join("") : "",
  };
}

/**
 * Formats a sample value: `NaN`, `+Inf`, `-Inf`, otherwise the shortest
 * decimal that parses back to the same double (`String(n)`), so integers
 * come out as integers (`3`) and `-0` as `0`. Both text formats and Go's
 * `strconv.ParseFloat` accept every form this produces (`1e-7`, `1e+21`).
 */
export function formatNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value); // NaN → "NaN"
}

/**
 * Formats a number in the OpenMetrics canonical form required for `le` and
 * `quantile` label values: Go's `%g` rendering of the shortest round-trip
 * digits, with `.0` added when the result has neither a decimal point nor an
 * exponent. Plain notation for decimal exponents -4 to 5 (`0.0001`, `0.1`,
 * `1.0`, `100000.0`), exponent notation otherwise, with an explicit sign and
 * at least two exponent digits (`1e-05`, `1e+06`, `1.1e+23`); `+Inf`, `-Inf`
 * and `NaN` as they are, and both zeros as `0.0`.
 */
export function formatCanonical(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Number.isNaN(value)) return "NaN";
  if (value === 0) return "0.0";
  // toExponential() without digits gives the shortest round-trip mantissa,
  // so its exponent is the decimal exponent %g decides on.
  const text = value.toExponential();
  const e = text.indexOf("e");
  const exponent = Number(text.slice(e + 1));
  if (exponent < -4 || exponent >= 6) {
    const digits = text.slice(e + 2);
    return text.slice(0, e + 2) + (digits.length < 2 ? "0" + digits : digits);
  }
  const plain = String(value); // plain notation in this range
  return Number.isInteger(value) ? plain + ".0" : plain;
}

/**
 * Formats a timestamp given in milliseconds since the epoch as seconds, for
 * OpenMetrics (`_created` samples and exemplar timestamps): `1700000000.123`.
 */
function formatSeconds(milliseconds: number): string {
  return formatNumber(milliseconds / 1000);
}

/**
 * Encodes a snapshot as Prometheus text 0.0.4 (`openMetrics` false) or as
 * OpenMetrics 1.0 (`openMetrics` true, with `_created` samples when
 * `created` is true). The formats share their sample lines; they differ in
 * the metadata lines, in a counter family's name, in the order of `_sum`
 * and `_count`, and in what only OpenMetrics has: units, exemplars,
 * `_created`, `# EOF`, and its rules that a sum is never negative or NaN,
 * that a histogram with a negative bound has no sum, and that a histogram
 * has `_count` if and only if it has `_sum`.
 * `encodePrometheusText` and `encodeOpenMetrics` document the output.
 *
 * Every line starts with the line feed that ends the line before it, so a
 * sample is one concatenation of its series' cached head and its value:
 * the string is a rope of a few pieces per line, which the transport
 * flattens once when it encodes it.
 */
export function encodeText(
  families: readonly MetricFamily[],
  openMetrics: boolean,
  created: boolean,
): string {
  let out = "";
  for (const family of families) {
    if (out !== "") out += "\n";
    out += metadata(family, openMetrics);
    switch (family.type) {
      case "counter":
      case "updowncounter":
      case "gauge":
        out = simple(out, family, openMetrics, created);
        break;
      case "histogram":
        out = histogram(out, family, openMetrics, created);
        break;
      case "summary":
        out = summary(out, family, openMetrics, created);
        break;
    }
  }
  if (openMetrics) return out === "" ? "# EOF\n" : out + "\n# EOF\n";
  return out === "" ? "" : out + "\n";
}

/** Any character that is not whitespace: a HELP without one says nothing. */
const VISIBLE = /\S/;

/**
 * A family's metadata lines: HELP (left out when empty or whitespace only,
 * which promtool reports as "no help text" either way) and TYPE in text
 * 0.0.4, which names a counter family after its `_total` samples; TYPE,
 * UNIT and HELP in OpenMetrics.
 */
function metadata(family: MetricFamily, openMetrics: boolean): string {
  // An up-down counter is a gauge to Prometheus; a resource's `target_info`
  // is the OpenMetrics info family `target`.
  const info = openMetrics && family.target === true &&
    family.name.endsWith("_info");
  const name = !openMetrics && family.type === "counter"
    ? family.name + "_total"
    : info
    ? family.name.slice(0, -"_info".length)
    : family.name;
  const help = VISIBLE.test(family.help) ? family.help : "";
  let out = "# TYPE " + name + " " +
    (info ? "info" : family.type === "updowncounter" ? "gauge" : family.type);
  if (!openMetrics) {
    return help === ""
      ? out
      : "# HELP " + name + " " + escapeHelp004(help) + "\n" + out;
  }
  // The format requires the name to end with `_<unit>`, and Prometheus
  // rejects the whole scrape when it does not: a unit that breaks the rule
  // (only possible in a hand-made snapshot) is left out.
  const unit = family.unit;
  if (unit !== undefined && unit !== "" && name.endsWith("_" + unit)) {
    out += "\n# UNIT " + name + " " + unit;
  }
  return help === ""
    ? out
    : out + "\n# HELP " + name + " " + escapeLabelValue(help);
}

/**
 * Counters and gauges: one sample per series; in OpenMetrics a counter's
 * sample carries its exemplar, and a `_created` sample follows.
 */
function simple(
  out: string,
  family: CounterFamily | UpDownCounterFamily | GaugeFamily,
  openMetrics: boolean,
  created: boolean,
): string {
  const name = family.name;
  const points: readonly (GaugePoint & Partial<CounterPoint>)[] = family.points;
  const texts = seriesTexts(points, family.type, name);
  const extras = openMetrics && family.type === "counter";
  for (let i = 0; i < points.length; i++) {
    const point = points[i]!;
    const head = texts[i]!.head;
    out += head + formatNumber(point.value);
    if (extras) {
      out += exemplar(point.exemplar);
      // A counter point always has `created`.
      if (created) out += createdLine(name, head, point.created!);
    }
  }
  return out;
}

function histogram(
  out: string,
  family: HistogramFamily,
  openMetrics: boolean,
  created: boolean,
): string {
  const name = family.name;
  const bounds = family.bounds;
  // `le="…"} ` per bucket, rendered once per family; join() makes flat
  // strings (a rope leaf that is itself a rope costs more).
  const les: string[] = [];
  for (const bound of bounds) {
    les.push(['le="', formatCanonical(bound), '"} '].join(""));
  }
  les.push('le="+Inf"} ');
  // OpenMetrics allows negative bucket thresholds only in a histogram
  // without a sum (its sum would no longer be a counter), so without a count.
  const totalled: Totalled = bounds.some((bound) => bound < 0)
    ? "nothing"
    : "together";
  const points = family.points;
  const texts = seriesTexts(points, "histogram", name);
  for (let p = 0; p < points.length; p++) {
    const point = points[p]!;
    const text = texts[p]!;
    const head = text.head;
    const counts = point.counts;
    const exemplars = openMetrics ? point.exemplars : undefined;
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += counts[i] ?? 0;
      out += head + les[i] + formatNumber(cumulative);
      if (exemplars !== undefined) out += exemplar(exemplars[i]);
    }
    out = totals(out, text, point, cumulative, openMetrics, totalled, created);
  }
  return out;
}

function summary(
  out: string,
  family: SummaryFamily,
  openMetrics: boolean,
  created: boolean,
): string {
  const points = family.points;
  const texts = seriesTexts(points, "summary", family.name);
  for (let p = 0; p < points.length; p++) {
    const point = points[p]!;
    const text = texts[p]!;
    for (const q of point.quantiles) {
      out += text.head + formatCanonical(q.quantile) + '"} ' +
        formatNumber(q.value);
    }
    out = totals(out, text, point, point.count, openMetrics, "count", created);
  }
  return out;
}

/**
 * Which of `_count` and `_sum` OpenMetrics allows a series, a sum that is
 * negative or NaN aside (sums are counters to OpenMetrics, so one is never
 * written): `together`, a histogram's, whose `_count` is there if and only
 * if its `_sum` is (the `+Inf` bucket still carries the count); `nothing`,
 * a histogram's with a negative bucket bound, which has no sum; `count`, a
 * summary's, whose `_count` may stand alone.
 */
type Totalled = "together" | "nothing" | "count";

/**
 * The lines that end a histogram or summary series: `_sum` and `_count` in
 * text 0.0.4; in OpenMetrics, `_count` and `_sum` as `totalled` and the sum
 * allow, then `_created`.
 */
function totals(
  out: string,
  text: SeriesText,
  point: HistogramPoint | SummaryPoint,
  count: number,
  openMetrics: boolean,
  totalled: Totalled,
  created: boolean,
): string {
  if (!openMetrics) {
    return out + text.sum + formatNumber(point.sum) + text.count +
      formatNumber(count);
  }
  const summed = totalled !== "nothing" && point.sum >= 0;
  if (summed || totalled === "count") out += text.count + formatNumber(count);
  if (summed) out += text.sum + formatNumber(point.sum);
  return created
    ? out + createdLine(text.name, text.count, point.created)
    : out;
}

/**
 * `<name>_created` with the labels at the end of a series' `_total` or
 * `_count` head (`\n<name>_total{pairs} `: both suffixes are 6 characters).
 */
function createdLine(name: string, head: string, created: number): string {
  return "\n" + name + "_created" + head.slice(name.length + 7) +
    formatSeconds(created);
}

/** More label-name-and-value code points than this break an exemplar. */
const MAX_EXEMPLAR_CODE_POINTS = 128;

/**
 * An OpenMetrics exemplar, ` # {labels} value timestamp` (timestamp in
 * seconds), or `""` when there is none or it must be left out.
 */
function exemplar(exemplar: Exemplar | null | undefined): string {
  if (exemplar === undefined || exemplar === null) return "";
  const labels = exemplar.labels;
  let length = 0;
  for (const name in labels) length += name.length + labels[name]!.length;
  // More than 128 code points of label names and values breaks the format.
  if (
    length > MAX_EXEMPLAR_CODE_POINTS &&
    codePoints(labels) > MAX_EXEMPLAR_CODE_POINTS
  ) {
    return "";
  }
  const pairs = renderLabelPairs(labels);
  // Prometheus (2.x) fails the whole scrape on a NUL in an exemplar's label
  // value, although the format allows it: drop that exemplar, keep the rest.
  if (pairs.includes("\0")) return "";
  return " # {" + pairs + "} " + formatNumber(exemplar.value) + " " +
    formatSeconds(exemplar.timestamp);
}

function codePoints(labels: Labels): number {
  let count = 0;
  for (const name in labels) {
    for (const _ of name + labels[name]) count++;
  }
  return count;
}
