/**
 * An edge Worker for the aggregation tests in workerd: it records known
 * values on each request, reports them to the aggregator Durable Object
 * (binding `AGG`, objects named `shard-<i>`) through `ctx.waitUntil`, and,
 * with `FAULTS` set, breaks its own reports on purpose: a 503 without
 * reaching the object, a thrown error, a hang past the timeout, an answer
 * lost after the object applied the report, and a report delivered twice.
 *
 * Routes: `GET /hit?route=&value=` records one request; `POST /flush`
 * reports now (500 with the error when that fails); `GET /faults` answers
 * the faults injected so far.
 *
 * Bindings: `WORKER` (its name), `INTERVAL_MS`, `TIMEOUT_MS`, `SHARDS`,
 * `FAULTS` ("1" to inject).
 *
 * @module
 */

import {
  Counter,
  Gauge,
  Histogram,
  MetricsReporter,
  Registry,
} from "../../mod.ts";

interface Namespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

interface Env {
  AGG: Namespace;
  WORKER: string;
  INTERVAL_MS: string;
  TIMEOUT_MS?: string;
  SHARDS?: string;
  FAULTS?: string;
}

interface Ctx {
  waitUntil(promise: Promise<unknown>): void;
}

const registry = new Registry();
const requests = new Counter({
  name: "edge_requests_total",
  help: "Requests, by worker and route.",
  labelNames: ["worker", "route"] as const,
  registry,
});
const values = new Histogram({
  name: "edge_value",
  help: "Values recorded.",
  labelNames: ["route"] as const,
  buckets: [1, 2, 3],
  registry,
});
const last = new Gauge({
  name: "edge_last_value",
  help: "The last value recorded, per worker.",
  aggregation: "max",
  registry,
});

const injected = { "503": 0, throw: 0, hang: 0, lost: 0, duplicate: 0 };
let attempts = 0;
let reporter: MetricsReporter | undefined;

function stub(env: Env, shard: number) {
  return env.AGG.get(env.AGG.idFromName(`shard-${shard}`));
}

async function faulty(
  env: Env,
  request: Request,
  shard: number,
): Promise<Response> {
  const object = stub(env, shard);
  if (env.FAULTS !== "1") return await object.fetch(request);
  switch (++attempts % 8) {
    case 1:
      injected["503"]++;
      return new Response("injected", { status: 503 });
    case 3:
      injected.throw++;
      throw new Error("injected network error");
    case 4:
      injected.hang++;
      return await new Promise<Response>(() => {});
    case 5: {
      injected.lost++;
      const applied = await object.fetch(request);
      await applied.arrayBuffer();
      throw new Error("injected: the answer was lost");
    }
    case 6: {
      injected.duplicate++;
      const first = await object.fetch(request.clone());
      await first.arrayBuffer();
      return await object.fetch(request);
    }
    default:
      return await object.fetch(request);
  }
}

function reporterFor(env: Env): MetricsReporter {
  return reporter ??= new MetricsReporter({
    registry,
    fetch: (request, shard) => faulty(env, request, shard),
    shards: Number(env.SHARDS ?? "1"),
    intervalMs: Number(env.INTERVAL_MS),
    timeoutMs: Number(env.TIMEOUT_MS ?? "2000"),
    deadlineMs: 10_000,
    maxAttempts: 3,
    initialBackoffMs: 10,
    maxBackoffMs: 50,
    onError: () => {}, // counted by the test through the totals, not logged
  });
}

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/flush") {
      try {
        await reporterFor(env).flush();
        return new Response("flushed\n");
      } catch (error) {
        return new Response(`${error}\n`, { status: 500 });
      }
    }
    if (url.pathname === "/faults") return Response.json(injected);
    const route = url.searchParams.get("route") ?? "/";
    const value = Number(url.searchParams.get("value") ?? "0");
    requests.inc({ worker: env.WORKER, route });
    values.observe({ route }, value);
    last.set(value);
    reporterFor(env).schedule(ctx);
    return new Response("ok\n");
  },
};
