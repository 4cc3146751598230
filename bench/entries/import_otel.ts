// Cold start of the OpenTelemetry metrics SDK, for comparison (Deno only).
// deno-lint-ignore no-import-prefix
import { MeterProvider } from "npm:@opentelemetry/sdk-metrics@1.25.1";

if (typeof MeterProvider !== "function") {
  throw new Error("Cannot start: @opentelemetry/sdk-metrics did not load");
}
