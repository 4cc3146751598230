/**
 * Prometheus remote write push: send a registry's metrics straight into
 * Prometheus, Mimir, Cortex, Thanos Receive, VictoriaMetrics or Grafana
 * Cloud, from short-lived jobs and long-lived processes alike.
 *
 * @module
 */

import { defaultRegistry, type Registry } from "../registry.ts";
import { snappyCompress } from "../encoders/_snappy.ts";
import {
  encodeRemoteWrite,
  REMOTE_WRITE_CONTENT_TYPE,
} from "../encoders/remote_write.ts";
import {
  encodeRemoteWriteV2,
  REMOTE_WRITE_V2_CONTENT_TYPE,
} from "../encoders/remote_write_v2.ts";
import {
  countSeries,
  DEFAULT_MAX_SERIES_PER_REQUEST,
} from "../encoders/_remote_write.ts";
import { deliver, describeError } from "./_delivery.ts";
import {
  checkHeaders,
  type DeliveryOptions,
  type DeliverySettings,
  httpUrl,
  rejectOption,
  resolveDelivery,
} from "./_delivery_options.ts";
import { applyAuth } from "./_auth.ts";
import { ExportLifecycle } from "./_lifecycle.ts";
import { VERSION } from "../_version.ts";

/** Who errors name. */
const OWNER = "RemoteWriteExporter";

/** Headers the protocol sets itself (lower case): a user may not replace them. */
const RESERVED_HEADERS = [
  "content-encoding",
  "content-type",
  "user-agent",
  "x-prometheus-remote-write-version",
];

/** The response headers a 2.0 receiver must send with a 2xx. */
const WRITTEN_HEADERS = [
  "x-prometheus-remote-write-samples-written",
  "x-prometheus-remote-write-histograms-written",
  "x-prometheus-remote-write-exemplars-written",
];

/**
 * Options of a {@linkcode RemoteWriteExporter}; retries and timeouts are the
 * {@linkcode DeliveryOptions} every push exporter shares.
 *
 * @example Basic auth, a job label, remote write 2.0
 * ```ts
 * import { RemoteWriteExporter, type RemoteWriteExporterOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: RemoteWriteExporterOptions = {
 *   url: "https://mimir.example.com/api/v1/push",
 *   auth: { username: "tenant-1", password: "s3cr3t" },
 *   job: "nightly_import",
 *   protocol: "2.0",
 * };
 * const exporter = new RemoteWriteExporter(options);
 * assert.equal(exporter.protocol, "2.0");
 * await exporter.shutdown();
 * ```
 */
export interface RemoteWriteExporterOptions extends DeliveryOptions {
  /** The receiver's write endpoint, e.g. `http://prometheus:9090/api/v1/write`. */
  url: string;
  /**
   * `"1.0"` (the default: `prometheus.WriteRequest`, which every receiver
   * reads) or `"2.0"` (`io.prometheus.write.v2.Request`: a symbol table,
   * inline metadata, created timestamps; needs a receiver that speaks it).
   */
  protocol?: "1.0" | "2.0";
  /**
   * Extra request headers, e.g. `X-Scope-OrgID` for a Mimir tenant. Names
   * are case-insensitive. The protocol's own headers (`Content-Type`,
   * `Content-Encoding`, `User-Agent`, `X-Prometheus-Remote-Write-Version`)
   * may not be given.
   */
  headers?: Readonly<Record<string, string>>;
  /**
   * HTTP basic (`{ username, password }`) or bearer (`{ bearer }`)
   * authentication; not together with an `Authorization` header.
   */
  auth?:
    | { readonly username: string; readonly password: string }
    | { readonly bearer: string };
  /** The registry to export (default {@linkcode defaultRegistry}). */
  registry?: Registry;
  /** The `job` label of every series, as a scrape config would set it. */
  job?: string;
  /** The `instance` label of every series, e.g. a host or task id. */
  instance?: string;
  /**
   * Export every this many milliseconds once
   * {@linkcode RemoteWriteExporter.start} (or the first `flush()`) starts
   * the timer; off when omitted.
   */
  intervalMs?: number;
  /**
   * The most series in one request (default 2,000); an export with more is
   * split into several requests, sent one after another.
   */
  maxSeriesPerRequest?: number;
  /**
   * Told about failures nobody awaits (periodic exports), batches the
   * receiver refused with 400 (dropped), and writes a 2.0 receiver
   * confirmed only in part. Default: `console.warn`.
   */
  onError?: (error: Error) => void;
}

/**
 * Pushes a registry's metrics to a Prometheus remote write receiver
 * (Prometheus with `--web.enable-remote-write-receiver`, Mimir, Cortex,
 * Thanos Receive, VictoriaMetrics, Grafana Cloud), protocol 1.0 or 2.0,
 * snappy-compressed, with the headers the specification requires.
 *
 * Each export collects the registry once and sends every series with one
 * sample stamped with the export's time, as a scrape would see them (see
 * {@linkcode encodeRemoteWrite}), plus the `job` and `instance` labels of
 * the options. Values are cumulative, so an export that fails loses
 * nothing: the next one carries the totals.
 *
 * Delivery follows the specification: 5xx and 429 answers, network errors
 * and timeouts are retried with backoff (honouring `Retry-After`), other
 * 4xx never; the body of a retry is byte for byte the first one (same
 * timestamps), so a receiver that stored it already does not count it
 * twice. More than `maxSeriesPerRequest` series go in several requests,
 * one after another, all within one `deadlineMs`. A batch the receiver
 * refuses with 400 is invalid for good: it is dropped with one warning
 * (through `onError`) quoting the receiver's message, and the other
 * batches still go. Any other failure stops the export and rejects
 * `flush()`. With protocol 2.0, a 2xx without the
 * `X-Prometheus-Remote-Write-*-Written` headers comes from a receiver that
 * does not speak 2.0 and wrote nothing: as the specification says, it is
 * treated as 415 Unsupported Media Type, and `flush()` rejects.
 *
 * Lifecycle as {@linkcode OtlpExporter}: `flush()` at the end of a job,
 * `await using`, `ctx.waitUntil(exporter.flush())`, or periodic exports
 * with `intervalMs`; `shutdown()` makes a last export. Constructing one
 * does no I/O, starts no timer and makes no random value.
 *
 * @example Flush at the end of a job (here to a recording fetch)
 * ```ts
 * import { Counter, Registry, RemoteWriteExporter } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const sent: Request[] = [];
 * const registry = new Registry();
 * const rows = new Counter({ name: "rows_imported_total", help: "Rows.", registry });
 * {
 *   await using exporter = new RemoteWriteExporter({
 *     url: "http://prometheus.test:9090/api/v1/write",
 *     job: "import",
 *     auth: { bearer: "t0ken" },
 *     registry,
 *     fetch: (request) => {
 *       sent.push(request);
 *       return Promise.resolve(new Response(null, { status: 204 }));
 *     },
 *   });
 *   rows.inc(1200);
 * } // leaving the scope flushes and shuts the exporter down
 * assert.equal(sent.length, 1);
 * assert.equal(sent[0]?.headers.get("content-encoding"), "snappy");
 * assert.equal(sent[0]?.headers.get("x-prometheus-remote-write-version"), "0.1.0");
 * assert.equal(sent[0]?.headers.get("authorization"), "Bearer t0ken");
 * ```
 */
export class RemoteWriteExporter implements AsyncDisposable {
  /** The endpoint requests are POSTed to. */
  readonly url: string;
  /** The protocol version. */
  readonly protocol: "1.0" | "2.0";
  #headers: Record<string, string>;
  #registry: Registry;
  #job: string | undefined;
  #instance: string | undefined;
  #maxSeries: number;
  #onError: (error: Error) => void;
  #delivery: DeliverySettings;
  #lifecycle: ExportLifecycle;

  /**
   * Creates an exporter; no request is made until the first export.
   *
   * @param options The receiver's URL, protocol, auth, labels and delivery options.
   * @throws {TypeError} When the URL is not http(s) or carries credentials,
   * a header is reserved or invalid, `auth`, `protocol`, `job` or
   * `instance` is invalid.
   * @throws {RangeError} When `maxSeriesPerRequest` is below 1 or not whole,
   * or a duration or `maxAttempts` is not above 0.
   */
  constructor(options: RemoteWriteExporterOptions) {
    if (typeof options !== "object" || options === null) {
      rejectOption(OWNER, "options must be an object", options);
    }
    this.#delivery = resolveDelivery(OWNER, options);
    this.url = httpUrl(OWNER, options.url);
    const parsed = new URL(this.url);
    if (parsed.username !== "" || parsed.password !== "") {
      // fetch refuses URLs with credentials; the URL is not quoted: it holds one.
      throw new TypeError(
        `Cannot create ${OWNER}: url must not carry credentials (fetch refuses them), give auth: { username, password } instead, got a URL for ${parsed.host} with user info`,
      );
    }
    const protocol = options.protocol ?? "1.0";
    if (protocol !== "1.0" && protocol !== "2.0") {
      rejectOption(OWNER, 'protocol must be "1.0" or "2.0"', protocol);
    }
    this.protocol = protocol;
    for (const name of ["job", "instance"] as const) {
      const value = options[name];
      if (value !== undefined && (typeof value !== "string" || value === "")) {
        rejectOption(OWNER, `${name} must be a non-empty string`, value);
      }
    }
    this.#job = options.job;
    this.#instance = options.instance;
    const max = options.maxSeriesPerRequest ?? DEFAULT_MAX_SERIES_PER_REQUEST;
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
      rejectOption(
        OWNER,
        "maxSeriesPerRequest must be a whole number of at least 1 (one series per request)",
        max,
        RangeError,
      );
    }
    this.#maxSeries = max;
    const userHeaders = options.headers ?? {};
    checkHeaders(OWNER, userHeaders);
    const headers = new Headers(Object.entries(userHeaders));
    for (const name of RESERVED_HEADERS) {
      if (headers.has(name)) {
        const given = Object.keys(userHeaders).find((key) =>
          key.toLowerCase() === name
        );
        rejectOption(
          OWNER,
          "the remote write specification sets Content-Type, Content-Encoding, User-Agent and X-Prometheus-Remote-Write-Version itself: leave them out of headers",
          given,
        );
      }
    }
    applyAuth(OWNER, options.auth, headers);
    headers.set("content-encoding", "snappy");
    headers.set(
      "content-type",
      protocol === "2.0"
        ? REMOTE_WRITE_V2_CONTENT_TYPE
        : REMOTE_WRITE_CONTENT_TYPE,
    );
    headers.set("user-agent", `edgemetrics/${VERSION}`);
    headers.set(
      "x-prometheus-remote-write-version",
      protocol === "2.0" ? "2.0.0" : "0.1.0",
    );
    this.#headers = Object.fromEntries(headers);
    this.#registry = options.registry ?? defaultRegistry;
    this.#lifecycle = new ExportLifecycle(
      { owner: OWNER, url: this.url, intervalMs: options.intervalMs },
      () => this.#export(),
      (error) => this.#onError(error),
    );
    if (
      options.onError !== undefined && typeof options.onError !== "function"
    ) {
      rejectOption(OWNER, "onError must be a function", typeof options.onError);
    }
    this.#onError = options.onError ?? reportToConsole;
  }

  /**
   * Collects the registry and writes it to the receiver now.
   *
   * Resolves once every batch was acknowledged (2xx) or, for a 400, dropped
   * with a warning. Callers that arrive while an export runs share the next
   * export. After {@linkcode RemoteWriteExporter.shutdown} it does nothing
   * (with one warning). With `intervalMs`, the first call also starts the
   * periodic timer. A registry without series sends nothing.
   *
   * @returns A promise that settles when the export has.
   * @throws {Error} When the receiver refused a batch (4xx other than 400
   * and 429), retries or the deadline ran out, or a 2.0 receiver did not
   * confirm the write; the message names the URL, the batch, the last
   * status or error, and the attempts.
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
   * Stops the periodic timer and makes a final export. Afterwards the
   * exporter sends nothing: `flush()` resolves at once (the first such call
   * logs one warning), `start()` and a second `shutdown()` do nothing.
   *
   * @returns A promise that settles when the final export has.
   * @throws {Error} When the final export fails, as {@linkcode RemoteWriteExporter.flush}.
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
    const { clock } = this.#delivery;
    const encode = this.protocol === "2.0"
      ? encodeRemoteWriteV2
      : encodeRemoteWrite;
    // Encoded and compressed once: every retry resends these very bytes.
    const requests = encode(families, {
      timestampMs: clock.now(),
      job: this.#job,
      instance: this.#instance,
      maxSeriesPerRequest: this.#maxSeries,
    });
    if (requests.length === 0) return;
    const bodies = requests.map(snappyCompress);
    const total = countSeries(families);
    const deadline = clock.monotonic() + this.#delivery.deadlineMs;
    for (let i = 0; i < bodies.length; i++) {
      const which = bodies.length === 1
        ? ""
        : ` (batch ${i + 1} of ${bodies.length})`;
      const left = deadline - clock.monotonic();
      if (left <= 0) {
        throw new Error(
          `Cannot write metrics to ${this.url}${which}: the deadline of ${this.#delivery.deadlineMs} ms ran out before this batch`,
        );
      }
      // The last status seen, to tell a 400 apart from other failures.
      let lastStatus: number | undefined;
      const fetch = this.#delivery.fetch;
      const settings: DeliverySettings = {
        ...this.#delivery,
        deadlineMs: left,
        fetch: async (request) => {
          lastStatus = undefined;
          const response = await fetch(request);
          lastStatus = response.status;
          return response;
        },
      };
      let delivered;
      try {
        delivered = await deliver(
          `Cannot write metrics to`,
          {
            method: "POST",
            url: this.url,
            headers: this.#headers,
            body: bodies[i],
            retryable: retryable,
          },
          settings,
        );
      } catch (error) {
        if (lastStatus !== 400) throw addBatch(error, which);
        // A 400 will be a 400 again: the batch is dropped, the rest still go.
        this.#onError(
          new Error(
            `Dropped a batch of metrics${which}: the receiver refused it as invalid, so it is not sent again (${
              describeError(error)
            })`,
            { cause: error },
          ),
        );
        continue;
      }
      if (this.protocol === "2.0") {
        const sent = Math.min(this.#maxSeries, total - i * this.#maxSeries);
        this.#checkWritten(delivered.headers, which, sent);
      }
    }
  }

  /**
   * Reads the 2.0 `*-Written` headers of a 2xx answer: none means a
   * receiver that does not speak 2.0 (an error); fewer samples and
   * histograms together than `sent` series a write in part (reported).
   */
  #checkWritten(headers: Headers, which: string, sent: number): void {
    if (!WRITTEN_HEADERS.some((name) => headers.has(name))) {
      throw new Error(
        `Cannot write metrics to ${this.url}${which}: the receiver answered 2xx without the X-Prometheus-Remote-Write-*-Written headers, so it does not speak remote write 2.0 and wrote nothing; treated as 415 Unsupported Media Type as the specification says (use protocol "1.0" for this receiver)`,
      );
    }
    // A native histogram series carries a histogram sample, not a float
    // one: the receiver counts it under Histograms-Written.
    const samples = headers.get(WRITTEN_HEADERS[0]!)?.trim() ?? "";
    const histograms = headers.get(WRITTEN_HEADERS[1]!)?.trim() || "0";
    const written = /^\d+$/.test(samples) && /^\d+$/.test(histograms)
      ? Number(samples) + Number(histograms)
      : NaN;
    if (written < sent) {
      this.#onError(
        new Error(
          `Wrote metrics to ${this.url}${which} in part: the receiver wrote ${written} of ${sent} samples`,
        ),
      );
    }
  }
}

/** Remote write retries every 5xx and 429, never another 4xx. */
function retryable(status: number): boolean {
  return status === 429 || (status >= 500 && status < 600);
}

/** The error with the batch named in its message. */
function addBatch(error: unknown, which: string): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  if (which === "") return error;
  return new Error(
    error.message.replace(/^(Cannot write metrics to \S+)/, `$1${which}`),
    {
      cause: error.cause,
    },
  );
}

function reportToConsole(error: Error): void {
  console.warn("edgemetrics:", error.message);
}
