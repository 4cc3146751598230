/**
 * Prints what edgemetrics costs to ship to a worker: the minified + gzipped
 * size of the whole module and of a pull-only import, and fails if either
 * bundle pulls in a Node built-in (a worker target cannot resolve one).
 *
 *     deno run --allow-all bench/size.ts
 *
 * @module
 */

import { buildBundle } from "./bundle.ts";

const out = await Deno.makeTempDir({ prefix: "edgemetrics-size-" });
try {
  const entries = {
    "whole module (mod.ts)": new URL("../mod.ts", import.meta.url).pathname,
    "pull-only import": new URL("./entries/pull_only.ts", import.meta.url)
      .pathname,
  };
  let clean = true;
  for (const [name, entry] of Object.entries(entries)) {
    const bundle = await buildBundle(entry, `${out}/${name.length}.js`);
    const builtins = bundle.nodeBuiltins.length === 0
      ? "no Node built-ins"
      : `imports ${bundle.nodeBuiltins.join(", ")}`;
    console.log(
      `bundle size: ${name}: ${(bundle.gzipBytes / 1000).toFixed(1)} kB ` +
        `minified+gzip (${
          (bundle.bytes / 1000).toFixed(1)
        } kB minified), ${builtins}`,
    );
    clean &&= bundle.nodeBuiltins.length === 0;
  }
  if (!clean) Deno.exitCode = 1;
} finally {
  await Deno.remove(out, { recursive: true });
}
