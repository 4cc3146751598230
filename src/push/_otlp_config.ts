/**
 * An `OtlpExporter`'s settings from its options and the standard
 * OpenTelemetry environment variables (options win; the environment only
 * where the runtime has one): endpoint, protocol, temporality, headers, and
 * the resource that names the sender, with its per-isolate instance id.
 *
 * @module
 */

import { parseKeyValueList, readEnv } from "../_env.ts";
import { warnOnce } from "../_warn.ts";
import { OTLP_JSON_CONTENT_TYPE } from "../encoders/otlp_json.ts";
import { OTLP_PROTOBUF_CONTENT_TYPE } from "../encoders/otlp_protobuf.ts";
import { checkHeaders, httpUrl, rejectOption } from "./_delivery_options.ts";

/** Who errors name. */
export const OWNER = "OtlpExporter";

/** Where an exporter sends when neither options nor environment say. */
const DEFAULT_URL = "http://localhost:4318/v1/metrics";

/** One random instance id per isolate, made on the first export that needs it. */
let isolateInstanceId: string | undefined;

/** This isolate's `service.instance.id`, made on the first call. */
export function instanceId(): string {
  return isolateInstanceId ??= crypto.randomUUID();
}

/** The protocol: the option, else the environment's, else protobuf. */
export function resolveProtocol(option: unknown): "protobuf" | "json" {
  return oneOf(
    "protocol",
    option ?? envProtocol() ?? "protobuf",
    ["protobuf", "json"] as const,
  );
}

/** The temporality: the option, else the environment's, else cumulative. */
export function resolveTemporality(option: unknown): "cumulative" | "delta" {
  return oneOf(
    "temporality",
    option ?? envTemporality() ?? "cumulative",
    ["cumulative", "delta"] as const,
  );
}

/** The option `value` when it is one of `allowed`; else a TypeError naming `option`. */
function oneOf<T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    rejectOption(
      OWNER,
      `${option} must be ${allowed.map((a) => `"${a}"`).join(" or ")}`,
      value,
    );
  }
  return value as T;
}

/** The endpoint: the option, else the environment, else the default. */
export function resolveUrl(option: string | undefined): string {
  if (option !== undefined) return httpUrl(OWNER, option);
  const metrics = readEnv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
  const base = readEnv("OTEL_EXPORTER_OTLP_ENDPOINT");
  return httpUrl(
    OWNER,
    metrics?.trim() ??
      (base === undefined
        ? DEFAULT_URL
        : `${base.trim().replace(/\/+$/, "")}/v1/metrics`),
  );
}

/** The protocol the environment asks for, if any (an unsupported one warns and means protobuf). */
function envProtocol(): "protobuf" | "json" | undefined {
  const value = readEnv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL") ??
    readEnv("OTEL_EXPORTER_OTLP_PROTOCOL");
  if (value === undefined) return undefined;
  if (value.trim() === "http/json") return "json";
  if (value.trim() !== "http/protobuf") {
    warnOnce(
      `otlp-protocol:${value}`,
      `OTEL_EXPORTER_OTLP_PROTOCOL "${value}" is not supported; using http/protobuf`,
    );
  }
  return "protobuf";
}

/** The temporality the environment asks for, if any. */
function envTemporality(): "cumulative" | "delta" | undefined {
  const value = readEnv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE");
  return value?.trim().toLowerCase() === "delta" ? "delta" : undefined;
}

/** A `key=value,…` environment variable, warning once about malformed entries. */
function envList(name: string): Record<string, string> {
  const text = readEnv(name);
  if (text === undefined) return {};
  const { entries, invalid } = parseKeyValueList(text);
  if (invalid.length > 0) {
    warnOnce(
      `env:${name}`,
      `ignored malformed entries of ${name}: ${JSON.stringify(invalid)}`,
    );
  }
  return entries;
}

/**
 * The resource attributes: the environment's, then the option's, with
 * `service.name` defaulting to `unknown_service`.
 */
export function resolveResource(
  option: Readonly<Record<string, string | number | boolean>> | undefined,
): Record<string, string | number | boolean> {
  const resource: Record<string, string | number | boolean> = {
    ...envList("OTEL_RESOURCE_ATTRIBUTES"),
  };
  const serviceName = readEnv("OTEL_SERVICE_NAME");
  if (serviceName !== undefined) resource["service.name"] = serviceName;
  for (const [key, value] of Object.entries(option ?? {})) {
    if (!["string", "number", "boolean"].includes(typeof value)) {
      rejectOption(
        OWNER,
        `resource attribute "${key}" must be a string, number or boolean`,
        value,
      );
    }
    resource[key] = value;
  }
  resource["service.name"] ??= "unknown_service";
  return resource;
}

/**
 * The request headers: the environment's, then the option's (names matched
 * whatever their case, the last one winning), with the protocol's own
 * `Content-Type`.
 */
export function resolveHeaders(
  option: Readonly<Record<string, string>> | undefined,
  protocol: "protobuf" | "json",
): Record<string, string> {
  // Header names are case-insensitive: merged through Headers, a later
  // source replaces an earlier one whatever its case, and none can add a
  // second Content-Type.
  const headers = new Headers();
  for (
    const source of [
      envList("OTEL_EXPORTER_OTLP_HEADERS"),
      envList("OTEL_EXPORTER_OTLP_METRICS_HEADERS"),
      option ?? {},
    ]
  ) {
    checkHeaders(OWNER, source);
    for (const [name, value] of Object.entries(source)) {
      headers.set(name, value);
    }
  }
  headers.set(
    "content-type",
    protocol === "json" ? OTLP_JSON_CONTENT_TYPE : OTLP_PROTOBUF_CONTENT_TYPE,
  );
  return Object.fromEntries(headers);
}
