/**
 * An `OtlpExporter`'s settings from its options and the standard
 * OpenTelemetry environment variables (options win; the environment only
 * where the runtime has one): endpoint, protocol, temporality, headers, and
 * the resource that names the sender, with its per-isolate instance id.
 *
 * @module
 */

import { VERSION } from "../_version.ts";
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

/** The compression: the option, else the environment's, else none. */
export function resolveCompression(option: unknown): "gzip" | "none" {
  return oneOf(
    "compression",
    option ?? envCompression() ?? "none",
    ["gzip", "none"] as const,
  );
}

/**
 * The timeout of one attempt: the option, else the environment's
 * (`OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT`, in
 * milliseconds), else undefined for the delivery default.
 */
export function resolveTimeoutMs(
  option: number | undefined,
): number | undefined {
  if (option !== undefined) return option;
  const [name, raw] = otlpEnv("TIMEOUT");
  const value = raw?.trim();
  if (value === undefined || value === "") return undefined;
  const ms = Number(value);
  if (Number.isFinite(ms) && ms > 0) return ms;
  warnOnce(
    `env:${name}`,
    `${name}=${
      JSON.stringify(value)
    } is not a positive number of milliseconds: using the default timeout`,
  );
  return undefined;
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
  const [, value] = otlpEnv("PROTOCOL");
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

/**
 * The OTLP variable `OTEL_EXPORTER_OTLP_METRICS_<setting>`, else the one for
 * every signal, `OTEL_EXPORTER_OTLP_<setting>`: its name and value.
 */
function otlpEnv(setting: string): [name: string, value: string | undefined] {
  const metrics = `OTEL_EXPORTER_OTLP_METRICS_${setting}`;
  const value = readEnv(metrics);
  if (value !== undefined) return [metrics, value];
  const all = `OTEL_EXPORTER_OTLP_${setting}`;
  return [all, readEnv(all)];
}

/** The compression the environment asks for, if any. */
function envCompression(): "gzip" | "none" | undefined {
  const [name, raw] = otlpEnv("COMPRESSION");
  const value = raw?.trim().toLowerCase();
  if (value === "gzip" || value === "none") return value;
  if (value !== undefined && value !== "") {
    warnOnce(
      `env:${name}`,
      `${name}=${
        JSON.stringify(value)
      } is not "gzip" or "none": sending uncompressed`,
    );
  }
  return undefined;
}

/** The temporality the environment asks for, if any. */
function envTemporality(): "cumulative" | "delta" | undefined {
  const name = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
  const value = readEnv(name)?.trim().toLowerCase();
  if (value === "delta" || value === "cumulative") return value;
  if (value !== undefined && value !== "") {
    // "lowmemory" needs to tell observable counters from the others, which
    // a snapshot does not; cumulative never loses a value.
    warnOnce(
      `env:${name}`,
      `${name}=${
        JSON.stringify(value)
      } is not "cumulative" or "delta": exporting cumulative`,
    );
  }
  return undefined;
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
 * `Content-Type`, and a `User-Agent` naming edgemetrics unless one is given
 * (the OTLP/HTTP spec asks exporters to send one).
 */
export function resolveHeaders(
  option: Readonly<Record<string, string>> | undefined,
  protocol: "protobuf" | "json",
): Record<string, string> {
  // Header names are case-insensitive: merged through Headers, a later
  // source replaces an earlier one whatever its case, and none can add a
  // second Content-Type.
  const headers = new Headers({ "user-agent": `edgemetrics/${VERSION}` });
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
