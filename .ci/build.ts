/**
 * Builds the npm package and the one-file build into `dist/` (ignored by
 * git), from the entries listed in `deno.json` "exports":
 *
 *     deno task build        # = deno run --allow-all .ci/build.ts
 *
 * What it writes, for the entries `"./name": "./src/name.ts"` of deno.json:
 * - `edgemetrics.js`: the whole of `mod.ts` (entry `.`), minified into one
 *   ESM file with its source map. It carries its types with `@ts-self-types`
 *   (`edgemetrics.types/`, the declarations naming each other `.d.ts`, as
 *   Deno resolves them), so URL users import the same file npm users get;
 * - `name.js` for every other entry: one line re-exporting that entry's
 *   names from `edgemetrics.js`, so there is one copy of every class (one
 *   `Registry` whichever entry a user imports it from), and a bundler still
 *   drops what the Worker does not use (`sideEffects: false`);
 * - `types/…d.ts`: the declarations tsc emits for the entry and every module
 *   it reaches, with their relative imports rewritten from `.ts` to `.js`
 *   (and a reference to the disposable lib where `await using` needs it);
 * - `package.json` (ESM, an exports map with `types` first, `sideEffects:
 *   false`, no dependencies), `README.md` and `LICENSE`.
 *
 * One file rather than code-split chunks: Node loads every file of an import
 * on its own, about 1 ms each here, and the main entry reached six chunks
 * (W6: 22 ms over an empty script against 15 ms for the same bytes in one
 * file). A bundler's output is the same size either way.
 *
 * esbuild and typescript come from `.tools/` (`.ci/peers.json`); nothing is
 * added to the package's dependencies. An entry added to `deno.json` is built
 * with no change here.
 *
 * @module
 */

import { requirePeer, TOOLS_MODULES } from "../tests/_npm.ts";

const ROOT = new URL("../", import.meta.url);
/** Where the package is written. */
export const DIST: URL = new URL("dist/", ROOT);
/** The one-file build of `mod.ts`: the package's main entry. */
export const ONE_FILE = "edgemetrics.js";
/** Its declarations, for Deno: the same files naming each other `.d.ts`. */
const ONE_FILE_TYPES = "edgemetrics.types/";

/** A public entry of the package, as `deno.json` lists it. */
export interface Entry {
  /** The subpath in `deno.json` and the npm exports map: `.`, `./pull`. */
  subpath: string;
  /** The source file, relative to the repository root: `./src/pull.ts`. */
  source: string;
  /** The built file's name without extension: `edgemetrics`, `pull`. */
  out: string;
  /** The declaration file, relative to the package root. */
  types: string;
}

/** The entries of `deno.json` "exports", in its order. */
export function entriesOf(
  exports: string | Record<string, string>,
): Entry[] {
  const map = typeof exports === "string" ? { ".": exports } : exports;
  return Object.entries(map).map(([subpath, source]) => {
    if (subpath !== "." && !subpath.startsWith("./")) {
      throw new TypeError(
        `Cannot build entry "${subpath}": a subpath starts with "./"`,
      );
    }
    if (!source.startsWith("./") || !source.endsWith(".ts")) {
      throw new TypeError(
        `Cannot build entry "${subpath}": its source "${source}" is not a relative .ts file`,
      );
    }
    return {
      subpath,
      source,
      out: subpath === "." ? ONE_FILE.slice(0, -3) : subpath.slice(2),
      types: `./types/${source.slice(2, -3)}.d.ts`,
    };
  });
}

interface DenoJson {
  name: string;
  version: string;
  license: string;
  exports: string | Record<string, string>;
}

interface OutputFile {
  path: string;
  contents: Uint8Array;
}

interface Esbuild {
  build(options: Record<string, unknown>): Promise<{
    outputFiles: OutputFile[];
    warnings: unknown[];
  }>;
  stop?(): void;
}

/** The package.json of the npm package. */
export function packageJson(
  deno: DenoJson,
  entries: readonly Entry[],
): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  for (const entry of entries) {
    exports[entry.subpath] = {
      types: entry.types,
      default: `./${entry.out}.js`,
    };
  }
  exports["./package.json"] = "./package.json";
  const main = entries.find((e) => e.subpath === ".");
  return {
    name: deno.name,
    version: deno.version,
    description:
      "Prometheus and OpenTelemetry metrics for Node, Bun, Deno, Cloudflare Workers and every fetch-style runtime, with no dependencies",
    keywords: [
      "metrics",
      "prometheus",
      "openmetrics",
      "opentelemetry",
      "otlp",
      "cloudflare-workers",
      "deno",
      "bun",
    ],
    license: deno.license,
    type: "module",
    ...(main === undefined
      ? {}
      : { main: `./${main.out}.js`, types: main.types }),
    exports,
    sideEffects: false,
    engines: { node: ">=22" },
  };
}

/**
 * Readies a declaration file for TypeScript users: relative `.ts` imports
 * become `.js`, and a file that names `AsyncDisposable` or `Symbol.dispose`
 * references the lib that declares them, so a project whose `lib` stops at
 * es2022 still type-checks (`await using` needs no setting of theirs).
 */
export function forConsumers(text: string): string {
  const disposable = /\b(Async)?Disposable\b|Symbol\.(async)?[dD]ispose\b/
      .test(text)
    ? '/// <reference lib="esnext.disposable" />\n'
    : "";
  return disposable + text.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']*)\.ts\2/g,
    "$1$2$3.js$2",
  );
}

async function writeOutputs(files: readonly OutputFile[]): Promise<void> {
  for (const file of files) {
    await Deno.mkdir(new URL(".", `file://${file.path}`), { recursive: true });
    await Deno.writeFile(file.path, file.contents);
  }
}

/** Emits the declarations of `entries` with tsc into `dist/types/`. */
async function declarations(
  entries: readonly Entry[],
  out: URL,
): Promise<void> {
  const config = {
    compilerOptions: {
      target: "es2022",
      module: "nodenext",
      moduleResolution: "nodenext",
      lib: ["esnext", "dom", "dom.iterable"],
      types: [],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      allowImportingTsExtensions: true,
      declaration: true,
      emitDeclarationOnly: true,
      rootDir: ROOT.pathname,
      outDir: new URL("types/", out).pathname,
    },
    files: entries.map((e) => new URL(e.source, ROOT).pathname),
  };
  const dir = await Deno.makeTempDir({ prefix: "edgemetrics-build-" });
  try {
    await Deno.writeTextFile(`${dir}/tsconfig.json`, JSON.stringify(config));
    const { code, stdout, stderr } = await new Deno.Command(
      `${TOOLS_MODULES}.bin/tsc`,
      {
        args: ["-p", `${dir}/tsconfig.json`],
        stdout: "piped",
        stderr: "piped",
      },
    ).output();
    if (code !== 0) {
      const text = new TextDecoder();
      throw new Error(
        `Cannot emit declarations: tsc exited ${code}:\n${text.decode(stdout)}${
          text.decode(stderr)
        }`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const types = new URL("types/", out);
  for await (const path of walk(types)) {
    const text = forConsumers(await Deno.readTextFile(path));
    await Deno.writeTextFile(path, text);
    // Deno, loading the one-file build from a URL, resolves what a file
    // names (no .js -> .d.ts lookup as tsc does): its copy names .d.ts files.
    const copy = new URL(
      path.href.slice(types.href.length),
      new URL(ONE_FILE_TYPES, out),
    );
    await Deno.mkdir(new URL(".", copy), { recursive: true });
    await Deno.writeTextFile(copy, namingDts(text));
  }
}

/** Relative `.js` imports of a declaration file renamed to `.d.ts`. */
function namingDts(text: string): string {
  return text.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']*)\.js\2/g,
    "$1$2$3.d.ts$2",
  );
}

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const item of Deno.readDir(dir)) {
    const url = new URL(item.name + (item.isDirectory ? "/" : ""), dir);
    if (item.isDirectory) yield* walk(url);
    else yield url;
  }
}

/**
 * A subpath entry's file: the names its source exports (values only; its
 * types are in its declarations), taken from the one-file build. Entries only
 * re-export `mod.ts` (tests/package/entries_test.ts), so each name is there.
 */
async function reExports(entry: Entry): Promise<string> {
  const names = Object.keys(await import(new URL(entry.source, ROOT).href))
    .sort();
  return `export { ${names.join(", ")} } from "./${ONE_FILE}";\n`;
}

/** What a build wrote. */
export interface Built {
  dir: URL;
  entries: Entry[];
  packageJson: Record<string, unknown>;
}

/** Builds the package into `dir` (default `dist/`), replacing what was there. */
export async function build(dir: URL = DIST): Promise<Built> {
  const deno: DenoJson = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  );
  const entries = entriesOf(deno.exports);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });

  const esbuild = requirePeer<Esbuild>("esbuild");
  const main = entries.find((e) => e.subpath === ".");
  if (main === undefined) {
    throw new TypeError('Cannot build the package: deno.json exports no "."');
  }
  try {
    const one = await esbuild.build({
      absWorkingDir: ROOT.pathname,
      entryPoints: [main.source],
      outfile: new URL(ONE_FILE, dir).pathname,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      sourcemap: true,
      legalComments: "none",
      write: false,
      logLevel: "error",
      // Minified: Node and Bun spend an import mostly parsing, in proportion
      // to the bytes. Stack traces map back to the source through the source
      // map. Not keepNames: its __name() calls at module scope stop a user's
      // bundler from dropping unused classes (a pull-only Worker grew from
      // 9.4 to 18 kB gzip).
      minify: true,
      banner: {
        js: `/* @ts-self-types="./${ONE_FILE_TYPES}${
          main.types.slice("./types/".length)
        }" */`,
      },
    });
    await writeOutputs(one.outputFiles);
  } finally {
    esbuild.stop?.();
  }
  for (const entry of entries) {
    if (entry === main) continue;
    await Deno.writeTextFile(
      new URL(`${entry.out}.js`, dir),
      await reExports(entry),
    );
  }

  await declarations(entries, dir);
  const pkg = packageJson(deno, entries);
  await Deno.writeTextFile(
    new URL("package.json", dir),
    JSON.stringify(pkg, null, 2) + "\n",
  );
  await Deno.copyFile(new URL("README.md", ROOT), new URL("README.md", dir));
  await Deno.copyFile(new URL("LICENSE", ROOT), new URL("LICENSE", dir));
  return { dir, entries, packageJson: pkg };
}

if (import.meta.main) {
  const built = await build();
  let bytes = 0;
  for await (const path of walk(built.dir)) {
    bytes += (await Deno.stat(path)).size;
  }
  console.log(
    `built ${built.packageJson.name}@${built.packageJson.version} into dist/: ` +
      `${built.entries.map((e) => e.subpath).join(", ")} ` +
      `(${(bytes / 1000).toFixed(0)} kB with maps and types)`,
  );
}
