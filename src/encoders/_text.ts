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
 * Rendered label pairs per label object, for {@linkcode labelPairs}. Keys
 * are frozen snapshot label objects, which the instruments hand out again
 * for the same series at every collection, so a series' labels are escaped
 * and joined once in its life instead of at every scrape. Weak: an entry
 * goes when its series is removed or reset and its label object collected.
 */
const PAIRS = new WeakMap<Labels, string>();

/**
 * {@linkcode renderLabelPairs}, cached per label object when the object is
 * frozen. A frozen object cannot change, so its text cannot go stale and
 * the encoders stay pure functions of the snapshot; a label object that is
 * not frozen (a hand-made snapshot) is rendered every time.
 */
export function labelPairs(labels: Labels): string {
  let pairs = PAIRS.get(labels);
  if (pairs === undefined) {
    pairs = renderLabelPairs(labels);
    if (Object.isFrozen(labels)) PAIRS.set(labels, pairs);
  }
  return pairs;
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

const decoder = new TextDecoder();

/** The largest integer written digit by digit. */
const MAX_DIGITS = Number.MAX_SAFE_INTEGER;

/** "00" to "99" as ASCII byte pairs, for writing two digits per division. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}

/**
 * Writes text as UTF-8 into one growable byte buffer and decodes it once at
 * the end. Appending millions of small pieces to a string builds a rope that
 * the garbage collector traces and a transport then flattens; a byte buffer
 * costs one copy per character and one decode. Lone surrogates come out as
 * U+FFFD, as they would when the text is encoded for the wire anyway.
 */
export class TextWriter {
  #buf: Uint8Array;
  #pos = 0;

  /** Starts with `initialSize` bytes of room (it grows when needed). */
  constructor(initialSize: number) {
    this.#buf = new Uint8Array(Math.max(256, initialSize));
  }

  #grow(n: number): void {
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Appends one ASCII character by its code. */
  byte(code: number): void {
    if (this.#pos + 1 > this.#buf.length) this.#grow(1);
    this.#buf[this.#pos++] = code;
  }

  /** Appends a string as UTF-8. */
  text(value: string): void {
    const n = value.length;
    if (this.#pos + n * 3 > this.#buf.length) this.#grow(n * 3);
    const buf = this.#buf;
    let p = this.#pos;
    for (let i = 0; i < n; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) {
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 63);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = i + 1 < n ? value.charCodeAt(i + 1) : 0;
          if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
            i++;
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            buf[p++] = 0xf0 | (c >> 18);
            buf[p++] = 0x80 | ((c >> 12) & 63);
            buf[p++] = 0x80 | ((c >> 6) & 63);
            buf[p++] = 0x80 | (c & 63);
            continue;
          }
          c = 0xfffd; // a lone surrogate
        }
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 63);
        buf[p++] = 0x80 | (c & 63);
      }
    }
    this.#pos = p;
  }

  /**
   * Appends a sample value as {@linkcode formatNumber} formats it; whole
   * numbers up to 2^53 are written digit by digit, without a string.
   */
  number(value: number): void {
    if (value >= 0 && value <= MAX_DIGITS && Math.floor(value) === value) {
      this.digits(value);
    } else if (
      value < 0 && value >= -MAX_DIGITS && Math.floor(value) === value
    ) {
      this.byte(45); // -
      this.digits(-value);
    } else {
      this.text(formatNumber(value));
    }
  }

  /** Appends the decimal digits of an integer in [0, 2^53]. */
  digits(value: number): void {
    if (this.#pos + 16 > this.#buf.length) this.#grow(16);
    if (value < 1e8) {
      this.#pos = writeDigits(this.#buf, this.#pos, value, false);
    } else {
      const high = Math.floor(value / 1e8);
      const p = writeDigits(this.#buf, this.#pos, high, false);
      this.#pos = writeDigits(this.#buf, p, value - high * 1e8, true);
    }
  }

  /** The text written. */
  finish(): string {
    return decoder.decode(this.#buf.subarray(0, this.#pos));
  }
}

/** Writes the decimal digits of `value` (an integer below 1e8), zero-padded to 8 when `pad`. */
function writeDigits(
  buf: Uint8Array,
  p: number,
  value: number,
  pad: boolean,
): number {
  const n = pad
    ? 8
    : value < 10
    ? 1
    : value < 100
    ? 2
    : value < 1e3
    ? 3
    : value < 1e4
    ? 4
    : value < 1e5
    ? 5
    : value < 1e6
    ? 6
    : value < 1e7
    ? 7
    : 8;
  let v = value | 0;
  let i = p + n;
  while (i - p >= 2) {
    const q = (v / 100) | 0;
    const r = (v - q * 100) * 2;
    buf[--i] = DIGIT_PAIRS[r + 1]!;
    buf[--i] = DIGIT_PAIRS[r]!;
    v = q;
  }
  if (i > p) buf[--i] = 48 + v;
  return p + n;
}
