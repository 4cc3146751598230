/**
 * MeterProvider: the OpenTelemetry front end of a registry, structurally
 * `@opentelemetry/api`'s `MeterProvider` (1.x).
 *
 * @module
 */

import type { Attributes, GaugeFamily } from "../model.ts";
import { defaultRegistry, type Registry } from "../registry.ts";
import { describe, prometheusLabels } from "../names.ts";
import { Meter } from "./meter.ts";
import { checkViews, type View } from "../view.ts";

/**
 * Options of a {@linkcode MeterProvider}.
 *
 * @example
 * ```ts
 * import { type MeterProviderOptions, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: MeterProviderOptions = {
 *   registry: new Registry(),
 *   resource: { "service.name": "checkout", "deployment.environment": "prod" },
 *   views: [{ instrument: "db.*", attributeKeys: { exclude: ["db.statement"] } }],
 * };
 * assert.equal(options.views?.length, 1);
 * ```
 */
export interface MeterProviderOptions {
  /** Where the meters' instruments register: {@linkcode defaultRegistry} when omitted. */
  registry?: Registry;
  /**
   * The resource: plain attributes, or an object with `attributes` (an OTel
   * SDK `Resource`). Prometheus gets it as `target_info`; give the same to
   * your `OtlpExporter` as its `resource`, where OTLP carries it.
   */
  resource?: Attributes | { readonly attributes: Attributes };
  /** Views applied to every instrument the meters create. */
  views?: readonly View[];
}

/**
 * What {@linkcode MeterProvider.registerGlobal} needs of `@opentelemetry/api`'s
 * `metrics` object.
 *
 * @example
 * ```ts
 * import type { GlobalMetricsApi } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * let set: unknown;
 * const api: GlobalMetricsApi = { setGlobalMeterProvider: (p) => (set = p, true) };
 * assert.equal(api.setGlobalMeterProvider({}), true);
 * assert.ok(set);
 * ```
 */
export interface GlobalMetricsApi {
  /** Registers a provider; false when one was registered before. */
  setGlobalMeterProvider(provider: object): boolean;
}

/**
 * A meter provider over an edgemetrics registry: give it to
 * `metrics.setGlobalMeterProvider()` of `@opentelemetry/api` (or call
 * {@linkcode MeterProvider.registerGlobal}), and every library that records
 * through the API lands in your `/metrics` and your OTLP export, as the
 * same snapshot families as the prom-client-style instruments.
 *
 * What the API's global registration cannot do: it has no proxy for
 * meters, so a library that called `metrics.getMeter()` before you
 * registered keeps a no-op meter (register first, at startup, before
 * importing instrumented code); and only the first registration wins, so
 * under Deno with `OTEL_DENO=true` (Deno's built-in OpenTelemetry registers
 * its own provider) `setGlobalMeterProvider` returns false;
 * `registerGlobal` detects that and says so.
 *
 * @example Record through the OTel API shape, scrape as Prometheus
 * ```ts
 * import { MeterProvider, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const provider = new MeterProvider({ registry, resource: { "service.name": "shop" } });
 * const meter = provider.getMeter("shop", "1.0.0");
 * const duration = meter.createHistogram("http.server.request.duration", {
 *   unit: "s",
 *   advice: { explicitBucketBoundaries: [0.1, 1] },
 * });
 * duration.record(0.05, { "http.route": "/cart", "http.response.status_code": 200 });
 * const text = await registry.metrics();
 * assert.match(text, /^target_info\{service_name="shop"\} 1$/m);
 * assert.match(
 *   text,
 *   /^http_server_request_duration_seconds_bucket\{http_response_status_code="200",http_route="\/cart",le="0.1"\} 1$/m,
 * );
 * ```
 */
export class MeterProvider {
  /** The registry the meters' instruments register in. */
  readonly registry: Registry;
  /** The resource attributes (for an `OtlpExporter`'s `resource`). */
  readonly resource: Attributes;
  readonly #views: readonly View[];
  readonly #meters = new Map<string, Meter>();

  /**
   * Creates a provider; with a resource, registers its `target_info`.
   *
   * @param options Registry, resource and views.
   * @throws {TypeError} When a view or the resource is malformed.
   * @throws {RangeError} When a view's `maxSeries` or buckets are out of range.
   * @throws {DuplicateMetricError} When the registry already has a `target_info`.
   */
  constructor(options: MeterProviderOptions = {}) {
    this.registry = options.registry ?? defaultRegistry;
    // The registry's views first, then the provider's own.
    this.#views = Object.freeze([
      ...this.registry.views,
      ...checkViews(options.views),
    ]);
    this.resource = checkResource(options.resource);
    if (Object.keys(this.resource).length > 0) {
      const family: GaugeFamily = {
        type: "gauge",
        name: "target_info",
        help: "Target metadata",
        target: true,
        aggregation: "max",
        points: [{ labels: prometheusLabels(this.resource), value: 1 }],
      };
      this.registry.register({
        name: "target_info",
        type: "gauge",
        collect: () => family,
      });
    }
  }

  /**
   * Returns the meter of a name and version (the same one for the same
   * name, version and schema URL).
   *
   * @param name The instrumentation scope name, e.g. a library's package name.
   * @param version Its version.
   * @param options `schemaUrl`, kept apart but not exported.
   * @returns The meter.
   */
  getMeter(
    name: string,
    version?: string,
    options?: { readonly schemaUrl?: string },
  ): Meter {
    const scopeName = typeof name === "string" ? name : "";
    const scopeVersion = typeof version === "string" ? version : "";
    const key = [scopeName, scopeVersion, options?.schemaUrl ?? ""].join(
      "\u0000",
    );
    let meter = this.#meters.get(key);
    if (meter === undefined) {
      meter = new Meter(
        Object.freeze({ name: scopeName, version: scopeVersion }),
        { registry: this.registry, views: this.#views },
      );
      this.#meters.set(key, meter);
    }
    return meter;
  }

  /**
   * Registers this provider as `@opentelemetry/api`'s global one.
   *
   * @param api The API's `metrics` object (`import { metrics } from "@opentelemetry/api"`).
   * @throws {Error} When another provider is already registered, naming
   * Deno's built-in OpenTelemetry when `OTEL_DENO=true` is why.
   */
  registerGlobal(api: GlobalMetricsApi): void {
    if (api.setGlobalMeterProvider(this)) return;
    const deno = otelDenoEnabled();
    throw new Error(
      "Cannot register MeterProvider globally: @opentelemetry/api already has a global MeterProvider" +
        (deno
          ? " (Deno's built-in OpenTelemetry registered its own because OTEL_DENO=true; unset OTEL_DENO to record into edgemetrics)"
          : " (register edgemetrics' provider first, at startup)"),
    );
  }
}

/** Whether `OTEL_DENO=true` is set, read structurally (no `Deno` types); false without env permission. */
export function otelDenoEnabled(): boolean {
  try {
    const env = (globalThis as {
      Deno?: { env?: { get?(key: string): string | undefined } };
    }).Deno?.env;
    return env?.get?.("OTEL_DENO")?.toLowerCase() === "true";
  } catch {
    return false; // NotCapable: no env permission
  }
}

function checkResource(
  resource: MeterProviderOptions["resource"],
): Attributes {
  if (resource === undefined) return Object.freeze({});
  const attributes = typeof resource === "object" && resource !== null &&
      "attributes" in resource && typeof resource.attributes === "object"
    ? resource.attributes as Attributes
    : resource as Attributes;
  if (typeof attributes !== "object" || attributes === null) {
    throw new TypeError(
      `Cannot create MeterProvider: resource must be an object of attributes, got ${
        describe(resource)
      }`,
    );
  }
  const clean: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (
      typeof value !== "string" && typeof value !== "number" &&
      typeof value !== "boolean"
    ) {
      throw new TypeError(
        `Cannot create MeterProvider: resource attribute "${key}" must be a string, number or boolean, got ${
          describe(value)
        }`,
      );
    }
    clean[key] = value;
  }
  return Object.freeze(clean);
}
