/**
 * W5: heap bytes per series for 100,000 labeled counter series, each
 * implementation measured in its own fresh process after forced GC.
 *
 * The goal row counts the V8 heap the series take as recorded, never
 * exposed. Informational rows say what they take once exposed, for the
 * implementations that can be: after one Prometheus text scrape, and
 * (edgemetrics) after one OTLP JSON encoding as well. Those count heap plus
 * external memory (typed-array storage is external), so they also show
 * what the goal row leaves out.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import { median } from "../harness.ts";
import { IMPLS, type Row } from "../results.ts";

const CHILD = new URL("./w5_heap_child.ts", import.meta.url);

interface ChildResult {
  series: number;
  /** Heap bytes the series take, never exposed. */
  bytes: number;
  /** Heap plus external bytes, never exposed. */
  total: number;
  /** Heap plus external bytes after one Prometheus text scrape, or null. */
  afterScrape: number | null;
  /** Heap plus external bytes after the scrape and one OTLP JSON encoding, or null. */
  afterOtlpJson: number | null;
}

/** The informational cases, each with the child's figure it reports. */
const EXPOSED: readonly {
  case: string;
  of: (result: ChildResult) => number | null;
}[] = [
  {
    case: "heap + external per series, never exposed (informational)",
    of: (r) => r.total,
  },
  {
    case:
      "heap + external per series after one Prometheus scrape (informational)",
    of: (r) => r.afterScrape,
  },
  {
    case:
      "heap + external per series after a scrape and an OTLP JSON encode (informational)",
    of: (r) => r.afterOtlpJson,
  },
];

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
  const exposed: Record<string, number[][]> = {};
  for (const impl of IMPLS) {
    samples[impl] = [];
    exposed[impl] = EXPOSED.map(() => []);
  }
  for (let run = 0; run < settings.memoryRuns; run++) {
    for (const impl of IMPLS) {
      const result = await heapOf(impl);
      samples[impl]!.push(result.bytes / result.series);
      EXPOSED.forEach((c, i) => {
        const bytes = c.of(result);
        if (bytes !== null) exposed[impl]![i]!.push(bytes / result.series);
      });
    }
  }
  const rows: Row[] = IMPLS.map((impl) => ({
    workload: "W5",
    case: "heap per series (100,000 series)",
    impl,
    value: median(samples[impl]!),
    unit: "B/series",
    samples: samples[impl]!,
  }));
  EXPOSED.forEach((c, i) => {
    for (const impl of IMPLS) {
      const figures = exposed[impl]![i]!;
      if (figures.length === 0) continue;
      rows.push({
        workload: "W5",
        case: c.case,
        impl,
        value: median(figures),
        unit: "B/series",
        samples: figures,
      });
    }
  });
  return rows;
}
