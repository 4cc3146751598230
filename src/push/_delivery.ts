/**
 * Delivery shared by every push exporter: one HTTP request sent until the
 * receiver acknowledges it, with retries on transient failures (429, 502,
 * 503, 504, network errors, timeouts), exponential backoff with full jitter,
 * `Retry-After`, a timeout per attempt and a deadline for the whole delivery.
 *
 * Nothing here runs at import: no timers, no random values, no I/O.
 *
 * @module
 */

import type { DeliverySettings } from "./_delivery_options.ts";

/** The statuses OTLP/HTTP (and this module, for every receiver) retries. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  429,
  502,
  503,
  504,
]);

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
    await response.body?.cancel().catch(() => {});
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
