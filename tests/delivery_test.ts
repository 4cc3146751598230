import assert from "node:assert/strict";
import { deliver, parseRetryAfter } from "../src/push/_delivery.ts";
import {
  type DeliveryOptions,
  resolveDelivery,
} from "../src/push/_delivery_options.ts";
import { Serial } from "../src/push/_serial.ts";

const URL_ = "http://collector.test/v1/metrics";
const EPOCH = 1_700_000_000_000;

/** A fake clock whose time only moves when the injected sleep waits. */
function fakeTime() {
  let t = 0;
  const waits: number[] = [];
  return {
    waits,
    clock: { now: () => EPOCH + t, monotonic: () => t },
    sleep: (ms: number) => {
      waits.push(ms);
      t += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** A fetch that answers from a script and records each request's body. */
function scripted(
  answers: (() => Response | Promise<Response>)[],
): { fetch: (request: Request) => Promise<Response>; bodies: string[] } {
  const bodies: string[] = [];
  return {
    bodies,
    fetch: async (request) => {
      bodies.push(await request.text());
      const next = answers.shift();
      if (next === undefined) throw new Error("test: no more answers");
      return await next();
    },
  };
}

function settings(options: DeliveryOptions) {
  return resolveDelivery("Test", { random: () => 1, ...options });
}

const outgoing = {
  method: "POST",
  url: URL_,
  headers: { "content-type": "application/json" },
  body: "batch-1",
} as const;

Deno.test("deliver() resends the same body after 503, 429, 502 and 504 until a 2xx", async () => {
  const time = fakeTime();
  const { fetch, bodies } = scripted([
    () => new Response("busy", { status: 503 }),
    () => new Response(null, { status: 429 }),
    () => new Response(null, { status: 502 }),
    () => new Response(null, { status: 504 }),
    () => new Response("{}", { status: 200 }),
  ]);
  const delivered = await deliver(
    "Cannot export metrics to",
    outgoing,
    settings({ fetch, ...time, initialBackoffMs: 100, maxBackoffMs: 1000 }),
  );
  assert.equal(delivered.status, 200);
  assert.equal(delivered.attempts, 5);
  assert.equal(new TextDecoder().decode(delivered.body), "{}");
  assert.deepEqual(bodies, Array(5).fill("batch-1"));
  // random() = 1 gives each ceiling: 100 · 2^(n-1), capped at 1000.
  assert.deepEqual(time.waits, [100, 200, 400, 800]);
});

Deno.test("deliver() counts a 2xx as delivered even when its body breaks off, and never resends it", async () => {
  const time = fakeTime();
  const broken = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"partial'));
        controller.error(new Error("connection reset"));
      },
    });
  const { fetch, bodies } = scripted([
    () => new Response(broken(), { status: 200 }),
    () => new Response("{}", { status: 200 }),
  ]);
  const delivered = await deliver(
    "Cannot export metrics to",
    outgoing,
    settings({ fetch, ...time }),
  );
  assert.equal(delivered.status, 200);
  assert.equal(delivered.attempts, 1);
  assert.deepEqual(delivered.body, new Uint8Array(0));
  assert.match(String(delivered.bodyError), /connection reset/);
  assert.deepEqual(bodies, ["batch-1"]);
  assert.deepEqual(time.waits, []);
});

Deno.test("deliver() waits a full-jitter share of the backoff ceiling", async () => {
  const time = fakeTime();
  const randoms = [0.5, 0.25, 0];
  const { fetch } = scripted([
    () => new Response(null, { status: 503 }),
    () => new Response(null, { status: 503 }),
    () => new Response(null, { status: 503 }),
    () => new Response(null, { status: 200 }),
  ]);
  await deliver(
    "Cannot export metrics to",
    outgoing,
    resolveDelivery("Test", {
      fetch,
      ...time,
      random: () => randoms.shift()!,
      initialBackoffMs: 1000,
      maxBackoffMs: 3000,
    }),
  );
  assert.deepEqual(time.waits, [500, 500, 0]);
});

Deno.test("deliver() honours Retry-After in seconds and as an HTTP date", async () => {
  const time = fakeTime();
  const { fetch } = scripted([
    () => new Response(null, { status: 503, headers: { "retry-after": "3" } }),
    () =>
      new Response(null, {
        status: 429,
        headers: {
          "retry-after": new Date(EPOCH + 3000 + 7000).toUTCString(),
        },
      }),
    () => new Response(null, { status: 204 }),
  ]);
  const delivered = await deliver(
    "Cannot export metrics to",
    outgoing,
    settings({ fetch, ...time, maxBackoffMs: 10 }),
  );
  assert.equal(delivered.status, 204);
  assert.deepEqual(time.waits, [3000, 7000]);
});

Deno.test("deliver() does not retry 400, 401, 404 or 500 and names URL, status and attempts", async (t) => {
  for (const status of [400, 401, 404, 500]) {
    await t.step(`HTTP ${status}`, async () => {
      const time = fakeTime();
      const { fetch, bodies } = scripted([
        () => new Response("bad data point", { status }),
      ]);
      await assert.rejects(
        deliver(
          "Cannot export metrics to",
          outgoing,
          settings({ fetch, ...time }),
        ),
        (error: Error) => {
          assert.equal(
            error.message,
            `Cannot export metrics to ${URL_}: got HTTP ${status} ("bad data point") after 1 attempt (not retryable)`,
          );
          return true;
        },
      );
      assert.equal(bodies.length, 1);
      assert.deepEqual(time.waits, []);
    });
  }
});

Deno.test("deliver() retries network errors and gives up after maxAttempts", async () => {
  const time = fakeTime();
  let calls = 0;
  const fetch = () => {
    calls++;
    return Promise.reject(new TypeError("connection reset"));
  };
  await assert.rejects(
    deliver(
      "Cannot export metrics to",
      outgoing,
      settings({ fetch, ...time, maxAttempts: 3 }),
    ),
    {
      message:
        `Cannot export metrics to ${URL_}: network error (connection reset) after 3 attempts, the most allowed (maxAttempts)`,
    },
  );
  assert.equal(calls, 3);
  assert.equal(time.waits.length, 2);
});

Deno.test("deliver() aborts an attempt after timeoutMs and retries it", async () => {
  const time = fakeTime();
  let calls = 0;
  const fetch = (request: Request) => {
    calls++;
    if (calls === 1) {
      // Hang until the per-attempt signal fires.
      return new Promise<Response>((_, reject) =>
        request.signal.addEventListener(
          "abort",
          () => reject(request.signal.reason),
        )
      );
    }
    return Promise.resolve(new Response(null, { status: 200 }));
  };
  const delivered = await deliver(
    "Cannot export metrics to",
    outgoing,
    settings({ fetch, ...time, timeoutMs: 20 }),
  );
  assert.equal(delivered.attempts, 2);
});

Deno.test("deliver() reports a timeout with the timeout in the message", async () => {
  const time = fakeTime();
  const fetch = (request: Request) =>
    new Promise<Response>((_, reject) =>
      request.signal.addEventListener(
        "abort",
        () => reject(request.signal.reason),
      )
    );
  await assert.rejects(
    deliver(
      "Cannot export metrics to",
      outgoing,
      settings({ fetch, ...time, timeoutMs: 10, maxAttempts: 1 }),
    ),
    {
      message:
        `Cannot export metrics to ${URL_}: no answer within the 10 ms timeout after 1 attempt, the most allowed (maxAttempts)`,
    },
  );
});

Deno.test("deliver() stops retrying when the deadline leaves no time", async () => {
  const time = fakeTime();
  const { fetch, bodies } = scripted([
    () => new Response(null, { status: 503 }),
    () => new Response(null, { status: 503 }),
    () => new Response(null, { status: 503 }),
  ]);
  await assert.rejects(
    deliver(
      "Cannot export metrics to",
      outgoing,
      settings({
        fetch,
        ...time,
        deadlineMs: 2500,
        timeoutMs: 100,
        initialBackoffMs: 1000,
        maxBackoffMs: 10_000,
        maxAttempts: 10,
      }),
    ),
    {
      message:
        `Cannot export metrics to ${URL_}: got HTTP 503 after 2 attempts; the deadline of 2500 ms leaves no time to retry`,
    },
  );
  // Waited 1000; the next wait (2000) and a 100 ms attempt do not fit in 1500.
  assert.deepEqual(time.waits, [1000]);
  assert.equal(bodies.length, 2);
});

Deno.test("deliver() gives up at once when Retry-After goes past the deadline", async () => {
  const time = fakeTime();
  const { fetch } = scripted([
    () =>
      new Response(null, { status: 429, headers: { "retry-after": "120" } }),
  ]);
  await assert.rejects(
    deliver(
      "Cannot export metrics to",
      outgoing,
      settings({ fetch, ...time, deadlineMs: 30_000 }),
    ),
    {
      message:
        `Cannot export metrics to ${URL_}: got HTTP 429 after 1 attempt; Retry-After asks to wait 120000 ms, too long for the deadline of 30000 ms`,
    },
  );
  assert.deepEqual(time.waits, []);
});

Deno.test("deliver() caps each attempt's timeout at the time left before the deadline", async () => {
  const time = fakeTime();
  time.advance(0);
  let seen: AbortSignal | undefined;
  const fetch = (request: Request) => {
    seen = request.signal;
    return new Promise<Response>((_, reject) =>
      request.signal.addEventListener(
        "abort",
        () => reject(request.signal.reason),
      )
    );
  };
  const started = performance.now();
  await assert.rejects(
    deliver(
      "Cannot export metrics to",
      outgoing,
      settings({
        fetch,
        ...time,
        timeoutMs: 60_000,
        deadlineMs: 30,
        maxAttempts: 1,
      }),
    ),
    /no answer within the 30 ms timeout/,
  );
  assert.ok(seen?.aborted);
  assert.ok(performance.now() - started < 5_000);
});

Deno.test("parseRetryAfter() reads seconds, HTTP dates, and ignores garbage", () => {
  assert.equal(parseRetryAfter(null, EPOCH), undefined);
  assert.equal(parseRetryAfter("0", EPOCH), 0);
  assert.equal(parseRetryAfter(" 12 ", EPOCH), 12_000);
  assert.equal(
    parseRetryAfter(new Date(EPOCH + 5000).toUTCString(), EPOCH),
    5000,
  );
  assert.equal(
    parseRetryAfter(new Date(EPOCH - 5000).toUTCString(), EPOCH),
    0,
  );
  assert.equal(parseRetryAfter("soon", EPOCH), undefined);
  assert.equal(parseRetryAfter("-3", EPOCH), undefined);
});

Deno.test("resolveDelivery() rejects bad budgets and non-function hooks", () => {
  assert.throws(() => resolveDelivery("OtlpExporter", { timeoutMs: 0 }), {
    name: "RangeError",
    message:
      "Cannot create OtlpExporter: timeoutMs must be a number above 0, got 0",
  });
  assert.throws(() => resolveDelivery("Pushgateway", { maxAttempts: 1.5 }), {
    name: "RangeError",
    message:
      "Cannot create Pushgateway: maxAttempts must be a whole number, got 1.5",
  });
  assert.throws(
    () =>
      resolveDelivery("Pushgateway", {
        fetch: "nope" as unknown as () => Promise<Response>,
      }),
    {
      name: "TypeError",
      message:
        "Cannot create Pushgateway: fetch must be a function, got string",
    },
  );
});

Deno.test("Serial.run() coalesces callers that arrive while a task runs into one follow-up run", async () => {
  const serial = new Serial<number>();
  let runs = 0;
  const gates: (() => void)[] = [];
  const task = () =>
    new Promise<number>((resolve) => {
      const run = ++runs;
      gates.push(() => resolve(run));
    });
  const first = serial.run(task);
  const second = serial.run(task);
  const third = serial.run(task);
  assert.equal(second, third);
  assert.equal(runs, 1, "the follow-up waits for the running task");
  gates.shift()!();
  assert.equal(await first, 1);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(runs, 2);
  const fourth = serial.run(task);
  assert.notEqual(
    fourth,
    second,
    "a caller after the follow-up started waits for its own run",
  );
  gates.shift()!();
  assert.equal(await second, 2);
  await new Promise((resolve) => setTimeout(resolve, 0));
  gates.shift()!();
  assert.equal(await fourth, 3);
  assert.equal(runs, 3);
});

Deno.test("Serial.run() keeps running after a task rejects", async () => {
  const serial = new Serial<string>();
  const failing = serial.run(() => Promise.reject(new Error("down")));
  const next = serial.run(() => Promise.resolve("up"));
  await assert.rejects(failing, { message: "down" });
  assert.equal(await next, "up");
});

Deno.test("deliver() does not retry a request that cannot be built", async () => {
  const time = fakeTime();
  let calls = 0;
  await assert.rejects(
    deliver(
      "Cannot export metrics to",
      { ...outgoing, headers: { "bad header": "x" } },
      settings({
        fetch: () => {
          calls++;
          return Promise.resolve(new Response());
        },
        ...time,
      }),
    ),
    {
      message:
        `Cannot export metrics to ${URL_}: cannot build the request (Invalid header name: "bad header") after 1 attempt (not retryable)`,
    },
  );
  assert.equal(calls, 0);
});

Deno.test("deliver() sends with redirect: manual and never counts an opaque or followed redirect as delivery", async (t) => {
  await t.step("the request asks not to follow", async () => {
    const modes: string[] = [];
    await deliver(
      "Cannot export metrics to",
      outgoing,
      settings({
        ...fakeTime(),
        fetch: (request) => {
          modes.push(request.redirect);
          return Promise.resolve(new Response(null, { status: 204 }));
        },
      }),
    );
    assert.deepEqual(modes, ["manual"]);
  });
  await t.step("an opaque redirect (status 0, no headers)", async () => {
    // What a browser's fetch gives for redirect: "manual"; no constructor makes one.
    const opaque = {
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
    const time = fakeTime();
    const { fetch, bodies } = scripted([() => opaque]);
    await assert.rejects(
      deliver(
        "Cannot export metrics to",
        outgoing,
        settings({ fetch, ...time }),
      ),
      (error: Error) => {
        assert.equal(
          error.message,
          `Cannot export metrics to ${URL_}: got a redirect whose Location the runtime hides (an opaque redirect, status 0) (a redirect never counts as delivery: set the URL to the final address) after 1 attempt (not retryable)`,
        );
        return true;
      },
    );
    assert.equal(bodies.length, 1);
  });
  await t.step("a fetch that followed the redirect anyway", async () => {
    const followed = new Response("{}", { status: 200 });
    Object.defineProperty(followed, "redirected", { value: true });
    Object.defineProperty(followed, "url", { value: "https://login.test/" });
    const { fetch } = scripted([() => followed]);
    await assert.rejects(
      deliver(
        "Cannot export metrics to",
        outgoing,
        settings({ fetch, ...fakeTime() }),
      ),
      /was redirected to "https:\/\/login\.test\/" by the fetch in use \(a redirect never counts as delivery/,
    );
  });
  await t.step("a 302 without a Location", async () => {
    const { fetch } = scripted([() => new Response(null, { status: 302 })]);
    await assert.rejects(
      deliver(
        "Cannot export metrics to",
        outgoing,
        settings({ fetch, ...fakeTime() }),
      ),
      /got HTTP 302 redirecting to nowhere \(no Location\) \(a redirect/,
    );
  });
});

Deno.test("deliver() decides on the status when an error answer's body breaks off: 400 is not retried, 503 is", async (t) => {
  const broken = () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"code":3,'));
        controller.error(new Error("connection reset"));
      },
    });
  await t.step("400", async () => {
    const time = fakeTime();
    const { fetch, bodies } = scripted([
      () => new Response(broken(), { status: 400 }),
      () => new Response("{}", { status: 200 }),
    ]);
    await assert.rejects(
      deliver(
        "Cannot export metrics to",
        outgoing,
        settings({ fetch, ...time }),
      ),
      (error: Error) => {
        assert.equal(
          error.message,
          `Cannot export metrics to ${URL_}: got HTTP 400 (its body broke off: connection reset) after 1 attempt (not retryable)`,
        );
        assert.match(String(error.cause), /connection reset/);
        return true;
      },
    );
    assert.equal(bodies.length, 1);
    assert.deepEqual(time.waits, []);
  });
  await t.step("503 with Retry-After", async () => {
    const time = fakeTime();
    const { fetch, bodies } = scripted([
      () =>
        new Response(broken(), {
          status: 503,
          headers: { "retry-after": "3" },
        }),
      () => new Response("{}", { status: 200 }),
    ]);
    const delivered = await deliver(
      "Cannot export metrics to",
      outgoing,
      settings({ fetch, ...time }),
    );
    assert.equal(delivered.attempts, 2);
    assert.equal(bodies.length, 2);
    assert.deepEqual(time.waits, [3000]);
  });
});
