/**
 * The built npm package, as W6 measures it: `deno task build` into a scratch
 * folder, linked into a scratch project's `node_modules` so runtimes and
 * bundlers resolve `@edgemetrics/edgemetrics` (and its subpaths) exactly as
 * they would after `npm install`.
 *
 * @module
 */

import { build, type Entry, ONE_FILE } from "../.ci/build.ts";

/** A built package and a project that has it installed. */
export interface InstalledPackage {
  /** The package name: `@edgemetrics/edgemetrics`. */
  name: string;
  /** The public entries, in `deno.json` order. */
  entries: Entry[];
  /** The project folder (its `node_modules` holds the package). */
  project: string;
  /** Its `node_modules`, for a bundler's `nodePaths`. */
  nodeModules: string;
  /** The one-file build of `mod.ts`. */
  oneFile: string;
}

/** Builds the package under `dir` and installs it into `dir/project`. */
export async function installPackage(dir: string): Promise<InstalledPackage> {
  const built = await build(new URL(`file://${dir}/package/`));
  const name = String(built.packageJson.name);
  const project = `${dir}/project`;
  const nodeModules = `${project}/node_modules`;
  const scope = name.includes("/") ? name.slice(0, name.indexOf("/")) : "";
  await Deno.mkdir(`${nodeModules}/${scope}`, { recursive: true });
  await Deno.symlink(built.dir.pathname, `${nodeModules}/${name}`);
  await Deno.writeTextFile(
    `${project}/package.json`,
    JSON.stringify({ name: "bench-user", private: true, type: "module" }),
  );
  return {
    name,
    entries: built.entries,
    project,
    nodeModules,
    oneFile: new URL(ONE_FILE, built.dir).pathname,
  };
}

/** The import specifier of an entry: `@edgemetrics/edgemetrics/pull`. */
export function specifierOf(pkg: InstalledPackage, entry: Entry): string {
  return entry.subpath === "." ? pkg.name : pkg.name + entry.subpath.slice(1);
}
