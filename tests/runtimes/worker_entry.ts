/**
 * The scenario as a Cloudflare Worker: a module Worker
 * (`export default { fetch }`) whose push runs after the response through
 * `ctx.waitUntil`. `_build.ts` bundles it for workerd.
 *
 * @module
 */

import { createScenario } from "./scenario.ts";

/** The part of Cloudflare's ExecutionContext the scenario uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

// Module scope: declaring instruments only (no random, timer or I/O).
const scenario = createScenario("workerd");

export default {
  fetch(
    request: Request,
    _env: unknown,
    ctx: ExecutionContext,
  ): Promise<Response> {
    return scenario(request, (promise) => ctx.waitUntil(promise));
  },
};
