/**
 * The scenario as a Vercel Edge function run by `edge-runtime`: a script
 * (no module syntax) that answers `fetch` events, its push kept alive by
 * `event.waitUntil`. `_build.ts` bundles it as an IIFE for `EdgeRuntime`.
 *
 * @module
 */

import { createScenario } from "./scenario.ts";

/** The FetchEvent edge-runtime dispatches. */
interface FetchEvent extends Event {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
  waitUntil(promise: Promise<unknown>): void;
}

const scenario = createScenario("edge-runtime");

addEventListener("fetch", (event) => {
  const fetchEvent = event as FetchEvent;
  fetchEvent.respondWith(
    scenario(fetchEvent.request, (promise) => fetchEvent.waitUntil(promise)),
  );
});
