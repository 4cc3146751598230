/**
 * Pushgateway push: hand a batch job's metrics to a Prometheus Pushgateway,
 * which keeps them for Prometheus to scrape.
 *
 * @module
 */

import { defaultRegistry, type Registry } from "../registry.ts";
import {
  encodePrometheusText,
  PROMETHEUS_TEXT_CONTENT_TYPE,
} from "../encoders/prometheus_text.ts";
import { deliver } from "./_delivery.ts";
import {
  checkHeaders,
  type DeliveryOptions,
  type DeliverySettings,
  httpUrl,
  rejectOption,
  resolveDelivery,
} from "./_delivery_options.ts";
import { applyAuth, base64 } from "./_auth.ts";

/** Who errors name. */
const OWNER = "Pushgateway";

/** A Prometheus label name. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Options of a {@linkcode Pushgateway}; retries and timeouts are the
 * {@linkcode DeliveryOptions} every push exporter shares.
 *
 * @example
 * ```ts
 * import { Pushgateway, type PushgatewayOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: PushgatewayOptions = {
 *   url: "http://pushgateway:9091",
 *   job: "nightly_backup",
 *   groupingKey: { instance: "db-1" },
 *   auth: { bearer: "s3cr3t" },
 * };
 * assert.equal(
 *   new Pushgateway(options).groupUrl,
 *   "http://pushgateway:9091/metrics/job/nightly_backup/instance/db-1",
 * );
 * ```
 */
export interface PushgatewayOptions extends DeliveryOptions {
  /** The Pushgateway's base URL, e.g. `http://localhost:9091`. */
  url: string;
  /** The job label of the group. */
  job: string;
  /**
   * More labels that, with `job`, name the group. Make them identify the job
   * instance (e.g. `{ instance: hostname }`), or concurrent runs overwrite
   * each other's metrics.
   */
  groupingKey?: Readonly<Record<string, string>>;
  /** The registry to push (default {@linkcode defaultRegistry}). */
  registry?: Registry;
  /**
   * HTTP basic (`{ username, password }`) or bearer (`{ bearer }`)
   * authentication; not together with an `Authorization` header.
   */
  auth?:
    | { readonly username: string; readonly password: string }
    | { readonly bearer: string };
  /**
   * Extra request headers. Names are case-insensitive; a pushed body always
   * goes with its own `Content-Type`.
   */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Pushes a registry's metrics to a Prometheus Pushgateway as one group,
 * named by `job` and the grouping key in the URL path
 * (`/metrics/job/<job>/<label>/<value>...`). Values that contain `/`, are
 * empty, or are `.` or `..` (which URL parsing would treat as dot segments)
 * are sent base64-encoded (`<label>@base64/<url-safe base64>`), as the
 * Pushgateway expects.
 *
 * The body is the Prometheus text format 0.0.4 from the shared encoder. Each
 * operation retries 429, 502, 503, 504, network errors and timeouts like
 * every push exporter (see {@linkcode DeliveryOptions}); operations run one
 * after another, in call order.
 *
 * @example Push at the end of a batch job (here to a recording fetch)
 * ```ts
 * import { Gauge, Pushgateway, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const sent: Request[] = [];
 * const registry = new Registry();
 * const lastSuccess = new Gauge({
 *   name: "backup_last_success_timestamp_seconds",
 *   help: "When the backup last succeeded.",
 *   registry,
 * });
 * lastSuccess.set(1_700_000_000);
 * const gateway = new Pushgateway({
 *   url: "http://pushgateway.test:9091",
 *   job: "backup",
 *   groupingKey: { path: "/var/db" },
 *   registry,
 *   fetch: (request) => {
 *     sent.push(request);
 *     return Promise.resolve(new Response(null, { status: 200 }));
 *   },
 * });
 * await gateway.push();
 * assert.equal(sent[0]?.method, "PUT");
 * assert.equal(sent[0]?.url, "http://pushgateway.test:9091/metrics/job/backup/path@base64/L3Zhci9kYg==");
 * assert.match(await sent[0]!.text(), /^backup_last_success_timestamp_seconds 1700000000$/m);
 * ```
 */
export class Pushgateway {
  /** The URL of this exporter's group: base URL, job and grouping key. */
  readonly groupUrl: string;
  #registry: Registry;
  #headers: Record<string, string>;
  #delivery: DeliverySettings;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Creates a Pushgateway exporter for one group; no request is made until
   * an operation is called.
   *
   * @param options The Pushgateway URL, job, grouping key, registry and delivery options.
   * @throws {TypeError} When the URL, job, a grouping label name or the auth is invalid.
   * @throws {RangeError} When a duration or `maxAttempts` is not above 0.
   */
  constructor(options: PushgatewayOptions) {
    if (typeof options !== "object" || options === null) {
      rejectOption(OWNER, "options must be an object", options);
    }
    this.#delivery = resolveDelivery(OWNER, options);
    const url = httpUrl(OWNER, options.url);
    if (typeof options.job !== "string" || options.job === "") {
      rejectOption(OWNER, "job must be a non-empty string", options.job);
    }
    this.groupUrl = groupPath(url, options.job, options.groupingKey);
    this.#registry = options.registry ?? defaultRegistry;
    const userHeaders = options.headers ?? {};
    checkHeaders(OWNER, userHeaders);
    // Header names are case-insensitive: a plain object would keep
    // "Authorization" and "authorization" apart, and fetch would join them.
    const headers = new Headers(Object.entries(userHeaders));
    applyAuth(OWNER, options.auth, headers);
    // Lower-case names, so the body's content-type below replaces the user's.
    this.#headers = Object.fromEntries(headers);
  }

  /**
   * Replaces the group with the registry's current metrics (HTTP `PUT`):
   * metrics of the group that are not pushed again are removed.
   *
   * @returns A promise that settles when the Pushgateway accepted the push.
   * @throws {Error} When the Pushgateway rejected it, answered with a
   * redirect (never a delivery: the message names its `Location`) or
   * retries ran out; the message names the URL, the last status or error,
   * and the attempts.
   */
  push(): Promise<void> {
    return this.#send("PUT", "Cannot push metrics to");
  }

  /**
   * Adds the registry's current metrics to the group (HTTP `POST`): metrics
   * of the same name are replaced, others in the group are kept.
   *
   * @returns A promise that settles when the Pushgateway accepted the push.
   * @throws {Error} As {@linkcode Pushgateway.push}.
   */
  pushAdd(): Promise<void> {
    return this.#send("POST", "Cannot push-add metrics to");
  }

  /**
   * Deletes the group from the Pushgateway (HTTP `DELETE`).
   *
   * @returns A promise that settles when the group is deleted.
   * @throws {Error} As {@linkcode Pushgateway.push}.
   */
  delete(): Promise<void> {
    return this.#send("DELETE", "Cannot delete metrics at");
  }

  #send(method: "PUT" | "POST" | "DELETE", action: string): Promise<void> {
    const run = async () => {
      const headers = { ...this.#headers };
      let body: string | undefined;
      if (method !== "DELETE") {
        body = encodePrometheusText(await this.#registry.collect());
        headers["content-type"] = PROMETHEUS_TEXT_CONTENT_TYPE;
      }
      await deliver(
        action,
        { method, url: this.groupUrl, headers, body },
        this.#delivery,
      );
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }
}

/** `/metrics/job/<job>{/<label>/<value>}` with the Pushgateway's base64 escape. */
function groupPath(
  base: string,
  job: string,
  groupingKey: Readonly<Record<string, string>> | undefined,
): string {
  let path = `${base.replace(/\/+$/, "")}/metrics/${segment("job", job)}`;
  for (const [label, value] of Object.entries(groupingKey ?? {})) {
    if (!LABEL_NAME.test(label) || label === "job") {
      rejectOption(
        OWNER,
        `grouping key label names must match ${LABEL_NAME.source} and not be "job"`,
        label,
      );
    }
    if (typeof value !== "string") {
      rejectOption(
        OWNER,
        `grouping key value of "${label}" must be a string`,
        value,
      );
    }
    path += `/${segment(label, value)}`;
  }
  return path;
}

function segment(label: string, value: string): string {
  if (value === "") return `${label}@base64/=`;
  // "." and ".." as a path segment are dot segments: URL parsing would drop
  // them or climb a level, changing the group. Base64 keeps them values.
  if (value.includes("/") || value === "." || value === "..") {
    return `${label}@base64/${
      base64(value).replaceAll("+", "-").replaceAll("/", "_")
    }`;
  }
  return `${label}/${encodeURIComponent(value)}`;
}
