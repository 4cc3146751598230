/**
 * `deno serve --parallel` of tests/fixtures/parallel_server.ts: with the
 * WorkerAggregator every scrape reports the service-wide total whichever
 * worker answers; each worker's own registry alone does not.
 */

import assert from "node:assert/strict";
import { answers, freePort, startPeer, waitFor } from "../_peers.ts";

const WORKERS = 3;
const REQUESTS = 60;
const SCRAPES = 12;

interface Scrape {
  /** The worker that answered the scrape (the fixture's `x-worker` header). */
  worker: string;
  /** `http_requests_total{route="/work"}`, or `undefined` when absent. */
  total: number | undefined;
  /** `fixture_worker_requests` by `worker` label (aggregated scrapes only). */
  perWorker: Map<string, number>;
  /** `edgemetrics_workers_responding` and `_missing`, when present. */
  responding: number | undefined;
  missing: number | undefined;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((line) => line.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes `path` on a new connection (so the kernel picks the worker). */
async function scrape(client: Deno.HttpClient, url: string): Promise<Scrape> {
  const response = await fetch(url, { client });
  assert.equal(response.status, 200);
  const text = await response.text();
  const perWorker = new Map<string, number>();
  for (
    const [, worker, value] of text.matchAll(
      /^fixture_worker_requests\{worker="([^"]+)"\} (\S+)$/gm,
    )
  ) {
    perWorker.set(worker!, Number(value));
  }
  return {
    worker: response.headers.get("x-worker") ?? "",
    total: sample(text, 'http_requests_total{route="/work"}'),
    perWorker,
    responding: sample(text, "edgemetrics_workers_responding"),
    missing: sample(text, "edgemetrics_workers_missing"),
  };
}

/** Scrapes `SCRAPES` times and asserts that every scrape reports exactly `expected`. */
async function assertEveryScrapeReports(
  client: Deno.HttpClient,
  url: string,
  expected: number,
): Promise<Scrape[]> {
  const scrapes: Scrape[] = [];
  for (let i = 0; i < SCRAPES; i++) scrapes.push(await scrape(client, url));
  assert.deepEqual(
    scrapes.map((s) => `${s.worker}: ${s.total}`),
    scrapes.map((s) => `${s.worker}: ${expected}`),
    `every scrape of ${url} must report http_requests_total ${expected}`,
  );
  return scrapes;
}

Deno.test("deno serve --parallel: every scrape reports the service-wide request total, whichever worker answers", async (t) => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startPeer(
    Deno.execPath(),
    [
      "serve",
      "--parallel",
      "--host",
      "127.0.0.1",
      "--port",
      `${port}`,
      "tests/fixtures/parallel_server.ts",
    ],
    {
      env: { DENO_JOBS: `${WORKERS}`, NO_COLOR: "1" },
      ready: () => answers(`${base}/ready`),
    },
  );
  // No connection reuse: each request opens a connection, and SO_REUSEPORT
  // spreads connections over the workers.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    // deno serve prints its banner asynchronously: wait for it, don't race it.
    await waitFor(
      "the banner naming the worker count",
      () => new RegExp(`with ${WORKERS} threads`).test(server.output()),
    );
    await waitFor(
      `all ${WORKERS} workers to answer a scrape`,
      async () =>
        (await scrape(client, `${base}/metrics`)).responding === WORKERS,
    );
    for (let i = 0; i < REQUESTS; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const response = await fetch(`${base}/work`, { client });
          assert.equal(await response.text(), "done\n");
        }),
      );
    }

    let perWorker = new Map<string, number>();
    await t.step(
      `with aggregation: ${SCRAPES} scrapes each report exactly ${REQUESTS}`,
      async () => {
        const scrapes = await assertEveryScrapeReports(
          client,
          `${base}/metrics`,
          REQUESTS,
        );
        for (const s of scrapes) {
          assert.equal(s.responding, WORKERS);
          assert.equal(s.missing, 0);
        }
        // the scrapes were answered by different workers ...
        const answering = new Set(scrapes.map((s) => s.worker));
        assert.ok(answering.size >= 2, `scrapes answered by ${[...answering]}`);
        // ... and the requests were spread over several workers, so no single
        // worker's own count could have been the total
        perWorker = scrapes[0]!.perWorker;
        for (const s of scrapes) assert.deepEqual(s.perWorker, perWorker);
        assert.equal(perWorker.size, WORKERS);
        const busy = [...perWorker.values()].filter((n) => n > 0);
        assert.ok(
          busy.length >= 2,
          `requests per worker: ${JSON.stringify([...perWorker])}`,
        );
        assert.equal(busy.reduce((a, b) => a + b, 0), REQUESTS);
      },
    );

    await t.step(
      "without aggregation: each worker's own registry reports only its share",
      async () => {
        const url = `${base}/metrics/local`;
        const error = await assertEveryScrapeReports(client, url, REQUESTS)
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        assert.ok(
          error instanceof assert.AssertionError,
          "the same check must fail without aggregation",
        );
        console.log(`without aggregation, as expected:\n${error.message}`);
        for (let i = 0; i < SCRAPES; i++) {
          const s = await scrape(client, url);
          assert.equal(
            s.total ?? 0,
            perWorker.get(s.worker) ?? 0,
            `worker ${s.worker}`,
          );
          assert.ok((s.total ?? 0) < REQUESTS);
        }
      },
    );

    await t.step(
      "the server exits on SIGTERM within seconds: the channel is closed",
      async () => {
        const started = performance.now();
        await server.stop(); // SIGTERM, SIGKILL after 5 s
        const elapsed = performance.now() - started;
        const status = await server.status;
        assert.deepEqual({ code: status.code, signal: status.signal }, {
          code: 0,
          signal: null,
        });
        assert.ok(elapsed < 4_000, `exit took ${elapsed} ms`);
      },
    );
  } finally {
    client.close();
    await server.stop();
  }
});
