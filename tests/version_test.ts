import assert from "node:assert/strict";
import { VERSION } from "../src/_version.ts";
import { Counter, OtlpExporter, Registry } from "../mod.ts";

Deno.test("VERSION equals deno.json's version", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  assert.equal(VERSION, config.version);
});

Deno.test("OtlpExporter names the scope edgemetrics with the package version by default", async () => {
  const registry = new Registry();
  new Counter({ name: "scope_probe", help: "Probe.", registry }).inc();
  const bodies: unknown[] = [];
  const exporter = new OtlpExporter({
    url: "http://collector.test/v1/metrics",
    protocol: "json",
    registry,
    fetch: async (request) => {
      bodies.push(await request.json());
      return new Response("{}");
    },
  });
  await exporter.flush();
  // deno-lint-ignore no-explicit-any
  const [body] = bodies as any[];
  assert.deepEqual(body.resourceMetrics[0].scopeMetrics[0].scope, {
    name: "edgemetrics",
    version: VERSION,
  });
  await exporter.shutdown();
});
