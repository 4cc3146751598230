import assert from "node:assert/strict";
import type { Clock } from "../src/clock.ts";
import { Registry } from "../src/registry.ts";
import { Counter } from "../src/instruments/counter.ts";
import { Gauge } from "../src/instruments/gauge.ts";
import { Histogram } from "../src/instruments/histogram.ts";
import { encodeOpenMetrics } from "../src/encoders/openmetrics.ts";
import { instrument } from "../src/pull/instrument.ts";

/** A registry whose monotonic clock the handler under test moves. */
function timed(
  prefix?: string,
): { registry: Registry; advance: (ms: number) => void } {
  let t = 0;
  const clock: Clock = { now: () => 1_700_000_000_000, monotonic: () => t };
  const registry = new Registry(
    prefix === undefined ? { clock } : { clock, prefix },
  );
  return { registry, advance: (ms) => (t += ms) };
}

function req(path: string, method = "GET", headers: HeadersInit = {}): Request {
  return new Request(`http://localhost${path}`, { method, headers });
}

/** The lines of the registry's text output that start with `prefix`. */
async function lines(registry: Registry, prefix: string): Promise<string[]> {
  return (await registry.metrics()).split("\n").filter((line) =>
    line.startsWith(prefix)
  );
}

Deno.test("instrument() records requests and latency with the whole text exposition", async () => {
  const { registry, advance } = timed();
  const handler = instrument((request: Request) => {
    const path = new URL(request.url).pathname;
    advance(path === "/checkout" ? 250 : 20);
    return new Response(null, { status: path === "/nowhere" ? 404 : 200 });
  }, { registry, routes: ["/orders/:id", "/checkout"] });

  await handler(req("/orders/84321"));
  await handler(req("/orders/7?expand=items"));
  await handler(req("/checkout", "POST"));
  await handler(req("/nowhere"));

  assert.equal(
    await registry.metrics(),
    `# HELP http_requests_total Total HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/orders/{id}",status="200"} 2
http_requests_total{method="GET",route="other",status="404"} 1
http_requests_total{method="POST",route="/checkout",status="200"} 1
# HELP http_request_duration_seconds Request latency in seconds.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.05"} 2
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.1"} 2
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.2"} 2
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.3"} 2
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.5"} 2
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="1.0"} 2
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="2.5"} 2
http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="+Inf"} 2
http_request_duration_seconds_sum{method="GET",route="/orders/{id}"} 0.04
http_request_duration_seconds_count{method="GET",route="/orders/{id}"} 2
http_request_duration_seconds_bucket{method="GET",route="other",le="0.05"} 1
http_request_duration_seconds_bucket{method="GET",route="other",le="0.1"} 1
http_request_duration_seconds_bucket{method="GET",route="other",le="0.2"} 1
http_request_duration_seconds_bucket{method="GET",route="other",le="0.3"} 1
http_request_duration_seconds_bucket{method="GET",route="other",le="0.5"} 1
http_request_duration_seconds_bucket{method="GET",route="other",le="1.0"} 1
http_request_duration_seconds_bucket{method="GET",route="other",le="2.5"} 1
http_request_duration_seconds_bucket{method="GET",route="other",le="+Inf"} 1
http_request_duration_seconds_sum{method="GET",route="other"} 0.02
http_request_duration_seconds_count{method="GET",route="other"} 1
http_request_duration_seconds_bucket{method="POST",route="/checkout",le="0.05"} 0
http_request_duration_seconds_bucket{method="POST",route="/checkout",le="0.1"} 0
http_request_duration_seconds_bucket{method="POST",route="/checkout",le="0.2"} 0
http_request_duration_seconds_bucket{method="POST",route="/checkout",le="0.3"} 1
http_request_duration_seconds_bucket{method="POST",route="/checkout",le="0.5"} 1
http_request_duration_seconds_bucket{method="POST",route="/checkout",le="1.0"} 1
http_request_duration_seconds_bucket{method="POST",route="/checkout",le="2.5"} 1
http_request_duration_seconds_bucket{method="POST",route="/checkout",le="+Inf"} 1
http_request_duration_seconds_sum{method="POST",route="/checkout"} 0.25
http_request_duration_seconds_count{method="POST",route="/checkout"} 1
`,
  );
});

Deno.test("instrument() names routes by the first matching template, other when none", async (t) => {
  const routes = [
    "/health",
    "/orders/:id(\\d+)",
    "/orders/:slug",
    "/users/:userId/orders/:orderId",
    "/static/*",
  ];
  const cases: [string, string][] = [
    ["/health", "/health"],
    ["/health?verbose=1", "/health"],
    ["/health#top", "/health"],
    ["/orders/84321", "/orders/{id}"],
    ["/orders/latest", "/orders/{slug}"],
    ["/users/42/orders/7", "/users/{userId}/orders/{orderId}"],
    ["/static/css/site.css", "/static/*"],
    ["/", "other"],
    ["/orders", "other"],
    ["/orders/84321/items", "other"],
    ["/health/", "other"],
    ["/admin/%2e%2e/secret", "other"],
  ];
  const { registry } = timed();
  const handler = instrument(() => new Response(), { registry, routes });
  for (const [path, route] of cases) {
    await t.step(`${path} → ${route}`, async () => {
      const before = await lines(registry, "http_requests_total{");
      await handler(req(path));
      const after = await lines(registry, "http_requests_total{");
      const changed = after.filter((line) => !before.includes(line));
      assert.equal(changed.length, 1, JSON.stringify(changed));
      assert.match(changed[0]!, new RegExp(`route="${escape(route)}"`));
    });
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

Deno.test("instrument() without URLPattern matches literal, :name and trailing * segments", async () => {
  const global = globalThis as { URLPattern?: unknown };
  const original = global.URLPattern;
  delete global.URLPattern;
  let handler: (request: Request) => Promise<Response>;
  const { registry } = timed();
  try {
    handler = instrument(() => new Response(), {
      registry,
      routes: ["/orders/:id", "/static/*", "/health"],
    });
  } finally {
    global.URLPattern = original;
  }
  for (
    const path of [
      "/orders/1",
      "/orders/",
      "/orders/1/x",
      "/static/a/b",
      "/health",
      "/x",
    ]
  ) {
    await handler(req(path));
  }
  assert.deepEqual(await lines(registry, "http_requests_total{"), [
    'http_requests_total{method="GET",route="/orders/{id}",status="200"} 1',
    'http_requests_total{method="GET",route="other",status="200"} 3',
    'http_requests_total{method="GET",route="/static/*",status="200"} 1',
    'http_requests_total{method="GET",route="/health",status="200"} 1',
  ]);
});

Deno.test("instrument() takes the route from a route function when given", async () => {
  const { registry } = timed();
  const handler = instrument(() => new Response(), {
    registry,
    routes: ["/ignored"],
    route: (request) => request.headers.get("X-Route") ?? "unknown",
  });
  await handler(req("/ignored", "GET", { "X-Route": "rpc.GetOrder" }));
  await handler(req("/ignored"));
  assert.deepEqual(await lines(registry, "http_requests_total{"), [
    'http_requests_total{method="GET",route="rpc.GetOrder",status="200"} 1',
    'http_requests_total{method="GET",route="unknown",status="200"} 1',
  ]);
});

Deno.test("instrument() labels non-standard methods OTHER and no routes as other", async () => {
  const { registry } = timed();
  const handler = instrument(() => new Response(), { registry });
  for (
    const method of [
      "GET",
      "get",
      "PATCH",
      "OPTIONS",
      "PROPFIND",
      "purge",
      "Brew",
    ]
  ) {
    await handler(req("/anything", method));
  }
  assert.deepEqual(await lines(registry, "http_requests_total{"), [
    'http_requests_total{method="GET",route="other",status="200"} 2',
    'http_requests_total{method="PATCH",route="other",status="200"} 1',
    'http_requests_total{method="OPTIONS",route="other",status="200"} 1',
    'http_requests_total{method="OTHER",route="other",status="200"} 3',
  ]);
});

Deno.test("instrument() counts a thrown error as 500, times it, and rethrows it", async () => {
  const { registry, advance } = timed();
  const boom = new Error("database down");
  const sync = instrument((): Response => {
    advance(400);
    throw boom;
  }, { registry, routes: ["/orders/:id"] });
  await assert.rejects(sync(req("/orders/1")), (error) => error === boom);
  const rejecting = instrument(() => Promise.reject(boom), {
    registry,
    routes: ["/orders/:id"],
  });
  await assert.rejects(
    rejecting(req("/orders/2", "PUT")),
    (error) => error === boom,
  );
  assert.deepEqual(await lines(registry, "http_requests_total{"), [
    'http_requests_total{method="GET",route="/orders/{id}",status="500"} 1',
    'http_requests_total{method="PUT",route="/orders/{id}",status="500"} 1',
  ]);
  assert.deepEqual(await lines(registry, "http_request_duration_seconds_sum"), [
    'http_request_duration_seconds_sum{method="GET",route="/orders/{id}"} 0.4',
    'http_request_duration_seconds_sum{method="PUT",route="/orders/{id}"} 0',
  ]);
});

Deno.test("instrument() returns the handler's response and passes extra arguments through", async () => {
  const { registry } = timed();
  const original = new Response("body", { status: 202 });
  const seen: unknown[] = [];
  const handler = instrument(
    (request: Request, env: { region: string }, ctx: { id: number }) => {
      seen.push(request.url, env, ctx);
      return original;
    },
    { registry },
  );
  const env = { region: "eu" };
  const ctx = { id: 1 };
  const response = await handler(req("/x"), env, ctx);
  assert.equal(response, original);
  assert.deepEqual(seen, ["http://localhost/x", env, ctx]);
  assert.deepEqual(await lines(registry, "http_requests_total{"), [
    'http_requests_total{method="GET",route="other",status="202"} 1',
  ]);
});

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

Deno.test("instrument() keeps a sampled traceparent as an exemplar on the latency bucket", async (t) => {
  const cases: [string, string | undefined, boolean][] = [
    ["sampled", `00-${TRACE}-${SPAN}-01`, true],
    ["sampled with other flags", `00-${TRACE}-${SPAN}-03`, true],
    ["future version with more fields", `01-${TRACE}-${SPAN}-01-extra`, true],
    ["not sampled", `00-${TRACE}-${SPAN}-00`, false],
    ["absent", undefined, false],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`, false],
    ["zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`, false],
    ["zero span id", `00-${TRACE}-${"0".repeat(16)}-01`, false],
    ["version ff", `ff-${TRACE}-${SPAN}-01`, false],
    ["truncated", `00-${TRACE}-${SPAN}`, false],
  ];
  for (const [name, traceparent, kept] of cases) {
    await t.step(name, async () => {
      const { registry, advance } = timed();
      const handler = instrument(() => {
        advance(120);
        return new Response();
      }, { registry, routes: ["/orders/:id"], buckets: [0.1, 0.3] });
      await handler(
        req(
          "/orders/1",
          "GET",
          traceparent === undefined ? {} : { traceparent },
        ),
      );
      const text = encodeOpenMetrics(await registry.collect(), {
        created: false,
      });
      const bucket = text.split("\n").find((line) => line.includes('le="0.3"'));
      assert.equal(
        bucket,
        'http_request_duration_seconds_bucket{method="GET",route="/orders/{id}",le="0.3"} 1' +
          (kept
            ? ` # {trace_id="${TRACE}",span_id="${SPAN}"} 0.12 1700000000`
            : ""),
      );
    });
  }
});

Deno.test("instrument() takes exemplars from an exemplar function, or none with null", async () => {
  const custom = timed();
  const withCustom = instrument(() => new Response(), {
    registry: custom.registry,
    buckets: [1],
    exemplar: (request) => ({
      request_id: request.headers.get("X-Request-Id") ?? "none",
    }),
  });
  await withCustom(req("/", "GET", { "X-Request-Id": "r-1" }));
  assert.match(
    encodeOpenMetrics(await custom.registry.collect()),
    /le="1\.0"\} 1 # \{request_id="r-1"\} 0 1700000000$/m,
  );

  const none = timed();
  const withNone = instrument(() => new Response(), {
    registry: none.registry,
    exemplar: null,
  });
  await withNone(req("/", "GET", { traceparent: `00-${TRACE}-${SPAN}-01` }));
  assert.doesNotMatch(encodeOpenMetrics(await none.registry.collect()), /# \{/);
});

Deno.test("instrument() applies prefix and buckets", async () => {
  const { registry, advance } = timed("shop_");
  const handler = instrument(() => {
    advance(700);
    return new Response();
  }, { registry, prefix: "api_", buckets: [0.5, 1] });
  await handler(req("/"));
  assert.equal(
    await registry.metrics(),
    `# HELP shop_api_http_requests_total Total HTTP requests.
# TYPE shop_api_http_requests_total counter
shop_api_http_requests_total{method="GET",route="other",status="200"} 1
# HELP shop_api_http_request_duration_seconds Request latency in seconds.
# TYPE shop_api_http_request_duration_seconds histogram
shop_api_http_request_duration_seconds_bucket{method="GET",route="other",le="0.5"} 0
shop_api_http_request_duration_seconds_bucket{method="GET",route="other",le="1.0"} 1
shop_api_http_request_duration_seconds_bucket{method="GET",route="other",le="+Inf"} 1
shop_api_http_request_duration_seconds_sum{method="GET",route="other"} 0.7
shop_api_http_request_duration_seconds_count{method="GET",route="other"} 1
`,
  );
});

Deno.test("instrument() called twice on one registry shares the two metrics", async () => {
  const { registry } = timed();
  const a = instrument(() => new Response(), { registry, routes: ["/a"] });
  const b = instrument(() => new Response(null, { status: 204 }), {
    registry,
    routes: ["/b"],
  });
  await a(req("/a"));
  await b(req("/b"));
  assert.deepEqual(await lines(registry, "http_requests_total{"), [
    'http_requests_total{method="GET",route="/a",status="200"} 1',
    'http_requests_total{method="GET",route="/b",status="204"} 1',
  ]);
});

Deno.test("instrument() called twice on one registry shares the latency histogram when the buckets agree, and throws naming both bucket lists when not", async () => {
  const { registry, advance } = timed();
  const slow = () => {
    advance(700);
    return new Response();
  };
  const a = instrument(slow, { registry, buckets: [0.5, 1] });
  const b = instrument(slow, { registry, buckets: [0.5, 1] });
  await a(req("/"));
  await b(req("/"));
  assert.deepEqual(
    await lines(registry, "http_request_duration_seconds_bucket{"),
    [
      'http_request_duration_seconds_bucket{method="GET",route="other",le="0.5"} 0',
      'http_request_duration_seconds_bucket{method="GET",route="other",le="1.0"} 2',
      'http_request_duration_seconds_bucket{method="GET",route="other",le="+Inf"} 2',
    ],
  );
  const cases: [string, readonly number[] | undefined, string][] = [
    ["other buckets", [0.1, 0.3], "[0.1, 0.3]"],
    ["the default buckets", undefined, "[0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5]"],
  ];
  for (const [what, buckets, asked] of cases) {
    assert.throws(
      () =>
        instrument(slow, {
          registry,
          ...(buckets === undefined ? {} : { buckets }),
        }),
      {
        name: "TypeError",
        message:
          `Cannot instrument handler: metric "http_request_duration_seconds" is already registered with buckets [0.5, 1], not the buckets ${asked} asked for; pass the same buckets to every instrument() on one registry`,
      },
      what,
    );
  }
});

Deno.test("instrument() rejects bad declarations with a TypeError", () => {
  const { registry } = timed();
  assert.throws(
    () =>
      instrument(() => new Response(), { registry, routes: ["orders/:id"] }),
    {
      name: "TypeError",
      message:
        'Cannot instrument handler: a route must start with "/", got "orders/:id"',
    },
  );
  assert.throws(
    () =>
      instrument(() => new Response(), { registry, routes: ["/orders/:id("] }),
    (error: Error) =>
      error instanceof TypeError &&
      error.message.startsWith(
        'Cannot instrument handler: route "/orders/:id(" is not a valid URLPattern pathname: ',
      ),
  );
  assert.throws(
    () => instrument("nope" as unknown as () => Response, { registry }),
    {
      name: "TypeError",
      message:
        "Cannot instrument handler: the handler must be a function, got string",
    },
  );
  const taken = timed();
  new Gauge({
    name: "http_requests_total",
    help: "Not a counter.",
    registry: taken.registry,
  });
  assert.throws(
    () => instrument(() => new Response(), { registry: taken.registry }),
    (error: Error) =>
      error instanceof TypeError &&
      error.message.startsWith(
        'Cannot instrument handler: Cannot register metric "http_requests_total": a metric with this name already exists, and it is not a Counter',
      ),
  );
});

Deno.test("instrument() keeps recording when routes outgrow its child cache", async () => {
  const { registry } = timed();
  let n = 0;
  const handler = instrument(() => new Response(), {
    registry,
    route: () => `/r${n++ % 2100}`,
    buckets: [1],
  });
  for (let i = 0; i < 4200; i++) await handler(req("/"));
  const [requests] = await registry.collect((name) => name === "http_requests");
  assert.ok(requests?.type === "counter");
  // 2,000 series, then one overflow series: nothing lost.
  assert.equal(requests.points.reduce((sum, p) => sum + p.value, 0), 4200);
});

Deno.test("instrument() records each overflowed route as itself after the series are reset", async () => {
  const { registry } = timed();
  // One series allowed: /b and /c both fold into the overflow series, then
  // reset() frees the slot; /c must come back as /c, not as /b.
  const requests = new Counter({
    name: "http_requests_total",
    help: "Total HTTP requests.",
    labelNames: ["method", "route", "status"] as const,
    maxSeries: 1,
    registry,
  });
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "Request latency in seconds.",
    unit: "seconds",
    labelNames: ["method", "route"] as const,
    buckets: [1],
    maxSeries: 1,
    registry,
  });
  const handler = instrument(() => new Response(), {
    registry,
    routes: ["/a", "/b", "/c"],
    buckets: [1],
  });
  await handler(req("/a"));
  await handler(req("/b"));
  await handler(req("/c"));
  requests.reset();
  latency.reset();
  await handler(req("/c"));
  await handler(req("/c"));
  assert.deepEqual(await lines(registry, "http_requests_total{"), [
    'http_requests_total{method="GET",route="/c",status="200"} 2',
  ]);
  assert.deepEqual(
    await lines(registry, "http_request_duration_seconds_count{"),
    ['http_request_duration_seconds_count{method="GET",route="/c"} 2'],
  );
});

Deno.test("instrument() never fails a request because a route or exemplar option throws", async () => {
  const { registry } = timed();
  const warnings: unknown[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    const answer = new Response("fine");
    const handler = instrument(() => answer, {
      registry,
      prefix: "instrument_test_throwing_",
      route: () => {
        throw new Error("route table missing");
      },
    });
    assert.equal(await handler(req("/")), answer);
    assert.equal(await handler(req("/")), answer);
    const boom = new Error("handler failed");
    const failing = instrument((): Response => {
      throw boom;
    }, {
      registry,
      prefix: "instrument_test_throwing_exemplar_",
      exemplar: () => {
        throw new Error("bad exemplar");
      },
    });
    await assert.rejects(failing(req("/")), (error) => error === boom);
  } finally {
    console.warn = original;
  }
  assert.deepEqual(warnings, [
    'edgemetrics: could not record a request in "instrument_test_throwing_http_requests_total": Error: route table missing',
    'edgemetrics: could not record a request in "instrument_test_throwing_exemplar_http_requests_total": Error: bad exemplar',
  ]);
  assert.deepEqual(
    await lines(registry, "instrument_test_throwing_http_requests_total{"),
    [],
  );
});
