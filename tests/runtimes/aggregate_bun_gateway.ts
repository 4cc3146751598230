/**
 * The aggregator as an aggregation gateway under Bun: `PORT=<port> TOKEN=<t>
 * bun run tests/runtimes/aggregate_bun_gateway.ts` serves a
 * MetricsAggregator with the in-memory store through `Bun.serve` on
 * 127.0.0.1; reports need the bearer token, scrapes do not.
 *
 * @module
 */

import { MetricsAggregator } from "../../mod.ts";

/** The part of Bun's global this entry uses (Deno type-checks this file). */
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request) => Promise<Response>;
  }): { port: number };
  env: Record<string, string | undefined>;
  version: string;
};

const aggregator = new MetricsAggregator({
  auth: { bearer: Bun.env.TOKEN ?? "" },
  metrics: { path: "/metrics" },
});
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(Bun.env.PORT),
  fetch: aggregator.fetch,
});
console.log(`bun ${Bun.version} aggregating on 127.0.0.1:${server.port}`);
