import assert from "node:assert/strict";
import {
  Counter,
  Pushgateway,
  type PushgatewayOptions,
  Registry,
} from "../mod.ts";

const BASE = "http://pushgateway.test:9091";

interface Sent {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

function recorder(answers: (() => Response)[] = []) {
  const sent: Sent[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    sent.push({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: await request.text(),
    });
    return answers.shift()?.() ?? new Response(null, { status: 200 });
  };
  return { sent, fetch };
}

function gateway(
  options: Partial<PushgatewayOptions>,
  fetch?: (request: Request) => Promise<Response>,
): Pushgateway {
  return new Pushgateway({
    url: BASE,
    job: "batch",
    registry: new Registry(),
    sleep: () => Promise.resolve(),
    ...(fetch === undefined ? {} : { fetch }),
    ...options,
  });
}

Deno.test("Pushgateway.groupUrl puts job and grouping key in the path, base64-encoding values with / or empty", async (t) => {
  const cases: [Partial<PushgatewayOptions>, string][] = [
    [{}, "/metrics/job/batch"],
    [{ url: `${BASE}/` }, "/metrics/job/batch"],
    [{ url: `${BASE}/prefix/` }, "/prefix/metrics/job/batch"],
    [
      { groupingKey: { instance: "host-1", shard: "3" } },
      "/metrics/job/batch/instance/host-1/shard/3",
    ],
    [
      { groupingKey: { path: "/var/db" } },
      "/metrics/job/batch/path@base64/L3Zhci9kYg==",
    ],
    [
      { groupingKey: { path: "/~~~" } },
      "/metrics/job/batch/path@base64/L35-fg==",
    ],
    [{ groupingKey: { empty: "" } }, "/metrics/job/batch/empty@base64/="],
    [{ job: "a/b" }, "/metrics/job@base64/YS9i"],
    // "." and ".." would be dot segments, removed or climbing when the URL
    // is parsed: base64 keeps them as values.
    [
      { groupingKey: { instance: "." } },
      "/metrics/job/batch/instance@base64/Lg==",
    ],
    [
      { groupingKey: { instance: ".." } },
      "/metrics/job/batch/instance@base64/Li4=",
    ],
    [{ job: "." }, "/metrics/job@base64/Lg=="],
    [{ job: "..", groupingKey: { a: "b" } }, "/metrics/job@base64/Li4=/a/b"],
    [{ groupingKey: { instance: "..." } }, "/metrics/job/batch/instance/..."],
    [
      { groupingKey: { name: "ünï code ?#" } },
      "/metrics/job/batch/name/%C3%BCn%C3%AF%20code%20%3F%23",
    ],
  ];
  for (const [options, path] of cases) {
    await t.step(JSON.stringify(options), () => {
      assert.equal(gateway(options).groupUrl, BASE + path);
    });
  }
});

Deno.test("Pushgateway sends to the group URL unchanged when job or grouping values are dots", async () => {
  const { sent, fetch } = recorder();
  for (
    const options of [
      { job: "." },
      { job: ".." },
      { groupingKey: { instance: "." } },
      { groupingKey: { instance: "..", zone: "." } },
    ]
  ) {
    const gw = gateway(options, fetch);
    await gw.delete();
    assert.equal(sent.at(-1)!.url, gw.groupUrl);
  }
  assert.deepEqual(sent.map((request) => request.url), [
    `${BASE}/metrics/job@base64/Lg==`,
    `${BASE}/metrics/job@base64/Li4=`,
    `${BASE}/metrics/job/batch/instance@base64/Lg==`,
    `${BASE}/metrics/job/batch/instance@base64/Li4=/zone@base64/Lg==`,
  ]);
});

Deno.test("Pushgateway.push() PUTs the registry as Prometheus text 0.0.4 to the group", async () => {
  const registry = new Registry();
  const c = new Counter({
    name: "rows_imported_total",
    help: "Rows imported.",
    labelNames: ["table"] as const,
    registry,
  });
  c.inc({ table: "orders" }, 42);
  const { sent, fetch } = recorder();
  const gw = gateway({ registry, groupingKey: { instance: "i-1" } }, fetch);
  await gw.push();
  assert.deepEqual(
    sent.map(({ method, url, body }) => ({ method, url, body })),
    [{
      method: "PUT",
      url: `${BASE}/metrics/job/batch/instance/i-1`,
      body: "# HELP rows_imported_total Rows imported.\n" +
        "# TYPE rows_imported_total counter\n" +
        'rows_imported_total{table="orders"} 42\n',
    }],
  );
  assert.equal(
    sent[0]!.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  assert.equal(sent[0]!.headers.get("authorization"), null);
});

Deno.test("Pushgateway.pushAdd() POSTs and delete() DELETEs without a body, in call order", async () => {
  const registry = new Registry();
  new Counter({ name: "order_probe", help: "Probe.", registry }).inc();
  const { sent, fetch } = recorder();
  const gw = gateway({ registry }, fetch);
  await Promise.all([gw.pushAdd(), gw.delete(), gw.push()]);
  assert.deepEqual(sent.map((s) => [s.method, s.body === ""]), [
    ["POST", false],
    ["DELETE", true],
    ["PUT", false],
  ]);
  assert.equal(sent[1]!.headers.get("content-type"), null);
});

Deno.test("Pushgateway sends basic and bearer authorization", async () => {
  const basic = recorder();
  await gateway(
    { auth: { username: "ci", password: "pä:ss" } },
    basic.fetch,
  ).delete();
  assert.equal(
    basic.sent[0]!.headers.get("authorization"),
    `Basic ${
      btoa(String.fromCharCode(...new TextEncoder().encode("ci:pä:ss")))
    }`,
  );
  const bearer = recorder();
  await gateway({ auth: { bearer: "t0k3n" } }, bearer.fetch).delete();
  assert.equal(bearer.sent[0]!.headers.get("authorization"), "Bearer t0k3n");
});

Deno.test("Pushgateway sends one Authorization and one Content-Type whatever the case of the user's header names", async () => {
  const { sent, fetch } = recorder();
  await gateway(
    {
      headers: {
        Authorization: "Bearer from-header",
        "Content-Type": "application/json",
        "X-Team": "metrics",
      },
    },
    fetch,
  ).push();
  assert.deepEqual([...sent[0]!.headers], [
    ["authorization", "Bearer from-header"],
    ["content-type", "text/plain; version=0.0.4; charset=utf-8"],
    ["x-team", "metrics"],
  ]);
});

Deno.test("new Pushgateway() rejects auth together with an Authorization header", () => {
  assert.throws(
    () =>
      gateway({
        auth: { bearer: "t0k3n" },
        headers: { AUTHORIZATION: "Basic abc" },
      }),
    {
      name: "TypeError",
      message:
        'Cannot create Pushgateway: give auth or an Authorization header, not both, got auth with keys ["bearer"] and an Authorization header',
    },
  );
});

Deno.test("new Pushgateway() rejects a bearer token that cannot be a header value, without quoting it", () => {
  for (
    const [bearer, found] of [["s3c\nret", "U+000A at index 10"], [
      "tök€n",
      "U+20AC at index 10",
    ]]
  ) {
    assert.throws(
      () => gateway({ auth: { bearer: bearer! } }),
      {
        name: "TypeError",
        message:
          `Cannot create Pushgateway: header "authorization": a value must not hold NUL, CR, LF or characters past U+00FF, got ${found} (the value is not quoted: it may be a credential)`,
      },
    );
  }
});

Deno.test("Pushgateway retries 503 and network errors, and rejects a 400 with URL, status and attempts", async () => {
  const registry = new Registry();
  new Counter({ name: "retry_probe", help: "Probe.", registry }).inc();
  let calls = 0;
  const flaky = async (request: Request) => {
    calls++;
    await request.body?.cancel();
    if (calls === 1) throw new TypeError("connection refused");
    if (calls === 2) return new Response(null, { status: 503 });
    return new Response(null, { status: 200 });
  };
  await gateway({ registry }, flaky).push();
  assert.equal(calls, 3);

  const { sent, fetch } = recorder([
    () =>
      new Response(
        "pushed metrics are invalid or inconsistent with existing metrics",
        { status: 400, statusText: "Bad Request" },
      ),
  ]);
  await assert.rejects(gateway({ registry }, fetch).pushAdd(), {
    message:
      `Cannot push-add metrics to ${BASE}/metrics/job/batch: got HTTP 400 Bad Request ` +
      '("pushed metrics are invalid or inconsistent with existing metrics") after 1 attempt (not retryable)',
  });
  assert.equal(sent.length, 1);
});

Deno.test("Pushgateway keeps working after an operation failed", async () => {
  const { sent, fetch } = recorder([
    () => new Response(null, { status: 404 }),
  ]);
  const gw = gateway({}, fetch);
  const failed = gw.delete();
  const next = gw.delete();
  await assert.rejects(failed, /got HTTP 404/);
  await next;
  assert.equal(sent.length, 2);
});

Deno.test("new Pushgateway() rejects a bad url, job, grouping label or auth", () => {
  assert.throws(() => gateway({ url: "pushgateway:9091" }), {
    name: "TypeError",
    message:
      'Cannot create Pushgateway: url must be an absolute http or https URL, got "pushgateway:9091"',
  });
  assert.throws(() => gateway({ job: "" }), {
    name: "TypeError",
    message:
      'Cannot create Pushgateway: job must be a non-empty string, got ""',
  });
  assert.throws(() => gateway({ groupingKey: { "bad-name": "x" } }), {
    name: "TypeError",
    message:
      'Cannot create Pushgateway: grouping key label names must match ^[a-zA-Z_][a-zA-Z0-9_]*$ and not be "job", got "bad-name"',
  });
  assert.throws(() => gateway({ groupingKey: { job: "x" } }), {
    name: "TypeError",
  });
  assert.throws(
    () => gateway({ auth: { user: "x" } as unknown as { bearer: string } }),
    {
      name: "TypeError",
      message:
        'Cannot create Pushgateway: auth must be { username, password } or { bearer }, got keys ["user"]',
    },
  );
  assert.throws(() => gateway({ timeoutMs: -5 }), { name: "RangeError" });
});

Deno.test("new Pushgateway() rejects a header that is not valid HTTP", () => {
  assert.throws(
    () => gateway({ headers: { "x-team": "a\nb" } }),
    {
      name: "TypeError",
      message:
        'Cannot create Pushgateway: header "x-team": a value must not hold NUL, CR, LF or characters past U+00FF, got U+000A at index 1 (the value is not quoted: it may be a credential)',
    },
  );
});
