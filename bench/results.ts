/**
 * The shape of every measured figure, shared by the workloads, the goals and
 * the report.
 *
 * @module
 */

import type { Measurement } from "./harness.ts";

/** The implementations compared, in table order. */
export const IMPLS = [
  "edgemetrics",
  "prom-client",
  "@prometheus-io/client",
  "OTel",
  "floor",
] as const;

/** One implementation compared. */
export type Impl = typeof IMPLS[number];

/** One figure: a workload's case measured for one implementation. */
export interface Row {
  /** Workload id, `W1`…`W6`. */
  workload: string;
  /** What was measured within the workload, e.g. `inc(labels)`. */
  case: string;
  impl: Impl;
  /** The median in `unit`; `null` when the implementation was not measured. */
  value: number | null;
  /** Lower is better for every unit used here. */
  unit: string;
  /** Why there is no value, or a figure that goes with it (bytes, MB/s). */
  note?: string;
  /** Per-round figures the median was taken from. */
  samples?: number[];
  /** Raw extras kept in the JSON (batch size, output bytes, …). */
  detail?: Record<string, unknown>;
}

/** Why a row has no value: the implementation offers no such operation. */
export const NOT_OFFERED = "n/a (no such operation)";

/**
 * Turns one interleaved measurement into rows, one per implementation, with
 * a row and its reason for each implementation that was not measured.
 */
export function timingRows(
  workload: string,
  label: string,
  measured: Readonly<Record<string, Measurement>>,
  missing: Partial<Record<Impl, string>>,
): Row[] {
  const rows: Row[] = [];
  for (const impl of IMPLS) {
    const m = measured[impl];
    if (m !== undefined) {
      rows.push({
        workload,
        case: label,
        impl,
        value: m.nsPerOp,
        unit: "ns/op",
        samples: m.samples,
        detail: { opsPerBatch: m.opsPerBatch },
      });
    } else if (missing[impl] !== undefined) {
      rows.push({
        workload,
        case: label,
        impl,
        value: null,
        unit: "ns/op",
        note: missing[impl],
      });
    }
  }
  return rows;
}
