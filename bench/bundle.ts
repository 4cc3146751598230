/**
 * Builds a Worker the way its author would ship it: esbuild (what wrangler
 * runs) bundles the Worker's source with the installed packages into one
 * minified ESM file for the browser platform, so a Node built-in pulled in
 * would show up as an import the target cannot resolve.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import { requirePeer } from "../tests/_npm.ts";

/** A built bundle and what it costs to ship. */
export interface Bundle {
  path: string;
  bytes: number;
  /** gzip -9 of the bundle. */
  gzipBytes: number;
  /** `node:` modules the bundle imports or requires: none for a worker target. */
  nodeBuiltins: string[];
}

/** Where a Worker's bare imports resolve. */
export interface BundleOptions {
  /** `node_modules` folders searched for bare imports, in order. */
  nodePaths: string[];
  /**
   * Bare imports matching `filter` (a Go regular expression, for esbuild)
   * but not named in `except`, from any file, resolve as if imported from
   * `dir` (exports map included): one copy of a package that several
   * dependencies each got nested.
   */
  resolveFrom?: { filter: RegExp; except: string[]; dir: string };
}

interface ResolveArgs {
  path: string;
  kind: string;
  pluginData?: unknown;
}

interface PluginBuild {
  onResolve(
    options: { filter: RegExp },
    callback: (args: ResolveArgs) => Promise<unknown> | undefined,
  ): void;
  resolve(
    path: string,
    options: { kind: string; resolveDir: string; pluginData: unknown },
  ): Promise<unknown>;
}

interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
  stop?(): void;
}

/** Bundles `entry` (a file path) into `outFile`, minified, for a Worker. */
export async function bundleWorker(
  entry: string,
  outFile: string,
  options: BundleOptions,
): Promise<Bundle> {
  const esbuild = requirePeer<Esbuild>("esbuild");
  try {
    await esbuild.build({
      entryPoints: [entry],
      outfile: outFile,
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      conditions: ["workerd", "worker", "browser"],
      target: "es2022",
      legalComments: "none",
      nodePaths: options.nodePaths,
      plugins: options.resolveFrom === undefined ? [] : [{
        name: "resolve-from",
        setup(build: PluginBuild) {
          const { filter, dir } = options.resolveFrom!;
          build.onResolve(
            { filter },
            (args) =>
              args.pluginData === "resolve-from" ? undefined : build.resolve(
                args.path,
                {
                  kind: args.kind,
                  resolveDir: dir,
                  pluginData: "resolve-from",
                },
              ),
          );
        },
      }],
      logLevel: "error",
    });
  } finally {
    esbuild.stop?.();
  }
  const source = await Deno.readFile(outFile);
  const text = new TextDecoder().decode(source);
  const builtins = new Set<string>();
  // Static imports, dynamic imports and require calls of node: modules.
  for (
    const match of text.matchAll(
      /(?:from|import|require)\s*\(?\s*["'](node:[^"']+)["']/g,
    )
  ) {
    builtins.add(match[1]!);
  }
  return {
    path: outFile,
    bytes: source.length,
    gzipBytes: gzipSync(source, { level: 9 }).length,
    nodeBuiltins: [...builtins],
  };
}
