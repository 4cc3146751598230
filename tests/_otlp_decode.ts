/**
 * Test helper: decodes OTLP protobuf bytes with an INDEPENDENT decoder, the
 * protobufjs code generated from the official OTLP definitions that ships in
 * `@opentelemetry/otlp-transformer@0.52.1` (installed by `.ci/setup` under
 * `.tools/node_modules`), and normalises both decoded protobuf and parsed
 * OTLP JSON into one comparable form.
 *
 * The generated `root.js` is CommonJS (`require("protobufjs/minimal")`), so
 * it is loaded with `createRequire`, which resolves `protobufjs` from the
 * same `node_modules`.
 *
 * @module
 */

import { createRequire } from "node:module";

const ROOT_JS = new URL(
  "../.tools/node_modules/@opentelemetry/otlp-transformer/build/esm/generated/root.js",
  import.meta.url,
);

interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

let requestType: ProtoType | undefined;

function exportMetricsServiceRequest(): ProtoType {
  if (requestType === undefined) {
    const require = createRequire(ROOT_JS);
    const root = require(ROOT_JS.pathname);
    requestType = root.opentelemetry.proto.collector.metrics.v1
      .ExportMetricsServiceRequest as ProtoType;
  }
  return requestType;
}

/**
 * Decodes an `ExportMetricsServiceRequest` with the official generated
 * decoder and returns it as a plain object in the OTLP JSON vocabulary:
 * lowerCamelCase keys, 64-bit integers as decimal strings, enums as numbers,
 * non-finite doubles as `"NaN"`/`"Infinity"`/`"-Infinity"`, bytes as arrays
 * of numbers (see {@linkcode normalizeOtlp} for hex ids). Only the fields
 * present on the wire are included.
 */
export function decodeOtlpProtobuf(bytes: Uint8Array): unknown {
  const type = exportMetricsServiceRequest();
  const message = type.decode(bytes);
  return type.toObject(message, {
    longs: String,
    enums: Number,
    bytes: Array,
    json: true,
    defaults: false,
    arrays: false,
  });
}

/**
 * Keys whose zero value is meaningful (oneof members, proto3 `optional`
 * fields and doubles both encoders always write), so they survive
 * {@linkcode normalizeOtlp}.
 */
const KEEP_ZERO = new Set([
  "asDouble",
  "asInt",
  "sum",
  "stringValue",
  "boolValue",
  "intValue",
  "doubleValue",
  "quantile",
  "value",
]);

/**
 * Puts decoded protobuf and parsed JSON into one comparable form: fields
 * holding their proto3 default (`""`, `0`, `"0"`, `false`, `[]`) are removed
 * except the {@linkcode KEEP_ZERO} keys (protobuf leaves defaults off the
 * wire), and `traceId`/`spanId` byte arrays become lowercase hex.
 */
export function normalizeOtlp(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeOtlp);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if ((key === "traceId" || key === "spanId") && Array.isArray(v)) {
      out[key] = v.map((b: number) => b.toString(16).padStart(2, "0")).join(
        "",
      );
      continue;
    }
    if (!KEEP_ZERO.has(key) && isDefault(v)) continue;
    out[key] = normalizeOtlp(v);
  }
  return out;
}

function isDefault(v: unknown): boolean {
  return v === "" || v === 0 || v === "0" || v === false || v === null ||
    v === undefined || (Array.isArray(v) && v.length === 0);
}
