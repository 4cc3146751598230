/**
 * The goals of issues 6 and 15, as data, judged from the figures of the same
 * run.
 * Nothing here is decided in advance: a goal is met when its ratios say so.
 *
 * @module
 */

import type { Impl, Row } from "./results.ts";
import { BUNDLE_CASES } from "./workloads/w6_bundle_size.ts";
import { IMPORT_CASES } from "./workloads/w6_cold_start.ts";

/** The figures a goal may read: this row's value and its peers'. */
export interface Figures {
  /** This (edgemetrics) row's value. */
  self: number;
  /** Another implementation's value in this case, or in `label` of the same workload. */
  of(impl: Impl, label?: string): number;
  /** Raw extras of this row. */
  detail: Readonly<Record<string, unknown>>;
}

/** One goal, attached to an edgemetrics row by workload and case. */
export interface Goal {
  workload: string;
  case: string;
  text: string;
  check(figures: Figures): boolean;
}

const noNodeBuiltins = (f: Figures) =>
  (f.detail.nodeBuiltins as unknown[]).length === 0;

/** The goals tables of issues 6 and 15, one entry per edgemetrics row they judge. */
export const GOALS: readonly Goal[] = [
  {
    workload: "W2",
    case: "inc(labels)",
    text: "≥ 5× faster than prom-client, ≤ 1.5× the floor",
    check: (f) =>
      f.of("prom-client") / f.self >= 5 && f.self / f.of("floor") <= 1.5,
  },
  {
    workload: "W2",
    case: "bound child inc()",
    text: "≤ 3× the floor (≥ 50× prom-client)",
    check: (f) =>
      f.self / f.of("floor") <= 3 && f.of("prom-client") / f.self >= 50,
  },
  {
    workload: "W3",
    case: "observe(labels, v)",
    text: "≥ 5× faster than prom-client and OTel, ≤ 1.5× the floor",
    check: (f) =>
      f.of("prom-client") / f.self >= 5 && f.of("OTel") / f.self >= 5 &&
      f.self / f.of("floor") <= 1.5,
  },
  {
    workload: "W3",
    case: "bound child observe(v)",
    // OTel has no bound instruments: its figure is record(v, attributes).
    text:
      "≥ 5× faster than prom-client and OTel (its record by labels), ≤ 2× the floor",
    check: (f) =>
      f.of("prom-client") / f.self >= 5 &&
      f.of("OTel", "observe(labels, v)") / f.self >= 5 &&
      f.self / f.of("floor") <= 2,
  },
  {
    workload: "W4",
    case: "Prometheus text",
    text: "≤ 1.5× the formatting floor",
    check: (f) => f.self / f.of("floor") <= 1.5,
  },
  {
    workload: "W4",
    case: "OTLP JSON",
    text: "≥ 3× faster than the OTel SDK's serializer",
    check: (f) => f.of("OTel") / f.self >= 3,
  },
  {
    workload: "W4",
    case: "OTLP protobuf",
    text: "≥ 3× faster than the OTel SDK's serializer",
    check: (f) => f.of("OTel") / f.self >= 3,
  },
  {
    workload: "W5",
    case: "heap per series (100,000 series)",
    text: "≤ 100 bytes per series",
    check: (f) => f.self <= 100,
  },
  {
    workload: "W7",
    case: "native observe(v)",
    text:
      "≤ 2× a classic observe(v), ≥ 5× faster than the OTel SDK's exponential record(v)",
    // Native ÷ classic per round when the run kept it (paired rounds: see
    // w7_native_histogram.ts), else the ratio of the medians.
    check: (f) =>
      ((f.detail.perRoundRatio as number | undefined) ??
          f.self / f.of("edgemetrics", "classic observe(v), 12 buckets")) <=
        2 &&
      f.of("OTel") / f.self >= 5,
  },
  {
    workload: "W7",
    case: "Prometheus protobuf (W4 registry)",
    text: "≤ the Prometheus text exposition of the same registry",
    check: (f) =>
      f.self <= f.of("edgemetrics", "Prometheus text (W4 registry)"),
  },
  // Issue 15: cold start of what users load, bundle size per use case.
  ...[IMPORT_CASES.node, IMPORT_CASES.bun, IMPORT_CASES.denoOneFile].map((
    name,
  ): Goal => ({
    workload: "W6",
    case: name,
    text: "≤ 5 ms over an empty script",
    check: (f) => f.self <= 5,
  })),
  {
    workload: "W6",
    case: BUNDLE_CASES.pull,
    text: "≤ 8 kB min+gzip, no Node built-ins",
    check: (f) => f.self <= 8 && noNodeBuiltins(f),
  },
  {
    workload: "W6",
    case: BUNDLE_CASES.push,
    text:
      "≤ 10 kB min+gzip (OTel SDK + OTLP exporter: its row), no Node built-ins",
    check: (f) => f.self <= 10 && noNodeBuiltins(f),
  },
  {
    workload: "W6",
    case: BUNDLE_CASES.otel,
    text: "≤ 12 kB min+gzip, no Node built-ins",
    check: (f) => f.self <= 12 && noNodeBuiltins(f),
  },
  {
    workload: "W8",
    case: "meter add(1, attributes)",
    text:
      "≤ 1.5× edgemetrics' own inc(labels), ≥ 10× faster than the OTel SDK's add() with a reader",
    // add ÷ inc per round when the run kept it (paired rounds: see
    // w8_meter.ts), else the ratio of the medians.
    check: (f) =>
      ((f.detail.perRoundRatio as number | undefined) ??
          f.self / f.of("edgemetrics", "inc(labels), same label sets")) <=
        1.5 &&
      f.of("OTel") / f.self >= 10,
  },
];

/** A goal's verdict: met, missed, or not judged (a figure is missing or partial). */
export type Verdict = "met" | "missed" | "n/a";

class MissingFigure extends Error {}

/** What a goal's check read, as ratios: `"prom-client ÷ this"`, `"this ÷ floor"`. */
export type Ratios = Record<string, number>;

/**
 * Judges the goal of an edgemetrics row, if it has one, and returns beside
 * the verdict the ratios its check read (each peer's figure over this row's,
 * this row's over the floor's).
 */
export function judge(
  row: Row,
  rows: readonly Row[],
): { goal: Goal; verdict: Verdict; ratios: Ratios } | undefined {
  const goal = GOALS.find((g) =>
    g.workload === row.workload && g.case === row.case
  );
  if (goal === undefined || row.impl !== "edgemetrics") return undefined;
  const ratios: Ratios = {};
  if (row.value === null || row.detail?.partial === true) {
    return { goal, verdict: "n/a", ratios };
  }
  const self = row.value;
  const figures: Figures = {
    self,
    detail: row.detail ?? {},
    of(impl, label = row.case) {
      const value = rows.find((r) =>
        r.workload === row.workload && r.case === label && r.impl === impl
      )?.value;
      if (value === undefined || value === null) throw new MissingFigure();
      const name = label === row.case ? impl : `${impl} (${label})`;
      if (impl === "floor") ratios[`this ÷ ${name}`] = self / value;
      else ratios[`${name} ÷ this`] = value / self;
      return value;
    },
  };
  // Every peer of the same case too: a check that stops at its first
  // failed condition has not read them all.
  for (const other of rows) {
    if (
      other.workload !== row.workload || other.case !== row.case ||
      other.impl === row.impl || other.value === null || other.value <= 0
    ) continue;
    if (other.impl === "floor") ratios["this ÷ floor"] = self / other.value;
    else ratios[`${other.impl} ÷ this`] = other.value / self;
  }
  try {
    return { goal, verdict: goal.check(figures) ? "met" : "missed", ratios };
  } catch (error) {
    if (error instanceof MissingFigure) {
      return { goal, verdict: "n/a", ratios };
    }
    throw error;
  }
}
