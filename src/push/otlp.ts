/**
 * OTLP/HTTP push: send a registry's metrics to an OpenTelemetry collector
 * from short-lived jobs and long-lived processes alike.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import { systemClock } from "../clock.ts";
import { defaultRegistry, type Registry } from "../registry.ts";
import { encodeOtlpJsonBytes } from "../encoders/_otlp_json.ts";
import { encodeOtlpProtobuf } from "../encoders/otlp_protobuf.ts";
import { deliver, describeError } from "./_delivery.ts";
import {
  type DeliveryOptions,
  type DeliverySettings,
  rejectOption,
  resolveDelivery,
} from "./_delivery_options.ts";
import { DeltaTracker } from "./_delta.ts";
import {
  instanceId,
  OWNER,
  resolveCompression,
  resolveHeaders,
  resolveProtocol,
  resolveResource,
  resolveTemporality,
  resolveTimeoutMs,
  resolveUrl,
} from "./_otlp_config.ts";
import { readPartialSuccess } from "./_otlp_partial_success.ts";
import { ExportLifecycle } from "./_lifecycle.ts";
import { VERSION } from "../_version.ts";
import { canGzip, gzip } from "../_gzip.ts";

export type { DeliveryOptions } from "./_delivery_options.ts";

/**
 * Options of an {@linkcode OtlpExporter}. Every field is optional; what the
 * options leave out comes from the standard OpenTelemetry environment
 * variables where the runtime has an environment, then from defaults.
 *
 * @example Delta temporality, JSON, a fixed endpoint
 * ```ts
 * import { OtlpExporter, type OtlpExporterOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: OtlpExporterOptions = {
 *   url: "http://collector:4318/v1/metrics",
 *   protocol: "json",
 *   temporality: "delta",
 *   resource: { "service.name": "billing-job", "deployment.environment": "prod" },
 * };
 * const exporter = new OtlpExporter(options);
 * assert.equal(exporter.url, "http://collector:4318/v1/metrics");
 * await exporter.shutdown();
 * ```
 */
export interface OtlpExporterOptions extends DeliveryOptions {
  /**
   * The full metrics endpoint. Default: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`,
   * else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, else
   * `http://localhost:4318/v1/metrics`.
   */
  url?: string;
  /**
   * `"protobuf"` (`application/x-protobuf`, the default) or `"json"`
   * (`application/json`). Default: `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL` or
   * `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, `http/json`), else protobuf.
   */
  protocol?: "protobuf" | "json";
  /**
   * `"gzip"` sends the body gzipped (`Content-Encoding: gzip`, compressed
   * once, so a retry sends the same bytes) where the runtime has
   * `CompressionStream`; `"none"` (the default) sends it as it is. Default:
   * `OTEL_EXPORTER_OTLP_METRICS_COMPRESSION` or `OTEL_EXPORTER_OTLP_COMPRESSION`.
   */
  compression?: "gzip" | "none";
  /**
   * Extra request headers, e.g. an API key; they are added to (and win over)
   * `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_METRICS_HEADERS`.
   * Names match whatever their case (the last one given wins); the
   * `Content-Type` is always the protocol's own.
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * Resource attributes, added to (and winning over) `OTEL_RESOURCE_ATTRIBUTES`.
   * `service.name` defaults to `OTEL_SERVICE_NAME`, else `unknown_service`;
   * `service.instance.id` defaults to a random UUID made on the first export,
   * one per isolate, so streams from different isolates never merge.
   */
  resource?: Readonly<Record<string, string | number | boolean>>;
  /** The registry to export (default {@linkcode defaultRegistry}). */
  registry?: Registry;
  /**
   * `"cumulative"` (the default: totals since each series started) or
   * `"delta"` (the change since the last acknowledged export). Applies to
   * counters and histograms, as OTel's delta preference does: up-down
   * counters stay cumulative (a backend needs their current value), gauges
   * are current values, and summaries stay cumulative (OTLP summaries carry
   * no temporality). Default also from
   * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`.
   */
  temporality?: "cumulative" | "delta";
  /**
   * Export every this many milliseconds once {@linkcode OtlpExporter.start}
   * (or the first `flush()`) starts the timer; off when omitted.
   */
  intervalMs?: number;
  /**
   * The instrumentation scope (default `{ name: "edgemetrics", version }`
   * with this package's version).
   */
  scope?: { readonly name: string; readonly version?: string };
  /**
   * Told about failures nobody awaits (periodic exports) and about data points
   * the collector accepted only in part. Default: `console.error`.
   */
  onError?: (error: Error) => void;
}

/**
 * Pushes a registry's metrics to an OpenTelemetry collector over OTLP/HTTP,
 * in protobuf (default) or JSON.
 *
 * Mapping: a counter is a monotonic Sum, a gauge a Gauge, a histogram an
 * explicit-bucket Histogram, a summary a Summary; observable instruments map
 * as their kind. Counters go out under their family name without `_total`
 * (`jobs_processed_total` is sent as `jobs_processed`), as the OpenTelemetry
 * OTLP-to-Prometheus translation expects, so a backend that translates back
 * shows `jobs_processed_total` again. A declared `unit` goes out in the OTLP
 * `unit` field.
 *
 * `flush()` collects, encodes and POSTs one batch and resolves once the
 * collector acknowledged it; it retries 429, 502, 503, 504, network errors
 * and timeouts (see {@linkcode DeliveryOptions}) and rejects with an error
 * naming the URL, the last status and the attempts. A retry resends the same
 * batch. With delta temporality a failed batch's increments stay pending and
 * the next export carries them. Concurrent `flush()` calls coalesce: callers
 * arriving while an export runs share one follow-up export.
 *
 * Constructing an exporter does no I/O, starts no timer and makes no random
 * value, so it may be done at module scope on Cloudflare Workers.
 *
 * @example Flush at the end of a job (here to a recording fetch)
 * ```ts
 * import { Counter, OtlpExporter, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const sent: Request[] = [];
 * const registry = new Registry();
 * const jobs = new Counter({ name: "jobs_processed_total", help: "Jobs.", registry });
 * {
 *   await using exporter = new OtlpExporter({
 *     url: "http://collector.test/v1/metrics",
 *     protocol: "json",
 *     resource: { "service.name": "nightly-import" },
 *     registry,
 *     fetch: (request) => {
 *       sent.push(request);
 *       return Promise.resolve(new Response("{}"));
 *     },
 *   });
 *   jobs.inc(3);
 * } // leaving the scope flushes and shuts the exporter down
 * assert.equal(sent.length, 1);
 * assert.equal(sent[0]?.headers.get("content-type"), "application/json");
 * const body = await sent[0]!.json();
 * const metric = body.resourceMetrics[0].scopeMetrics[0].metrics[0];
 * assert.equal(metric.name, "jobs_processed");
 * assert.equal(metric.sum.isMonotonic, true);
 * ```
 */
export class OtlpExporter implements AsyncDisposable {
  /** The endpoint batches are POSTed to. */
  readonly url: string;
  /** The wire format. */
  readonly protocol: "protobuf" | "json";
  /** The aggregation temporality of sums and histograms. */
  readonly temporality: "cumulative" | "delta";
  /** Whether bodies are sent gzipped. */
  readonly compression: "gzip" | "none";
  #headers: Record<string, string>;
  #resource: Record<string, string | number | boolean>;
  #registry: Registry;
  #scope: { readonly name: string; readonly version?: string };
  #onError: (error: Error) => void;
  #delivery: DeliverySettings;
  #clock: Clock;
  #lifecycle: ExportLifecycle;
  // OTel's delta preference: up-down counters stay cumulative.
  #delta = new DeltaTracker({ upDownCounters: "cumulative" });

  /**
   * Creates an exporter. It reads the environment for what the options leave
   * out, and does no I/O, timer or random work until the first export.
   *
   * @param options Endpoint, protocol, resource, temporality, retries; all optional.
   * @throws {TypeError} When `protocol`, `temporality`, `url` or `scope` is invalid.
   * @throws {RangeError} When a duration or `maxAttempts` is not above 0.
   */
  constructor(options: OtlpExporterOptions = {}) {
    const timeoutMs = resolveTimeoutMs(options.timeoutMs);
    this.#delivery = resolveDelivery(
      OWNER,
      timeoutMs === undefined ? options : { ...options, timeoutMs },
    );
    this.#clock = options.clock ?? systemClock;
    this.url = resolveUrl(options.url);
    this.protocol = resolveProtocol(options.protocol);
    this.temporality = resolveTemporality(options.temporality);
    this.compression = resolveCompression(options.compression);
    this.#headers = resolveHeaders(options.headers, this.protocol);
    this.#resource = resolveResource(options.resource);
    this.#registry = options.registry ?? defaultRegistry;
    const scope = options.scope ?? { name: "edgemetrics", version: VERSION };
    if (typeof scope?.name !== "string" || scope.name === "") {
      rejectOption(OWNER, "scope.name must be a non-empty string", scope?.name);
    }
    this.#scope = scope;
    this.#lifecycle = new ExportLifecycle(
      { owner: OWNER, url: this.url, intervalMs: options.intervalMs },
      () => this.#export(),
      (error) => this.#onError(error),
    );
    this.#onError = options.onError ?? reportToConsole;
  }

  /**
   * Collects the registry and exports it now.
   *
   * Resolves once the collector acknowledged the batch (2xx). Callers that
   * arrive while an export runs share the next export, which starts when
   * the running one ends. After {@linkcode OtlpExporter.shutdown} it does
   * nothing (with one warning). With `intervalMs`, the first call also starts
   * the periodic timer. An empty registry sends nothing.
   *
   * @returns A promise that settles when the batch is delivered.
   * @throws {Error} When the collector rejected the batch (400 and other
   * 4xx, 500), answered with a redirect (which never counts as delivery:
   * the message names its `Location`), or retries ran out; the message names the URL, the last status
   * or error, and the attempts. With delta temporality the batch's data is
   * kept for the next export.
   */
  flush(): Promise<void> {
    return this.#lifecycle.flush();
  }

  /**
   * Starts periodic exports every `intervalMs` (does nothing without it, or
   * when already started). Failures of periodic exports go to `onError`.
   * The timer does not keep a process alive where the runtime can unref it.
   */
  start(): void {
    this.#lifecycle.start();
  }

  /**
   * Stops the periodic timer and makes a final export of the registry.
   *
   * After it the exporter sends nothing more: a later `flush()` resolves at
   * once without exporting, and the first such call logs one
   * `console.warn`; `start()` and a second `shutdown()` do nothing. The
   * registry is not the exporter's: instruments keep recording into it
   * without any warning (a metrics handler or another exporter may still
   * read them), and those records are simply never sent by this exporter.
   *
   * @returns A promise that settles when the final export has.
   * @throws {Error} When the final export fails, as {@linkcode OtlpExporter.flush}.
   */
  shutdown(): Promise<void> {
    return this.#lifecycle.shutdown();
  }

  /**
   * Shuts the exporter down, flushing first: `await using exporter = ...`
   * exports at scope exit.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #export(): Promise<void> {
    const families = await this.#registry.collect();
    if (families.length === 0) return;
    const timeUnixMs = this.#clock.now();
    const delta = this.temporality === "delta"
      ? this.#delta.prepare(families, timeUnixMs)
      : undefined;
    this.#resource["service.instance.id"] ??= instanceId();
    const options = {
      resource: this.#resource,
      scope: this.#scope,
      temporality: this.temporality,
      timeUnixMs,
    };
    const batch = delta?.families ?? families;
    const encoded = this.protocol === "json"
      // The bytes encodeOtlpJson would return as a string, without the
      // decode and re-encode of a body that can be megabytes.
      ? encodeOtlpJsonBytes(batch, options)
      : encodeOtlpProtobuf(batch, options);
    const gzipped = this.compression === "gzip" && canGzip();
    const body = gzipped ? await gzip(encoded) : encoded;
    const headers = gzipped
      ? { ...this.#headers, "content-encoding": "gzip" }
      : this.#headers;
    const delivered = await deliver(
      "Cannot export metrics to",
      { method: "POST", url: this.url, headers, body },
      this.#delivery,
    );
    delta?.commit();
    if (delivered.bodyError !== undefined) {
      this.#onError(
        new Error(
          `Exported metrics to ${this.url}: the collector accepted them (HTTP ${delivered.status}) but its answer broke off, so any partial-success report is lost (${
            describeError(delivered.bodyError)
          })`,
          { cause: delivered.bodyError },
        ),
      );
    }
    const partial = readPartialSuccess(
      delivered.body,
      delivered.headers.get("content-type") ?? this.#headers["content-type"]!,
    );
    if (
      partial !== undefined &&
      (partial.rejected > 0 || partial.message !== "")
    ) {
      this.#onError(
        new Error(
          `Exported metrics to ${this.url} in part: the collector rejected ${partial.rejected} data point${
            partial.rejected === 1 ? "" : "s"
          }${partial.message === "" ? "" : ` (${partial.message})`}`,
        ),
      );
    }
  }
}

function reportToConsole(error: Error): void {
  console.error("edgemetrics:", error);
}
