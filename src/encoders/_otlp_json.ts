/**
 * The OTLP JSON writer behind `encodeOtlpJson`, and a variant that hands
 * out the UTF-8 bytes without decoding them to a string (for the exporter,
 * which sends bytes).
 *
 * @module
 */

import type { Labels, MetricFamily } from "../model.ts";
import {
  buildOtlpRequest,
  estimateProtobufSize,
  type OtlpAttributes,
  type OtlpBuildOptions,
  type OtlpExemplar,
  type OtlpMetric,
} from "./_otlp.ts";
import { LabelCache } from "./_text.ts";

/**
 * Writes a snapshot as OTLP JSON into a {@linkcode JsonWriter}; the caller
 * takes the text ({@linkcode JsonWriter.finish}) or the bytes
 * ({@linkcode JsonWriter.finishBytes}).
 */
export function writeOtlpJson(
  families: readonly MetricFamily[],
  options: OtlpBuildOptions,
): JsonWriter {
  // UTF-8 bytes in one buffer, decoded once: each point is a copy of its
  // series' cached head bytes (attributes and start time, escaped once in
  // the series' life), the metric's time bytes, and its numbers' digits.
  // No rope of pieces for the garbage collector to trace and to flatten.
  const request = buildOtlpRequest(families, options);
  const w = new JsonWriter(Math.ceil(estimateProtobufSize(families) * 2.5));
  w.text(
    '{"resourceMetrics":[{"resource":{"attributes":' +
      anyAttributes(request.resource) + '},"scopeMetrics":[{',
  );
  if (request.scope !== null) {
    w.text('"scope":{"name":' + jsonString(request.scope.name));
    if (request.scope.version !== "") {
      w.text(',"version":' + jsonString(request.scope.version));
    }
    w.text("},");
  }
  w.text('"metrics":[');
  const metrics = request.metrics;
  for (let i = 0; i < metrics.length; i++) {
    if (i > 0) w.byte(COMMA);
    metric(w, metrics[i]!);
  }
  w.text("]}]}]}");
  return w;
}

/**
 * `encodeOtlpJson` as UTF-8 bytes: the same bytes as
 * `new TextEncoder().encode(encodeOtlpJson(families, options))`, without
 * the string in between. The array is the caller's.
 */
export function encodeOtlpJsonBytes(
  families: readonly MetricFamily[],
  options: OtlpBuildOptions,
): Uint8Array {
  return writeOtlpJson(families, options).finishBytes();
}

const COMMA = 44;
const QUOTE = 34;
const utf8 = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A series' cached point head: the UTF-8 bytes of
 * `},{"attributes":[…],"startTimeUnixNano":"…",` (each part only when set),
 * for the start time it was made with, at `offset` in `arena`. The leading
 * `},` closes the point before; the first point of a metric skips it.
 *
 * The heads made in one encoding of a metric share one exactly sized
 * arena, so a series holds a small object of numbers instead of its own
 * `Uint8Array` and `ArrayBuffer` (about 200 bytes less per series, measured
 * in W5). An arena lives as long as any series that points into it.
 */
interface PointHead {
  startUs: number;
  arena: Uint8Array;
  offset: number;
  length: number;
}

const HEADS = new LabelCache<PointHead>();
const NO_BYTES = new Uint8Array(0);

function attributesOf(point: { readonly attributes: Labels }): Labels {
  return point.attributes;
}

function anyHead(): boolean {
  return true;
}

function newHead(): PointHead {
  return { startUs: -1, arena: NO_BYTES, offset: 0, length: 0 };
}

/**
 * Remakes the heads of series that are new or restarted (a new start time),
 * all into one new arena.
 */
function refreshHeads(
  heads: readonly PointHead[],
  points: readonly { readonly attributes: Labels; readonly startUs: number }[],
): void {
  let stale: number[] | undefined;
  let texts: string[] | undefined;
  let chars = 0;
  for (let i = 0; i < points.length; i++) {
    const point = points[i]!;
    if (heads[i]!.startUs === point.startUs) continue;
    const text = pointHead(point.attributes, point.startUs);
    (stale ??= []).push(i);
    (texts ??= []).push(text);
    chars += text.length;
  }
  if (stale === undefined || texts === undefined) return;
  // At most 3 UTF-8 bytes per UTF-16 unit; copied to an exact size after.
  const scratch = new Uint8Array(chars * 3);
  const offsets: number[] = [];
  let end = 0;
  for (const text of texts) {
    offsets.push(end);
    end += utf8.encodeInto(text, scratch.subarray(end)).written;
  }
  const arena = scratch.slice(0, end);
  for (let k = 0; k < stale.length; k++) {
    const head = heads[stale[k]!]!;
    head.startUs = points[stale[k]!]!.startUs;
    head.arena = arena;
    head.offset = offsets[k]!;
    head.length = (k + 1 < stale.length ? offsets[k + 1]! : end) - offsets[k]!;
  }
}

/** Appends a point's head, without its leading `},` for the first point. */
function writeHead(w: JsonWriter, head: PointHead, first: boolean): void {
  const skip = first ? 2 : 0;
  w.range(head.arena, head.offset + skip, head.length - skip);
}

/** Makes a point head (see {@linkcode PointHead}) as text. */
function pointHead(attributes: Labels, startUs: number): string {
  let out = "},{";
  const list = labels(attributes);
  if (list !== "") out += '"attributes":[' + list + "],";
  if (startUs !== 0) out += '"startTimeUnixNano":"' + nanos(startUs) + '",';
  return out;
}

function metric(w: JsonWriter, m: OtlpMetric): void {
  let text = '{"name":' + jsonString(m.name);
  if (m.description !== "") {
    text += ',"description":' + jsonString(m.description);
  }
  if (m.unit !== "") text += ',"unit":' + jsonString(m.unit);
  w.text(text);
  const list = HEADS.lookup(m.points, attributesOf, anyHead, newHead);
  refreshHeads(list, m.points);
  let time = -1;
  let mid = NO_BYTES;
  switch (m.kind) {
    case "gauge":
    case "sum": {
      const points = m.points;
      w.text(
        m.kind === "sum"
          ? ',"sum":{"dataPoints":['
          : ',"gauge":{"dataPoints":[',
      );
      for (let i = 0; i < points.length; i++) {
        const p = points[i]!;
        if (p.timeUs !== time) {
          time = p.timeUs;
          mid = utf8.encode('"timeUnixNano":"' + nanos(time) + '","asDouble":');
        }
        writeHead(w, list[i]!, i === 0);
        w.bytes(mid);
        w.double(p.value);
        if (p.exemplars.length > 0) w.text(exemplars(p.exemplars));
      }
      w.text(points.length > 0 ? "}]" : "]");
      if (m.kind === "sum") {
        w.text(
          ',"aggregationTemporality":' + m.temporality +
            (m.isMonotonic ? ',"isMonotonic":true' : ',"isMonotonic":false'),
        );
      }
      w.text("}}");
      return;
    }
    case "histogram": {
      const points = m.points;
      w.text(',"histogram":{"dataPoints":[');
      let bounds: readonly number[] | undefined;
      let boundsBytes = NO_BYTES;
      for (let i = 0; i < points.length; i++) {
        const p = points[i]!;
        if (p.timeUs !== time) {
          time = p.timeUs;
          mid = utf8.encode('"timeUnixNano":"' + nanos(time) + '","count":"');
        }
        if (p.explicitBounds !== bounds) {
          bounds = p.explicitBounds;
          boundsBytes = utf8.encode(
            '],"explicitBounds":[' + bounds.map(double).join(",") + "]",
          );
        }
        writeHead(w, list[i]!, i === 0);
        w.bytes(mid);
        w.integer(p.count);
        w.text('","sum":');
        w.double(p.sum);
        w.text(',"bucketCounts":[');
        const counts = p.bucketCounts;
        for (let b = 0; b < counts.length; b++) {
          if (b > 0) w.byte(COMMA);
          w.byte(QUOTE);
          w.integer(counts[b]!);
          w.byte(QUOTE);
        }
        w.bytes(boundsBytes);
        if (p.exemplars.length > 0) w.text(exemplars(p.exemplars));
      }
      w.text(points.length > 0 ? "}]" : "]");
      w.text(',"aggregationTemporality":' + m.temporality + "}}");
      return;
    }
    case "summary": {
      const points = m.points;
      w.text(',"summary":{"dataPoints":[');
      for (let i = 0; i < points.length; i++) {
        const p = points[i]!;
        if (p.timeUs !== time) {
          time = p.timeUs;
          mid = utf8.encode('"timeUnixNano":"' + nanos(time) + '","count":"');
        }
        writeHead(w, list[i]!, i === 0);
        w.bytes(mid);
        let text = integer(p.count) + '","sum":' + double(p.sum) +
          ',"quantileValues":[';
        for (let q = 0; q < p.quantileValues.length; q++) {
          const v = p.quantileValues[q]!;
          text += (q > 0 ? ',{"quantile":' : '{"quantile":') +
            double(v.quantile) + ',"value":' + double(v.value) + "}";
        }
        w.text(text + "]");
      }
      w.text(points.length > 0 ? "}]}}" : "]}}");
      return;
    }
  }
}

/** "00" to "99" as ASCII byte pairs, for writing two digits per division. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}

/** Appends UTF-8 to one growable buffer and decodes it once at the end. */
export class JsonWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(initialSize: number) {
    const size = Math.max(256, initialSize);
    const spare = spareBuffer === undefined ? undefined : spareBuffer.deref();
    this.#buf = spare !== undefined && spare.length >= size
      ? spare
      : new Uint8Array(size);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Appends one ASCII character by its code. */
  byte(code: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = code;
  }

  /** Appends bytes: short ones by a loop, longer ones by a copy. */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    this.#ensure(n);
    const buf = this.#buf;
    const p = this.#pos;
    if (n < 32) { for (let i = 0; i < n; i++) buf[p + i] = bytes[i]!; }
    else buf.set(bytes, p);
    this.#pos = p + n;
  }

  /** Appends `length` bytes of `source` from `offset`: short runs by a loop, longer ones by a copy. */
  range(source: Uint8Array, offset: number, length: number): void {
    this.#ensure(length);
    const buf = this.#buf;
    const p = this.#pos;
    if (length < 32) {
      for (let i = 0; i < length; i++) buf[p + i] = source[offset + i]!;
    } else buf.set(source.subarray(offset, offset + length), p);
    this.#pos = p + length;
  }

  /** Appends text as UTF-8 (JSON text: lone surrogates are already replaced). */
  text(text: string): void {
    const n = text.length;
    this.#ensure(n * 3);
    const buf = this.#buf;
    const p = this.#pos;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.#pos = p + i;
        this.#pos += utf8.encodeInto(text.slice(i), buf.subarray(this.#pos))
          .written;
        return;
      }
      buf[p + i] = c;
    }
    this.#pos = p + n;
  }

  /** Appends a double as {@linkcode double} writes it; whole numbers digit by digit. */
  double(value: number): void {
    if (value >= 0 && value <= MAX_DIGITS && Math.floor(value) === value) {
      if (value === 0 && 1 / value < 0) this.text("-0");
      else this.integer(value);
    } else {
      this.text(double(value));
    }
  }

  /** Appends an integer as {@linkcode integer} writes it, without a string up to 2^53. */
  integer(value: number): void {
    if (!(value >= 0 && value <= MAX_DIGITS)) {
      this.text(integer(value));
      return;
    }
    this.#ensure(16);
    const buf = this.#buf;
    let p = this.#pos;
    if (value < 1e8) {
      p = writeDigits(buf, p, value, false);
    } else {
      const high = Math.floor(value / 1e8);
      p = writeDigits(buf, p, high, false);
      p = writeDigits(buf, p, value - high * 1e8, true);
    }
    this.#pos = p;
  }

  /** The JSON text. */
  finish(): string {
    const text = decoder.decode(this.#buf.subarray(0, this.#pos));
    if (typeof WeakRef === "function") spareBuffer = new WeakRef(this.#buf);
    return text;
  }

  /**
   * The bytes written, in a view of the writer's own buffer, which becomes
   * the caller's: it is never handed to a later writer.
   */
  finishBytes(): Uint8Array {
    const buf = this.#buf;
    if (spareBuffer !== undefined && spareBuffer.deref() === buf) {
      spareBuffer = undefined;
    }
    return buf.subarray(0, this.#pos);
  }
}

/**
 * The last writer's buffer, for the next encoding to write into: a fresh
 * buffer of this size costs its allocation, the kernel's zeroing of every
 * page on first write and a full garbage collection to free. Weak, so an
 * idle module holds no megabytes: the next full collection frees it.
 */
let spareBuffer: WeakRef<Uint8Array> | undefined;

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

/** Labels as JSON `KeyValue`s with `stringValue`, without brackets; `""` when empty. */
function labels(attributes: Labels): string {
  let out = "";
  for (const key in attributes) {
    out += (out === "" ? '{"key":' : ',{"key":') + jsonString(key) +
      ',"value":{"stringValue":' + jsonString(attributes[key]!) + "}}";
  }
  return out;
}

/** `,"exemplars":[…]`. */
function exemplars(list: readonly OtlpExemplar[]): string {
  let out = ',"exemplars":[';
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    out += i > 0 ? ",{" : "{";
    const filtered = labels(e.filteredAttributes);
    if (filtered !== "") out += '"filteredAttributes":[' + filtered + "],";
    out += '"timeUnixNano":"' + nanos(e.timeUs) + '","asDouble":' +
      double(e.value);
    if (e.spanId !== "") out += ',"spanId":"' + e.spanId + '"';
    if (e.traceId !== "") out += ',"traceId":"' + e.traceId + '"';
    out += "}";
  }
  return out + "]";
}

/** Resource attributes as a JSON `KeyValue` array with typed `AnyValue`s. */
function anyAttributes(attributes: OtlpAttributes): string {
  let out = "[";
  for (const key in attributes) {
    const value = attributes[key]!;
    out += (out === "[" ? '{"key":' : ',{"key":') + jsonString(key);
    if (typeof value === "string") {
      out += ',"value":{"stringValue":' + jsonString(value);
    } else if (typeof value === "boolean") {
      out += value
        ? ',"value":{"boolValue":true'
        : ',"value":{"boolValue":false';
    } else if (Number.isSafeInteger(value)) {
      out += ',"value":{"intValue":"' + integer(value) + '"';
    } else {
      out += ',"value":{"doubleValue":' + double(value);
    }
    out += "}}";
  }
  return out + "]";
}

/**
 * A string as a JSON string, each lone surrogate replaced by U+FFFD first,
 * as UTF-8 encoding replaces it (the protobuf encoder, `TextEncoder`): the
 * two OTLP encodings carry the same text. `JSON.stringify` alone would write
 * an escape (`"\\ud800"`) that a receiver decodes back to a lone surrogate.
 */
function jsonString(value: string): string {
  return JSON.stringify(value.isWellFormed() ? value : value.toWellFormed());
}

/** A double per the proto3 JSON mapping: non-finite values as strings, -0 kept. */
function double(value: number): string {
  if (value - value === 0) {
    return value === 0 && 1 / value < 0 ? "-0" : String(value);
  }
  return value > 0 ? '"Infinity"' : value < 0 ? '"-Infinity"' : '"NaN"';
}

/**
 * An integer's exact decimal digits: `String` up to 2^53, `BigInt` beyond
 * (where `String` rounds to the shortest form, "…847000").
 */
function integer(value: number): string {
  if (value >= 0 && value <= MAX_DIGITS) return String(value);
  return Number.isInteger(value) ? BigInt(value).toString() : String(value);
}

/** Whole microseconds as exact decimal nanoseconds: the digits, then `000`. */
function nanos(us: number): string {
  return us === 0 ? "0" : integer(us) + "000";
}

/** The largest integer whose `String` digits are exact. */
const MAX_DIGITS = Number.MAX_SAFE_INTEGER;
