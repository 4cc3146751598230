import assert from "node:assert/strict";
import { instrument, Registry } from "@edgemetrics/edgemetrics";

Deno.test("instrument() with inFlight counts requests being served in http_requests_in_flight, thrown or answered", async () => {
  const registry = new Registry();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const handler = instrument(async (request: Request) => {
    await gate;
    if (request.url.endsWith("/fail")) throw new Error("boom");
    return new Response("ok");
  }, { registry, inFlight: true });
  const inFlight = async () =>
    /^http_requests_in_flight (\d+)$/m.exec(await registry.metrics())?.[1];
  assert.equal(await inFlight(), "0");
  const pending = [
    handler(new Request("http://x/a")),
    handler(new Request("http://x/b")),
    handler(new Request("http://x/fail")).catch((error) => error),
  ];
  assert.equal(await inFlight(), "3");
  release();
  await Promise.all(pending);
  assert.equal(await inFlight(), "0");
  // A second instrument() on the registry shares the gauge.
  instrument(() => new Response(), { registry, inFlight: true });
});

Deno.test("instrument() keeps no in-flight gauge unless asked", async () => {
  const registry = new Registry();
  instrument(() => new Response(), { registry });
  assert.doesNotMatch(await registry.metrics(), /in_flight/);
});
