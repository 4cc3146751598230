import assert from "node:assert/strict";
import * as main from "../../mod.ts";

const deno = JSON.parse(
  await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
);
const subpaths = Object.entries(deno.exports as Record<string, string>)
  .filter(([subpath]) => subpath !== ".");

Deno.test("deno.json: every subpath entry is also in the import map, so recipes using it run here", () => {
  for (const [subpath, source] of subpaths) {
    assert.equal(deno.imports[`${deno.name}${subpath.slice(1)}`], source);
  }
  assert.ok(subpaths.length >= 2, "./pull and ./push are exported");
});

Deno.test("subpath entries export the main entry's own objects, nothing of their own", async (t) => {
  for (const [subpath, source] of subpaths) {
    await t.step(subpath, async () => {
      const entry = await import(
        new URL(`../../${source}`, import.meta.url).href
      );
      const names = Object.keys(entry);
      // Every entry records into a registry: prom-client-style instruments,
      // or (./otel) the meter provider.
      assert.ok(names.includes("Registry"), `${subpath} has no Registry`);
      assert.ok(
        names.includes("Counter") || names.includes("MeterProvider"),
        `${subpath} has no way to record`,
      );
      for (const name of names) {
        assert.ok(name in main, `${subpath} exports ${name}, mod.ts does not`);
        assert.equal(
          entry[name],
          (main as Record<string, unknown>)[name],
          `${subpath} ${name} is not mod.ts's ${name}`,
        );
      }
    });
  }
});
