// Cold start of prom-client, for comparison (Deno only: npm specifier).
// deno-lint-ignore no-import-prefix
import client from "npm:prom-client@15.1.3";

if (typeof client.Registry !== "function") {
  throw new Error("Cannot start: prom-client did not load");
}
