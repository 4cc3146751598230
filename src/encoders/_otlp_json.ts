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
  exemplarsOf,
  type OtlpAttributes,
  type OtlpBuildOptions,
  type OtlpExemplar,
  type OtlpMetric,
  startUsOf,
  toCount,
  toCounts,
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
  // the series' life), the request's time bytes, and its numbers' digits.
  // No rope of pieces for the garbage collector to trace and to flatten.
  const request = buildOtlpRequest(families, options);
  const w = new JsonWriter(Math.ceil(estimateProtobufSize(families) * 2.5));
  w.text(
    '{"resourceMetrics":[{"resource":{"attributes":[' +
      keyValues(request.resource) + ']},"scopeMetrics":[',
  );
  // Every point has the request's time: its text is made once.
  const time = '"timeUnixNano":"' + nanos(request.timeUs) + '",';
  for (let s = 0; s < request.scopes.length; s++) {
    const { scope, metrics } = request.scopes[s]!;
    let text = s > 0 ? ",{" : "{";
    if (scope !== null) {
      text += '"scope":{"name":' + jsonString(scope.name);
      if (scope.version !== "") {
        text += ',"version":' + jsonString(scope.version);
      }
      text += "},";
    }
    w.text(text + '"metrics":[');
    for (let i = 0; i < metrics.length; i++) {
      if (i > 0) w.byte(COMMA);
      metric(w, metrics[i]!, time);
    }
    w.text("]}");
  }
  w.text("]}]}");
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
const utf8 = /* @__PURE__ */ new TextEncoder();
const decoder = /* @__PURE__ */ new TextDecoder();

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

const HEADS = /* @__PURE__ */ new LabelCache<PointHead>();
const NO_BYTES = /* @__PURE__ */ new Uint8Array(0);

function labelsOf(point: { readonly labels: Labels }): Labels {
  return point.labels;
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
function refreshHeads(heads: readonly PointHead[], m: OtlpMetric): void {
  const stale: PointHead[] = [];
  const texts: string[] = [];
  let chars = 0;
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i]!;
    const startUs = startUsOf(m, i);
    if (head.startUs === startUs) continue;
    const point = m.points[i]!;
    const text = pointHead(
      "attributes" in point && point.attributes !== undefined
        ? point.attributes
        : point.labels,
      startUs,
    );
    head.startUs = startUs;
    stale.push(head);
    texts.push(text);
    chars += text.length;
  }
  if (stale.length === 0) return;
  // At most 3 UTF-8 bytes per UTF-16 unit; copied to an exact size after.
  const scratch = new Uint8Array(chars * 3);
  const offsets: number[] = [];
  let end = 0;
  for (const text of texts) {
    offsets.push(end);
    end += utf8.encodeInto(text, scratch.subarray(end)).written;
  }
  offsets.push(end);
  const arena = scratch.slice(0, end);
  for (let k = 0; k < stale.length; k++) {
    const head = stale[k]!;
    head.arena = arena;
    head.offset = offsets[k]!;
    head.length = offsets[k + 1]! - offsets[k]!;
  }
}

/** Makes a point head (see {@linkcode PointHead}) as text. */
function pointHead(attributes: OtlpAttributes, startUs: number): string {
  let out = "},{";
  const list = keyValues(attributes);
  if (list !== "") out += '"attributes":[' + list + "],";
  if (startUs !== 0) out += '"startTimeUnixNano":"' + nanos(startUs) + '",';
  return out;
}

/** Writes one `Metric`; `time` is the points' `"timeUnixNano":"…",`. */
function metric(w: JsonWriter, m: OtlpMetric, time: string): void {
  let text = '{"name":' + jsonString(m.name);
  if (m.description !== "") {
    text += ',"description":' + jsonString(m.description);
  }
  if (m.unit !== "") text += ',"unit":' + jsonString(m.unit);
  // The kinds are named as their fields: "sum", "gauge", "histogram", "summary".
  w.text(text + ',"' + m.kind + '":{"dataPoints":[');
  const points: readonly { readonly labels: Labels }[] = m.points;
  const heads = HEADS.lookup(points, labelsOf, anyHead, newHead);
  refreshHeads(heads, m);
  const number = m.kind === "sum" || m.kind === "gauge";
  const mid = utf8.encode(time + (number ? '"asDouble":' : '"count":"'));
  const bounds = m.kind === "histogram"
    ? utf8.encode(
      '],"explicitBounds":[' + m.explicitBounds.map(double).join(",") + "]",
    )
    : NO_BYTES;
  for (let i = 0; i < points.length; i++) {
    // Each point: its head, the time, then its numbers.
    const head = heads[i]!;
    const skip = i === 0 ? 2 : 0; // the first point has no point to close
    w.range(head.arena, head.offset + skip, head.length - skip);
    w.range(mid, 0, mid.length);
    if (m.kind === "sum" || m.kind === "gauge") {
      w.double(m.points[i]!.value);
    } else {
      const p = m.points[i]!;
      w.integer(toCount(p.count));
      w.text('","sum":');
      w.double(p.sum);
      if (m.kind === "histogram") {
        w.text(',"bucketCounts":[');
        const counts = toCounts(m.points[i]!.counts);
        for (let b = 0; b < counts.length; b++) {
          if (b > 0) w.byte(COMMA);
          w.byte(QUOTE);
          w.integer(counts[b]!);
          w.byte(QUOTE);
        }
        w.range(bounds, 0, bounds.length);
      } else {
        const quantiles = m.points[i]!.quantiles;
        let text = ',"quantileValues":[';
        for (let q = 0; q < quantiles.length; q++) {
          text += (q > 0 ? ',{"quantile":' : '{"quantile":') +
            double(quantiles[q]!.quantile) + ',"value":' +
            double(quantiles[q]!.value) + "}";
        }
        w.text(text + "]");
      }
    }
    const list = exemplarsOf(m, i);
    if (list.length > 0) w.text(exemplars(list));
  }
  let tail = points.length > 0 ? "}]" : "]";
  if (m.kind === "sum" || m.kind === "histogram") {
    tail += ',"aggregationTemporality":' + m.temporality;
  }
  if (m.kind === "sum") tail += ',"isMonotonic":' + m.isMonotonic;
  w.text(tail + "}}");
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

  /** Appends `length` bytes of `source` from `offset`: short runs by a loop, longer ones by a copy. */
  range(source: Uint8Array, offset: number, length: number): void {
    this.#ensure(length);
    const buf = this.#buf;
    const p = this.#pos;
    if (length < 32) {
      for (let i = 0; i < length; i++) buf[p + i] = source[offset + i]!;
    } else {
      // A whole array is copied as it is: a subarray would be an allocation.
      buf.set(
        length === source.length
          ? source
          : source.subarray(offset, offset + length),
        p,
      );
    }
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

  /** Appends a double as {@linkcode double} writes it; whole numbers below 2^31 digit by digit. */
  double(value: number): void {
    // -0 is whole too, but `double` writes it "-0": 1 / -0 is -Infinity.
    if ((value | 0) === value && (value > 0 || 1 / value > 0)) {
      this.#digits(value);
    } else {
      this.text(double(value));
    }
  }

  /** Appends an integer as {@linkcode integer} writes it; below 2^31 digit by digit. */
  integer(value: number): void {
    if ((value | 0) === value && value >= 0) this.#digits(value);
    else this.text(integer(value));
  }

  /** Appends the decimal digits of an integer in [0, 2^31), without a string. */
  #digits(value: number): void {
    let n = 1;
    for (let rest = value; rest >= 10; n++) rest = (rest / 10) | 0;
    this.#ensure(n);
    const buf = this.#buf;
    let p = this.#pos + n;
    this.#pos = p;
    do {
      const next = (value / 10) | 0;
      buf[--p] = 48 + value - next * 10;
      value = next;
    } while (value > 0);
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

/**
 * Attributes as JSON `KeyValue`s, without brackets (`""` when empty):
 * strings as `stringValue` (every label), booleans as `boolValue`, safe
 * integers as `intValue`, other numbers as `doubleValue`.
 */
function keyValues(attributes: OtlpAttributes): string {
  let out = "";
  for (const key in attributes) {
    const value = attributes[key]!;
    out += (out === "" ? '{"key":' : ',{"key":') + jsonString(key) +
      ',"value":{' +
      (typeof value === "string"
        ? '"stringValue":' + jsonString(value)
        : typeof value === "boolean"
        ? '"boolValue":' + value
        : Number.isSafeInteger(value)
        ? '"intValue":"' + integer(value) + '"'
        : '"doubleValue":' + double(value)) +
      "}}";
  }
  return out;
}

/** `,"exemplars":[…]`. */
function exemplars(list: readonly OtlpExemplar[]): string {
  let out = ',"exemplars":[';
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    out += i > 0 ? ",{" : "{";
    const filtered = keyValues(e.filteredAttributes);
    if (filtered !== "") out += '"filteredAttributes":[' + filtered + "],";
    out += '"timeUnixNano":"' + nanos(e.timeUs) + '","asDouble":' +
      double(e.value);
    if (e.spanId !== "") out += ',"spanId":"' + e.spanId + '"';
    if (e.traceId !== "") out += ',"traceId":"' + e.traceId + '"';
    out += "}";
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
  return Number.isInteger(value) && !Number.isSafeInteger(value)
    ? BigInt(value).toString()
    : String(value);
}

/** Whole microseconds as exact decimal nanoseconds: the digits, then `000`. */
function nanos(us: number): string {
  return us === 0 ? "0" : integer(us) + "000";
}
