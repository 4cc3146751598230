/**
 * What every push exporter is configured with: its transport, clock and
 * retry budget ({@linkcode DeliveryOptions}), read once into settings with
 * defaults, and the checks of URLs, headers and numbers that make a bad
 * option fail when the exporter is created rather than at every export.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";

/**
 * How a push exporter sends and retries: the transport, the clock and the
 * retry budget. Every field is optional; the defaults suit a serverless job.
 *
 * Requests are sent with `redirect: "manual"`: a redirect never counts as
 * delivery (followed, a 303 would turn the POST into a GET whose 200 says
 * nothing about the batch), so it fails the delivery naming its `Location`.
 *
 * A delivery makes at most `maxAttempts` attempts. Each attempt may take
 * `timeoutMs`; it is retried when the receiver answers 429, 502, 503 or 504,
 * when the connection fails, or when the attempt times out. Between attempts
 * it waits a random time between 0 and `initialBackoffMs * 2^(attempt-1)`
 * (capped at `maxBackoffMs`), or exactly what the receiver's `Retry-After`
 * asks. A retry is made only when its wait and a full `timeoutMs` attempt
 * fit before `deadlineMs` (counted from the start of the delivery), so a
 * delivery ends by its deadline and no retry gets a truncated timeout.
 *
 * @example Retry fast in a test, with a recording fetch
 * ```ts
 * import { type DeliveryOptions, OtlpExporter, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const statuses = [503, 200];
 * const options: DeliveryOptions = {
 *   fetch: () => Promise.resolve(new Response(null, { status: statuses.shift() ?? 200 })),
 *   sleep: () => Promise.resolve(),
 *   random: () => 0.5,
 *   maxAttempts: 3,
 * };
 * const registry = new Registry();
 * registry.register({
 *   name: "up",
 *   type: "gauge",
 *   collect: () => ({ type: "gauge", name: "up", help: "Up.", aggregation: "max", points: [{ labels: {}, value: 1 }] }),
 * });
 * const exporter = new OtlpExporter({ ...options, registry, resource: { "service.name": "doc" } });
 * await exporter.flush();
 * assert.deepEqual(statuses, []);
 * await exporter.shutdown();
 * ```
 */
export interface DeliveryOptions {
  /** The `fetch` to send with (default: the global `fetch`, looked up at send time). */
  fetch?: (request: Request) => Promise<Response>;
  /** Where time comes from: `now()` stamps exports, `monotonic()` measures the deadline. */
  clock?: Clock;
  /** How long one attempt may take, in milliseconds (default 10,000). */
  timeoutMs?: number;
  /** How long the whole delivery, retries and waits included, may take, in milliseconds (default 30,000). */
  deadlineMs?: number;
  /** The most attempts per delivery (default 5). */
  maxAttempts?: number;
  /** The backoff ceiling of the first retry, in milliseconds (default 500). */
  initialBackoffMs?: number;
  /** The largest backoff ceiling, in milliseconds (default 5,000). */
  maxBackoffMs?: number;
  /** Random numbers in [0, 1) for the jitter (default `Math.random`). */
  random?: () => number;
  /** Waits between attempts (default `setTimeout`); tests pass one that advances a fake clock. */
  sleep?: (ms: number) => Promise<void>;
}

/** Delivery options with every default filled in. */
export interface DeliverySettings {
  readonly fetch: (request: Request) => Promise<Response>;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Throws the error a push exporter's constructor raises for a bad option:
 * `Cannot create <owner>: <rule>, got <value as JSON>`.
 *
 * @throws {TypeError} Or `type`, always.
 */
export function rejectOption(
  owner: string,
  rule: string,
  value: unknown,
  type: ErrorConstructor = TypeError,
): never {
  throw new type(
    `Cannot create ${owner}: ${rule}, got ${JSON.stringify(value)}`,
  );
}

/**
 * An option that must be a number above 0: `value`, or `fallback` when it
 * is undefined.
 *
 * @throws {RangeError} When it is given and not a number above 0.
 */
export function positive<F>(
  owner: string,
  name: string,
  value: unknown,
  fallback: F,
): number | F {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0)) {
    rejectOption(owner, `${name} must be a number above 0`, value, RangeError);
  }
  return value;
}

/**
 * Checks delivery options and fills in the defaults. `owner` names the
 * exporter in error messages.
 */
export function resolveDelivery(
  owner: string,
  options: DeliveryOptions,
): DeliverySettings {
  const maxAttempts = positive(owner, "maxAttempts", options.maxAttempts, 5);
  if (!Number.isInteger(maxAttempts)) {
    throw new RangeError(
      `Cannot create ${owner}: maxAttempts must be a whole number, got ${maxAttempts}`,
    );
  }
  for (const name of ["fetch", "random", "sleep"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(
        `Cannot create ${owner}: ${name} must be a function, got ${typeof value}`,
      );
    }
  }
  return {
    fetch: options.fetch ?? ((request) => fetch(request)),
    clock: options.clock ?? systemClock,
    timeoutMs: positive(owner, "timeoutMs", options.timeoutMs, 10_000),
    deadlineMs: positive(owner, "deadlineMs", options.deadlineMs, 30_000),
    maxAttempts,
    initialBackoffMs: positive(
      owner,
      "initialBackoffMs",
      options.initialBackoffMs,
      500,
    ),
    maxBackoffMs: positive(owner, "maxBackoffMs", options.maxBackoffMs, 5_000),
    random: options.random ?? Math.random,
    sleep: options.sleep ?? defaultSleep,
  };
}

/**
 * `url` when it is an absolute `http:` or `https:` URL.
 *
 * @throws {TypeError} Naming the owner and the URL, when it is not.
 */
export function httpUrl(owner: string, url: unknown): string {
  const protocol = typeof url === "string" && URL.canParse(url)
    ? new URL(url).protocol
    : "";
  if (protocol !== "http:" && protocol !== "https:") {
    rejectOption(owner, "url must be an absolute http or https URL", url);
  }
  return url as string;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks that `headers` make valid HTTP headers, so a bad header fails when
 * the exporter is created rather than at every export. A bad value is
 * described by its first offending character, never quoted: header values
 * are often credentials, and this message ends up in logs.
 *
 * @throws {TypeError} Naming the owner and the offending header.
 */
export function checkHeaders(
  owner: string,
  headers: Readonly<Record<string, string>>,
): void {
  for (const [name, value] of Object.entries(headers)) {
    try {
      new Headers([[name, value]]);
    } catch {
      const what = `Cannot create ${owner}: header ${JSON.stringify(name)}`;
      if (typeof value !== "string") {
        throw new TypeError(
          `${what}: a value must be a string, got ${typeof value}`,
        );
      }
      // Fetch refuses NUL, CR, LF and anything past U+00FF in a value.
      const bad = value.search(/[\0\r\n\u0100-\uffff]/);
      if (bad < 0) {
        throw new TypeError(
          `${what}: a name must be an HTTP token (letters, digits and !#$%&'*+-.^_\`|~)`,
        );
      }
      const code = value.charCodeAt(bad).toString(16).toUpperCase();
      throw new TypeError(
        `${what}: a value must not hold NUL, CR, LF or characters past U+00FF, got U+${
          code.padStart(4, "0")
        } at index ${bad} (the value is not quoted: it may be a credential)`,
      );
    }
  }
}
