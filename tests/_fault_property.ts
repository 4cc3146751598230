/**
 * Test helper: the delivery property every push exporter must keep, run over
 * seeded fault sequences against an in-memory receiver, through the
 * exporter's injectable `fetch`, clock and sleep (so a thousand sequences
 * take seconds: only a hang costs real time, one short `timeoutMs`).
 *
 * A sequence records into a counter with labels and a histogram, flushes a
 * few times (sometimes three flushes at once, sometimes with records made
 * while a request is in flight, sometimes calling `shutdown()` from inside a
 * retry's backoff), then the receiver recovers and the exporter shuts down.
 * The receiver answers each request with the next fault of the sequence:
 * see {@linkcode FAULTS}. It keeps what it acknowledged, and the property
 * is checked on that:
 *
 * - delta: the sum of everything acknowledged equals everything recorded,
 *   less the points a partial success said it rejected (the spec forbids
 *   resending them) and apart from bodies taken by a 200 that came after
 *   the client's timeout: the client resends those, as any at-least-once
 *   protocol must, and they are counted and reported as duplicates, never
 *   as violations. Intervals are contiguous.
 * - cumulative: no acknowledged value ever goes backwards, and the last one
 *   is exactly what was recorded.
 * - every failed flush says why in the exporter's words; every answer whose
 *   body broke off or that rejected points is reported once to `onError`.
 *
 * To run the property over a new exporter, describe it as an
 * {@linkcode ExporterUnderTest}: how to create it from a {@linkcode PushEnv},
 * how to read the bodies it sends into {@linkcode Points}, and which faults
 * and temporalities apply; then call {@linkcode runProperty}.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Counter, type DeliveryOptions, Histogram, Registry } from "../mod.ts";

/** What the receiver can do to one request. */
export const FAULTS = [
  "ok", // 200 with a JSON body
  "ok-empty", // 200, empty body
  "ok-garbage", // 200, a body that is not what the exporter expects
  "204",
  "partial", // 200, partial success: one data point rejected
  "301",
  "302",
  "303",
  "307",
  "308",
  "400",
  "400-cut", // 400 whose body breaks off
  "404",
  "413",
  "429-0s", // Retry-After: 0
  "429-1s", // Retry-After: 1
  "429-date", // Retry-After: an HTTP date a second ahead
  "500",
  "502",
  "503",
  "504",
  "reset-before", // the connection drops before the request is taken
  "reset-mid", // 200, then the connection drops in the middle of the body
  "hang", // no answer until the client's timeout
  "late-200", // taken, but the 200 arrives after the client's timeout
] as const;

/** One of {@linkcode FAULTS}. */
export type Fault = typeof FAULTS[number];

/** Faults a retry rides out, so a delivery still ends in a 2xx. */
const TRANSIENT: ReadonlySet<Fault> = new Set<Fault>([
  "429-0s",
  "429-1s",
  "429-date",
  "502",
  "503",
  "504",
  "reset-before",
  "hang",
]);

/** What a failed delivery must name when `fault` was its last answer; undefined for a 2xx, which must not fail. */
function causeOf(fault: Fault): RegExp | undefined {
  if (/^(ok|204|partial|reset-mid)/.test(fault)) return undefined;
  if (/^30/.test(fault)) return /redirect/;
  if (fault === "reset-before") return /network error/;
  if (fault === "hang" || fault === "late-200") {
    return /no answer within the \d+ ms timeout/;
  }
  return new RegExp(`got HTTP ${fault.slice(0, 3)}\\b`);
}

/** One series in one body, in a neutral form every exporter maps to. */
export interface Point {
  /**
   * A counter's value, or a histogram's per-bucket (not cumulative) counts
   * followed by its count.
   */
  values: number[];
  /** The start of the point's interval, when the format has one (OTLP). */
  start?: bigint;
  /** The end of the point's interval, when the format has one (OTLP). */
  time?: bigint;
}

/**
 * Series by key: `faults_jobs{kind=a}` for the counter, `faults_size{}` for
 * the histogram (bounds 1, 2, 5).
 */
export type Points = Map<string, Point>;

/** What an exporter under test is created with. */
export interface PushEnv {
  /** Where to send. */
  url: string;
  registry: Registry;
  /** fetch, clock, sleep, random and a small retry budget: pass them all. */
  delivery: DeliveryOptions;
  temporality: "delta" | "cumulative";
  /** Where the exporter reports what it must not throw. */
  onError: (error: Error) => void;
  /** The sequence's seed, e.g. to vary the protocol. */
  seed: number;
}

/** An exporter plugged into the property. */
export interface ExporterUnderTest {
  /** For messages, e.g. "OtlpExporter". */
  name: string;
  /** The path the receiver is at, e.g. "/v1/metrics". */
  path: string;
  /** The faults that apply to it (all of them for OTLP). */
  faults: readonly Fault[];
  create(env: PushEnv): {
    flush(): Promise<void>;
    shutdown(): Promise<void>;
  };
  /** Reads one request body into neutral points. */
  decode(body: Uint8Array, contentType: string): Points;
  /** What a flush that failed must say. */
  error: RegExp;
  /** Whether it reports a broken or partial answer to `onError`. */
  reportsToOnError: boolean;
  /**
   * Faults this exporter's protocol retries, when they differ from the
   * default (429, 502, 503, 504, a reset before the answer, a hang): remote
   * write, for one, retries every 5xx.
   */
  transient?: readonly Fault[];
}

/** What one run of the property found. */
export interface PropertyResult {
  sequences: number;
  violations: string[];
  /** Bodies acknowledged by a 200 that arrived after the client's timeout. */
  lateAcks: number;
  /** Increments of the counter those bodies carried: resent, so counted twice. */
  duplicatedIncrements: number;
  /** How often each fault and each event was applied. */
  seen: Map<string, number>;
}

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EPOCH = 1_700_000_000_000;
/** Real milliseconds a hang costs: the exporter's per-attempt timeout. */
const TIMEOUT_MS = 5;
const BOUNDS = [1, 2, 5];

/** A fake clock whose time moves only when the test says so. */
class FakeTime {
  now = EPOCH;
  monotonic = 0;
  readonly clock = { now: () => this.now, monotonic: () => this.monotonic };
  advance(ms: number): void {
    // Whole milliseconds, as Date.now() gives them.
    this.now += Math.ceil(ms);
    this.monotonic += Math.ceil(ms);
  }
}

interface Acknowledged {
  points: Points;
  /** Taken by a 200 the client never saw (it had timed out). */
  late: boolean;
  /** The key of the point a partial success rejected. */
  rejected?: string;
}

/** The in-memory receiver: answers each request with the next scripted fault. */
class Receiver {
  script: Fault[] = [];
  readonly acknowledged: Acknowledged[] = [];
  readonly log: Fault[] = [];
  /** Answers the client got whose body broke off or that rejected points. */
  reports = 0;
  /** Runs while a request is in flight, before it is answered. */
  onRequest: (() => void) | undefined;
  readonly #adapter: ExporterUnderTest;
  readonly #time: FakeTime;
  readonly #random: () => number;

  constructor(
    adapter: ExporterUnderTest,
    time: FakeTime,
    random: () => number,
  ) {
    this.#adapter = adapter;
    this.#time = time;
    this.#random = random;
  }

  readonly fetch = async (request: Request): Promise<Response> => {
    const { signal } = request;
    const body = new Uint8Array(await request.arrayBuffer());
    const contentType = request.headers.get("content-type") ?? "";
    this.onRequest?.();
    const fault = this.script.shift() ?? "ok";
    this.log.push(fault);
    const take = (late = false): Acknowledged => {
      const taken = {
        points: this.#adapter.decode(body, contentType),
        late,
      };
      this.acknowledged.push(taken);
      return taken;
    };
    // A real client that timed out never sees the answer: its fetch rejects.
    const answer = (
      response: Response,
      taken?: Acknowledged,
      reports = false,
    ): Response => {
      if (signal.aborted) {
        if (taken !== undefined) taken.late = true;
        throw signal.reason;
      }
      if (reports) this.reports++;
      return response;
    };
    const json = (status: number, text: string, headers = {}) =>
      new Response(text, {
        status,
        headers: { "content-type": "application/json", ...headers },
      });
    switch (fault) {
      case "ok":
        return answer(json(200, "{}"), take());
      case "ok-empty":
        return answer(new Response(null, { status: 200 }), take());
      case "ok-garbage":
        return answer(json(200, "\u0000<html>not json"), take());
      case "204":
        return answer(new Response(null, { status: 204 }), take());
      case "partial": {
        const taken = take();
        const first = [...taken.points.keys()][0];
        if (first === undefined) return answer(json(200, "{}"), taken);
        taken.rejected = first;
        return answer(
          json(
            200,
            '{"partialSuccess":{"rejectedDataPoints":"1","errorMessage":"one point refused"}}',
          ),
          taken,
          true,
        );
      }
      case "301":
      case "302":
      case "303":
      case "307":
      case "308": {
        const status = Number(fault);
        if (request.redirect !== "manual") {
          // What fetch does when it follows: 307/308 resend the body to
          // the target, 301/302/303 turn the POST into a body-less GET.
          const followed = status >= 307
            ? json(200, "{}")
            : json(200, '{"page":"login"}');
          if (status >= 307) take();
          Object.defineProperty(followed, "redirected", { value: true });
          return answer(followed);
        }
        if (this.#random() < 0.5) return answer(opaqueRedirect());
        return answer(
          new Response(null, {
            status,
            headers: { location: "https://elsewhere.test/v1/metrics" },
          }),
        );
      }
      case "400":
        return answer(json(400, '{"code":3,"message":"bad data"}'));
      case "400-cut":
        return answer(new Response(breaksOff('{"code":3,'), { status: 400 }));
      case "404":
        return answer(new Response("not found", { status: 404 }));
      case "413":
        return answer(new Response("too large", { status: 413 }));
      case "429-0s":
        return answer(json(429, "{}", { "retry-after": "0" }));
      case "429-1s":
        return answer(json(429, "{}", { "retry-after": "1" }));
      case "429-date":
        return answer(
          json(429, "{}", {
            "retry-after": new Date(this.#time.now + 1000).toUTCString(),
          }),
        );
      case "500":
      case "502":
      case "503":
      case "504":
        return answer(json(Number(fault), "{}"));
      case "reset-before":
        throw new TypeError("connection reset by peer");
      case "reset-mid":
        return answer(
          new Response(breaksOff("{"), {
            status: 200,
            headers: { "content-type": "application/json" },
          }),
          take(),
          true,
        );
      case "hang":
      case "late-200": {
        const taken = fault === "late-200" ? take(true) : undefined;
        await aborted(signal);
        this.#time.advance(TIMEOUT_MS);
        if (taken !== undefined) taken.late = true;
        throw signal.reason;
      }
    }
  };
}

function breaksOff(start: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(start));
      controller.error(new TypeError("connection reset mid-body"));
    },
  });
}

/** What a browser's fetch gives for redirect: "manual" (no constructor makes one). */
function opaqueRedirect(): Response {
  return {
    type: "opaqueredirect",
    status: 0,
    statusText: "",
    ok: false,
    redirected: false,
    url: "",
    headers: new Headers(),
    body: null,
    arrayBuffer: () => Promise.resolve(new ArrayBuffer(0)),
  } as unknown as Response;
}

function aborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) =>
      signal.addEventListener("abort", () => resolve(), { once: true })
    );
}

function add(into: Map<string, number[]>, key: string, values: number[]): void {
  const sums = into.get(key) ?? values.map(() => 0);
  into.set(key, sums.map((sum, i) => sum + values[i]!));
}

function same(a: Map<string, number[]>, b: Map<string, number[]>): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

function show(map: Map<string, number[]>): string {
  return JSON.stringify(Object.fromEntries(map));
}

interface SequenceResult {
  violations: string[];
  lateAcks: number;
  duplicatedIncrements: number;
  seen: string[];
}

/** One seeded sequence; returns what broke the property, if anything. */
async function runSequence(
  adapter: ExporterUnderTest,
  temporality: "delta" | "cumulative",
  seed: number,
): Promise<SequenceResult> {
  const random = prng(seed);
  const transient: ReadonlySet<Fault> = adapter.transient === undefined
    ? TRANSIENT
    : new Set(adapter.transient);
  const time = new FakeTime();
  const receiver = new Receiver(adapter, time, random);
  const seen: string[] = [];
  const others = adapter.faults.filter((fault) => fault !== "ok");
  const length = 2 + Math.floor(random() * 10);
  for (let i = 0; i < length; i++) {
    receiver.script.push(
      random() < 0.3 ? "ok" : others[Math.floor(random() * others.length)]!,
    );
  }

  const registry = new Registry({ clock: time.clock });
  const jobs = new Counter({
    name: "faults_jobs_total",
    help: "Jobs.",
    labelNames: ["kind"] as const,
    registry,
  });
  const sizes = new Histogram({
    name: "faults_size",
    help: "Sizes.",
    buckets: BOUNDS,
    registry,
  });
  const expected = new Map<string, number[]>();
  const record = () => {
    const kind = ["a", "b", "c"][Math.floor(random() * 3)]!;
    const amount = 1 + Math.floor(random() * 5);
    jobs.inc({ kind }, amount);
    add(expected, `faults_jobs{kind=${kind}}`, [amount]);
    const size = Math.floor(random() * 7);
    sizes.observe(size);
    const bucket = BOUNDS.findIndex((bound) => size <= bound);
    const counts = [0, 0, 0, 0];
    counts[bucket === -1 ? BOUNDS.length : bucket] = 1;
    add(expected, "faults_size{}", [...counts, 1]);
  };

  const reported: string[] = [];
  /** Failed flushes: the message, and the receiver's last answer then. */
  const failures: { message: string; last: Fault | undefined }[] = [];
  const retriedAfter: Fault[] = [];
  const resolvedAfter: Fault[] = [];
  // Noted as the flush fails, before a queued flush can send again.
  const track = (flush: Promise<void>): Promise<void> =>
    flush.then(() => {
      // Resolved: the last answer must have been a 2xx (never a redirect).
      const last = receiver.log.at(-1);
      if (last !== undefined && causeOf(last) !== undefined) {
        resolvedAfter.push(last);
      }
    }, (error) => {
      failures.push({
        message: String(error?.message ?? error),
        last: receiver.log.at(-1),
      });
    });
  const shutdownInRetries = random() < 0.2;
  let shuttingDown: Promise<void> | undefined;
  const exporter = adapter.create({
    url: `http://receiver.test${adapter.path}`,
    registry,
    temporality,
    seed,
    onError: (error) => reported.push(error.message),
    delivery: {
      fetch: receiver.fetch,
      clock: time.clock,
      random,
      timeoutMs: TIMEOUT_MS,
      deadlineMs: 20_000,
      maxAttempts: 4,
      initialBackoffMs: 200,
      maxBackoffMs: 2_000,
      sleep: (ms) => {
        // The exporter waits only to retry: never after an answer that
        // must not be retried (a 2xx, a redirect, 400, 404, 413, 500).
        const last = receiver.log.at(-1);
        if (last !== undefined && !transient.has(last) && last !== "late-200") {
          retriedAfter.push(last);
        }
        time.advance(ms);
        if (shutdownInRetries && shuttingDown === undefined) {
          // shutdown() while a delivery waits to retry. Nothing is recorded
          // after it (the exporter would never send it), and the receiver
          // lets the rest through after at most two transient faults.
          seen.push("shutdown during retries");
          receiver.onRequest = undefined;
          receiver.script = receiver.script
            .filter((fault) => transient.has(fault))
            .slice(0, 2);
          shuttingDown = exporter.shutdown();
          shuttingDown.catch(() => {});
        }
        return Promise.resolve();
      },
    },
  });

  const rounds = 1 + Math.floor(random() * 5);
  for (let round = 0; round < rounds && shuttingDown === undefined; round++) {
    const increments = 1 + Math.floor(random() * 4);
    for (let i = 0; i < increments; i++) record();
    time.advance(1_000);
    if (random() < 0.3) {
      seen.push("records during a flush");
      receiver.onRequest = () => {
        if (random() < 0.7) record();
      };
    } else {
      receiver.onRequest = undefined;
    }
    if (random() < 0.25) {
      seen.push("concurrent flushes");
      const first = track(exporter.flush());
      record();
      await Promise.all([
        first,
        track(exporter.flush()),
        track(exporter.flush()),
      ]);
    } else {
      await track(exporter.flush());
    }
  }
  // The receiver recovers; the final flush must deliver the rest.
  receiver.onRequest = undefined;
  receiver.script.length = 0;
  time.advance(1_000);
  const violations: string[] = [];
  try {
    await (shuttingDown ?? exporter.shutdown());
    const last = receiver.log.at(-1);
    if (last !== undefined && causeOf(last) !== undefined) {
      resolvedAfter.push(last);
    }
  } catch (error) {
    violations.push(`the final flush failed: ${(error as Error).message}`);
  }

  seen.push(...receiver.log);
  const context = `${adapter.name} ${temporality} seed ${seed} (faults: ${
    receiver.log.join(" ")
  })`;
  for (const { message, last } of failures) {
    const cause = last === undefined ? undefined : causeOf(last);
    if (
      !adapter.error.test(message) || cause === undefined ||
      !cause.test(message)
    ) {
      violations.push(
        `${context}: a flush whose last answer was ${last} failed with ${
          JSON.stringify(message)
        }`,
      );
    }
  }
  for (const fault of resolvedAfter) {
    violations.push(
      `${context}: a flush resolved after ${fault}, which is no delivery`,
    );
  }
  for (const fault of retriedAfter) {
    violations.push(
      `${context}: retried after ${fault}, which must not be retried`,
    );
  }
  if (adapter.reportsToOnError && reported.length !== receiver.reports) {
    violations.push(
      `${context}: ${reported.length} reports to onError for ${receiver.reports} broken or partial answers: ${
        JSON.stringify(reported)
      }`,
    );
  }

  let lateAcks = 0;
  let duplicatedIncrements = 0;
  for (const taken of receiver.acknowledged) {
    if (!taken.late) continue;
    lateAcks++;
    for (const [key, point] of taken.points) {
      if (key.startsWith("faults_jobs")) {
        duplicatedIncrements += point.values[0]!;
      }
    }
  }

  if (temporality === "delta") {
    const sums = new Map<string, number[]>();
    const lastTime = new Map<string, bigint>();
    for (const taken of receiver.acknowledged) {
      if (taken.late) continue;
      for (const [key, point] of taken.points) {
        // What a partial success rejected is gone (the spec forbids a
        // resend): count it as delivered for the sum.
        add(sums, key, point.values);
        const previous = lastTime.get(key);
        if (
          previous !== undefined && point.start !== undefined &&
          point.start !== previous
        ) {
          violations.push(
            `${context}: ${key} starts at ${point.start}, not where its last interval ended (${previous})`,
          );
        }
        if (point.time !== undefined) lastTime.set(key, point.time);
      }
    }
    for (const [key, values] of sums) {
      if (values.every((value) => value === 0)) sums.delete(key);
    }
    if (!same(sums, expected)) {
      violations.push(
        `${context}: acknowledged ${show(sums)}, recorded ${show(expected)}`,
      );
    }
  } else {
    const last = new Map<string, number[]>();
    const starts = new Map<string, bigint>();
    for (const taken of receiver.acknowledged) {
      for (const [key, point] of taken.points) {
        const previous = last.get(key);
        if (
          previous !== undefined &&
          point.values.some((value, i) => value < previous[i]!)
        ) {
          violations.push(
            `${context}: ${key} went backwards from ${previous} to ${point.values}`,
          );
        }
        const start = starts.get(key);
        if (point.start !== undefined) {
          if (start !== undefined && start !== point.start) {
            violations.push(`${context}: ${key} changed its start time`);
          }
          starts.set(key, point.start);
        }
        if (taken.rejected !== key) last.set(key, point.values);
      }
    }
    for (const [key, values] of last) {
      if (values.every((value) => value === 0)) last.delete(key);
    }
    if (!same(last, expected)) {
      violations.push(
        `${context}: last acknowledged ${show(last)}, recorded ${
          show(expected)
        }`,
      );
    }
  }
  return { violations, lateAcks, duplicatedIncrements, seen };
}

/**
 * Runs `sequences` seeded sequences (seeds 1 to `sequences`) of the
 * property over an exporter, prints the seed count, the violation count,
 * the late acknowledgements and their duplicates, and returns them.
 */
export async function runProperty(
  adapter: ExporterUnderTest,
  temporality: "delta" | "cumulative",
  sequences: number,
): Promise<PropertyResult> {
  const result: PropertyResult = {
    sequences,
    violations: [],
    lateAcks: 0,
    duplicatedIncrements: 0,
    seen: new Map(),
  };
  for (let seed = 1; seed <= sequences; seed++) {
    const one = await runSequence(adapter, temporality, seed);
    result.violations.push(...one.violations);
    result.lateAcks += one.lateAcks;
    result.duplicatedIncrements += one.duplicatedIncrements;
    for (const what of one.seen) {
      result.seen.set(what, (result.seen.get(what) ?? 0) + 1);
    }
  }
  console.log(
    `${adapter.name} (${temporality}): ${sequences} seeded sequences, ${result.violations.length} violations; ` +
      `${result.lateAcks} bodies acknowledged by a 200 after the client's timeout and resent, as the spec allows` +
      (temporality === "delta"
        ? ` (${result.duplicatedIncrements} counter increments delivered twice)`
        : " (harmless: a cumulative value repeats)"),
  );
  console.log("  applied:", JSON.stringify(Object.fromEntries(result.seen)));
  for (const violation of result.violations.slice(0, 5)) {
    console.log("  violation:", violation);
  }
  return result;
}

/**
 * Asserts a run kept the property and exercised every fault and event of
 * `adapter` at least `atLeast` times.
 */
export function assertHeld(
  adapter: ExporterUnderTest,
  result: PropertyResult,
  atLeast = 10,
): void {
  for (
    const what of [
      ...adapter.faults,
      "concurrent flushes",
      "records during a flush",
      "shutdown during retries",
    ]
  ) {
    const count = result.seen.get(what) ?? 0;
    assert.ok(count >= atLeast, `${what} applied ${count} times`);
  }
  assert.deepEqual(result.violations.slice(0, 5), []);
  assert.equal(result.violations.length, 0);
}
