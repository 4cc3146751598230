/**
 * Bundles a runtime entry for platforms that cannot import `.ts`: workerd
 * takes an ES module, edge-runtime a classic script. `deno bundle` for the
 * browser platform inlines `mod.ts` and the scenario into one file, as a
 * user deploying the module to those platforms would ship it.
 *
 * @module
 */

import { REPO_ROOT, run } from "../_peers.ts";

/** `"esm"` for a module Worker, `"iife"` for a script. */
export type BundleFormat = "esm" | "iife";

/**
 * Bundles `entry` (a path relative to the repository root) into `outFile`
 * and returns its text. Throws with deno's output when bundling fails or
 * when the bundle still imports anything (a Node built-in, a package): the
 * platforms it is for can load nothing else.
 */
export async function bundle(
  entry: string,
  format: BundleFormat,
  outFile: string,
): Promise<string> {
  const { code, stdout, stderr } = await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    format,
    "--output",
    outFile,
    entry,
  ], { cwd: REPO_ROOT, env: { NO_COLOR: "1" } });
  if (code !== 0) {
    throw new Error(
      `deno bundle ${entry} failed (exit ${code}):\n${stdout}${stderr}`,
    );
  }
  const text = await Deno.readTextFile(outFile);
  const imports = [
    ...text.matchAll(/^\s*import\s[^;]*?from\s*["']([^"']+)["']/gm),
    ...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g),
  ].map((match) => match[1]);
  if (imports.length > 0) {
    throw new Error(
      `The ${format} bundle of ${entry} still imports ${imports.join(", ")}`,
    );
  }
  return text;
}
