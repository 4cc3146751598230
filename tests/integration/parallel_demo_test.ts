/**
 * The README promises that `deno serve --parallel examples/server.ts` is
 * correct out of the box: whichever worker a scrape reaches, it reports every
 * request the service served.
 */

import assert from "node:assert/strict";
import { answers, freePort, startPeer, waitFor } from "../_peers.ts";

const WORKERS = 2;
const REQUESTS = 40;

function total(text: string, series: string): number | undefined {
  const line = text.split("\n").find((line) => line.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("examples/server.ts under deno serve --parallel: every scrape reports all requests", async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startPeer(
    Deno.execPath(),
    [
      "serve",
      "--parallel",
      "--allow-net",
      "--host",
      "127.0.0.1",
      "--port",
      `${port}`,
      "examples/server.ts",
    ],
    {
      env: { DENO_JOBS: `${WORKERS}`, NO_COLOR: "1" },
      ready: () => answers(`${base}/metrics`),
    },
  );
  // A new connection per request, so the kernel spreads them over workers.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const scrape = async () => {
    const text = await (await fetch(`${base}/metrics`, { client })).text();
    return {
      responding: total(text, "edgemetrics_workers_responding"),
      requests: total(
        text,
        'http_requests_total{method="GET",route="/health",status="200"}',
      ),
    };
  };
  try {
    await waitFor(
      `${WORKERS} workers to answer`,
      async () => (await scrape()).responding === WORKERS,
    );
    for (let i = 0; i < REQUESTS; i++) {
      const response = await fetch(`${base}/health`, { client });
      assert.equal(await response.text(), "ok\n");
    }
    const scrapes = [];
    for (let i = 0; i < 10; i++) scrapes.push(await scrape());
    assert.deepEqual(
      scrapes,
      scrapes.map(() => ({ responding: WORKERS, requests: REQUESTS })),
    );
    await server.stop();
    assert.equal((await server.status).code, 0, "exits cleanly on SIGTERM");
  } finally {
    client.close();
    await server.stop();
  }
});
