/**
 * The scenario as a Deno user serves it: `deno serve tests/runtimes/deno_entry.ts`.
 *
 * @module
 */

import { createScenario } from "./scenario.ts";

const scenario = createScenario("deno");

export default {
  fetch: (request: Request): Promise<Response> => scenario(request),
} satisfies Deno.ServeDefaultExport;
