/**
 * W6, cold start: the time to import the module in a fresh process, minus the
 * time of an empty script in the same runtime, as users load it:
 *
 * - Node 26 and Bun: the built npm package (`deno task build`), by its name
 *   from a project's `node_modules`; on Node also each subpath entry, the
 *   peers (prom-client, @prometheus-io/client, the OTel SDK), and the package
 *   with `NODE_COMPILE_CACHE` (an application's switch);
 * - Deno: the one-file build (`edgemetrics.js`), and the `.ts` source as
 *   JSR and `deno add` users load it.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import { random } from "../data.ts";
import { median, roundOrder } from "../harness.ts";
import { type InstalledPackage, specifierOf } from "../package.ts";
import type { Impl, Row } from "../results.ts";
import { TOOLS_MODULES } from "../../tests/_npm.ts";

const TOOLS = new URL("../../.tools/node_modules/.bin/", import.meta.url);
const entry = (name: string) =>
  new URL(`../entries/${name}`, import.meta.url).pathname;

/** Case names, shared with the goals. */
export const IMPORT_CASES = {
  node: "import time, Node 26 (npm package)",
  bun: "import time, Bun (npm package)",
  denoOneFile: "import time, Deno (one-file build)",
  denoSource: "import time, Deno (.ts source)",
} as const;

/** One process to time: what runs, and which figure it belongs to. */
interface Launch {
  /** The row's case; empty scripts name their group only. */
  case: string;
  /** Launches of one group share the group's empty script as baseline. */
  group: string;
  impl: Impl | "empty";
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** Wall time of one fresh process, from spawn to exit, in milliseconds. */
async function wallTime(launch: Launch): Promise<number> {
  const start = performance.now();
  const { code, stderr } = await new Deno.Command(launch.command, {
    args: launch.args,
    ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }),
    ...(launch.env === undefined ? {} : { env: launch.env }),
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - start;
  if (code !== 0) {
    throw new Error(
      `Cannot time ${launch.case} ${launch.impl}: exited ${code}: ${
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

/** A script that imports `specifier` and fails unless `name` is exported. */
function importer(specifier: string, name: string): string {
  return `import * as m from ${JSON.stringify(specifier)};\n` +
    `if (m.${name} === undefined) throw new Error("Cannot start: ${specifier} did not load");\n`;
}

/** A script that loads an npm peer from .tools, as its users' Node would. */
function peerLoader(name: string, member: string): string {
  return 'import { createRequire } from "node:module";\n' +
    `const m = createRequire(${JSON.stringify(TOOLS_MODULES)})(${
      JSON.stringify(name)
    });\n` +
    `if (m.${member} === undefined) throw new Error("Cannot start: ${name} did not load");\n`;
}

/** Runs W6's cold starts of the installed package; `dir` receives the scripts. */
export async function w6ColdStart(
  settings: Settings,
  pkg: InstalledPackage,
  dir: string,
): Promise<Row[]> {
  const denoRun = Deno.execPath();
  const denoArgs = ["run", "--quiet", "--no-lock", "--no-config"];
  const script = async (name: string, text: string, where = pkg.project) => {
    const path = `${where}/${name}`;
    await Deno.writeTextFile(path, text);
    return path;
  };
  const empty = await script("empty.mjs", "export {};\n");
  const main = pkg.entries.find((e) => e.subpath === ".");
  if (main === undefined) {
    throw new Error('Cannot time W6: deno.json exports no "." entry');
  }
  const importMain = await script(
    "import_main.mjs",
    importer(pkg.name, "Registry"),
  );
  const importOneFile = await script(
    "import_one_file.mjs",
    importer(pkg.oneFile, "Registry"),
    dir,
  );
  const launches: Launch[] = [
    {
      case: "Deno",
      group: "deno",
      impl: "empty",
      command: denoRun,
      args: [...denoArgs, entry("empty.ts")],
    },
    {
      case: IMPORT_CASES.denoOneFile,
      group: "deno",
      impl: "edgemetrics",
      command: denoRun,
      args: [...denoArgs, importOneFile],
    },
    {
      case: IMPORT_CASES.denoSource,
      group: "deno",
      impl: "edgemetrics",
      command: denoRun,
      // The repository's config maps nothing this script imports; keep it
      // for the same resolution a JSR user gets (relative .ts files).
      args: ["run", "--quiet", "--no-lock", entry("import_edgemetrics.ts")],
    },
  ];
  const skipped: string[] = [];
  const bun = new URL("bun", TOOLS);
  if (await exists(bun)) {
    launches.push(
      {
        case: "Bun",
        group: "bun",
        impl: "empty",
        command: bun.pathname,
        args: [empty],
        cwd: pkg.project,
      },
      {
        case: IMPORT_CASES.bun,
        group: "bun",
        impl: "edgemetrics",
        command: bun.pathname,
        args: [importMain],
        cwd: pkg.project,
      },
    );
  } else skipped.push(IMPORT_CASES.bun);
  const node = new URL("node", TOOLS);
  if (await exists(node)) {
    const nodeLaunch = (
      caseName: string,
      impl: Impl | "empty",
      path: string,
    ): Launch => ({
      case: caseName,
      group: "node",
      impl,
      command: node.pathname,
      args: [path],
      cwd: pkg.project,
    });
    launches.push(
      nodeLaunch("Node 26", "empty", empty),
      nodeLaunch(IMPORT_CASES.node, "edgemetrics", importMain),
      nodeLaunch(
        IMPORT_CASES.node,
        "prom-client",
        await script(
          "import_prom_client.mjs",
          peerLoader("prom-client", "Registry"),
        ),
      ),
      nodeLaunch(
        IMPORT_CASES.node,
        "@prometheus-io/client",
        await script(
          "import_prometheus_io.mjs",
          peerLoader("@prometheus-io/client", "Registry"),
        ),
      ),
      nodeLaunch(
        IMPORT_CASES.node,
        "OTel",
        await script(
          "import_otel.mjs",
          peerLoader("@opentelemetry/sdk-metrics", "MeterProvider"),
        ),
      ),
    );
    // Informational: each subpath entry alone, which loads less than ".".
    for (const e of pkg.entries) {
      if (e === main) continue;
      launches.push(nodeLaunch(
        `import time, Node 26 (npm package, ${e.subpath} only)`,
        "edgemetrics",
        await script(
          `import_${e.out.replaceAll("/", "_")}.mjs`,
          importer(specifierOf(pkg, e), "Registry"),
        ),
      ));
    }
    // Informational: Node's on-disk compile cache skips most of the parsing.
    const cache = { NODE_COMPILE_CACHE: `${dir}/node-compile-cache` };
    launches.push(
      {
        ...nodeLaunch("Node 26, cache", "empty", empty),
        group: "node-cache",
        env: cache,
      },
      {
        ...nodeLaunch(
          "import time, Node 26 (npm package, NODE_COMPILE_CACHE)",
          "edgemetrics",
          importMain,
        ),
        group: "node-cache",
        env: cache,
      },
    );
  } else skipped.push(IMPORT_CASES.node);

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
      l.group === launch.group && l.impl === "empty"
    );
    // Paired by round: each round's import time minus the same round's empty script.
    const diffs = times[i]!.map((t, round) => t - times[baseline]![round]!);
    rows.push({
      workload: "W6",
      case: launch.case,
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
  for (const caseName of skipped) {
    rows.push({
      workload: "W6",
      case: caseName,
      impl: "edgemetrics",
      value: null,
      unit: "ms over empty",
      note: "n/a (runtime not installed: run .ci/setup)",
    });
  }
  return rows;
}
