// Cold start of the OpenTelemetry metrics SDK, for comparison (Deno only:
// loaded from .tools/).
import { requirePeer } from "../../tests/_npm.ts";

const sdk = requirePeer<{ MeterProvider?: unknown }>(
  "@opentelemetry/sdk-metrics",
);
if (typeof sdk.MeterProvider !== "function") {
  throw new Error("Cannot start: @opentelemetry/sdk-metrics did not load");
}
