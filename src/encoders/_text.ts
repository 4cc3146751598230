/**
 * Number formatting and escaping shared by the Prometheus text 0.0.4 and
 * OpenMetrics 1.0 encoders, and the per-series cache the text and OTLP JSON
 * encoders (and the registry's default labels) use. Private: not re-exported
 * by `mod.ts`.
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
 * line, so a Prometheus text sample line is one concatenation of a cached
 * head and the value (the fewest rope pieces). OpenMetrics writes the same
 * heads without that line feed, and takes its `_created` line's labels
 * (`{pairs} `) from the end of a head, so a series keeps one string per
 * sample kind and never its label pairs apart (~80 bytes per series less).
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

/**
 * Values derived from a series' labels (rendered text, encoded bytes),
 * cached per label object so they are made once in a series' life instead
 * of at every scrape.
 *
 * Only frozen label objects are cached: the instruments hand out the same
 * frozen object for a series at every collection (until it is removed or
 * reset), and a frozen object cannot change, so a cached value cannot go
 * stale and the encoders stay pure functions of the snapshot. A label object
 * that is not frozen (a hand-made snapshot) gets a fresh value every time.
 * Entries are weak: they go with their label objects.
 *
 * A lookup first tries the position the series had in its family's previous
 * snapshot (an identity check in an array), and only then the `WeakMap`,
 * whose hashed lookup costs far more when there are tens of thousands of
 * series.
 */
export class LabelCache<T> {
  readonly #byLabels = new WeakMap<Labels, T>();
  /** Per family, keyed by its first series' labels: labels and values by position. */
  readonly #families = new WeakMap<Labels, Positions<T>>();

  /**
   * The value for each point's labels (`labelsOf`), aligned with `points`. A cached value
   * is used when `fits` accepts it (e.g. it was rendered for this family's
   * name); otherwise `make` makes one. The array returned belongs to the
   * cache: read it before the next lookup.
   */
  lookup<P>(
    points: readonly P[],
    labelsOf: (point: P) => Labels,
    fits: (value: T) => boolean,
    make: (labels: Labels) => T,
  ): readonly T[] {
    const n = points.length;
    if (n === 0) return [];
    const first = labelsOf(points[0]!);
    let family = this.#families.get(first);
    if (family === undefined) {
      family = { labels: new Array(n), values: new Array(n) };
      if (Object.isFrozen(first)) this.#families.set(first, family);
    } else if (family.labels.length !== n) {
      family.labels.length = n;
      family.values.length = n;
    }
    const known = family.labels;
    const values = family.values;
    for (let i = 0; i < n; i++) {
      const labels = labelsOf(points[i]!);
      if (known[i] === labels && fits(values[i]!)) continue;
      let value = this.#byLabels.get(labels);
      if (value === undefined || !fits(value)) {
        value = make(labels);
        if (Object.isFrozen(labels)) this.#byLabels.set(labels, value);
        else {
          known[i] = undefined;
          values[i] = value;
          continue;
        }
      }
      known[i] = labels;
      values[i] = value;
    }
    return values;
  }
}

interface Positions<T> {
  /** The frozen label object at each position, or undefined. */
  labels: (Labels | undefined)[];
  values: T[];
}

const SERIES_TEXTS = new LabelCache<SeriesText>();

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

function labelsOfPoint(point: { readonly labels: Labels }): Labels {
  return point.labels;
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
      : type === "gauge"
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
export function formatSeconds(milliseconds: number): string {
  return formatNumber(milliseconds / 1000);
}
