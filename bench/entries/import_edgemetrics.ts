// Cold start of edgemetrics: load the whole module and touch one export, as
// an application's first line would.
import * as edgemetrics from "../../mod.ts";

if (typeof edgemetrics.Registry !== "function") {
  throw new Error("Cannot start: edgemetrics did not load");
}
