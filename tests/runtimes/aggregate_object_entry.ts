/**
 * The aggregator side of the workerd aggregation tests: the Durable Object
 * class `TestAggregator` (a MetricsAggregator over the object's storage),
 * and the front door Worker: `/w/<name>/…` goes to the edge Worker bound as
 * service `<NAME>`, `/agg/<shard>/…` to that object, `/metrics` to a
 * ShardedSource over `SHARDS` objects, `/abort/<shard>` resets that object
 * (Durable Object `state.abort()`: memory gone, storage kept) as a restart
 * in the middle of a run; `/agg/<shard>/instance` names the object's
 * current instance, so a test can see that the reset happened, and
 * `/agg/<shard>/merged` is a scrape of every shard served by that object
 * itself (its own shard reached through its own namespace).
 *
 * @module
 */

import {
  durableObjectStorage,
  type DurableObjectStorageLike,
  MemoryStorage,
  MetricsAggregator,
  metricsHandler,
  ShardedSource,
} from "../../mod.ts";

interface Namespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

interface Env {
  AGG: Namespace;
  SHARDS: string;
  STORE?: string;
  [service: string]: unknown;
}

interface State {
  storage: DurableObjectStorageLike;
  abort(reason?: string): void;
}

export class TestAggregator {
  #state: State;
  #aggregator: MetricsAggregator;
  #instance = crypto.randomUUID();
  #merged: (request: Request) => Promise<Response>;

  constructor(state: State, env: Env) {
    this.#state = state;
    this.#merged = metricsHandler(
      new ShardedSource({
        shards: Number(env.SHARDS),
        fetch: (inner, shard) => stub(env, shard).fetch(inner),
      }),
    );
    this.#aggregator = new MetricsAggregator({
      // STORE=memory measures the aggregator without the storage's cost.
      storage: env.STORE === "memory"
        ? new MemoryStorage()
        : durableObjectStorage(state.storage),
      gaugeExpiryMs: 600_000,
    });
  }

  fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/merged") return this.#merged(request);
    if (pathname === "/instance") {
      return Promise.resolve(new Response(this.#instance));
    }
    if (pathname === "/abort") {
      // Answer first: abort() ends this instance, and this request with it.
      setTimeout(() => this.#state.abort("restart requested by the test"), 0);
      return Promise.resolve(new Response("aborting\n"));
    }
    return this.#aggregator.fetch(request);
  }
}

function stub(env: Env, shard: number | string) {
  return env.AGG.get(env.AGG.idFromName(`shard-${shard}`));
}

/** `request` with its path replaced by `path`. */
function moved(request: Request, path: string): Request {
  const url = new URL(request.url);
  url.pathname = path;
  return new Request(url, request);
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, first = "", second = "", ...rest] = url.pathname.split("/");
    if (first === "w") {
      const service = env[second.toUpperCase()] as {
        fetch(request: Request): Promise<Response>;
      };
      return service.fetch(moved(request, `/${rest.join("/")}`));
    }
    if (first === "agg") {
      return stub(env, second).fetch(moved(request, `/${rest.join("/")}`));
    }
    if (first === "abort") {
      return stub(env, second).fetch(moved(request, "/abort"));
    }
    if (first === "metrics") {
      const source = new ShardedSource({
        shards: Number(env.SHARDS),
        fetch: (inner, shard) => stub(env, shard).fetch(inner),
      });
      return metricsHandler(source)(request);
    }
    return Promise.resolve(new Response("not found\n", { status: 404 }));
  },
};
