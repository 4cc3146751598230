/**
 * W6, size: minified + gzip bundles for a worker target, of the whole module
 * and of a pull-only import (what a `/metrics` endpoint needs).
 *
 * @module
 */

import { buildBundle, type Bundle } from "../bundle.ts";
import { exportedNames } from "../edgemetrics.ts";
import type { Row } from "../results.ts";

const MOD = new URL("../../mod.ts", import.meta.url);
/** What a pull-only application imports. */
export const PULL_ONLY = [
  "Counter",
  "Histogram",
  "Registry",
  "metricsHandler",
] as const;

function sizeRow(label: string, bundle: Bundle, note?: string): Row {
  const row: Row = {
    workload: "W6",
    case: label,
    impl: "edgemetrics",
    value: bundle.gzipBytes / 1000,
    unit: "kB gz",
    detail: {
      minifiedBytes: bundle.bytes,
      gzipBytes: bundle.gzipBytes,
      nodeBuiltins: bundle.nodeBuiltins,
    },
  };
  const notes = [
    `${(bundle.bytes / 1000).toFixed(1)} kB minified`,
    bundle.nodeBuiltins.length === 0
      ? "no node: imports"
      : `imports ${bundle.nodeBuiltins.join(", ")}`,
  ];
  if (note !== undefined) notes.push(note);
  row.note = notes.join("; ");
  return row;
}

/** Runs W6's bundle sizes; `dir` receives the bundles (cold start reuses them). */
export async function w6Size(dir: string): Promise<Row[]> {
  const whole = await buildBundle(MOD.href, `${dir}/edgemetrics.min.js`);
  // Only the pull-only names that exist today; a missing one is named in the note.
  const present = PULL_ONLY.filter((name) => exportedNames.includes(name));
  const absent = PULL_ONLY.filter((name) => !exportedNames.includes(name));
  const entry = `${dir}/pull_only_entry.ts`;
  await Deno.writeTextFile(
    entry,
    `export { ${present.join(", ")} } from ${JSON.stringify(MOD.href)};\n`,
  );
  const pull = await buildBundle(entry, `${dir}/pull_only.min.js`);
  const pullRow = sizeRow(
    `bundle, pull-only (${PULL_ONLY.join(", ")})`,
    pull,
    absent.length === 0
      ? undefined
      : `without ${absent.join(", ")}: not built yet`,
  );
  if (absent.length > 0) pullRow.detail = { ...pullRow.detail, partial: true };
  return [sizeRow("bundle, whole module", whole), pullRow];
}
