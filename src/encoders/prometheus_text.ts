// Placeholder: replaced by its real module during the foundation work.
import type { MetricFamily } from "../model.ts";
export function encodePrometheusText(_families: readonly MetricFamily[]): string {
  throw new Error("not yet");
}
