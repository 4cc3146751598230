/**
 * Runs several bundled module Workers in one real workerd through npm
 * `miniflare`, on Node 26:
 *
 * `node tests/runtimes/miniflare_workers_driver.ts <config.json>`
 *
 * The config: `{ port, persist?, workers: [{ name, file, bindings?,
 * durableObjects?, serviceBindings? }] }`. The first Worker answers on
 * `127.0.0.1:<port>`; the others are reached through its service bindings.
 * `durableObjects` binds a class of another Worker
 * (`{ AGG: { className, scriptName } }`); with `persist`, Durable Object
 * storage is kept in that directory, so a new driver on the same directory
 * restarts the objects with their storage. SIGTERM disposes of miniflare,
 * which stops workerd.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";

interface WorkerConfig {
  name: string;
  file: string;
  bindings?: Record<string, unknown>;
  durableObjects?: Record<
    string,
    { className: string; scriptName?: string; useSQLite?: boolean }
  >;
  serviceBindings?: Record<string, string>;
}

const [configPath] = process.argv.slice(2);
if (configPath === undefined) {
  throw new TypeError("usage: miniflare_workers_driver.ts <config.json>");
}
const config = JSON.parse(readFileSync(configPath, "utf8")) as {
  port: number;
  persist?: string;
  workers: WorkerConfig[];
};

const require = createRequire(
  new URL("../../.tools/node_modules/", import.meta.url),
);
const { Miniflare } = await import(require.resolve("miniflare"));
const miniflareVersion: string = require("miniflare/package.json").version;

const mf = new Miniflare({
  host: "127.0.0.1",
  port: config.port,
  ...(config.persist === undefined
    ? {}
    : { durableObjectsPersist: config.persist }),
  workers: config.workers.map((worker) => ({
    name: worker.name,
    modules: [{
      type: "ESModule",
      path: "worker.mjs",
      contents: readFileSync(worker.file, "utf8"),
    }],
    compatibilityDate: "2026-07-01",
    bindings: worker.bindings ?? {},
    durableObjects: worker.durableObjects ?? {},
    serviceBindings: worker.serviceBindings ?? {},
  })),
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
