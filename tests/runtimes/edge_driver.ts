/**
 * Runs a bundled script as a Vercel Edge function in npm `edge-runtime` on
 * Node 26, served over HTTP on 127.0.0.1:
 *
 * `node tests/runtimes/edge_driver.ts <script.js> <port>`
 *
 * SIGTERM closes the server (after pending `waitUntil` work).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";

const [scriptPath, port] = process.argv.slice(2);
if (scriptPath === undefined || port === undefined) {
  throw new TypeError("usage: edge_driver.ts <script.js> <port>");
}

const require = createRequire(
  new URL("../../.tools/node_modules/", import.meta.url),
);
const { EdgeRuntime, runServer } = await import(
  require.resolve("edge-runtime")
);
const version: string = require("edge-runtime/package.json").version;

const runtime = new EdgeRuntime({
  initialCode: readFileSync(scriptPath, "utf8"),
});
const server = await runServer({
  runtime,
  host: "127.0.0.1",
  port: Number(port),
});
console.log(`edge-runtime ${version} serving ${server.url}`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
