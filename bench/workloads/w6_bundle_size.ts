/**
 * W6, size: minified + gzip bundles for a worker target, of the whole module
 * and of a pull-only import (what a `/metrics` endpoint needs).
 *
 * @module
 */

import { buildBundle, type Bundle } from "../bundle.ts";
import type { Row } from "../results.ts";

const MOD = new URL("../../mod.ts", import.meta.url);
const PULL_ONLY = new URL("../entries/pull_only.ts", import.meta.url);

function sizeRow(label: string, bundle: Bundle): Row {
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
  row.note = notes.join("; ");
  return row;
}

/** Runs W6's bundle sizes; `dir` receives the bundles. */
export async function w6Size(dir: string): Promise<Row[]> {
  const whole = await buildBundle(MOD.href, `${dir}/edgemetrics.min.js`);
  const pull = await buildBundle(PULL_ONLY.href, `${dir}/pull_only.min.js`);
  return [
    sizeRow("bundle, whole module", whole),
    sizeRow(
      "bundle, pull-only (Counter, Histogram, Registry, metricsHandler)",
      pull,
    ),
  ];
}
