/**
 * Prints what edgemetrics costs to ship to a Worker: W6's bundles (per use
 * case and per entry, minified + gzip, by esbuild from the built package),
 * and fails if one pulls in a Node built-in (a Worker cannot resolve one).
 *
 *     deno run --allow-all bench/size.ts
 *
 * @module
 */

import { installPackage } from "./package.ts";
import { w6Size } from "./workloads/w6_bundle_size.ts";

const scratch = await Deno.makeTempDir({ prefix: "edgemetrics-size-" });
try {
  const pkg = await installPackage(scratch);
  let clean = true;
  for (const row of await w6Size(pkg, scratch)) {
    console.log(
      `bundle size: ${row.case.replace(/^bundle, /, "")}, ${row.impl}: ${
        row.value!.toFixed(1)
      } kB minified+gzip (${row.note})`,
    );
    if (row.impl === "edgemetrics") {
      clean &&= (row.detail!.nodeBuiltins as string[]).length === 0;
    }
  }
  if (!clean) Deno.exitCode = 1;
} finally {
  await Deno.remove(scratch, { recursive: true });
}
