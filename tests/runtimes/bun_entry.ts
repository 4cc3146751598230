/**
 * The scenario as a Bun user serves it: `PORT=<port> bun run
 * tests/runtimes/bun_entry.ts` imports `mod.ts` directly and serves with
 * `Bun.serve` on 127.0.0.1.
 *
 * @module
 */

import { createScenario } from "./scenario.ts";

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

const scenario = createScenario("bun");
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(Bun.env.PORT),
  fetch: (request) => scenario(request),
});
console.log(`bun ${Bun.version} listening on 127.0.0.1:${server.port}`);
