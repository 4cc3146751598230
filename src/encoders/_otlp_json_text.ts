/**
 * The text fragments of OTLP JSON that the writer in `_otlp_json.ts` makes
 * as strings: attribute lists, exemplars, JSON strings and nanosecond
 * times. Split from it, which writes the request's bytes.
 *
 * @module
 */

import type { OtlpAttributes, OtlpExemplar } from "./_otlp.ts";
import { double, integer } from "./_json_writer.ts";

/**
 * Attributes as JSON `KeyValue`s, without brackets (`""` when empty):
 * strings as `stringValue` (every label), booleans as `boolValue`, safe
 * integers as `intValue`, other numbers as `doubleValue`, arrays as an
 * `arrayValue` of those.
 */
export function keyValues(attributes: OtlpAttributes): string {
  let out = "";
  for (const key in attributes) {
    const value = attributes[key]!;
    out += (out === "" ? '{"key":' : ',{"key":') + jsonString(key) +
      ',"value":{' +
      (typeof value === "object"
        ? '"arrayValue":{"values":[' +
          value.map((item) => "{" + scalarValue(item) + "}").join(",") +
          "]}"
        : scalarValue(value)) +
      "}}";
  }
  return out;
}

/** The field of one scalar `AnyValue`, without braces. */
function scalarValue(value: string | number | boolean): string {
  return typeof value === "string"
    ? '"stringValue":' + jsonString(value)
    : typeof value === "boolean"
    ? '"boolValue":' + value
    : Number.isSafeInteger(value)
    ? '"intValue":"' + integer(value) + '"'
    : '"doubleValue":' + double(value);
}

/** `,"exemplars":[…]`. */
export function exemplars(list: readonly OtlpExemplar[]): string {
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
export function jsonString(value: string): string {
  return JSON.stringify(value.isWellFormed() ? value : value.toWellFormed());
}

/** Whole microseconds as exact decimal nanoseconds: the digits, then `000`. */
export function nanos(us: number): string {
  return us === 0 ? "0" : integer(us) + "000";
}
