import assert from "node:assert/strict";
import type { MetricFamily } from "../src/model.ts";
import type { Clock } from "../src/clock.ts";
import {
  type CollectFilter,
  type Collector,
  defaultRegistry,
  Registry,
} from "../src/registry.ts";
import { Counter } from "../src/instruments/counter.ts";
import { metricsHandler, type MetricsSource } from "../src/pull/handler.ts";

const TEXT = "text/plain; version=0.0.4; charset=utf-8";
const OM = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/** What Prometheus 2.42 sends when it scrapes (scrape/scrape.go). */
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/** What Prometheus 2.42 sends with --enable-feature=native-histograms. */
const PROMETHEUS_PROTOBUF_FIRST_ACCEPT =
  "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/** What a text-only Prometheus (before OpenMetrics, and 3.x asked for text) sends. */
const PROMETHEUS_TEXT_ONLY_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

const fixedClock: Clock = { now: () => 1_700_000_000_000, monotonic: () => 0 };

/** A registry with one counter holding 3 and one gauge holding 7. */
function shop(): Registry {
  const registry = new Registry({ clock: fixedClock });
  new Counter({ name: "jobs_total", help: "Jobs done.", registry }).inc(3);
  registry.register(fixed({
    type: "gauge",
    name: "queue_depth",
    help: "Jobs waiting.",
    aggregation: "sum",
    points: [{ labels: {}, value: 7 }],
  }));
  return registry;
}

const SHOP_TEXT = `# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total 3
# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth 7
`;

const SHOP_OM = `# TYPE jobs counter
# HELP jobs Jobs done.
jobs_total 3
jobs_created 1700000000
# TYPE queue_depth gauge
# HELP queue_depth Jobs waiting.
queue_depth 7
# EOF
`;

/** A collector that always returns `family`. */
function fixed(family: MetricFamily): Collector {
  return { name: family.name, type: family.type, collect: () => family };
}

function get(
  url = "http://localhost/metrics",
  headers: HeadersInit = {},
): Request {
  return new Request(url, { headers });
}

function headersOf(response: Response): Record<string, string> {
  return Object.fromEntries(response.headers.entries());
}

Deno.test("metricsHandler() serves text 0.0.4 with no-store, Vary and no encoding by default", async () => {
  const response = await metricsHandler(shop())(get());
  assert.equal(response.status, 200);
  assert.deepEqual(headersOf(response), {
    "cache-control": "no-store",
    "content-type": TEXT,
    "vary": "Accept, Accept-Encoding",
  });
  assert.equal(await response.text(), SHOP_TEXT);
});

Deno.test("metricsHandler() serves any path when no path option is set", async () => {
  const response = await metricsHandler(shop())(
    get("http://localhost/a/b?c=d"),
  );
  assert.equal(response.status, 200);
  assert.equal(await response.text(), SHOP_TEXT);
});

Deno.test("metricsHandler() reads the default registry when given no source", async () => {
  const name = "handler_test_default_source_total";
  const counter = new Counter({ name, help: "Default source." });
  try {
    counter.inc(2);
    const response = await metricsHandler()(
      get(`http://localhost/metrics?name[]=${name}`),
    );
    assert.equal(
      await response.text(),
      `# HELP ${name} Default source.\n# TYPE ${name} counter\n${name} 2\n`,
    );
  } finally {
    defaultRegistry.remove(name);
  }
});

Deno.test("metricsHandler() answers HEAD with the GET headers, no body and no collection", async () => {
  let collections = 0;
  const source: MetricsSource = {
    collect: () => {
      collections++;
      return Promise.resolve([]);
    },
  };
  const handler = metricsHandler(source);
  const request = new Request("http://localhost/metrics", {
    method: "HEAD",
    headers: { Accept: PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip" },
  });
  const response = await handler(request);
  assert.equal(response.status, 200);
  assert.deepEqual(headersOf(response), {
    "cache-control": "no-store",
    "content-encoding": "gzip",
    "content-type": OM,
    "vary": "Accept, Accept-Encoding",
  });
  assert.equal(response.body, null);
  assert.equal(collections, 0);
});

Deno.test("metricsHandler() answers other methods 405 with Allow: GET, HEAD", async (t) => {
  const handler = metricsHandler(shop());
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PURGE"]) {
    await t.step(method, async () => {
      const response = await handler(
        new Request("http://localhost/metrics", { method }),
      );
      assert.equal(response.status, 405);
      assert.deepEqual(headersOf(response), {
        "allow": "GET, HEAD",
        "cache-control": "no-store",
        "content-type": "text/plain; charset=utf-8",
      });
      assert.equal(await response.text(), "Method Not Allowed\n");
    });
  }
});

Deno.test("metricsHandler() with a path answers 404 elsewhere and serves the path", async () => {
  const handler = metricsHandler(shop(), { path: "/metrics" });
  for (
    const url of [
      "http://localhost/",
      "http://localhost/metrics/",
      "http://localhost/metricsx",
    ]
  ) {
    const response = await handler(get(url));
    assert.equal(response.status, 404, url);
    assert.equal(response.headers.get("Cache-Control"), "no-store");
    assert.equal(await response.text(), "Not Found\n");
  }
  const response = await handler(get("http://localhost/metrics?x=1"));
  assert.equal(response.status, 200);
  assert.equal(await response.text(), SHOP_TEXT);
});

Deno.test("metricsHandler() with a path can be mounted first in another handler", async () => {
  const metrics = metricsHandler(shop(), { path: "/metrics" });
  const app = async (request: Request): Promise<Response> => {
    const response = await metrics(request);
    if (response.status !== 404) return response;
    return new Response("app\n");
  };
  assert.equal(
    await (await app(get("http://localhost/metrics"))).text(),
    SHOP_TEXT,
  );
  assert.equal(
    await (await app(get("http://localhost/orders/1"))).text(),
    "app\n",
  );
});

Deno.test("metricsHandler() rejects a path without a leading slash and an empty bearer token", () => {
  assert.throws(() => metricsHandler(shop(), { path: "metrics" }), {
    name: "TypeError",
    message:
      'Cannot create metrics handler: path must start with "/", got "metrics"',
  });
  assert.throws(() => metricsHandler(shop(), { auth: { bearer: "" } }), {
    name: "TypeError",
    message:
      'Cannot create metrics handler: auth.bearer must be a non-empty string, got ""',
  });
});

Deno.test("metricsHandler() negotiates the format from Accept and its q-values", async (t) => {
  const cases: [string | null, "om" | "text", boolean?][] = [
    [null, "text"],
    ["", "text"],
    [PROMETHEUS_ACCEPT, "om"],
    [PROMETHEUS_TEXT_ONLY_ACCEPT, "text"],
    [PROMETHEUS_PROTOBUF_FIRST_ACCEPT, "om"],
    ["application/openmetrics-text", "om"],
    ["application/openmetrics-text; version=1.0.0", "om"],
    ['APPLICATION/OpenMetrics-Text; Version="1.0.0"; charset=utf-8', "om"],
    ["application/openmetrics-text; version=0.0.1", "text"],
    ["application/openmetrics-text; version=2.0.0", "text"],
    ["application/openmetrics-text;q=0", "text"],
    ["application/openmetrics-text;q=nonsense", "text"],
    ["application/openmetrics-text;q=0.3, text/plain;q=0.7", "text"],
    [
      "text/plain;version=0.0.4;q=0.5, application/openmetrics-text;q=0.9",
      "om",
    ],
    ["application/openmetrics-text, text/plain", "text"],
    ["application/openmetrics-text; version=1.0.0, */*", "om"],
    ["application/openmetrics-text;q=0.5, */*", "text"],
    ["application/*", "om"],
    ["*/*", "text"],
    ["text/*", "text"],
    ["application/json", "text"],
    // A browser's Accept gets the HTML view (tests/html_view_test.ts);
    // text/html outranked by text/plain still gets text.
    ["text/html;q=0.1, text/plain", "text"],
    ["application/json, text/plain;q=0.5", "text"],
    ["application/openmetrics-text;version=2.0.0, text/plain;q=0.5", "text"],
    [
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3",
      "text",
    ],
    [PROMETHEUS_ACCEPT, "text", false],
  ];
  for (const [accept, expected, openMetrics] of cases) {
    const name = `${accept === null ? "(no Accept)" : JSON.stringify(accept)}${
      openMetrics === false ? " with openMetrics: false" : ""
    } → ${expected}`;
    await t.step(name, async () => {
      // Text and OpenMetrics only: the protobuf cases are in
      // native_encoders_test.ts; here a protobuf-first Accept falls back.
      const handler = metricsHandler(
        shop(),
        openMetrics === undefined
          ? { protobuf: false }
          : { openMetrics, protobuf: false },
      );
      const response = await handler(
        get(
          "http://localhost/metrics",
          accept === null ? {} : { Accept: accept },
        ),
      );
      assert.equal(
        response.headers.get("Content-Type"),
        expected === "om" ? OM : TEXT,
      );
      assert.equal(
        await response.text(),
        expected === "om" ? SHOP_OM : SHOP_TEXT,
      );
    });
  }
});

Deno.test("metricsHandler() leaves out _created lines in OpenMetrics with created: false", async () => {
  const response = await metricsHandler(shop(), { created: false })(
    get("http://localhost/metrics", { Accept: PROMETHEUS_ACCEPT }),
  );
  assert.equal(
    await response.text(),
    SHOP_OM.replace("jobs_created 1700000000\n", ""),
  );
});

Deno.test("metricsHandler() serves exemplars in OpenMetrics and drops them in text", async () => {
  const registry = new Registry({ clock: fixedClock });
  const counter = new Counter({
    name: "orders_total",
    help: "Orders.",
    registry,
  });
  counter.inc({}, 1, { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" });
  const handler = metricsHandler(registry);
  const om = await handler(
    get("http://localhost/", { Accept: PROMETHEUS_ACCEPT }),
  );
  assert.equal(
    await om.text(),
    `# TYPE orders counter
# HELP orders Orders.
orders_total 1 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 1 1700000000
orders_created 1700000000
# EOF
`,
  );
  const text = await handler(
    get("http://localhost/", { Accept: PROMETHEUS_TEXT_ONLY_ACCEPT }),
  );
  assert.equal(
    await text.text(),
    "# HELP orders_total Orders.\n# TYPE orders_total counter\norders_total 1\n",
  );
});

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return await new Response(stream).text();
}

Deno.test("metricsHandler() gzips when Accept-Encoding allows it, q-values honoured", async (t) => {
  const cases: [string | null, boolean][] = [
    [null, false],
    ["gzip", true],
    ["gzip, deflate, br", true],
    ["x-gzip", true],
    ["GZIP;q=0.5", true],
    ["gzip;q=0", false],
    ["gzip;q=0.000", false],
    ["*", true],
    ["*;q=0", false],
    ["br, *;q=0", false],
    ["identity", false],
    ["br", false],
    ["gzip;q=0.5, identity;q=1", false],
    ["gzip;q=1, identity;q=0.5", true],
    ["deflate, gzip;q=0.8", true],
    ["gzip;q=0, *", false],
  ];
  const handler = metricsHandler(shop());
  for (const [acceptEncoding, gzipped] of cases) {
    await t.step(
      `${JSON.stringify(acceptEncoding)} → ${gzipped ? "gzip" : "identity"}`,
      async () => {
        const response = await handler(
          get(
            "http://localhost/metrics",
            acceptEncoding === null
              ? {}
              : { "Accept-Encoding": acceptEncoding },
          ),
        );
        assert.equal(response.status, 200);
        assert.equal(
          response.headers.get("Content-Encoding"),
          gzipped ? "gzip" : null,
        );
        assert.equal(response.headers.get("Vary"), "Accept, Accept-Encoding");
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (gzipped) {
          // Deno ignores the `encodeBody: "manual"` init key: the bytes are gzip once.
          assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]);
          assert.equal(await gunzip(bytes), SHOP_TEXT);
        } else {
          assert.equal(new TextDecoder().decode(bytes), SHOP_TEXT);
        }
      },
    );
  }
});

Deno.test("metricsHandler() gzips OpenMetrics too", async () => {
  const response = await metricsHandler(shop())(
    get("http://localhost/", {
      Accept: PROMETHEUS_ACCEPT,
      "Accept-Encoding": "gzip",
    }),
  );
  assert.equal(response.headers.get("Content-Type"), OM);
  assert.equal(response.headers.get("Content-Encoding"), "gzip");
  assert.equal(
    await gunzip(new Uint8Array(await response.arrayBuffer())),
    SHOP_OM,
  );
});

Deno.test("metricsHandler() with compress: false never gzips", async () => {
  const response = await metricsHandler(shop(), { compress: false })(
    get("http://localhost/", { "Accept-Encoding": "gzip" }),
  );
  assert.equal(response.headers.get("Content-Encoding"), null);
  assert.equal(await response.text(), SHOP_TEXT);
});

Deno.test("metricsHandler() serves identity when the runtime has no CompressionStream", async () => {
  const global = globalThis as { CompressionStream?: unknown };
  const original = global.CompressionStream;
  const handler = metricsHandler(shop());
  delete global.CompressionStream;
  try {
    const response = await handler(
      get("http://localhost/", { "Accept-Encoding": "gzip" }),
    );
    assert.equal(response.headers.get("Content-Encoding"), null);
    assert.equal(await response.text(), SHOP_TEXT);
  } finally {
    global.CompressionStream = original;
  }
});

Deno.test("metricsHandler() filters families by name[] like prometheus_client", async (t) => {
  const registry = new Registry({ prefix: "shop_", clock: fixedClock });
  new Counter({ name: "jobs_total", help: "Jobs done.", registry }).inc();
  registry.register(fixed({
    type: "gauge",
    name: "queue_depth",
    help: "Jobs waiting.",
    aggregation: "sum",
    points: [{ labels: {}, value: 7 }],
  }));
  registry.register(fixed({
    type: "histogram",
    name: "latency_seconds",
    help: "Latency.",
    bounds: [0.1],
    points: [{ labels: {}, counts: [1, 0], sum: 0.05, count: 1, created: 0 }],
  }));
  const jobs =
    "# HELP shop_jobs_total Jobs done.\n# TYPE shop_jobs_total counter\nshop_jobs_total 1\n";
  const queue =
    "# HELP shop_queue_depth Jobs waiting.\n# TYPE shop_queue_depth gauge\nshop_queue_depth 7\n";
  const latency = `# HELP shop_latency_seconds Latency.
# TYPE shop_latency_seconds histogram
shop_latency_seconds_bucket{le="0.1"} 1
shop_latency_seconds_bucket{le="+Inf"} 1
shop_latency_seconds_sum 0.05
shop_latency_seconds_count 1
`;
  const cases: [string, string][] = [
    ["", jobs + queue + latency],
    ["?name[]=shop_jobs_total", jobs],
    ["?name[]=shop_jobs", jobs],
    ["?name[]=jobs_total", ""],
    ["?name[]=shop_queue_depth", queue],
    ["?name[]=shop_queue_depth_total", ""],
    ["?name[]=shop_latency_seconds_bucket", latency],
    ["?name[]=shop_latency_seconds_count", latency],
    ["?name[]=shop_latency_seconds", latency],
    ["?name[]=shop_latency_seconds&name[]=shop_jobs_total", jobs + latency],
    ["?name%5B%5D=shop_queue_depth", queue],
    ["?name[]=", ""],
    ["?name=shop_jobs_total", jobs + queue + latency],
  ];
  const handler = metricsHandler(registry);
  for (const [query, expected] of cases) {
    await t.step(query === "" ? "(no query)" : query, async () => {
      const response = await handler(get(`http://localhost/metrics${query}`));
      assert.equal(response.status, 200);
      assert.equal(await response.text(), expected);
    });
  }
});

Deno.test("metricsHandler() passes the name[] filter to a custom source", async () => {
  const seen: boolean[] = [];
  const source: MetricsSource = {
    collect: (filter?: CollectFilter) => {
      seen.push(filter === undefined);
      if (filter !== undefined) {
        seen.push(
          filter("a_total", "counter"),
          filter("a", "gauge"),
          filter("b", "gauge"),
        );
      }
      return Promise.resolve([]);
    },
  };
  const handler = metricsHandler(source);
  await (await handler(get())).text();
  await (await handler(get("http://localhost/?name[]=a_total"))).text();
  assert.deepEqual(seen, [true, false, true, false, false]);
});

Deno.test("metricsHandler() with a bearer token answers 401 without it and leaks nothing", async (t) => {
  const handler = metricsHandler(shop(), { auth: { bearer: "s3cr3t-token" } });
  const cases: [string | null, number][] = [
    [null, 401],
    ["", 401],
    ["Bearer", 401],
    ["Bearer ", 401],
    ["Bearer s3cr3t-toke", 401],
    ["Bearer s3cr3t-tokenX", 401],
    ["Bearer S3CR3T-TOKEN", 401],
    ["Basic czNjcjN0LXRva2Vu", 401],
    ["s3cr3t-token", 401],
    ["Bearer s3cr3t-token", 200],
    ["bearer s3cr3t-token", 200],
    ["  Bearer   s3cr3t-token  ", 200],
  ];
  for (const [authorization, status] of cases) {
    await t.step(`${JSON.stringify(authorization)} → ${status}`, async () => {
      const response = await handler(
        get(
          "http://localhost/metrics",
          authorization === null ? {} : { Authorization: authorization },
        ),
      );
      assert.equal(response.status, status);
      if (status === 401) {
        assert.deepEqual(headersOf(response), {
          "cache-control": "no-store",
          "content-type": "text/plain; charset=utf-8",
          "vary": "Accept, Accept-Encoding",
          "www-authenticate": "Bearer",
        });
        assert.equal(await response.text(), "Unauthorized\n");
      } else {
        assert.equal(await response.text(), SHOP_TEXT);
      }
    });
  }
});

Deno.test("metricsHandler() asks for the token on HEAD too", async () => {
  const handler = metricsHandler(shop(), { auth: { bearer: "t" } });
  const response = await handler(
    new Request("http://localhost/metrics", { method: "HEAD" }),
  );
  assert.equal(response.status, 401);
  assert.equal(response.headers.get("WWW-Authenticate"), "Bearer");
  await response.body?.cancel();
});

Deno.test("metricsHandler() with an auth predicate serves only what it admits", async () => {
  const sync = metricsHandler(shop(), {
    auth: (request) => request.headers.get("X-Scraper") === "prom",
  });
  const refused = await sync(get());
  assert.equal(refused.status, 401);
  // No bearer token to ask for: no WWW-Authenticate: Bearer.
  assert.deepEqual(headersOf(refused), {
    "cache-control": "no-store",
    "content-type": "text/plain; charset=utf-8",
    "vary": "Accept, Accept-Encoding",
  });
  assert.equal(await refused.text(), "Unauthorized\n");
  const admitted = await sync(
    get("http://localhost/", { "X-Scraper": "prom" }),
  );
  assert.equal(await admitted.text(), SHOP_TEXT);

  const async = metricsHandler(shop(), { auth: () => Promise.resolve(true) });
  assert.equal(await (await async(get())).text(), SHOP_TEXT);
  const truthy = metricsHandler(shop(), {
    // Only `true` admits: a sloppy predicate returning a truthy non-boolean does not.
    auth: (() => "yes") as unknown as () => boolean,
  });
  assert.equal((await truthy(get())).status, 401);
});

/** Runs `body` with console.error captured; returns what was logged. */
async function capturingErrors(
  body: () => Promise<void>,
): Promise<unknown[][]> {
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await body();
  } finally {
    console.error = original;
  }
  return logged;
}

Deno.test("metricsHandler() answers 500 without details when the auth predicate throws", async () => {
  const handler = metricsHandler(shop(), {
    auth: () => {
      throw new Error("auth backend down at 10.0.0.7");
    },
  });
  let response: Response | undefined;
  const logged = await capturingErrors(async () => {
    response = await handler(get());
  });
  assert.equal(response?.status, 500);
  assert.equal(
    await response?.text(),
    "Internal Server Error: metrics collection failed\n",
  );
  assert.equal(logged.length, 1);
  assert.equal(
    (logged[0]?.[1] as Error).message,
    "auth backend down at 10.0.0.7",
  );
});

Deno.test("metricsHandler() serves the other metrics when one collector throws", async () => {
  const failures: [string, string][] = [];
  const registry = new Registry({
    clock: fixedClock,
    onError: (error, metric) =>
      failures.push([metric, (error as Error).message]),
  });
  new Counter({ name: "jobs_total", help: "Jobs done.", registry }).inc(3);
  registry.register({
    name: "pool_size",
    type: "gauge",
    collect: () => {
      throw new Error("pool closed");
    },
  });
  registry.register({
    name: "cache_entries",
    type: "gauge",
    collect: () => Promise.reject(new Error("cache gone")),
  });
  const response = await metricsHandler(registry)(get());
  assert.equal(response.status, 200);
  assert.equal(
    await response.text(),
    "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 3\n",
  );
  assert.deepEqual(failures, [["pool_size", "pool closed"], [
    "cache_entries",
    "cache gone",
  ]]);
});

Deno.test("metricsHandler() answers 500 with a short text when the source rejects, and logs the error", async () => {
  const error = new Error("secret internal detail");
  const source: MetricsSource = { collect: () => Promise.reject(error) };
  let response: Response | undefined;
  const logged = await capturingErrors(async () => {
    response = await metricsHandler(source)(get());
  });
  assert.equal(response?.status, 500);
  assert.deepEqual(headersOf(response!), {
    "cache-control": "no-store",
    "content-type": "text/plain; charset=utf-8",
    "vary": "Accept, Accept-Encoding",
  });
  assert.equal(
    await response?.text(),
    "Internal Server Error: metrics collection failed\n",
  );
  assert.deepEqual(logged, [["edgemetrics: serving metrics failed:", error]]);
});

Deno.test("metricsHandler() answers 500 when the source throws instead of rejecting", async () => {
  const source: MetricsSource = {
    collect: () => {
      throw new TypeError("not a registry");
    },
  };
  let response: Response | undefined;
  const logged = await capturingErrors(async () => {
    response = await metricsHandler(source)(get());
  });
  assert.equal(response?.status, 500);
  assert.equal(
    await response?.text(),
    "Internal Server Error: metrics collection failed\n",
  );
  assert.equal(logged.length, 1);
});

Deno.test("metricsHandler() works as export default { fetch } in Deno.serve", async () => {
  const app = { fetch: metricsHandler(shop(), { path: "/metrics" }) };
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const response = await fetch(`${base}/metrics`, {
    headers: { Accept: PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip" },
  });
  // fetch decompresses: a body gzipped twice would not read as the text.
  assert.equal(response.headers.get("Content-Type"), OM);
  assert.equal(response.headers.get("Content-Encoding"), "gzip");
  assert.equal(await response.text(), SHOP_OM);
  const missing = await fetch(`${base}/other`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("metricsHandler() hashes the bearer token on first use, not when created (Workers forbid async work at module scope)", async () => {
  const subtle = crypto.subtle as { digest: SubtleCrypto["digest"] };
  const original = subtle.digest;
  let digests = 0;
  subtle.digest = function (
    this: SubtleCrypto,
    ...args: Parameters<SubtleCrypto["digest"]>
  ) {
    digests++;
    return original.apply(this, args);
  } as SubtleCrypto["digest"];
  try {
    const handler = metricsHandler(shop(), { auth: { bearer: "t0ken" } });
    assert.equal(digests, 0);
    const first = await handler(
      get("http://localhost/", { Authorization: "Bearer t0ken" }),
    );
    assert.equal(first.status, 200);
    await first.body?.cancel();
    assert.equal(digests, 2); // the expected token once, the presented one each time
    const second = await handler(
      get("http://localhost/", { Authorization: "Bearer nope" }),
    );
    assert.equal(second.status, 401);
    await second.body?.cancel();
    assert.equal(digests, 3);
  } finally {
    subtle.digest = original;
  }
});
