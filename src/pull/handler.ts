/**
 * The pull side: a fetch-style handler that serves a registry to Prometheus.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import { SAMPLE_SUFFIXES } from "../names.ts";
import { type CollectFilter, defaultRegistry } from "../registry.ts";
import {
  encodePrometheusText,
  PROMETHEUS_TEXT_CONTENT_TYPE,
} from "../encoders/prometheus_text.ts";
import {
  encodeOpenMetrics,
  OPENMETRICS_CONTENT_TYPE,
} from "../encoders/openmetrics.ts";
import {
  acceptsGzip,
  prefersHtml,
  prefersOpenMetrics,
  prefersProtobuf,
} from "./_negotiate.ts";
import {
  encodePrometheusProtobuf,
  PROMETHEUS_PROTOBUF_CONTENT_TYPE,
} from "../encoders/prometheus_protobuf.ts";
import { coalesce } from "./_coalesce.ts";
import { htmlPage } from "./_html.ts";

/**
 * Where {@linkcode metricsHandler} reads metrics from at every scrape: a
 * {@linkcode Registry}, or anything else that collects a snapshot (e.g. an
 * aggregator of several workers).
 *
 * `collect` must resolve with families whose names pass `filter` when one is
 * given (the handler encodes exactly what it gets), must not keep or mutate
 * the returned families, and should report a failing part itself and resolve
 * with the rest. A rejection makes the scrape answer 500.
 *
 * @example A source of fixed families
 * ```ts
 * import { metricsHandler, type MetricsSource } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const source: MetricsSource = {
 *   collect: () =>
 *     Promise.resolve([{
 *       type: "gauge",
 *       name: "workers",
 *       help: "Live workers.",
 *       aggregation: "sum",
 *       points: [{ labels: {}, value: 4 }],
 *     }]),
 * };
 * const response = await metricsHandler(source)(new Request("http://localhost/metrics"));
 * assert.equal(await response.text(), "# HELP workers Live workers.\n# TYPE workers gauge\nworkers 4\n");
 * ```
 */
export interface MetricsSource {
  /**
   * Collects the families that pass `filter` (all when it is omitted).
   *
   * @param filter Which families to include, by family name and kind.
   * @returns The snapshot.
   */
  collect(filter?: CollectFilter): Promise<readonly MetricFamily[]>;
}

/**
 * Who may scrape: a bearer token that the `Authorization` header must carry,
 * or a predicate over the request (sync or async) that returns `true` to let
 * it through.
 *
 * @example A predicate that admits one network's scrapers
 * ```ts
 * import type { MetricsAuth } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const auth: MetricsAuth = (request) => request.headers.get("X-Scraper") === "prometheus";
 * assert.equal(typeof auth, "function");
 * ```
 */
export type MetricsAuth =
  | { readonly bearer: string }
  | ((request: Request) => boolean | Promise<boolean>);

/**
 * Options of {@linkcode metricsHandler}.
 *
 * @example Serve only `/metrics`, behind a token, without created timestamps
 * ```ts
 * import type { MetricsHandlerOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: MetricsHandlerOptions = {
 *   path: "/metrics",
 *   auth: { bearer: "s3cret" },
 *   created: false,
 * };
 * assert.equal(options.path, "/metrics");
 * ```
 */
export interface MetricsHandlerOptions {
  /**
   * The only path served (e.g. `/metrics`); other paths answer 404, so the
   * handler can sit first in a chain of handlers. Default: every path.
   */
  path?: string;
  /**
   * Who may scrape; failures answer 401 (with `WWW-Authenticate: Bearer` for
   * a bearer token). Default: anyone.
   */
  auth?: MetricsAuth;
  /** Serve OpenMetrics 1.0 to clients that prefer it (default `true`); `false` always serves text 0.0.4. */
  openMetrics?: boolean;
  /**
   * Serve the Prometheus protobuf exposition to clients that prefer it
   * (default `true`): the format Prometheus asks for first when its native
   * histograms are enabled, and the only one that carries native buckets.
   */
  protobuf?: boolean;
  /** Write `_created` samples in OpenMetrics; default: the encoder's default. */
  created?: boolean;
  /** Gzip the body when the client accepts gzip and the runtime has `CompressionStream` (default `true`). */
  compress?: boolean;
  /**
   * The most scrapes served at once; one more answers 503 with
   * `Retry-After`, without collecting, so a flood of scrapes cannot pile
   * up work in the process. Concurrent scrapes with the same `name[]`
   * filter share one collection whatever the cap. Default: no cap.
   */
  maxInFlight?: number;
  /** The `Retry-After` seconds of a 503 past `maxInFlight` (default 1). */
  retryAfterSeconds?: number;
  /**
   * Answer a browser (`Accept` naming `text/html`, which no scraper sends)
   * with a page of the metrics (default `true`); `false` serves it text.
   */
  html?: boolean;
}

/** The request headers the metrics answers depend on. */
const VARY = "Accept, Accept-Encoding";
const CANNOT_CREATE = "Cannot create metrics handler";

/**
 * Creates a fetch-style handler that serves metrics to Prometheus: use it as
 * `export default { fetch: metricsHandler() }`, in `Deno.serve`, or call it
 * from your own router.
 *
 * Behaviour, in order:
 * - With `path` set, any other path answers 404 (`Not Found`).
 * - Methods other than GET and HEAD answer 405 with `Allow: GET, HEAD`.
 * - With `auth`, a request without the bearer token (compared in constant
 *   time), or one the predicate refuses, answers 401 and no metrics; with
 *   `WWW-Authenticate: Bearer` when the auth is a bearer token.
 * - The format follows `Accept` with its q-values: OpenMetrics 1.0.0 when the
 *   client prefers `application/openmetrics-text` (as Prometheus does), text
 *   0.0.4 otherwise, or always text with `openMetrics: false`. The Prometheus
 *   protobuf exposition when the client prefers it (Prometheus with native
 *   histograms enabled), unless `protobuf: false`.
 * - `?name[]=a&name[]=b` serves only those families, matched by prefixed
 *   family name or by a sample name (`a_total`, `a_bucket`, `a_count`, …), as
 *   prometheus_client does.
 * - The body is gzipped with `CompressionStream` (`Content-Encoding: gzip`)
 *   when `Accept-Encoding` allows gzip, `compress` is not `false` and the
 *   runtime has `CompressionStream`; otherwise it is sent as is. The response
 *   init then carries `encodeBody: "manual"`, which Cloudflare Workers need to
 *   send pre-compressed bytes unchanged and other runtimes ignore.
 * - HEAD answers with the headers GET would have, without collecting.
 * - A browser (`Accept` names `text/html` at least as high as the text
 *   formats; scrapers never name it) gets a page of the same families (see
 *   {@linkcode encodeHtml}) under a strict Content-Security-Policy, unless
 *   `html` is `false`. What scrapers get does not change.
 * - Scrapes that arrive while a collection with the same `name[]` filter
 *   runs share it: 50 concurrent scrapes run each callback once. With
 *   `maxInFlight`, a scrape beyond that many being served answers 503 with
 *   `Retry-After` (`retryAfterSeconds`) and collects nothing.
 * - Every response carries `Cache-Control: no-store`; the answers for the
 *   metrics themselves (200, 401 and 500, not 404 or 405) also carry
 *   `Vary: Accept, Accept-Encoding`, as the format and encoding depend on them.
 *
 * The handler never throws and never rejects. A failing collector is reported
 * by the registry and the other metrics are served; any other error (the
 * source rejecting, the auth predicate throwing) answers 500 with a short
 * text, and the error goes to `console.error`, never to the client.
 *
 * @param source Where metrics come from; default {@linkcode defaultRegistry}.
 * @param options Path, auth, format and compression choices.
 * @returns The handler.
 * @throws {TypeError} When `path` does not start with `/` or the bearer token is empty.
 * @throws {RangeError} When `maxInFlight` is not a whole number of at least
 * 1 (or `Infinity`), or `retryAfterSeconds` is not a whole number of at least 0.
 *
 * @example Serve a registry and scrape it like Prometheus does
 * ```ts
 * import { Counter, metricsHandler, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const jobs = new Counter({ name: "jobs_total", help: "Jobs done.", registry });
 * jobs.inc();
 *
 * const handler = metricsHandler(registry, { path: "/metrics" });
 * const response = await handler(new Request("http://localhost/metrics"));
 * assert.equal(response.headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
 * assert.equal(await response.text(), "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 1\n");
 *
 * const elsewhere = await handler(new Request("http://localhost/"));
 * assert.equal(elsewhere.status, 404);
 * ```
 */
export function metricsHandler(
  source: MetricsSource = defaultRegistry,
  options: MetricsHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const path = options.path;
  if (
    path !== undefined && (typeof path !== "string" || !path.startsWith("/"))
  ) {
    throw new TypeError(
      `${CANNOT_CREATE}: path must start with "/", got ${JSON.stringify(path)}`,
    );
  }
  const authorize = makeAuthorizer(options.auth);
  const challenge: Record<string, string> = typeof options.auth === "function"
    ? { Vary: VARY }
    : { Vary: VARY, "WWW-Authenticate": "Bearer" };
  const allowOpenMetrics = options.openMetrics ?? true;
  const allowProtobuf = options.protobuf ?? true;
  const compress = options.compress ?? true;
  const omOptions = options.created === undefined
    ? {}
    : { created: options.created };
  const maxInFlight = checkWhole("maxInFlight", options.maxInFlight, 1);
  const busy = {
    "Retry-After": String(
      checkWhole("retryAfterSeconds", options.retryAfterSeconds ?? 1, 0),
    ),
    Vary: VARY,
  };
  const collect = coalesce(source);
  let inFlight = 0;
  const html = options.html ?? true;
  /** Collects for a scrape; `undefined` when `maxInFlight` are being served. */
  const collectFor = async (
    url: URL,
  ): Promise<readonly MetricFamily[] | undefined> => {
    if (inFlight >= maxInFlight) return undefined;
    inFlight++;
    try {
      const names = url.searchParams.getAll("name[]");
      return await collect(names.join("\n"), familyFilter(names));
    } finally {
      inFlight--;
    }
  };
  const tooBusy = () =>
    respond(503, "Service Unavailable: too many scrapes\n", busy);

  return async function handleMetrics(request: Request): Promise<Response> {
    try {
      const url = new URL(request.url);
      if (path !== undefined && url.pathname !== path) {
        return respond(404, "Not Found\n");
      }
      const method = request.method;
      if (method !== "GET" && method !== "HEAD") {
        return respond(405, "Method Not Allowed\n", { Allow: "GET, HEAD" });
      }
      if (authorize !== undefined && !(await authorize(request))) {
        return respond(401, "Unauthorized\n", challenge);
      }

      const accept = request.headers.get("Accept");
      const gzip = compress && typeof CompressionStream === "function" &&
        acceptsGzip(request.headers.get("Accept-Encoding"));
      /** A 200 with `body`, gzipped when the client takes gzip. */
      const ok = (
        body: string | Uint8Array<ArrayBuffer> | null,
        headers: Record<string, string>,
      ) => {
        if (gzip) headers["Content-Encoding"] = "gzip";
        if (!gzip || body === null) return respond(200, body, headers);
        const stream = new Blob([body]).stream().pipeThrough(
          new CompressionStream("gzip"),
        );
        return respond(200, stream, headers, true);
      };
      if (html && prefersHtml(accept)) {
        const families = method === "HEAD" ? undefined : await collectFor(url);
        if (method !== "HEAD" && families === undefined) return tooBusy();
        const page = htmlPage(families);
        return ok(page.body, page.headers);
      }
      const protobuf = allowProtobuf && prefersProtobuf(accept);
      const openMetrics = !protobuf && allowOpenMetrics &&
        prefersOpenMetrics(accept);
      const headers: Record<string, string> = {
        "Content-Type": protobuf
          ? PROMETHEUS_PROTOBUF_CONTENT_TYPE
          : openMetrics
          ? OPENMETRICS_CONTENT_TYPE
          : PROMETHEUS_TEXT_CONTENT_TYPE,
        Vary: VARY,
      };
      if (method === "HEAD") return ok(null, headers);

      const families = await collectFor(url);
      if (families === undefined) return tooBusy();
      const text = protobuf
        // The writer's buffer is a plain ArrayBuffer.
        ? encodePrometheusProtobuf(families) as Uint8Array<ArrayBuffer>
        : openMetrics
        ? encodeOpenMetrics(families, omOptions)
        : encodePrometheusText(families);
      return ok(text, headers);
    } catch (error) {
      console.error("edgemetrics: serving metrics failed:", error);
      return respond(
        500,
        "Internal Server Error: metrics collection failed\n",
        { Vary: VARY },
      );
    }
  };
}

/** Checks a whole-number option of at least `min`; `Infinity` when omitted. */
function checkWhole(
  name: string,
  value: number | undefined,
  min: number,
): number {
  if (value === undefined || (value === Infinity && min > 0)) return Infinity;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(
      `${CANNOT_CREATE}: ${name} must be a whole number of at least ${min}, got ${value}`,
    );
  }
  return value;
}

/** Builds the filter for `name[]` values; `undefined` (everything) when there are none. */
function familyFilter(names: readonly string[]): CollectFilter | undefined {
  if (names.length === 0) return undefined;
  const wanted = new Set(names);
  return (name, type) => {
    if (wanted.has(name)) return true;
    for (const suffix of SAMPLE_SUFFIXES[type] ?? []) {
      if (wanted.has(name + suffix)) return true;
    }
    return false;
  };
}

/** Turns the `auth` option into a check, validating a bearer token up front. */
function makeAuthorizer(
  auth: MetricsAuth | undefined,
): ((request: Request) => boolean | Promise<boolean>) | undefined {
  if (auth === undefined) return undefined;
  if (typeof auth === "function") {
    return async (request) => (await auth(request)) === true;
  }
  const token = auth?.bearer;
  if (typeof token !== "string" || token === "") {
    throw new TypeError(
      `${CANNOT_CREATE}: auth.bearer must be a non-empty string, got ${
        JSON.stringify(token)
      }`,
    );
  }
  // Hashed on first use, not here: Workers allow no async work at module scope.
  let expected: Promise<Uint8Array> | undefined;
  return async (request) => {
    const header = request.headers.get("Authorization") ?? "";
    const match = /^Bearer[ \t]+(.+)$/i.exec(header.trim());
    const [want, got] = await Promise.all([
      expected ??= sha256(token),
      sha256(match?.[1] ?? ""),
    ]);
    return match !== null && equalInConstantTime(want, got);
  };
}

async function sha256(text: string): Promise<Uint8Array> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return new Uint8Array(digest);
}

/** Compares two digests of equal length without an early exit. */
function equalInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ (b[i] ?? 0);
  return difference === 0;
}

/**
 * A response that is never cached, plain text unless `headers` say
 * otherwise; `gzipped` marks a body that is already gzipped.
 */
function respond(
  status: number,
  body: BodyInit | null,
  headers: Record<string, string> = {},
  gzipped = false,
): Response {
  const init: ResponseInit & { encodeBody?: "manual" } = {
    status,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": "no-store",
      ...headers,
    },
  };
  // workerd re-compresses a body with Content-Encoding unless told it is
  // already encoded; other runtimes ignore the unknown key.
  if (gzipped) init.encodeBody = "manual";
  return new Response(body, init);
}
