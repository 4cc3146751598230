/**
 * Runs every benchmark workload and reports: one Markdown table on stdout,
 * the raw numbers in `bench/results/latest.json`.
 *
 *     deno run --allow-all --no-lock bench/run.ts            # full run
 *     deno run --allow-all --no-lock bench/run.ts --quick    # smoke run
 *     deno run --allow-all --no-lock bench/run.ts --only=W2,W4
 *
 * A quick run writes `bench/results/quick.json.tmp` (ignored by git) so it
 * never replaces the committed results of a full run.
 *
 * @module
 */

import { settingsFor } from "./config.ts";
import { checksum } from "./harness.ts";
import { describeMachine } from "./machine.ts";
import { PEER_VERSIONS } from "./peers.ts";
import { markdownTable, type Results, verdicts } from "./report.ts";
import type { Row } from "./results.ts";
import { w1 } from "./workloads/w1_counter.ts";
import { w2 } from "./workloads/w2_labeled_counter.ts";
import { w3 } from "./workloads/w3_histogram.ts";
import { w4 } from "./workloads/w4_exposition.ts";
import { w5 } from "./workloads/w5_memory.ts";
import { w6ColdStart } from "./workloads/w6_cold_start.ts";
import { w6Size } from "./workloads/w6_bundle_size.ts";
import { w7 } from "./workloads/w7_native_histogram.ts";
import { installPackage } from "./package.ts";
import { w8 } from "./workloads/w8_meter.ts";

const known = /^--(quick|only=W\d(,W\d)*|out=.+)$/;
const unknown = Deno.args.filter((arg) => !known.test(arg));
if (unknown.length > 0) {
  console.error(
    `Cannot run benchmarks: unknown argument ${unknown.join(" ")} ` +
      "(use --quick, --only=W1,W4, --out=path.json)",
  );
  Deno.exit(2);
}
const quick = Deno.args.includes("--quick");
const only = Deno.args.find((arg) => arg.startsWith("--only="))?.slice(7).split(
  ",",
);
const defaultOut = quick ? "results/quick.json.tmp" : "results/latest.json";
const out = Deno.args.find((arg) => arg.startsWith("--out="))?.slice(6) ??
  new URL(defaultOut, import.meta.url).pathname;
const settings = settingsFor(quick);
const scratch = await Deno.makeTempDir({ prefix: "edgemetrics-bench-" });

const workloads: Record<string, () => Promise<Row[]>> = {
  W1: () => w1(settings),
  W2: () => w2(settings),
  W3: () => w3(settings),
  W4: () => w4(settings),
  W5: () => w5(settings),
  W6: async () => {
    const pkg = await installPackage(scratch);
    return [
      ...await w6ColdStart(settings, pkg, scratch),
      ...await w6Size(pkg, scratch),
    ];
  },
  W7: () => w7(settings),
  W8: () => w8(settings),
};

const rows: Row[] = [];
try {
  for (const [id, run] of Object.entries(workloads)) {
    if (only !== undefined && !only.includes(id)) continue;
    const start = performance.now();
    console.error(`${id}: running`);
    rows.push(...await run());
    console.error(
      `${id}: done in ${((performance.now() - start) / 1000).toFixed(1)} s`,
    );
  }
} finally {
  await Deno.remove(scratch, { recursive: true });
}

const machine = await describeMachine();
const results: Results = {
  date: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  measuredOn:
    `Deno ${machine.runtimes.deno} (V8 ${machine.runtimes.v8}), one process`,
  machine,
  peers: { ...PEER_VERSIONS },
  goals: verdicts(rows),
  rows,
  checksum: checksum(),
};
await Deno.mkdir(new URL("results/", import.meta.url), { recursive: true });
await Deno.writeTextFile(out, JSON.stringify(results, null, 2) + "\n");

console.log(markdownTable(rows));
console.log(
  `\n${results.mode} run, ${results.date}; W1–W4 on ${results.measuredOn}; ` +
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB; raw numbers in ${out}`,
);
