/**
 * OTLP/HTTP JSON encoder: a snapshot as an `ExportMetricsServiceRequest` in
 * the OTLP JSON encoding.
 *
 * @module
 */

import type { Labels, MetricFamily } from "../model.ts";
import {
  buildOtlpRequest,
  estimateProtobufSize,
  type OtlpAttributes,
  type OtlpExemplar,
  type OtlpMetric,
} from "./_otlp.ts";

/**
 * What an OTLP encoder needs besides the snapshot: the resource, the
 * instrumentation scope, the temporality and the collection time.
 *
 * @example Options for a short-lived job
 * ```ts
 * import type { OtlpEncodeOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: OtlpEncodeOptions = {
 *   resource: { "service.name": "order-job", "service.instance.id": "a1" },
 *   scope: { name: "@edgemetrics/edgemetrics", version: "0.1.0" },
 *   temporality: "cumulative",
 *   timeUnixMs: 1_700_000_000_000,
 * };
 * assert.equal(options.resource["service.name"], "order-job");
 * ```
 */
export interface OtlpEncodeOptions {
  /**
   * Resource attributes, e.g. service.name, service.instance.id,
   * deployment.environment. Strings become `stringValue`, booleans
   * `boolValue`, safe integers `intValue`, other numbers `doubleValue`.
   */
  resource: Readonly<Record<string, string | number | boolean>>;
  /** Instrumentation scope; left unset in the output when omitted. */
  scope?: { name: string; version?: string };
  /**
   * "cumulative" (default) or "delta": only sets aggregationTemporality; the
   * caller passes a delta snapshot whose `created` is the start of the
   * interval.
   */
  temporality?: "cumulative" | "delta";
  /**
   * The collection time, ms since epoch (timeUnixNano of every point).
   * Fractional milliseconds are rounded to whole microseconds.
   */
  timeUnixMs: number;
}

/**
 * The `Content-Type` of an OTLP/HTTP JSON request body.
 *
 * @example
 * ```ts
 * import { OTLP_JSON_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(OTLP_JSON_CONTENT_TYPE, "application/json");
 * ```
 */
export const OTLP_JSON_CONTENT_TYPE = "application/json";

/**
 * Encodes a snapshot as an OTLP/HTTP JSON `ExportMetricsServiceRequest`.
 *
 * One resource, one scope, one metric per family that has points (a family
 * with no series is left out). Counters become monotonic
 * `sum`s (the family name has no `_total`), gauges `gauge`s, histograms
 * explicit-bucket `histogram`s (per-bucket `bucketCounts`), summaries
 * `summary`s with `quantileValues`. `help` is the `description`; the
 * Prometheus unit word is translated to UCUM (`seconds` → `s`, `bytes` →
 * `By`, `milliseconds` → `ms`, `ratio` → `1`, `percent` → `%`,
 * `bytes_per_second` → `By/s`; unknown words pass through) and trimmed from
 * the end of the name, as the OTel Prometheus compatibility rules require
 * (`http_request_duration_seconds` → `http_request_duration` with unit `s`;
 * a backend translating back to Prometheus appends `_seconds` again, and
 * `_total` for counters). Labels become
 * `stringValue` attributes; exemplars carry `traceId`/`spanId` from their
 * `trace_id`/`span_id` labels and the rest as `filteredAttributes`.
 *
 * Follows the OTLP JSON rules: lowerCamelCase field names, 64-bit integers
 * (times, counts, `intValue`) as decimal strings, enums as integers
 * (`aggregationTemporality` 1 = delta, 2 = cumulative), trace and span ids
 * as lowercase hex (not base64), NaN and ±Infinity as the strings `"NaN"`,
 * `"Infinity"`, `"-Infinity"`. Times are nanoseconds: the milliseconds of the
 * snapshot rounded to whole microseconds, then exactly × 1000. Empty
 * attribute lists, empty descriptions and units and absent ids are omitted.
 *
 * A pure function of its arguments; it never throws on runtime values.
 *
 * @param families The snapshot, e.g. from `Registry#collect()`.
 * @param options Resource, scope, temporality and collection time.
 * @returns The request body for `POST /v1/metrics` with `Content-Type: application/json`.
 *
 * @example A counter as a monotonic sum
 * ```ts
 * import { encodeOtlpJson } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const body = encodeOtlpJson(
 *   [{
 *     type: "counter",
 *     name: "jobs_processed",
 *     help: "Jobs processed.",
 *     points: [{ labels: { queue: "emails" }, value: 3, created: 1_700_000_000_000 }],
 *   }],
 *   { resource: { "service.name": "order-job" }, timeUnixMs: 1_700_000_060_000 },
 * );
 * const metric = JSON.parse(body).resourceMetrics[0].scopeMetrics[0].metrics[0];
 * assert.equal(metric.name, "jobs_processed");
 * assert.equal(metric.sum.isMonotonic, true);
 * assert.equal(metric.sum.aggregationTemporality, 2);
 * assert.equal(metric.sum.dataPoints[0].startTimeUnixNano, "1700000000000000000");
 * assert.equal(metric.sum.dataPoints[0].asDouble, 3);
 * ```
 */
export function encodeOtlpJson(
  families: readonly MetricFamily[],
  options: OtlpEncodeOptions,
): string {
  const request = buildOtlpRequest(families, options);
  const w = new JsonWriter(Math.ceil(estimateProtobufSize(families) * 2.5));
  w.raw('{"resourceMetrics":[{"resource":{"attributes":');
  anyAttributes(w, request.resource);
  w.raw('},"scopeMetrics":[{');
  if (request.scope !== null) {
    w.raw('"scope":{"name":');
    w.string(request.scope.name);
    if (request.scope.version !== "") {
      w.raw(',"version":');
      w.string(request.scope.version);
    }
    w.raw("},");
  }
  w.raw('"metrics":[');
  const metrics = request.metrics;
  for (let i = 0; i < metrics.length; i++) {
    if (i > 0) w.raw(",");
    metric(w, metrics[i]!);
  }
  w.raw("]}]}]}");
  return w.finish();
}

function metric(w: JsonWriter, m: OtlpMetric): void {
  w.raw('{"name":');
  w.string(m.name);
  if (m.description !== "") {
    w.raw(',"description":');
    w.string(m.description);
  }
  if (m.unit !== "") {
    w.raw(',"unit":');
    w.string(m.unit);
  }
  switch (m.kind) {
    case "gauge":
    case "sum": {
      w.raw(
        m.kind === "sum"
          ? ',"sum":{"dataPoints":['
          : ',"gauge":{"dataPoints":[',
      );
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        w.raw(i > 0 ? ",{" : "{");
        pointHead(w, p.attributes, p.startUs, p.timeUs);
        w.raw(',"asDouble":');
        w.double(p.value);
        if (p.exemplars.length > 0) exemplars(w, p.exemplars);
        w.raw("}");
      }
      w.raw("]");
      if (m.kind === "sum") {
        w.raw(',"aggregationTemporality":');
        w.integer(m.temporality);
        w.raw(m.isMonotonic ? ',"isMonotonic":true' : ',"isMonotonic":false');
      }
      w.raw("}}");
      return;
    }
    case "histogram": {
      w.raw(',"histogram":{"dataPoints":[');
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        w.raw(i > 0 ? ",{" : "{");
        pointHead(w, p.attributes, p.startUs, p.timeUs);
        w.raw(',"count":"');
        w.integer(p.count);
        w.raw('","sum":');
        w.double(p.sum);
        w.raw(',"bucketCounts":[');
        const counts = p.bucketCounts;
        for (let b = 0; b < counts.length; b++) {
          w.raw(b > 0 ? ',"' : '"');
          w.integer(counts[b]!);
          w.raw('"');
        }
        w.raw('],"explicitBounds":[');
        const bounds = p.explicitBounds;
        for (let b = 0; b < bounds.length; b++) {
          if (b > 0) w.raw(",");
          w.double(bounds[b]!);
        }
        w.raw("]");
        if (p.exemplars.length > 0) exemplars(w, p.exemplars);
        w.raw("}");
      }
      w.raw('],"aggregationTemporality":');
      w.integer(m.temporality);
      w.raw("}}");
      return;
    }
    case "summary": {
      w.raw(',"summary":{"dataPoints":[');
      for (let i = 0; i < m.points.length; i++) {
        const p = m.points[i]!;
        w.raw(i > 0 ? ",{" : "{");
        pointHead(w, p.attributes, p.startUs, p.timeUs);
        w.raw(',"count":"');
        w.integer(p.count);
        w.raw('","sum":');
        w.double(p.sum);
        w.raw(',"quantileValues":[');
        for (let q = 0; q < p.quantileValues.length; q++) {
          const v = p.quantileValues[q]!;
          w.raw(q > 0 ? ',{"quantile":' : '{"quantile":');
          w.double(v.quantile);
          w.raw(',"value":');
          w.double(v.value);
          w.raw("}");
        }
        w.raw("]}");
      }
      w.raw("]}}");
      return;
    }
  }
}

/** `attributes` (when any), `startTimeUnixNano` (unless 0) and `timeUnixNano`, without braces. */
function pointHead(
  w: JsonWriter,
  attributes: Labels,
  startUs: number,
  timeUs: number,
): void {
  if (labels(w, '"attributes":[', attributes)) w.raw("],");
  if (startUs !== 0) {
    w.raw('"startTimeUnixNano":"');
    w.nanos(startUs);
    w.raw('",');
  }
  w.raw('"timeUnixNano":"');
  w.nanos(timeUs);
  w.raw('"');
}

/** Writes `prefix` and the labels as `KeyValue`s with `stringValue`; false (nothing written) when empty. */
function labels(w: JsonWriter, prefix: string, attributes: Labels): boolean {
  let first = true;
  for (const key in attributes) {
    w.raw(first ? prefix : ",");
    w.pair(key, attributes[key]!);
    first = false;
  }
  return !first;
}

function exemplars(w: JsonWriter, list: readonly OtlpExemplar[]): void {
  w.raw(',"exemplars":[');
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    w.raw(i > 0 ? ",{" : "{");
    if (labels(w, '"filteredAttributes":[', e.filteredAttributes)) {
      w.raw("],");
    }
    w.raw('"timeUnixNano":"');
    w.nanos(e.timeUs);
    w.raw('","asDouble":');
    w.double(e.value);
    if (e.spanId !== "") {
      w.raw(',"spanId":"');
      w.raw(e.spanId);
      w.raw('"');
    }
    if (e.traceId !== "") {
      w.raw(',"traceId":"');
      w.raw(e.traceId);
      w.raw('"');
    }
    w.raw("}");
  }
  w.raw("]");
}

/** Resource attributes as a JSON `KeyValue` array with typed `AnyValue`s. */
function anyAttributes(w: JsonWriter, attributes: OtlpAttributes): void {
  w.raw("[");
  let first = true;
  for (const key in attributes) {
    const value = attributes[key]!;
    w.raw(first ? '{"key":' : ',{"key":');
    w.string(key);
    if (typeof value === "string") {
      w.raw(',"value":{"stringValue":');
      w.string(value);
    } else if (typeof value === "boolean") {
      w.raw(
        value ? ',"value":{"boolValue":true' : ',"value":{"boolValue":false',
      );
    } else if (Number.isSafeInteger(value)) {
      w.raw(',"value":{"intValue":"');
      w.integer(value);
      w.raw('"');
    } else {
      w.raw(',"value":{"doubleValue":');
      w.double(value);
    }
    w.raw("}}");
    first = false;
  }
  w.raw("]");
}

/** Cached label bytes of one key: `values` is null once caching stopped paying. */
interface PairCache {
  values: Map<string, Uint8Array> | null;
  hits: number;
  misses: number;
}

const HEX = "0123456789abcdef";
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Writes JSON straight to UTF-8 bytes in a growable buffer, then decodes
 * them once: no string concatenation, so no rope of millions of pieces for
 * the garbage collector to trace and flatten.
 */
class JsonWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(initialSize: number) {
    this.#buf = new Uint8Array(Math.max(256, initialSize));
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Appends ASCII text that needs no escaping (fragments, hex ids, number text). */
  raw(text: string): void {
    const n = text.length;
    this.#ensure(n);
    const buf = this.#buf;
    const p = this.#pos;
    for (let i = 0; i < n; i++) buf[p + i] = text.charCodeAt(i);
    this.#pos = p + n;
  }

  /**
   * Appends a JSON string literal, escaped as `JSON.stringify` does: `"` and
   * `\` and control characters escaped, lone surrogates as `\uXXXX`, the
   * rest as UTF-8.
   */
  string(value: string): void {
    const n = value.length;
    this.#ensure(n * 6 + 2);
    const buf = this.#buf;
    let p = this.#pos;
    buf[p++] = 34; // "
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x80) {
        if (c >= 0x20 && c !== 34 && c !== 92) {
          buf[p++] = c;
        } else {
          buf[p++] = 92; // \
          if (c === 34 || c === 92) buf[p++] = c;
          else if (c === 10) buf[p++] = 110; // n
          else if (c === 13) buf[p++] = 114; // r
          else if (c === 9) buf[p++] = 116; // t
          else if (c === 8) buf[p++] = 98; // b
          else if (c === 12) buf[p++] = 102; // f
          else p = unicodeEscape(buf, p, c);
        }
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? value.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          i++;
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[p++] = 0xf0 | (cp >> 18);
          buf[p++] = 0x80 | ((cp >> 12) & 63);
          buf[p++] = 0x80 | ((cp >> 6) & 63);
          buf[p++] = 0x80 | (cp & 63);
        } else {
          buf[p++] = 92;
          p = unicodeEscape(buf, p, c);
        }
      } else {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 63);
        buf[p++] = 0x80 | (c & 63);
      }
    }
    buf[p++] = 34;
    this.#pos = p;
  }

  #pairs = new Map<string, PairCache>();

  /**
   * Appends one label as `{"key":…,"value":{"stringValue":…}}`. The bytes
   * of each (key, value) pair are cached for this call, since label values
   * repeat across series (methods, routes, status codes); a key whose values
   * rarely repeat (ids) stops being cached after a few hundred misses, so
   * unique values cost no cache churn.
   */
  pair(key: string, value: string): void {
    let cache = this.#pairs.get(key);
    if (cache === undefined) {
      cache = { values: new Map(), hits: 0, misses: 0 };
      this.#pairs.set(key, cache);
    }
    const values = cache.values;
    const bytes = values?.get(value);
    if (bytes === undefined) {
      const start = this.#pos;
      this.keyPrefix(key);
      this.string(value);
      this.raw("}}");
      if (values !== null) {
        if (++cache.misses > 256 && cache.hits < cache.misses) {
          cache.values = null;
        } else {
          values.set(value, this.#buf.slice(start, this.#pos));
        }
      }
      return;
    }
    cache.hits++;
    const n = bytes.length;
    this.#ensure(n);
    const buf = this.#buf;
    const p = this.#pos;
    if (n < 64) { for (let i = 0; i < n; i++) buf[p + i] = bytes[i]!; }
    else buf.set(bytes, p);
    this.#pos = p + n;
  }

  #keyPrefixes = new Map<string, string>();

  /**
   * Appends `{"key":<key>,"value":{"stringValue":`, from a per-call cache
   * of the escaped fragment when the key is printable ASCII (label names
   * repeat on every point).
   */
  keyPrefix(key: string): void {
    let fragment = this.#keyPrefixes.get(key);
    if (fragment === undefined) {
      const escaped = JSON.stringify(key);
      if (!PRINTABLE_ASCII.test(escaped)) {
        this.raw('{"key":');
        this.string(key);
        this.raw(',"value":{"stringValue":');
        return;
      }
      fragment = '{"key":' + escaped + ',"value":{"stringValue":';
      this.#keyPrefixes.set(key, fragment);
    }
    this.raw(fragment);
  }

  /** Appends a double per the proto3 JSON mapping: non-finite values as strings, -0 kept. */
  double(value: number): void {
    if (value >= 0 && value <= MAX_DIGITS && Math.floor(value) === value) {
      if (value === 0 && 1 / value < 0) this.raw("-0");
      else this.integer(value);
    } else if (Number.isFinite(value)) {
      this.raw(String(value));
    } else {
      this.raw(value > 0 ? '"Infinity"' : value < 0 ? '"-Infinity"' : '"NaN"');
    }
  }

  /**
   * Appends an integer's decimal digits. Non-negative integers up to 2^53
   * are written digit by digit in two 8-digit halves of 32-bit arithmetic,
   * without allocating a string; larger ones exactly through `BigInt`.
   */
  integer(value: number): void {
    if (!(value >= 0 && value <= MAX_DIGITS)) {
      // Beyond 2^53 `String` rounds to the shortest form ("…847000"): an
      // integer double's exact digits come from BigInt (a rare path).
      this.raw(
        Number.isInteger(value) ? BigInt(value).toString() : String(value),
      );
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

  /** Appends whole microseconds as exact decimal nanoseconds: the digits, then `000`. */
  nanos(us: number): void {
    this.integer(us);
    if (us !== 0) this.raw("000");
  }

  /** The JSON text. */
  finish(): string {
    return decoder.decode(this.#buf.subarray(0, this.#pos));
  }
}

/** The largest integer written digit by digit (as two 8-digit halves). */
const MAX_DIGITS = Number.MAX_SAFE_INTEGER;

/** "00" to "99" as ASCII byte pairs, for writing two digits per division. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
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

/** Writes `uXXXX` (after a backslash) and returns the new position. */
function unicodeEscape(buf: Uint8Array, p: number, c: number): number {
  buf[p++] = 117; // u
  buf[p++] = HEX.charCodeAt((c >> 12) & 15);
  buf[p++] = HEX.charCodeAt((c >> 8) & 15);
  buf[p++] = HEX.charCodeAt((c >> 4) & 15);
  buf[p++] = HEX.charCodeAt(c & 15);
  return p;
}

const decoder = new TextDecoder();
