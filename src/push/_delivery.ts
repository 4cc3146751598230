/**
 * Delivery shared by every push exporter: one HTTP request sent until the
 * receiver acknowledges it, with retries on transient failures (429, 502,
 * 503, 504, network errors, timeouts), exponential backoff with full jitter,
 * `Retry-After`, a timeout per attempt and a deadline for the whole delivery.
 * Also the one-at-a-time runner that makes concurrent flushes coalesce.
 *
 * Nothing here runs at import: no timers, no random values, no I/O.
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

/** The statuses OTLP/HTTP (and this module, for every receiver) retries. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  429,
  502,
  503,
  504,
]);

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

/** One request to deliver; `body` is resent unchanged by every retry. */
export interface Outgoing {
  readonly method: "POST" | "PUT" | "DELETE";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string | undefined;
  /**
   * Which non-2xx statuses are worth a retry (default: 429, 502, 503, 504,
   * {@linkcode RETRYABLE_STATUSES}); remote write retries every 5xx.
   */
  readonly retryable?: ((status: number) => boolean) | undefined;
}

/** What the receiver answered to the attempt that succeeded. */
export interface Delivered {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
  readonly attempts: number;
  /**
   * Why the answer's body could not be read (it is then empty). The status
   * already said the batch was accepted, so it still counts as delivered.
   */
  readonly bodyError?: unknown;
}

/** Why one attempt failed, and whether another may succeed. */
interface Failure {
  readonly detail: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number | undefined;
  readonly cause?: unknown;
}

/**
 * Sends `outgoing` until the receiver answers 2xx, retrying transient
 * failures within the settings' budget. Only a 2xx counts: a redirect is an
 * error that names its `Location` and is not retried, and the status alone
 * decides whether to retry (a 400 whose body breaks off is still a 400).
 *
 * @returns The successful answer, its body read in full.
 * @throws {Error} After a non-retryable answer, or when attempts or the
 * deadline run out; the message names the action, the URL, the last status
 * or error, and the number of attempts.
 */
export async function deliver(
  action: string,
  outgoing: Outgoing,
  settings: DeliverySettings,
): Promise<Delivered> {
  const { clock } = settings;
  const started = clock.monotonic();
  const deadline = started + settings.deadlineMs;
  let attempts = 0;
  for (;;) {
    attempts++;
    const remaining = deadline - clock.monotonic();
    const timeoutMs = Math.max(1, Math.min(settings.timeoutMs, remaining));
    const result = await attempt(outgoing, settings, timeoutMs, attempts);
    if (!("detail" in result)) return result;
    const fail = (why: string): never => {
      throw new Error(
        `${action} ${outgoing.url}: ${result.detail} after ${attempts} attempt${
          attempts === 1 ? "" : "s"
        }${why}`,
        { cause: result.cause },
      );
    };
    if (!result.retryable) fail(" (not retryable)");
    if (attempts >= settings.maxAttempts) {
      fail(`, the most allowed (maxAttempts)`);
    }
    const ceiling = Math.min(
      settings.maxBackoffMs,
      settings.initialBackoffMs * 2 ** (attempts - 1),
    );
    const waitMs = result.retryAfterMs ?? settings.random() * ceiling;
    const left = deadline - clock.monotonic();
    if (waitMs + settings.timeoutMs > left) {
      fail(
        result.retryAfterMs === undefined
          ? `; the deadline of ${settings.deadlineMs} ms leaves no time to retry`
          : `; Retry-After asks to wait ${
            Math.round(waitMs)
          } ms, too long for the deadline of ${settings.deadlineMs} ms`,
      );
    }
    await settings.sleep(waitMs);
  }
}

async function attempt(
  outgoing: Outgoing,
  settings: DeliverySettings,
  timeoutMs: number,
  attempts: number,
): Promise<Delivered | Failure> {
  const signal = AbortSignal.timeout(timeoutMs);
  let request: Request;
  try {
    // A body is resent unchanged by every attempt: fetch copies it per request.
    request = new Request(outgoing.url, {
      method: outgoing.method,
      headers: outgoing.headers,
      body: (outgoing.body ?? null) as BodyInit | null,
      // Followed, a 301, 302 or 303 turns the POST into a body-less GET
      // whose 2xx would pass for an acknowledgement: see the answer instead.
      redirect: "manual",
      signal,
    });
  } catch (error) {
    // A request that cannot be built will not build on a retry either.
    return {
      detail: `cannot build the request (${describeError(error)})`,
      retryable: false,
      cause: error,
    };
  }
  let response: Response;
  try {
    response = await settings.fetch(request);
  } catch (error) {
    return networkFailure(error, signal, timeoutMs);
  }
  // A redirect is never an acknowledgement, whatever answers at its end.
  const redirect = redirectFailure(response);
  if (redirect !== undefined) {
    await response.body?.cancel().catch(noop);
    return redirect;
  }
  // The status decides, never the body: a 2xx means the receiver took the
  // batch, so a body that breaks off afterwards must not make it send the
  // batch again; a 400 whose body breaks off is still a 400, not retried.
  const { status } = response;
  let body = new Uint8Array(0);
  let bodyError: unknown;
  try {
    body = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    bodyError = error;
  }
  if (status >= 200 && status < 300) {
    return { status, headers: response.headers, body, attempts, bodyError };
  }
  const text = bodyError === undefined
    ? describeBody(body)
    : ` (its body broke off: ${describeError(bodyError)})`;
  const detail = `got HTTP ${status}${
    response.statusText ? ` ${response.statusText}` : ""
  }${text}`;
  const retryable = outgoing.retryable ??
    ((status: number) => RETRYABLE_STATUSES.has(status));
  if (!retryable(status)) {
    return { detail, retryable: false, cause: bodyError };
  }
  return {
    cause: bodyError,
    detail,
    retryable: true,
    retryAfterMs: parseRetryAfter(
      response.headers.get("retry-after"),
      settings.clock.now(),
    ),
  };
}

/**
 * Why `response` is a redirect and so no delivery, or `undefined` when it
 * is none. Sent with `redirect: "manual"`, a runtime hands back the 3xx
 * answer itself (Deno, Node, Bun, workerd), or an opaque redirect with
 * status 0 and no headers (browsers); a `fetch` that follows anyway marks
 * its answer `redirected`. Not retryable: the next attempt would be
 * redirected again; the URL must name the final address.
 */
function redirectFailure(response: Response): Failure | undefined {
  const { status } = response;
  const advice =
    "(a redirect never counts as delivery: set the URL to the final address)";
  if (response.type === "opaqueredirect" || status === 0) {
    return {
      detail:
        `got a redirect whose Location the runtime hides (an opaque redirect, status ${status}) ${advice}`,
      retryable: false,
    };
  }
  if (status >= 300 && status < 400) {
    const location = response.headers.get("location");
    return {
      detail: `got HTTP ${status}${
        response.statusText ? ` ${response.statusText}` : ""
      } redirecting to ${
        location === null ? "nowhere (no Location)" : JSON.stringify(location)
      } ${advice}`,
      retryable: false,
    };
  }
  if (response.redirected) {
    return {
      detail: `was redirected to ${
        JSON.stringify(response.url)
      } by the fetch in use ${advice}`,
      retryable: false,
    };
  }
  return undefined;
}

function networkFailure(
  error: unknown,
  signal: AbortSignal,
  timeoutMs: number,
): Failure {
  return {
    detail: signal.aborted
      ? `no answer within the ${Math.round(timeoutMs)} ms timeout`
      : `network error (${describeError(error)})`,
    retryable: true,
    cause: error,
  };
}

/** An error's message, or the thrown value as text. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

function describeBody(body: Uint8Array): string {
  if (body.length === 0) return "";
  const text = new TextDecoder().decode(body.subarray(0, 400));
  // Protobuf or other binary answers are not worth quoting.
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 9 || (code > 13 && code < 32) || code === 0xfffd) return "";
  }
  const line = text.replace(/\s+/g, " ").trim();
  return line === ""
    ? ""
    : ` (${
      JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line)
    })`;
}

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP date.
 *
 * @returns The wait in milliseconds (never negative), or `undefined` when
 * the header is absent or unreadable.
 */
export function parseRetryAfter(
  header: string | null,
  nowMs: number,
): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; bare numbers like "-3" are not dates.
  const date = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * Runs tasks one at a time and coalesces callers: while a task runs, every
 * new call shares ONE follow-up run that starts when the current one ends, so
 * each caller's promise settles after a run that began after its call.
 */
export class Serial<T> {
  #running: Promise<T> | undefined;
  #queued: Promise<T> | undefined;

  /** Runs `task` now, or after the running task, shared with other waiting callers. */
  run(task: () => Promise<T>): Promise<T> {
    if (this.#queued !== undefined) return this.#queued;
    if (this.#running === undefined) return this.#start(task);
    const queued = this.#running.then(noop, noop).then(() => {
      this.#queued = undefined;
      return this.#start(task);
    });
    this.#queued = queued;
    return queued;
  }

  #start(task: () => Promise<T>): Promise<T> {
    const running = (async () => await task())();
    this.#running = running;
    const clear = () => {
      if (this.#running === running) this.#running = undefined;
    };
    running.then(clear, clear);
    return running;
  }
}

function noop(): void {}
