/**
 * W6, cold start: the time to import the module in a fresh process, minus the
 * time of an empty script, on Deno and Bun (from the TypeScript source) and on
 * Node (from the built `.js`, as Node users get it from npm).
 *
 * @module
 */

import { buildBundle } from "../bundle.ts";
import type { Settings } from "../config.ts";
import { median } from "../harness.ts";
import type { Impl, Row } from "../results.ts";

const TOOLS = new URL("../../.tools/node_modules/.bin/", import.meta.url);
const entry = (name: string) =>
  new URL(`../entries/${name}`, import.meta.url).pathname;

/** One process to time: what runs, and which figure it belongs to. */
interface Launch {
  runtime: string;
  impl: Impl | "empty";
  command: string;
  args: string[];
}

/** Wall time of one fresh process, from spawn to exit, in milliseconds. */
async function wallTime(launch: Launch): Promise<number> {
  const start = performance.now();
  const { code, stderr } = await new Deno.Command(launch.command, {
    args: launch.args,
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - start;
  if (code !== 0) {
    throw new Error(
      `Cannot time ${launch.runtime} ${launch.impl}: exited ${code}: ${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return elapsed;
}

async function exists(path: URL): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs W6's cold starts; `dir` holds the Node bundle and its empty script. */
export async function w6ColdStart(
  settings: Settings,
  dir: string,
): Promise<Row[]> {
  const deno = (impl: Impl | "empty", file: string): Launch => ({
    runtime: "Deno",
    impl,
    command: Deno.execPath(),
    args: ["run", "--quiet", "--no-lock", entry(file)],
  });
  const launches: Launch[] = [
    deno("empty", "empty.ts"),
    deno("edgemetrics", "import_edgemetrics.ts"),
    deno("prom-client", "import_prom_client.ts"),
    deno("OTel", "import_otel.ts"),
  ];
  const skipped: string[] = [];
  const bun = new URL("bun", TOOLS);
  if (await exists(bun)) {
    for (
      const [impl, file] of [["empty", "empty.ts"], [
        "edgemetrics",
        "import_edgemetrics.ts",
      ]] as const
    ) {
      launches.push({
        runtime: "Bun",
        impl,
        command: bun.pathname,
        args: [entry(file)],
      });
    }
  } else skipped.push("Bun");
  const node = new URL("node", TOOLS);
  if (await exists(node)) {
    await Deno.writeTextFile(`${dir}/empty.mjs`, "export {};\n");
    const built = await buildBundle(
      entry("import_edgemetrics.ts"),
      `${dir}/import_edgemetrics.mjs`,
    );
    launches.push(
      {
        runtime: "Node",
        impl: "empty",
        command: node.pathname,
        args: [`${dir}/empty.mjs`],
      },
      {
        runtime: "Node",
        impl: "edgemetrics",
        command: node.pathname,
        args: [built.path],
      },
    );
  } else skipped.push("Node");

  // The first launch of each compiles and caches; it is not timed.
  for (const launch of launches) await wallTime(launch);
  const times = launches.map(() => [] as number[]);
  for (let round = 0; round < settings.coldStartRuns; round++) {
    for (let k = 0; k < launches.length; k++) {
      const i = (k + round) % launches.length;
      times[i]!.push(await wallTime(launches[i]!));
    }
  }

  const rows: Row[] = [];
  for (const [i, launch] of launches.entries()) {
    if (launch.impl === "empty") continue;
    const baseline = launches.findIndex((l) =>
      l.runtime === launch.runtime && l.impl === "empty"
    );
    // Paired by round: each round's import time minus the same round's empty script.
    const diffs = times[i]!.map((t, round) => t - times[baseline]![round]!);
    rows.push({
      workload: "W6",
      case: launch.runtime === "Node"
        ? "import time, Node (built .js)"
        : `import time, ${launch.runtime}`,
      impl: launch.impl,
      value: median(diffs),
      unit: "ms over empty",
      samples: diffs,
      detail: {
        emptyMs: median(times[baseline]!),
        importMs: median(times[i]!),
      },
    });
  }
  for (const runtime of skipped) {
    rows.push({
      workload: "W6",
      case: `import time, ${runtime}`,
      impl: "edgemetrics",
      value: null,
      unit: "ms over empty",
      note: `n/a (${runtime} not installed: run .ci/setup)`,
    });
  }
  return rows;
}
