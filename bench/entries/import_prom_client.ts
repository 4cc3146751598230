// Cold start of prom-client, for comparison (Deno only: loaded from .tools/).
import { requirePeer } from "../../tests/_npm.ts";

const client = requirePeer<{ Registry?: unknown }>("prom-client");
if (typeof client.Registry !== "function") {
  throw new Error("Cannot start: prom-client did not load");
}
