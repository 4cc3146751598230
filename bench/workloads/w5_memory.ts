/**
 * W5: heap bytes per series for 100,000 labeled counter series, each
 * implementation measured in its own fresh process after forced GC.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import { median } from "../harness.ts";
import { IMPLS, type Row } from "../results.ts";

const CHILD = new URL("./w5_heap_child.ts", import.meta.url);

interface ChildResult {
  series: number;
  bytes: number;
}

async function heapOf(impl: string): Promise<ChildResult> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-lock",
      "--allow-all",
      "--v8-flags=--expose-gc",
      CHILD.pathname,
      impl,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot measure heap of ${impl}: child exited ${code}: ${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** Runs W5. */
export async function w5(settings: Settings): Promise<Row[]> {
  const samples: Record<string, number[]> = {};
  for (const impl of IMPLS) samples[impl] = [];
  for (let run = 0; run < settings.memoryRuns; run++) {
    for (const impl of IMPLS) {
      const { series, bytes } = await heapOf(impl);
      samples[impl]!.push(bytes / series);
    }
  }
  return IMPLS.map((impl) => ({
    workload: "W5",
    case: "heap per series (100,000 series)",
    impl,
    value: median(samples[impl]!),
    unit: "B/series",
    samples: samples[impl]!,
  }));
}
