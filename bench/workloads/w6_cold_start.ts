/**
 * W6, cold start: the time to import the module in a fresh process, minus the
 * time of an empty script, on Deno and Bun (from the TypeScript source) and on
 * Node (from the built `.js`, as Node users get it from npm). Deno also runs
 * the built `.js`, which tells module loading (one file per module, each
 * looked up in Deno's cache) apart from the module's own evaluation.
 *
 * @module
 */

import { buildBundle } from "../bundle.ts";
import type { Settings } from "../config.ts";
import { random } from "../data.ts";
import { median, roundOrder } from "../harness.ts";
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
  env?: Record<string, string>;
}

/** Wall time of one fresh process, from spawn to exit, in milliseconds. */
async function wallTime(launch: Launch): Promise<number> {
  const start = performance.now();
  const { code, stderr } = await new Deno.Command(launch.command, {
    args: launch.args,
    ...(launch.env === undefined ? {} : { env: launch.env }),
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

/** Runs W6's cold starts; `dir` receives the built `.js` and its empty script. */
export async function w6ColdStart(
  settings: Settings,
  dir: string,
): Promise<Row[]> {
  const denoRun = Deno.execPath();
  const denoArgs = ["run", "--quiet", "--no-lock"];
  const emptyJs = `${dir}/empty.mjs`;
  await Deno.writeTextFile(emptyJs, "export {};\n");
  // The whole module, as a package ships it: bundling entries/import_edgemetrics.ts
  // instead would tree-shake it down to what that script touches (Registry).
  await buildBundle(
    new URL("../../mod.ts", import.meta.url).pathname,
    `${dir}/edgemetrics.mjs`,
  );
  const builtEntry = `${dir}/import_edgemetrics.mjs`;
  await Deno.writeTextFile(
    builtEntry,
    'import * as edgemetrics from "./edgemetrics.mjs";\n' +
      'if (typeof edgemetrics.Registry !== "function") {\n' +
      '  throw new Error("Cannot start: edgemetrics did not load");\n' +
      "}\n",
  );
  const launches: Launch[] = [
    {
      runtime: "Deno",
      impl: "empty",
      command: denoRun,
      args: [...denoArgs, entry("empty.ts")],
    },
    {
      runtime: "Deno",
      impl: "edgemetrics",
      command: denoRun,
      args: [...denoArgs, entry("import_edgemetrics.ts")],
    },
    {
      runtime: "Deno",
      impl: "prom-client",
      command: denoRun,
      args: [...denoArgs, entry("import_prom_client.ts")],
    },
    {
      runtime: "Deno",
      impl: "OTel",
      command: denoRun,
      args: [...denoArgs, entry("import_otel.ts")],
    },
    // Informational: the same module bundled, to separate module loading from evaluation.
    {
      runtime: "Deno (built .js)",
      impl: "empty",
      command: denoRun,
      args: [...denoArgs, emptyJs],
    },
    {
      runtime: "Deno (built .js)",
      impl: "edgemetrics",
      command: denoRun,
      args: [...denoArgs, builtEntry],
    },
  ];
  const skipped: string[] = [];
  const bun = new URL("bun", TOOLS);
  if (await exists(bun)) {
    launches.push(
      {
        runtime: "Bun",
        impl: "empty",
        command: bun.pathname,
        args: [entry("empty.ts")],
      },
      {
        runtime: "Bun",
        impl: "edgemetrics",
        command: bun.pathname,
        args: [entry("import_edgemetrics.ts")],
      },
    );
  } else skipped.push("Bun");
  const node = new URL("node", TOOLS);
  if (await exists(node)) {
    launches.push(
      {
        runtime: "Node (built .js)",
        impl: "empty",
        command: node.pathname,
        args: [emptyJs],
      },
      {
        runtime: "Node (built .js)",
        impl: "edgemetrics",
        command: node.pathname,
        args: [builtEntry],
      },
      // Informational: Node's on-disk compile cache (NODE_COMPILE_CACHE, an
      // application's choice) skips most of the parsing that dominates above.
      {
        runtime: "Node (built .js, NODE_COMPILE_CACHE)",
        impl: "empty",
        command: node.pathname,
        args: [emptyJs],
        env: { NODE_COMPILE_CACHE: `${dir}/node-compile-cache` },
      },
      {
        runtime: "Node (built .js, NODE_COMPILE_CACHE)",
        impl: "edgemetrics",
        command: node.pathname,
        args: [builtEntry],
        env: { NODE_COMPILE_CACHE: `${dir}/node-compile-cache` },
      },
    );
  } else skipped.push("Node (built .js)");

  // The first launch of each compiles and caches; it is not timed.
  for (const launch of launches) await wallTime(launch);
  const times = launches.map(() => [] as number[]);
  const next = random(6);
  for (let round = 0; round < settings.coldStartRuns; round++) {
    for (const i of roundOrder(launches.length, next)) {
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
      case: `import time, ${launch.runtime}`,
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
      note: `n/a (${runtime.split(" ")[0]} not installed: run .ci/setup)`,
    });
  }
  return rows;
}
