/**
 * RemoteWriteExporter against a recording fetch: the spec's headers, bad
 * options, retries (5xx and 429 with Retry-After, never other 4xx), byte-
 * identical retries, batch splitting, a 400 batch dropped with one warning,
 * the 2.0 `*-Written` headers, and the lifecycle (periodic exports,
 * shutdown, await using).
 */
import assert from "node:assert/strict";
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  RemoteWriteExporter,
  type RemoteWriteExporterOptions,
} from "@edgemetrics/edgemetrics";
import {
  decodeWriteRequest,
  decodeWriteRequestV2,
  snappyjs,
} from "./_remote_write_decode.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** What `console.warn` printed while `body` ran (to its end). */
async function captureWarnings(
  body: () => Promise<unknown>,
): Promise<string[]> {
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    await body();
  } finally {
    console.warn = warn;
  }
  return warnings;
}

interface Sent {
  request: Request;
  body: Uint8Array;
}

/** A fetch that records each request and answers from `answers` (then 204). */
function recorder(
  answers: (() => Response)[] = [],
  otherwise = () => new Response(null, { status: 204 }),
) {
  const sent: Sent[] = [];
  const fetch = async (request: Request) => {
    sent.push({ request, body: new Uint8Array(await request.arrayBuffer()) });
    return (answers.shift() ?? otherwise)();
  };
  return { sent, fetch };
}

/** A registry with `n` gauge series. */
function gauges(n: number): Registry {
  const registry = new Registry();
  const gauge = new Gauge({
    name: "items",
    help: "Items.",
    labelNames: ["i"] as const,
    registry,
  });
  for (let i = 0; i < n; i++) gauge.set({ i: String(i) }, i);
  return registry;
}

const URL = "http://receiver.test/api/v1/write";

function exporter(
  options: Partial<RemoteWriteExporterOptions>,
): RemoteWriteExporter {
  return new RemoteWriteExporter({
    url: URL,
    sleep: () => Promise.resolve(),
    ...options,
  });
}

/** The series names and values of a sent 1.0 body. */
function seriesOf(body: Uint8Array): string[] {
  const decoded = decodeWriteRequest(
    new Uint8Array(snappyjs().uncompress(body)),
  );
  return decoded.timeseries.map((s: Json) =>
    `${s.labels.map((l: Json) => `${l.name}=${l.value}`).join(",")} ${
      s.samples[0].value
    }`
  );
}

Deno.test("RemoteWriteExporter rejects a non-http URL, reserved headers, a batch limit below one series and bad options with clear errors", () => {
  const cases: [
    Partial<RemoteWriteExporterOptions>,
    ErrorConstructor,
    RegExp,
  ][] = [
    [
      { url: "ftp://receiver.test/write" },
      TypeError,
      /^Cannot create RemoteWriteExporter: url must be an absolute http or https URL, got "ftp:\/\/receiver.test\/write"$/,
    ],
    [
      { url: "/api/v1/write" },
      TypeError,
      /url must be an absolute http or https URL/,
    ],
    [
      { headers: { "Content-Type": "text/plain" } },
      TypeError,
      /sets Content-Type, Content-Encoding, User-Agent and X-Prometheus-Remote-Write-Version itself.*got "Content-Type"/,
    ],
    [
      { headers: { "content-encoding": "gzip" } },
      TypeError,
      /got "content-encoding"$/,
    ],
    [{ headers: { "User-Agent": "me" } }, TypeError, /got "User-Agent"$/],
    [
      { headers: { "X-Prometheus-Remote-Write-Version": "2.0.0" } },
      TypeError,
      /got "X-Prometheus-Remote-Write-Version"$/,
    ],
    [
      { maxSeriesPerRequest: 0 },
      RangeError,
      /maxSeriesPerRequest must be a whole number of at least 1 \(one series per request\), got 0$/,
    ],
    [{ maxSeriesPerRequest: 2.5 }, RangeError, /got 2.5$/],
    [{ maxSeriesPerRequest: -1 }, RangeError, /got -1$/],
    [
      { protocol: "3.0" as unknown as "2.0" },
      TypeError,
      /protocol must be "1.0" or "2.0", got "3.0"$/,
    ],
    [{ job: "" }, TypeError, /job must be a non-empty string, got ""$/],
    [
      { auth: { bearer: "x" }, headers: { Authorization: "Bearer y" } },
      TypeError,
      /give auth or an Authorization header, not both/,
    ],
    [
      { auth: { token: "x" } as unknown as { bearer: string } },
      TypeError,
      /auth must be \{ username, password \} or \{ bearer \}, got keys \["token"\]$/,
    ],
    [
      { timeoutMs: 0 },
      RangeError,
      /timeoutMs must be a number above 0, got 0$/,
    ],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(() => exporter(options), (error: Error) => {
      assert.ok(error instanceof type, `${JSON.stringify(options)}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
  // Credentials in the URL are refused without being quoted.
  assert.throws(
    () => exporter({ url: "https://tenant:s3cr3t@mimir.test/api/v1/push" }),
    (error: Error) =>
      error instanceof TypeError &&
      /url must not carry credentials.*give auth: \{ username, password \} instead, got a URL for mimir.test with user info$/
        .test(error.message) &&
      !error.message.includes("s3cr3t"),
  );
  // A header value that is a credential is never quoted.
  assert.throws(
    () => exporter({ headers: { "X-Api-Key": "s3\ncr3t" } }),
    (error: Error) =>
      error instanceof TypeError && !error.message.includes("cr3t"),
  );
});

Deno.test("RemoteWriteExporter sends the spec's headers for 1.0 and 2.0, with basic auth and the user's headers", async () => {
  for (
    const [protocol, contentType, version] of [
      ["1.0", "application/x-protobuf", "0.1.0"],
      [
        "2.0",
        "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        "2.0.0",
      ],
    ] as const
  ) {
    const { sent, fetch } = recorder([], () =>
      new Response(null, {
        status: 204,
        headers: { "X-Prometheus-Remote-Write-Samples-Written": "1" },
      }));
    const rw = exporter({
      protocol,
      registry: gauges(1),
      fetch,
      auth: { username: "tenant", password: "pä55" },
      headers: { "X-Scope-OrgID": "team-a" },
    });
    await rw.flush();
    const { request } = sent[0]!;
    assert.equal(request.method, "POST");
    assert.equal(request.url, URL);
    assert.equal(request.headers.get("content-type"), contentType);
    assert.equal(request.headers.get("content-encoding"), "snappy");
    assert.equal(
      request.headers.get("x-prometheus-remote-write-version"),
      version,
    );
    assert.equal(request.headers.get("user-agent"), "edgemetrics/0.1.0");
    assert.equal(request.headers.get("x-scope-orgid"), "team-a");
    const basic = request.headers.get("authorization")!;
    assert.equal(
      new TextDecoder().decode(
        Uint8Array.from(atob(basic.slice(6)), (c) => c.charCodeAt(0)),
      ),
      "tenant:pä55",
    );
    const raw = new Uint8Array(snappyjs().uncompress(sent[0]!.body));
    const decoded = protocol === "1.0"
      ? decodeWriteRequest(raw)
      : decodeWriteRequestV2(raw);
    assert.equal(decoded.timeseries.length, 1);
    await rw.shutdown();
  }
});

Deno.test("RemoteWriteExporter retries 500, 503 and 429 (waiting what Retry-After asks) with the same bytes, and never retries 401", async () => {
  const waits: number[] = [];
  const { sent, fetch } = recorder([
    () => new Response("boom", { status: 500 }),
    () => new Response(null, { status: 429, headers: { "Retry-After": "2" } }),
    () => new Response(null, { status: 503 }),
  ]);
  const registry = gauges(3);
  const rw = exporter({
    registry,
    fetch,
    random: () => 0.5,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  await rw.flush();
  assert.equal(sent.length, 4);
  for (const { body } of sent) assert.deepEqual(body, sent[0]!.body);
  // jitter 0.5 × 500 ms, Retry-After 2 s, 0.5 × 2,000 ms (third retry)
  assert.deepEqual(waits, [250, 2000, 1000]);

  const refused = recorder([
    () => new Response("bad credentials", { status: 401 }),
  ]);
  const denied = exporter({ registry, fetch: refused.fetch });
  await assert.rejects(
    denied.flush(),
    /^Error: Cannot write metrics to http:\/\/receiver.test\/api\/v1\/write: got HTTP 401 \("bad credentials"\) after 1 attempt \(not retryable\)$/,
  );
  assert.equal(refused.sent.length, 1);
});

Deno.test("RemoteWriteExporter splits an export into batches of maxSeriesPerRequest, each series sent once", async () => {
  const { sent, fetch } = recorder();
  const rw = exporter({
    registry: gauges(5),
    fetch,
    maxSeriesPerRequest: 2,
    job: "j",
  });
  await rw.flush();
  assert.equal(sent.length, 3);
  const series = sent.map(({ body }) => seriesOf(body));
  assert.deepEqual(series.map((s) => s.length), [2, 2, 1]);
  assert.deepEqual(
    series.flat(),
    [0, 1, 2, 3, 4].map((i) => `__name__=items,i=${i},job=j ${i}`),
  );
});

Deno.test("RemoteWriteExporter drops a batch the receiver refuses with 400 with one warning quoting it, and still sends the others", async () => {
  const errors: Error[] = [];
  const { sent, fetch } = recorder([
    () => new Response(null, { status: 204 }),
    () =>
      new Response("out of order sample\n", {
        status: 400,
        statusText: "Bad Request",
      }),
  ]);
  const rw = exporter({
    registry: gauges(5),
    fetch,
    maxSeriesPerRequest: 2,
    onError: (error) => errors.push(error),
  });
  await rw.flush();
  assert.equal(
    sent.length,
    3,
    "the 400 batch is not retried, the third still goes",
  );
  assert.equal(errors.length, 1);
  assert.equal(
    errors[0]!.message,
    'Dropped a batch of metrics (batch 2 of 3): the receiver refused it as invalid, so it is not sent again (Cannot write metrics to http://receiver.test/api/v1/write: got HTTP 400 Bad Request ("out of order sample") after 1 attempt (not retryable))',
  );
});

Deno.test("RemoteWriteExporter reports a dropped 400 batch with console.warn by default, once", async () => {
  const { fetch } = recorder([
    () => new Response("bad labels", { status: 400 }),
  ]);
  const warnings = await captureWarnings(() =>
    exporter({ registry: gauges(1), fetch }).flush()
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /Dropped a batch of metrics.*"bad labels"/);
});

Deno.test("RemoteWriteExporter with protocol 2.0 treats a 2xx without the *-Written headers as 415 and rejects", async () => {
  const { sent, fetch } = recorder([() => new Response(null, { status: 204 })]);
  const rw = exporter({ protocol: "2.0", registry: gauges(1), fetch });
  await assert.rejects(
    rw.flush(),
    /without the X-Prometheus-Remote-Write-\*-Written headers, so it does not speak remote write 2.0 and wrote nothing; treated as 415 Unsupported Media Type/,
  );
  assert.equal(sent.length, 1, "not retried");
});

Deno.test("RemoteWriteExporter keeps all batches of one export within deadlineMs, naming the batch that ran out", async () => {
  let now = 0;
  const clock = { now: () => 1_700_000_000_000 + now, monotonic: () => now };
  const fetch = () => {
    now += 600; // every answer takes 600 ms of the fake clock
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  const rw = exporter({
    registry: gauges(6),
    fetch,
    clock,
    maxSeriesPerRequest: 2,
    deadlineMs: 1_000,
  });
  await assert.rejects(
    rw.flush(),
    /^Error: Cannot write metrics to http:\/\/receiver.test\/api\/v1\/write \(batch 3 of 3\): the deadline of 1000 ms ran out before this batch$/,
  );
});

Deno.test("RemoteWriteExporter exports periodically after start(), stops at shutdown, and warns once about a flush after it", async () => {
  const { sent, fetch } = recorder();
  const registry = new Registry();
  const jobs = new Counter({ name: "jobs_total", help: "Jobs.", registry });
  const rw = exporter({ registry, fetch, intervalMs: 10 });
  jobs.inc(2);
  rw.start();
  const deadline = Date.now() + 5_000;
  while (sent.length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(sent.length >= 2, `${sent.length} periodic exports`);
  jobs.inc(1);
  await rw.shutdown();
  const count = sent.length;
  assert.deepEqual(seriesOf(sent.at(-1)!.body), ["__name__=jobs_total 3"]);
  const warnings = await captureWarnings(async () => {
    await rw.flush();
    await rw.flush();
  });
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /ignored flush\(\) of the RemoteWriteExporter .* it is shut down/,
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(sent.length, count, "no export after shutdown");
});

Deno.test("RemoteWriteExporter sends nothing for a registry without series, and coalesces concurrent flushes", async () => {
  const empty = recorder();
  await exporter({ registry: new Registry(), fetch: empty.fetch }).flush();
  assert.equal(empty.sent.length, 0);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const sent: number[] = [];
  const rw = exporter({
    registry: gauges(1),
    fetch: async () => {
      sent.push(sent.length);
      await gate;
      return new Response(null, { status: 204 });
    },
  });
  const flushes = [rw.flush(), rw.flush(), rw.flush()];
  release();
  await Promise.all(flushes);
  assert.equal(
    sent.length,
    2,
    "the two callers that came during the first share one export",
  );
});

Deno.test("RemoteWriteExporter with protocol 2.0 reports a batch the receiver wrote in part, from X-Prometheus-Remote-Write-Samples-Written", async () => {
  const errors: Error[] = [];
  const written = ["2", "1"];
  const { sent, fetch } = recorder([], () =>
    new Response(null, {
      status: 204,
      headers: {
        "X-Prometheus-Remote-Write-Samples-Written": written.shift() ?? "0",
      },
    }));
  const rw = exporter({
    protocol: "2.0",
    registry: gauges(4),
    fetch,
    maxSeriesPerRequest: 2,
    onError: (error) => errors.push(error),
  });
  await rw.flush();
  assert.equal(sent.length, 2);
  assert.deepEqual(errors.map((error) => error.message), [
    `Wrote metrics to ${URL} (batch 2 of 2) in part: the receiver wrote 1 of 2 samples`,
  ]);
});

Deno.test("RemoteWriteExporter with protocol 2.0 counts native histograms from X-Prometheus-Remote-Write-Histograms-Written, so a complete write is not reported in part", async () => {
  const registry = new Registry();
  new Histogram({ name: "step_seconds", help: "", native: true, registry })
    .observe(0.5);
  new Gauge({ name: "depth", help: "", registry }).set(1);
  const errors: Error[] = [];
  const answers = [["1", "1"], ["1", "0"]];
  const { sent, fetch } = recorder([], () => {
    const [samples, histograms] = answers.shift()!;
    return new Response(null, {
      status: 204,
      headers: {
        "X-Prometheus-Remote-Write-Samples-Written": samples!,
        "X-Prometheus-Remote-Write-Histograms-Written": histograms!,
      },
    });
  });
  const rw = exporter({
    protocol: "2.0",
    registry,
    fetch,
    onError: (error) => errors.push(error),
  });
  await rw.flush(); // one native series and one gauge: all written
  assert.equal(errors.length, 0, errors.join("\n"));
  await rw.flush(); // the native histogram was not written
  assert.equal(sent.length, 2);
  assert.deepEqual(errors.map((error) => error.message), [
    `Wrote metrics to ${URL} in part: the receiver wrote 1 of 2 samples`,
  ]);
});
