/**
 * OtlpExporter against misbehaving collectors: first the delivery property
 * of `tests/_fault_property.ts` over 1,000 seeded fault sequences per
 * temporality through an injected fetch (every fault the hostile probe
 * listed), then a real collector on loopback.
 *
 * The fake collector is a minimal HTTP/1.1 server on a raw TCP listener, so
 * it can do what a real network does: answer 503 with Retry-After, 429, 500,
 * 400, hang past the client's timeout, drop the connection without an
 * answer, or answer 200 and drop the connection in the middle of the body
 * ("cut": counted, since the status said it was taken). It counts a batch
 * only when it answered it 2xx. Faults come from
 * seeded random sequences; the property: after the job's final flush the
 * collector holds every increment exactly once (the sum of the deltas, or
 * the last cumulative value, for counters and histogram buckets alike), delta
 * intervals are contiguous, and every
 * failed flush was a clear error.
 *
 * Waits between retries use an injected sleep on a fake clock, so only
 * hangs cost real time (the small per-attempt timeout).
 */
import assert from "node:assert/strict";
import { Counter, Histogram, OtlpExporter, Registry } from "../../mod.ts";
import { decodeOtlpProtobuf } from "../_otlp_decode.ts";
import {
  assertHeld,
  type ExporterUnderTest,
  FAULTS,
  type Points,
  prng,
  runProperty,
} from "../_fault_property.ts";

type Fault =
  | "ok"
  | "503"
  | "429"
  | "500"
  | "400"
  | "hang"
  | "drop"
  | "cut";

const EPOCH = 1_700_000_000_000;
// Long enough that a loaded machine answers an "ok" in time (a client that
// times out on a request the collector took must resend it: that duplicate
// is inherent to any at-least-once protocol, not what this test is about),
// short enough that the hangs stay cheap.
const TIMEOUT_MS = 500;

// deno-lint-ignore no-explicit-any
type Json = any;

/** A loopback OTLP/HTTP collector that misbehaves on request. */
class FakeCollector {
  readonly #listener: Deno.TcpListener;
  readonly #connections = new Set<Promise<void>>();
  readonly #serving: Promise<void>;
  /** Decides each request's fate; "ok" once it returns undefined. */
  next: () => Fault | undefined = () => undefined;
  /** The bodies it acknowledged (answered 2xx), parsed. */
  readonly acknowledged: Json[] = [];
  /** Every fault it applied, in order. */
  readonly log: Fault[] = [];

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#serving = this.#accept();
  }

  get url(): string {
    return `http://127.0.0.1:${this.#listener.addr.port}/v1/metrics`;
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#serving;
    await Promise.all(this.#connections);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const handled = this.#handle(conn).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch { /* already closed */ }
          this.#connections.delete(handled);
        });
        this.#connections.add(handled);
      }
    } catch { /* listener closed */ }
  }

  async #handle(conn: Deno.TcpConn): Promise<void> {
    const body = await readRequest(conn);
    if (body === undefined) return;
    const fault = this.next() ?? "ok";
    this.log.push(fault);
    switch (fault) {
      case "ok":
        // Count it, then acknowledge it.
        this.acknowledged.push(JSON.parse(new TextDecoder().decode(body)));
        return await answer(
          conn,
          "200 OK",
          "{}",
          "content-type: application/json",
        );
      case "503":
        return await answer(
          conn,
          "503 Service Unavailable",
          "overloaded",
          "retry-after: 2",
        );
      case "429":
        return await answer(conn, "429 Too Many Requests", "slow down");
      case "500":
        return await answer(conn, "500 Internal Server Error", "boom");
      case "400":
        return await answer(conn, "400 Bad Request", '{"code":3}');
      case "hang": {
        // Never answer; wait for the client to give up and close.
        const scratch = new Uint8Array(256);
        const limit = setTimeout(() => conn.close(), 10_000);
        try {
          while ((await conn.read(scratch)) !== null) { /* discard */ }
        } finally {
          clearTimeout(limit);
        }
        return;
      }
      case "drop":
        return; // closed without a word by the caller
      case "cut": {
        // Taken and counted; the 200 goes out, then the connection drops
        // before the promised body is complete.
        this.acknowledged.push(JSON.parse(new TextDecoder().decode(body)));
        const head = "HTTP/1.1 200 OK\r\ncontent-length: 64\r\n" +
          "content-type: application/json\r\nconnection: close\r\n\r\n{";
        const out = new TextEncoder().encode(head);
        let written = 0;
        while (written < out.length) {
          written += await conn.write(out.subarray(written));
        }
        return; // closed by the caller, 63 bytes short
      }
    }
  }
}

async function readRequest(
  conn: Deno.TcpConn,
): Promise<Uint8Array | undefined> {
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  const append = (n: number) => {
    const next = new Uint8Array(buffer.length + n);
    next.set(buffer);
    next.set(chunk.subarray(0, n), buffer.length);
    buffer = next;
  };
  let headerEnd = -1;
  while (headerEnd < 0) {
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    append(n);
    headerEnd = findHeaderEnd(buffer);
  }
  const head = new TextDecoder().decode(buffer.subarray(0, headerEnd));
  const match = /^content-length:\s*(\d+)/im.exec(head);
  const length = match ? Number(match[1]) : 0;
  while (buffer.length < headerEnd + 4 + length) {
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    append(n);
  }
  return buffer.subarray(headerEnd + 4, headerEnd + 4 + length);
}

function findHeaderEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 &&
      bytes[i + 3] === 10
    ) return i;
  }
  return -1;
}

async function answer(
  conn: Deno.TcpConn,
  status: string,
  body: string,
  header?: string,
): Promise<void> {
  const bytes = new TextEncoder().encode(body);
  const text = `HTTP/1.1 ${status}\r\ncontent-length: ${bytes.length}\r\n` +
    `connection: close\r\n${header ? `${header}\r\n` : ""}\r\n`;
  const out = new Uint8Array([...new TextEncoder().encode(text), ...bytes]);
  let written = 0;
  while (written < out.length) {
    written += await conn.write(out.subarray(written));
  }
}

/** What one series carries in one acknowledged body. */
interface Sample {
  /** A sum's value, or a histogram's bucket counts then its count. */
  values: number[];
  start: bigint;
  time: bigint;
  temporality: number;
}

/** The sum and histogram points of one acknowledged body, by series. */
function dataPoints(body: Json): Map<string, Sample> {
  const out = new Map<string, Sample>();
  for (const metric of body.resourceMetrics[0].scopeMetrics[0].metrics) {
    const data = metric.sum ?? metric.histogram;
    if (data === undefined) continue;
    for (const point of data.dataPoints) {
      const labels = (point.attributes ?? []).map((a: Json) =>
        `${a.key}=${a.value.stringValue}`
      ).join(",");
      out.set(`${metric.name}{${labels}}`, {
        values: metric.sum
          ? [point.asDouble ?? Number(point.asInt)]
          : [...point.bucketCounts.map(Number), Number(point.count)],
        start: BigInt(point.startTimeUnixNano),
        time: BigInt(point.timeUnixNano),
        temporality: data.aggregationTemporality,
      });
    }
  }
  return out;
}

function add(into: Map<string, number[]>, key: string, values: number[]): void {
  const sums = into.get(key) ?? values.map(() => 0);
  into.set(key, sums.map((sum, i) => sum + values[i]!));
}

const ERROR =
  /^Cannot export metrics to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics: (got HTTP (429|500|503|400) [A-Za-z ]+|network error \(.+\)|no answer within the \d+ ms timeout)( \(".*"\))? after \d+ attempts?( \(not retryable\)|, the most allowed \(maxAttempts\)|; .*deadline.*)$/;

/**
 * One job under one fault sequence: a few rounds of increments and flushes,
 * then a final flush once the collector behaves. Returns what to compare.
 */
async function runJob(
  collector: FakeCollector,
  seed: number,
  temporality: "delta" | "cumulative",
): Promise<void> {
  const random = prng(seed);
  collector.next = () => {
    const r = random();
    return r < 0.45
      ? "ok"
      : r < 0.57
      ? "503"
      : r < 0.67
      ? "429"
      : r < 0.74
      ? "500"
      : r < 0.81
      ? "400"
      : r < 0.825
      ? "hang"
      : r < 0.92
      ? "drop"
      : "cut";
  };
  let now = EPOCH;
  let monotonic = 0;
  const clock = { now: () => now, monotonic: () => monotonic };
  const registry = new Registry({ clock });
  const jobs = new Counter({
    name: "faults_jobs_total",
    help: "Jobs.",
    labelNames: ["kind"] as const,
    registry,
  });
  const errors: string[] = [];
  const onError = (error: Error) => errors.push(`onError: ${error.message}`);
  const exporter = new OtlpExporter({
    url: collector.url,
    protocol: "json",
    temporality,
    resource: { "service.name": "fault-job" },
    registry,
    clock,
    sleep: (ms) => {
      // Whole milliseconds, as Date.now() gives them.
      monotonic += Math.ceil(ms);
      now += Math.ceil(ms);
      return Promise.resolve();
    },
    random,
    timeoutMs: TIMEOUT_MS,
    deadlineMs: 20_000,
    maxAttempts: 4,
    initialBackoffMs: 200,
    maxBackoffMs: 2_000,
    onError,
  });
  const sizes = new Histogram({
    name: "faults_size",
    help: "Sizes.",
    buckets: [1, 2, 5],
    registry,
  });
  const expected = new Map<string, number[]>();
  const created = new Map<string, bigint>([
    ["faults_size{}", BigInt(now) * 1_000_000n],
  ]);
  const rounds = 1 + Math.floor(random() * 5);
  for (let round = 0; round < rounds; round++) {
    const increments = 1 + Math.floor(random() * 4);
    for (let i = 0; i < increments; i++) {
      const kind = ["a", "b", "c"][Math.floor(random() * 3)]!;
      const amount = 1 + Math.floor(random() * 5);
      const key = `faults_jobs{kind=${kind}}`;
      if (!created.has(key)) created.set(key, BigInt(now) * 1_000_000n);
      jobs.inc({ kind }, amount);
      add(expected, key, [amount]);
      const size = Math.floor(random() * 7);
      sizes.observe(size);
      const bucket = size <= 1 ? 0 : size <= 2 ? 1 : size <= 5 ? 2 : 3;
      add(
        expected,
        "faults_size{}",
        [0, 1, 2, 3].map((i) => i === bucket ? 1 : 0).concat(1),
      );
    }
    now += 1_000;
    try {
      await exporter.flush();
    } catch (error) {
      assert.match(
        (error as Error).message,
        ERROR,
        `seed ${seed}: ${(error as Error).message}`,
      );
    }
  }
  collector.next = () => undefined; // the collector recovers
  now += 1_000;
  await exporter.shutdown(); // the final flush must deliver the rest

  const context = `seed ${seed} (${temporality}), faults ${
    collector.log.join(" ")
  }`;
  // Only a cut answer is reported, once each: delivered, answer lost.
  assert.equal(
    errors.length,
    collector.log.filter((fault) => fault === "cut").length,
    context,
  );
  for (const error of errors) {
    assert.match(
      error,
      /^onError: Exported metrics to \S+: the collector accepted them \(HTTP 200\) but its answer broke off, so any partial-success report is lost \(.+\)$/,
      context,
    );
  }
  const bodies = collector.acknowledged.map(dataPoints);
  const temporalityCode = temporality === "delta" ? 1 : 2;
  if (temporality === "delta") {
    const sums = new Map<string, number[]>();
    const lastTime = new Map<string, bigint>();
    for (const body of bodies) {
      for (const [key, point] of body) {
        assert.equal(point.temporality, temporalityCode, context);
        add(sums, key, point.values);
        // Intervals are contiguous: each starts where the last acknowledged one ended.
        assert.equal(
          point.start,
          lastTime.get(key) ?? created.get(key),
          `${context}: start of ${key}`,
        );
        lastTime.set(key, point.time);
      }
    }
    assert.deepEqual(sums, expected, context);
  } else {
    const last = new Map<string, number[]>();
    for (const body of bodies) {
      for (const [key, point] of body) {
        assert.equal(point.temporality, temporalityCode, context);
        const previous = last.get(key);
        if (previous !== undefined) {
          assert.ok(point.values.every((v, i) => v >= previous[i]!), context);
        }
        assert.equal(
          point.start,
          created.get(key),
          `${context}: start of ${key}`,
        );
        last.set(key, point.values);
      }
    }
    assert.deepEqual(last, expected, context);
  }
}

Deno.test("OtlpExporter delivers every increment exactly once through 200 seeded fault sequences on a loopback collector", async () => {
  const collector = new FakeCollector();
  try {
    const seen = new Map<Fault, number>();
    for (let seed = 1; seed <= 200; seed++) {
      collector.acknowledged.length = 0;
      collector.log.length = 0;
      await runJob(collector, seed, seed % 2 === 0 ? "delta" : "cumulative");
      for (const fault of collector.log) {
        seen.set(fault, (seen.get(fault) ?? 0) + 1);
      }
    }
    // The sequences did exercise every kind of fault, many times.
    for (
      const fault of [
        "ok",
        "503",
        "429",
        "500",
        "400",
        "hang",
        "drop",
        "cut",
      ] as const
    ) {
      assert.ok((seen.get(fault) ?? 0) >= 10, `${fault}: ${seen.get(fault)}`);
    }
    console.log("faults applied:", Object.fromEntries(seen));
  } finally {
    await collector.close();
  }
});

Deno.test("OtlpExporter rides out each fault kind once, then delivers (delta)", async () => {
  const collector = new FakeCollector();
  try {
    let now = EPOCH;
    let monotonic = 0;
    const waits: number[] = [];
    const clock = { now: () => now, monotonic: () => monotonic };
    const registry = new Registry({ clock });
    const c = new Counter({ name: "fault_kinds", help: "Kinds.", registry });
    const exporter = new OtlpExporter({
      url: collector.url,
      protocol: "json",
      temporality: "delta",
      resource: { "service.name": "fault-kinds" },
      registry,
      clock,
      sleep: (ms) => {
        waits.push(ms);
        monotonic += ms;
        now += ms;
        return Promise.resolve();
      },
      random: () => 1,
      timeoutMs: TIMEOUT_MS,
      initialBackoffMs: 100,
      maxAttempts: 10,
    });
    // Retryable faults in one delivery: 503 (Retry-After: 2), 429, hang, drop.
    const script: Fault[] = ["503", "429", "hang", "drop", "ok"];
    collector.next = () => script.shift();
    c.inc(5);
    await exporter.flush();
    assert.deepEqual(collector.log, ["503", "429", "hang", "drop", "ok"]);
    assert.deepEqual(waits, [2000, 200, 400, 800]);
    // 500 and 400 are not retried: each flush fails at once, data kept.
    for (const fault of ["500", "400"] as const) {
      collector.next = () => fault;
      c.inc(1);
      now += 1000;
      await assert.rejects(exporter.flush(), new RegExp(`got HTTP ${fault}`));
    }
    collector.next = () => undefined;
    now += 1000;
    await exporter.shutdown();
    const values = collector.acknowledged.map((body) =>
      [...dataPoints(body).values()].map((p) => p.values[0])
    );
    assert.deepEqual(values, [[5], [2]]);
  } finally {
    await collector.close();
  }
});

/** The OTLP exporter plugged into the delivery property. */
const otlp: ExporterUnderTest = {
  name: "OtlpExporter",
  path: "/v1/metrics",
  faults: FAULTS,
  // Odd seeds send protobuf (read by the official generated decoder), even
  // seeds JSON.
  create: ({ url, registry, delivery, temporality, onError, seed }) =>
    new OtlpExporter({
      ...delivery,
      url,
      registry,
      temporality,
      onError,
      protocol: seed % 2 === 1 ? "protobuf" : "json",
      resource: { "service.name": "fault-property" },
    }),
  decode: (body, contentType) =>
    otlpPoints(
      contentType.includes("json")
        ? JSON.parse(new TextDecoder().decode(body))
        : decodeOtlpProtobuf(body),
    ),
  error:
    /^Cannot export metrics to http:\/\/receiver\.test\/v1\/metrics: .+ after \d+ attempts?( \(not retryable\)|, the most allowed \(maxAttempts\)|; .*deadline.*)$/s,
  reportsToOnError: true,
};

/** The counter and histogram points of one OTLP request, in the property's neutral form. */
function otlpPoints(body: Json): Points {
  const out: Points = new Map();
  for (
    const metric of body.resourceMetrics?.[0]?.scopeMetrics?.[0]?.metrics ?? []
  ) {
    const data = metric.sum ?? metric.histogram;
    if (data === undefined) continue;
    for (const point of data.dataPoints ?? []) {
      const labels = (point.attributes ?? []).map((a: Json) =>
        `${a.key}=${a.value.stringValue}`
      ).join(",");
      out.set(`${metric.name}{${labels}}`, {
        values: metric.sum ? [point.asDouble ?? Number(point.asInt ?? 0)] : [
          ...(point.bucketCounts ?? []).map(Number),
          Number(point.count ?? 0),
        ],
        start: BigInt(point.startTimeUnixNano),
        time: BigInt(point.timeUnixNano),
      });
    }
  }
  return out;
}

for (const temporality of ["delta", "cumulative"] as const) {
  Deno.test(`OtlpExporter keeps the delivery property through 1,000 seeded fault sequences (${temporality})`, async () => {
    const result = await runProperty(otlp, temporality, 1000);
    assertHeld(otlp, result);
  });
}
