/**
 * Builds edgemetrics the way a worker or browser would ship it: one minified
 * ESM file from `deno bundle --platform browser`, so any Node built-in the
 * module pulled in would show up as an import the target cannot resolve.
 *
 * @module
 */

import { gzipSync } from "node:zlib";

/** A built bundle and what it costs to ship. */
export interface Bundle {
  path: string;
  bytes: number;
  /** gzip -9 of the bundle. */
  gzipBytes: number;
  /** `node:` modules the bundle imports or requires: none for a worker target. */
  nodeBuiltins: string[];
}

/** Bundles `entry` (a path or file URL) into `outFile`, minified, for the browser platform. */
export async function buildBundle(
  entry: string,
  outFile: string,
): Promise<Bundle> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--no-lock",
      "--minify",
      "--platform",
      "browser",
      "--format",
      "esm",
      "-o",
      outFile,
      entry,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot bundle ${entry}: deno bundle exited ${code}: ${
        new TextDecoder().decode(stderr)
      }`,
    );
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
