/**
 * The report: one Markdown table of every figure with its ratios and goal,
 * and the JSON file that keeps the raw numbers.
 *
 * @module
 */

import { judge, type Verdict } from "./goals.ts";
import { quantile } from "./harness.ts";
import type { Machine } from "./machine.ts";
import type { Row } from "./results.ts";

/** Three significant digits, without exponent notation. */
function sig(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

function formatValue(row: Row): string {
  if (row.value === null) return row.note ?? "n/a";
  switch (row.unit) {
    case "ns/op":
      return `${sig(row.value)} ns`;
    case "B/series":
      return `${sig(row.value)} B`;
    default:
      return `${sig(row.value)} ${row.unit}`;
  }
}

/** `reference ÷ row` or `row ÷ reference` as `12.3×`, or empty. */
function ratio(
  numerator: number | null | undefined,
  denominator: number | null | undefined,
) {
  if (numerator == null || denominator == null || denominator === 0) return "";
  return `${sig(numerator / denominator)}×`;
}

function peer(
  rows: readonly Row[],
  row: Row,
  impl: string,
): number | null | undefined {
  return rows.find((r) =>
    r.workload === row.workload && r.case === row.case && r.impl === impl
  )
    ?.value;
}

/**
 * Warns when the rounds disagree: an interquartile range over a fifth of the
 * median (or a figure at or below zero) says the machine was too busy for
 * this row to be trusted.
 */
function spread(row: Row): string {
  const samples = row.samples;
  if (row.value === null || samples === undefined || samples.length < 4) {
    return "";
  }
  const lo = quantile(samples, 0.25);
  const hi = quantile(samples, 0.75);
  if (row.value > 0 && (hi - lo) / row.value <= 0.2) return "";
  return `noisy: IQR ${sig(lo)}…${sig(hi)}`;
}

const MARK: Record<Verdict, string> = {
  met: "✅ met",
  missed: "❌ missed",
  "n/a": "— n/a",
};

/** The one table: every row, its ratios, and its goal's verdict. */
export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    "| workload | implementation | median | prom-client ÷ this | @prometheus-io ÷ this | OTel ÷ this | this ÷ floor | goal | met? | notes |",
    "|---|---|--:|--:|--:|--:|--:|---|---|---|",
  ];
  for (const row of rows) {
    const verdict = judge(row, rows);
    const measured = row.value !== null;
    lines.push(
      "| " + [
        `${row.workload} ${row.case}`,
        row.impl,
        formatValue(row),
        measured && row.impl !== "prom-client"
          ? ratio(peer(rows, row, "prom-client"), row.value)
          : "",
        measured && row.impl !== "@prometheus-io/client"
          ? ratio(peer(rows, row, "@prometheus-io/client"), row.value)
          : "",
        measured && row.impl !== "OTel"
          ? ratio(peer(rows, row, "OTel"), row.value)
          : "",
        measured && row.impl !== "floor"
          ? ratio(row.value, peer(rows, row, "floor"))
          : "",
        verdict?.goal.text ?? "",
        verdict === undefined ? "" : MARK[verdict.verdict],
        measured ? [row.note, spread(row)].filter(Boolean).join("; ") : "",
      ].join(" | ") + " |",
    );
  }
  return lines.join("\n");
}

/** Everything a results file keeps. */
export interface Results {
  date: string;
  mode: "full" | "quick";
  /** Where the hot-path and exposition figures ran. */
  measuredOn: string;
  machine: Machine;
  peers: Record<string, string>;
  goals: {
    workload: string;
    case: string;
    goal: string;
    verdict: Verdict;
    /** This row's median, in `unit`. */
    value: number | null;
    unit: string;
    /** The ratios the goal was judged by, from the same run. */
    ratios: Record<string, number>;
  }[];
  rows: Row[];
  /** The folded batch results (proof the loops' work was consumed). */
  checksum: number;
}

/** The goals and their verdicts, for the JSON file. */
export function verdicts(rows: readonly Row[]): Results["goals"] {
  return rows.flatMap((row) => {
    const verdict = judge(row, rows);
    return verdict === undefined ? [] : [{
      workload: row.workload,
      case: row.case,
      goal: verdict.goal.text,
      verdict: verdict.verdict,
      value: row.value,
      unit: row.unit,
      ratios: verdict.ratios,
    }];
  });
}
