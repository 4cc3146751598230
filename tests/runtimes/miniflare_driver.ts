/**
 * Runs a bundled module Worker in the real workerd through npm `miniflare`,
 * on Node 26 (miniflare needs Node >= 22):
 *
 * `node tests/runtimes/miniflare_driver.ts <worker.js> <port> [bindings.json]`
 *
 * The optional third argument is a JSON object of text bindings (the
 * Worker's `env`).
 *
 * Everything stays on 127.0.0.1: the Worker's HTTP port and the internal
 * loopback port miniflare opens to control workerd. Outbound fetches (the
 * OTLP push to the test's loopback sink) go through miniflare's default
 * network service, which allows private addresses. SIGTERM disposes of
 * miniflare, which stops workerd.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";

const [scriptPath, port, bindings = "{}"] = process.argv.slice(2);
if (scriptPath === undefined || port === undefined) {
  throw new TypeError("usage: miniflare_driver.ts <worker.js> <port>");
}

// miniflare lives in .tools/node_modules, beside the peers, not beside this file.
const require = createRequire(
  new URL("../../.tools/node_modules/", import.meta.url),
);
const { Miniflare } = await import(require.resolve("miniflare"));
const miniflareVersion: string = require("miniflare/package.json").version;

const mf = new Miniflare({
  // One ES module, named without the bundle's directory (workerd refuses
  // module names that climb out of the working directory with "..").
  modules: [{
    type: "ESModule",
    path: "worker.mjs",
    contents: readFileSync(scriptPath, "utf8"),
  }],
  compatibilityDate: "2026-07-01",
  bindings: JSON.parse(bindings),
  host: "127.0.0.1",
  port: Number(port),
});
const url: URL = await mf.ready;
console.log(`miniflare ${miniflareVersion} serving ${url.href}`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
