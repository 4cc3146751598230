/**
 * What W6's import time from source is made of. Times the import of the whole
 * module, minus an empty script, for the same code laid out several ways:
 *
 * - `source`: the TypeScript files as they are (what W6 measures);
 * - `source, no JSDoc`: the same files with their `/** … *\/` blocks removed,
 *   which shows what the size of the source costs;
 * - `stripped .js per module`: the same files with types replaced by spaces
 *   (Node's `stripTypeScriptTypes`, so the bytes and the module count stay),
 *   which shows what TypeScript itself costs;
 * - `one bundled file`: `deno bundle` without minifying, one module, and
 *   `one minified bundled file` as W6 builds it for Node;
 * - `N empty modules`: as many modules as the source, each exporting one
 *   constant, which shows the fixed cost of a module;
 * - `pull side only, source`: the modules Counter, Histogram, Registry and
 *   metricsHandler need, imported directly, as a `./pull` subpath export
 *   would load them.
 *
 * Deno and Bun run every layout; Node runs the `.js` ones. Each figure is the
 * median over interleaved rounds of (import − empty script) in fresh processes.
 *
 *     deno run --allow-all bench/cold_start_breakdown.ts [rounds]
 *
 * @module
 */

import { random } from "./data.ts";
import { median, roundOrder } from "./harness.ts";

const root = new URL("../", import.meta.url);
const tools = new URL(".tools/node_modules/.bin/", root);
const rounds = Number(Deno.args[0] ?? 21);

/** The module's own files: mod.ts and everything under src/. */
async function sourceFiles(): Promise<string[]> {
  const files = ["mod.ts"];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  await walk("src");
  return files;
}

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
}

const check =
  'if (typeof edgemetrics.Registry !== "function") throw new Error("not loaded");\n';

/** Builds the layouts under `dir`; returns each layout's entry script. */
async function layouts(dir: string): Promise<Record<string, string>> {
  const files = await sourceFiles();
  const entries: Record<string, string> = {};
  await write(`${dir}/empty.ts`, "export {};\n");
  await write(`${dir}/empty.mjs`, "export {};\n");
  entries["empty"] = `${dir}/empty.ts`;
  entries["empty .js"] = `${dir}/empty.mjs`;

  entries["source"] =
    new URL("bench/entries/import_edgemetrics.ts", root).pathname;

  // What a `./pull` subpath export would load: only the pull side's modules.
  const src = (file: string) => new URL(`src/${file}`, root).href;
  await write(
    `${dir}/pull_entry.ts`,
    `import { Registry } from "${src("registry.ts")}";\n` +
      `import { Counter } from "${src("instruments/counter.ts")}";\n` +
      `import { Histogram } from "${src("instruments/histogram.ts")}";\n` +
      `import { metricsHandler } from "${src("pull/handler.ts")}";\n` +
      "const edgemetrics = { Registry, Counter, Histogram, metricsHandler };\n" +
      check,
  );
  entries["pull side only, source"] = `${dir}/pull_entry.ts`;

  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, root));
    await write(
      `${dir}/nodoc/${file}`,
      text.replace(/\/\*\*[\s\S]*?\*\/\n?/g, ""),
    );
  }
  await write(
    `${dir}/nodoc/entry.ts`,
    `import * as edgemetrics from "./mod.ts";\n${check}`,
  );
  entries["source, no JSDoc"] = `${dir}/nodoc/entry.ts`;

  const node = new URL("node", tools).pathname;
  const strip = await new Deno.Command(node, {
    args: [
      "--no-warnings",
      "--input-type=module",
      "-e",
      `import { stripTypeScriptTypes } from "node:module";
       import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
       import { dirname } from "node:path";
       const [from, to, ...files] = process.argv.slice(1);
       for (const file of files) {
         const js = stripTypeScriptTypes(readFileSync(from + file, "utf8"))
           .replace(/(from\\s*"[^"]+)\\.ts"/g, '$1.js"')
           .replace(/(import\\s*"[^"]+)\\.ts"/g, '$1.js"');
         mkdirSync(dirname(to + file), { recursive: true });
         writeFileSync(to + file.replace(/\\.ts$/, ".js"), js);
       }`,
      root.pathname,
      `${dir}/js/`,
      ...files,
    ],
  }).output();
  if (strip.code === 0) {
    await write(`${dir}/js/package.json`, '{ "type": "module" }\n');
    await write(
      `${dir}/js/entry.js`,
      `import * as edgemetrics from "./mod.js";\n${check}`,
    );
    entries["stripped .js per module"] = `${dir}/js/entry.js`;
  }

  for (
    const [layout, minify] of [["one bundled file", false], [
      "one minified bundled file",
      true,
    ]] as const
  ) {
    const out = `${dir}/bundle/${minify ? "min" : "plain"}.mjs`;
    const bundled = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--no-lock",
        ...(minify ? ["--minify"] : []),
        "--format",
        "esm",
        "-o",
        out,
        new URL("mod.ts", root).pathname,
      ],
    }).output();
    if (bundled.code !== 0) throw new Error("Cannot bundle mod.ts");
    const entry = out.replace(/\.mjs$/, "_entry.mjs");
    await write(
      entry,
      `import * as edgemetrics from "./${
        minify ? "min" : "plain"
      }.mjs";\n${check}`,
    );
    entries[layout] = entry;
  }

  let reexports = "";
  for (let i = 0; i < files.length - 1; i++) {
    await write(`${dir}/tiny/m${i}.ts`, `export const v${i} = ${i};\n`);
    reexports += `export * from "./m${i}.ts";\n`;
  }
  await write(`${dir}/tiny/mod.ts`, reexports);
  await write(
    `${dir}/tiny/entry.ts`,
    'import * as tiny from "./mod.ts";\nif (tiny.v0 !== 0) throw new Error("not loaded");\n',
  );
  entries[`${files.length} empty modules`] = `${dir}/tiny/entry.ts`;
  return entries;
}

interface Launch {
  runtime: string;
  layout: string;
  argv: string[];
}

async function wallTime(argv: string[]): Promise<number> {
  const start = performance.now();
  const { code, stderr } = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - start;
  if (code !== 0) {
    throw new Error(
      `Cannot time ${argv.join(" ")}: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return elapsed;
}

const dir = await Deno.makeTempDir({ prefix: "edgemetrics-cold-" });
try {
  const entries = await layouts(dir);
  const runtimes: [string, string[], (layout: string) => boolean][] = [
    ["Deno", [Deno.execPath(), "run", "--quiet", "--no-lock"], () => true],
  ];
  const bun = new URL("bun", tools).pathname;
  const node = new URL("node", tools).pathname;
  try {
    await Deno.stat(bun);
    runtimes.push(["Bun", [bun], () => true]);
  } catch { /* no Bun */ }
  try {
    await Deno.stat(node);
    runtimes.push([
      "Node",
      [node],
      (layout) =>
        layout === "empty .js" || layout.includes(".js") ||
        layout.startsWith("one "),
    ]);
  } catch { /* no Node */ }
  const launches: Launch[] = [];
  for (const [runtime, argv, runs] of runtimes) {
    for (const [layout, entry] of Object.entries(entries)) {
      if (runtime === "Node" && layout === "empty") continue;
      if (runtime !== "Node" && layout === "empty .js") continue;
      if (layout.startsWith("empty") || runs(layout)) {
        launches.push({ runtime, layout, argv: [...argv, entry] });
      }
    }
  }
  for (const launch of launches) await wallTime(launch.argv); // warm caches
  const times = launches.map(() => [] as number[]);
  const next = random(7);
  for (let round = 0; round < rounds; round++) {
    for (const i of roundOrder(launches.length, next)) {
      times[i]!.push(await wallTime(launches[i]!.argv));
    }
  }
  console.log(`| runtime | layout | ms over empty (median of ${rounds}) |`);
  console.log("|---|---|---:|");
  for (const [i, launch] of launches.entries()) {
    if (launch.layout.startsWith("empty")) continue;
    const base = launches.findIndex((l) =>
      l.runtime === launch.runtime && l.layout.startsWith("empty")
    );
    const diffs = times[i]!.map((t, r) => t - times[base]![r]!);
    console.log(
      `| ${launch.runtime} | ${launch.layout} | ${median(diffs).toFixed(2)} |`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
