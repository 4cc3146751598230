/**
 * W5's measuring process: creates 100,000 labeled counter series with one
 * implementation and prints the heap they hold, in bytes per series.
 *
 * Then, for edgemetrics and prom-client, what the series hold once they
 * were exposed: after one Prometheus text scrape (edgemetrics keeps each
 * series' frozen labels, its place in the collection order and its cached
 * line text) and, for edgemetrics, after one OTLP JSON encoding as well
 * (its cached point head). The output and the snapshot are dropped before
 * measuring: only what stays with the series is counted. These figures
 * count V8's heap plus its external memory (typed-array storage, which the
 * heap figure does not see), each measured from the same baseline.
 *
 * Run by w5_memory.ts, one fresh process per implementation so no other
 * library's garbage is on the heap: `deno run --v8-flags=--expose-gc
 * w5_heap_child.ts <impl>`.
 *
 * @module
 */

import { METHODS, routes, statuses } from "../data.ts";
import {
  Counter,
  encodeOtlpJson,
  encodePrometheusText,
  Registry,
} from "../../mod.ts";
import { LabeledFloor } from "../floors.ts";
import { otelSetup, promClient, prometheusIo } from "../peers.ts";

/** The series created: 4 methods × 250 routes × 100 statuses. */
export const SERIES = 100_000;
const LABEL_NAMES = ["method", "route", "status"] as const;

type Record3 = (method: string, route: string, status: string) => void;

/** One implementation's counter: how to record a series, and how to expose them. */
interface Recorder {
  record: Record3;
  /** One Prometheus text scrape; returns the text's length. */
  scrape?: () => Promise<number>;
  /** One OTLP JSON encoding; returns the body's length. */
  otlpJson?: () => Promise<number>;
}

/** Sets up one implementation's counter. */
function recorder(impl: string): Recorder {
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
      return {
        record: (method, route, status) => c.inc({ method, route, status }),
        scrape: async () =>
          encodePrometheusText(await registry.collect()).length,
        otlpJson: async () =>
          encodeOtlpJson(await registry.collect(), {
            resource: { "service.name": "bench" },
            timeUnixMs: Date.now(),
          }).length,
      };
    }
    case "prom-client":
    case "@prometheus-io/client": {
      const client = impl === "prom-client" ? promClient : prometheusIo;
      const registry = new client.Registry();
      const c = new client.Counter({
        name: "w5_total",
        help: "W5.",
        labelNames: LABEL_NAMES,
        registers: [registry],
      });
      return {
        record: (method, route, status) => c.inc({ method, route, status }),
        scrape: async () => (await registry.metrics()).length,
      };
    }
    case "OTel": {
      // Every series kept, as edgemetrics' maxSeries: Infinity: the SDK's
      // default limit (2,000 per metric) would keep 2,000 of the 100,000.
      const c = otelSetup(Infinity).meter.createCounter("w5");
      return {
        record: (method, route, status) => c.add(1, { method, route, status }),
      };
    }
    case "floor": {
      const floor = new LabeledFloor(LABEL_NAMES, 1);
      return {
        record: (method, route, status) => {
          floor.data[floor.indexOf({ method, route, status })]! += 1;
        },
      };
    }
  }
  throw new TypeError(`Cannot measure heap: unknown implementation "${impl}"`);
}

/** V8's heap and external memory after two forced collections. */
function settled(): { heap: number; external: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    throw new Error("Cannot measure heap: run with --v8-flags=--expose-gc");
  }
  gc();
  gc();
  const { heapUsed, external } = Deno.memoryUsage();
  return { heap: heapUsed, external };
}

if (import.meta.main) {
  const impl = Deno.args[0] ?? "";
  // Label values exist before the baseline: the application owns those strings.
  const methods = [...METHODS];
  const paths = routes(250);
  const codes = statuses(100);
  const { record, scrape, otlpJson } = recorder(impl);
  const before = settled();
  for (const method of methods) {
    for (const route of paths) {
      for (const status of codes) record(method, route, status);
    }
  }
  const after = settled();
  const total = (m: { heap: number; external: number }) =>
    m.heap + m.external - before.heap - before.external;
  let afterScrape: number | null = null;
  let afterOtlpJson: number | null = null;
  let exposed = 0;
  if (scrape !== undefined) {
    exposed += await scrape();
    afterScrape = total(settled());
  }
  if (otlpJson !== undefined) {
    exposed += await otlpJson();
    afterOtlpJson = total(settled());
  }
  // Touching the recorder after the measurement keeps everything it holds alive.
  record(methods[0]!, paths[0]!, codes[0]!);
  console.log(JSON.stringify({
    impl,
    series: SERIES,
    bytes: after.heap - before.heap,
    // Heap plus external, from the same baseline: the series alone, then
    // once exposed.
    total: total(after),
    afterScrape,
    afterOtlpJson,
    exposed,
  }));
}
