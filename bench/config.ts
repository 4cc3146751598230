/**
 * How much to measure: a full run for the committed results, `--quick` for a
 * smoke run that proves every workload works end to end.
 *
 * @module
 */

import type { MeasureOptions } from "./harness.ts";

/** Everything a workload may scale by. */
export interface Settings {
  quick: boolean;
  /** Hot-path workloads (W1–W3): many short batches. */
  hotPath: MeasureOptions;
  /** Exposition (W4): each batch is one whole encoding of ~125,000 lines. */
  exposition: MeasureOptions;
  /** Fresh processes per implementation for the heap figure (W5). */
  memoryRuns: number;
  /** Fresh processes per runtime and entry for the import time (W6). */
  coldStartRuns: number;
}

/** The settings for a full or a quick run. */
export function settingsFor(quick: boolean): Settings {
  return quick
    ? {
      quick,
      hotPath: { rounds: 7, warmupMs: 150, targetBatchMs: 2 },
      exposition: { rounds: 2, warmupMs: 0, targetBatchMs: 0 },
      memoryRuns: 1,
      coldStartRuns: 5,
    }
    : {
      quick,
      hotPath: { rounds: 31, warmupMs: 500, targetBatchMs: 10 },
      exposition: { rounds: 11, warmupMs: 1000, targetBatchMs: 0 },
      memoryRuns: 3,
      coldStartRuns: 21,
    };
}
