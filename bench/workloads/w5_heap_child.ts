/**
 * W5's measuring process: creates 100,000 labeled counter series with one
 * implementation and prints the heap they hold, in bytes per series.
 *
 * Run by w5_memory.ts, one fresh process per implementation so no other
 * library's garbage is on the heap: `deno run --v8-flags=--expose-gc
 * w5_heap_child.ts <impl>`.
 *
 * @module
 */

import { METHODS, routes, statuses } from "../data.ts";
import { Counter, Registry } from "../../mod.ts";
import { LabeledFloor } from "../floors.ts";
import { otelSetup, promClient } from "../peers.ts";

/** The series created: 4 methods × 250 routes × 100 statuses. */
export const SERIES = 100_000;
const LABEL_NAMES = ["method", "route", "status"] as const;

type Record3 = (method: string, route: string, status: string) => void;

/** Sets up one implementation's counter; returns how to record one series. */
function recorder(impl: string): Record3 {
  switch (impl) {
    case "edgemetrics": {
      const registry = new Registry();
      const c = new Counter({
        name: "w5_total",
        help: "W5.",
        labelNames: LABEL_NAMES,
        registry,
        maxSeries: Infinity,
      });
      return (method, route, status) => c.inc({ method, route, status });
    }
    case "prom-client": {
      const registry = new promClient.Registry();
      const c = new promClient.Counter({
        name: "w5_total",
        help: "W5.",
        labelNames: LABEL_NAMES,
        registers: [registry],
      });
      return (method, route, status) => c.inc({ method, route, status });
    }
    case "OTel": {
      const c = otelSetup().meter.createCounter("w5");
      return (method, route, status) => c.add(1, { method, route, status });
    }
    case "floor": {
      const floor = new LabeledFloor(LABEL_NAMES, 1);
      return (method, route, status) => {
        floor.data[floor.indexOf({ method, route, status })]! += 1;
      };
    }
  }
  throw new TypeError(`Cannot measure heap: unknown implementation "${impl}"`);
}

function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    throw new Error("Cannot measure heap: run with --v8-flags=--expose-gc");
  }
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
}

if (import.meta.main) {
  const impl = Deno.args[0] ?? "";
  // Label values exist before the baseline: the application owns those strings.
  const methods = [...METHODS];
  const paths = routes(250);
  const codes = statuses(100);
  const record = recorder(impl);
  const before = settledHeap();
  for (const method of methods) {
    for (const route of paths) {
      for (const status of codes) record(method, route, status);
    }
  }
  const after = settledHeap();
  // Touching the recorder after the measurement keeps everything it holds alive.
  record(methods[0]!, paths[0]!, codes[0]!);
  console.log(JSON.stringify({ impl, series: SERIES, bytes: after - before }));
}
