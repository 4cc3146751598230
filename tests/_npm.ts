/**
 * Loads the npm peers that tests and benches compare against (the
 * OpenTelemetry SDK, prom-client, protobufjs, …) from `.tools/node_modules`,
 * where `.ci/setup` installs them from `.ci/peers.json`.
 *
 * Why not `npm:` specifiers: `deno task` installs every npm package of the
 * root lockfile before it runs anything, so a peer named there is downloaded
 * for a user who only runs the demo or imports `mod.ts`. Node's own
 * `createRequire` (built into Deno, nothing to download) keeps the peers in
 * the ignored `.tools/` folder and out of the module's scope.
 *
 * @module
 */

import { createRequire } from "node:module";

/** Where `.ci/setup` installs the npm peers. */
export const TOOLS_MODULES: string = new URL(
  "../.tools/node_modules/",
  import.meta.url,
).pathname;

const requireFromTools = createRequire(TOOLS_MODULES);

/**
 * Loads an npm peer (its CommonJS entry, resolved as Node would) from
 * `.tools/node_modules`. The result is untyped: callers describe the few
 * members they use with a local interface.
 */
export function requirePeer<T = unknown>(name: string): T {
  try {
    return requireFromTools(name) as T;
  } catch (error) {
    throw new Error(
      `Cannot load npm peer "${name}" from .tools/node_modules: run \`bash .ci/setup\` (it installs .ci/peers.json): ${error}`,
    );
  }
}
