/**
 * Regenerates the table of README's Performance section from a results file,
 * so the README says what one run measured and nothing else:
 *
 *     deno task bench                        # full run: bench/results/latest.json
 *     deno run --allow-all bench/readme.ts   # rewrites the table in README.md
 *     deno run --allow-all bench/readme.ts --from=bench/results/quick.json.tmp --print
 *
 * The table sits between `<!-- bench:start -->` and `<!-- bench:end -->`:
 * every edgemetrics row with its ratios to each peer and the floor of the
 * same run, and its goal's verdict. The prose around it is written by hand.
 *
 * @module
 */

import { judge } from "./goals.ts";
import type { Results } from "./report.ts";
import type { Row } from "./results.ts";

const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

function sig(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

function unit(row: Row): string {
  switch (row.unit) {
    case "ns/op":
      return "ns";
    case "B/series":
      return "B";
    case "ms over empty":
      return "ms";
    default:
      return row.unit;
  }
}

/** `peer ÷ this` as "4.2× faster" (or "× less" for sizes and memory). */
function versus(rows: readonly Row[], row: Row, impl: string): string {
  const other = rows.find((r) =>
    r.workload === row.workload && r.case === row.case && r.impl === impl
  )?.value;
  if (other == null || row.value == null || row.value <= 0) return "—";
  const timed = row.unit === "ns/op" || row.unit === "ms" ||
    row.unit === "ms over empty";
  return `${sig(other / row.value)}× ${timed ? "faster" : "less"}`;
}

function overFloor(rows: readonly Row[], row: Row): string {
  const floor = rows.find((r) =>
    r.workload === row.workload && r.case === row.case && r.impl === "floor"
  )?.value;
  return floor == null || row.value == null
    ? "—"
    : `${sig(row.value / floor)}×`;
}

/** The Markdown table of a results file. */
export function performanceTable(results: Results): string {
  const rows = results.rows;
  const lines = [
    "| Workload | edgemetrics | vs prom-client 15 | vs @prometheus-io/client | vs OTel SDK | vs floor | Goal | Met |",
    "| --- | --: | --: | --: | --: | --: | --- | --- |",
  ];
  for (const row of rows) {
    if (row.impl !== "edgemetrics") continue;
    const verdict = judge(row, rows);
    lines.push(
      "| " + [
        `${row.workload} ${row.case}`,
        row.value === null ? "n/a" : `${sig(row.value)} ${unit(row)}`,
        versus(rows, row, "prom-client"),
        versus(rows, row, "@prometheus-io/client"),
        versus(rows, row, "OTel"),
        overFloor(rows, row),
        verdict?.goal.text ?? "",
        verdict === undefined
          ? ""
          : { met: "✅", missed: "❌", "n/a": "n/a" }[verdict.verdict],
      ].join(" | ") + " |",
    );
  }
  const m = results.machine;
  lines.push(
    "",
    `${results.mode === "full" ? "Full" : "Quick"} run of ${
      results.date.slice(0, 10)
    } on Deno ${m.runtimes.deno}, Node ${m.runtimes.node}, Bun ${m.runtimes.bun}; ` +
      `${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB; peers ${
        Object.entries(results.peers).map(([k, v]) => `${k} ${v}`).join(", ")
      }.`,
  );
  return lines.join("\n");
}

/** README text with the table between the markers replaced. */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) {
    throw new Error(
      `Cannot update README.md: no ${START} … ${END} block in its Performance section`,
    );
  }
  return readme.slice(0, start + START.length) + "\n\n" + table + "\n\n" +
    readme.slice(end);
}

if (import.meta.main) {
  const from = Deno.args.find((a) => a.startsWith("--from="))?.slice(7) ??
    new URL("results/latest.json", import.meta.url).pathname;
  const results: Results = JSON.parse(await Deno.readTextFile(from));
  const table = performanceTable(results);
  if (Deno.args.includes("--print")) {
    console.log(table);
  } else {
    const path = new URL("../README.md", import.meta.url);
    await Deno.writeTextFile(
      path,
      withTable(await Deno.readTextFile(path), table),
    );
    // deno fmt aligns the table's columns, as for every Markdown table here.
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", path.pathname],
    }).output();
    console.log(`README.md: Performance table from ${from}`);
  }
}
