/**
 * Number formatting and escaping shared by the Prometheus text 0.0.4 and
 * OpenMetrics 1.0 encoders. Private: not re-exported by `mod.ts`.
 *
 * Escaping and label rendering run once per series (label values) or once
 * per family (HELP, `le` values), never once per bucket, and return their
 * input unchanged when nothing needs escaping (the common case); per
 * sample, only the value is formatted. So the encoders stay close to the
 * cost of concatenating the output.
 *
 * @module
 */

import type { Labels, MetricType } from "../model.ts";

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
 * format treats as a line break) is written as is.
 */
export function escapeLabelValue(value: string): string {
  return LABEL_VALUE_SPECIAL.test(value)
    ? value.replace(LABEL_VALUE_SPECIAL_ALL, escapeChar)
    : value;
}

/** Escapes HELP text for text 0.0.4: `\` → `\\`, line feed → `\n`. */
export function escapeHelp004(help: string): string {
  return HELP_004_SPECIAL.test(help)
    ? help.replace(HELP_004_SPECIAL_ALL, escapeChar)
    : help;
}

/**
 * Escapes HELP text for OpenMetrics: `\` → `\\`, `"` → `\"`, line feed →
 * `\n` (the same set as a label value).
 */
export function escapeHelpOpenMetrics(help: string): string {
  return escapeLabelValue(help);
}

/**
 * Renders a label set as `a="x",b="y"` (no braces), in the label set's own
 * order, or `""` for an empty set. Callers render it once per series and
 * reuse it for every sample of that series.
 */
export function renderLabelPairs(labels: Labels): string {
  let out = "";
  for (const name in labels) {
    const value = labels[name] as string;
    out += (out === "" ? "" : ",") + name + '="' + escapeLabelValue(value) +
      '"';
  }
  return out;
}

/**
 * A series' text, rendered once in its life: its label pairs, and the line
 * heads Prometheus text writes before each value. Every head starts with
 * the line feed that ends the previous line, so a sample line is one
 * concatenation of a cached head and the value (the fewest rope pieces).
 */
export interface SeriesText {
  /** The family kind it was rendered for. */
  readonly type: MetricType;
  /** The family name it was rendered for (without `_total`). */
  readonly name: string;
  /** `a="x",b="y"`, escaped; `""` for no labels. */
  readonly pairs: string;
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

/**
 * Series text per label object. Keys are frozen snapshot label objects,
 * which the instruments hand out again for the same series at every
 * collection, so a series' labels are escaped and joined once in its life
 * instead of at every scrape. Weak: an entry goes when its series is removed
 * or reset and its label object collected.
 */
const SERIES = new WeakMap<Labels, SeriesText>();

/**
 * The text of the series with these labels in family `name` of kind `type`,
 * from the cache when the label object is frozen. A frozen object cannot
 * change, so its text cannot go stale and the encoders stay pure functions
 * of the snapshot; the entry is also checked against the family's name and
 * kind, so a label object shared between families is rendered for each. A
 * label object that is not frozen (a hand-made snapshot) is rendered every
 * time.
 */
export function seriesText(
  labels: Labels,
  type: MetricType,
  name: string,
): SeriesText {
  const cached = SERIES.get(labels);
  if (cached !== undefined && cached.name === name && cached.type === type) {
    return cached;
  }
  const pairs = renderLabelPairs(labels);
  const braced = pairs === "" ? " " : "{" + pairs + "} ";
  const open = pairs === "" ? "{" : "{" + pairs + ",";
  // join() makes flat strings: a rope leaf that is itself a rope costs more.
  const entry: SeriesText = {
    type,
    name,
    pairs,
    head: type === "counter"
      ? ["\n", name, "_total", braced].join("")
      : type === "gauge"
      ? ["\n", name, braced].join("")
      : type === "histogram"
      ? ["\n", name, "_bucket", open].join("")
      : ["\n", name, open, 'quantile="'].join(""),
    sum: type === "histogram" || type === "summary"
      ? ["\n", name, "_sum", braced].join("")
      : "",
    count: type === "histogram" || type === "summary"
      ? ["\n", name, "_count", braced].join("")
      : "",
  };
  if (Object.isFrozen(labels)) SERIES.set(labels, entry);
  return entry;
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
export function formatSeconds(milliseconds: number): string {
  return formatNumber(milliseconds / 1000);
}
