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

import type { Labels } from "../model.ts";

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
