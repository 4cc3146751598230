/**
 * The W4 registry (10 counters of 5,000 series, 5 histograms of 1,000), as
 * edgemetrics alone records it: shared by the W7 workload and the tests that
 * measure the encoders on a realistic registry.
 *
 * @module
 */

import { Counter, Histogram, Registry } from "../mod.ts";
import {
  BUCKETS,
  labelSets,
  latencies,
  METHODS,
  routes,
  statuses,
} from "./data.ts";

/** The W4 registry's shape, recorded by edgemetrics alone. */
export function w4Registry(): Registry {
  const registry = new Registry({ maxSeries: Infinity });
  const counterSets = labelSets({
    method: METHODS,
    route: routes(125),
    status: statuses(10),
  });
  for (let f = 0; f < 10; f++) {
    const counter = new Counter({
      name: `bench_requests_${f}_total`,
      help: `Requests handled by shard ${f}.`,
      labelNames: ["method", "route", "status"],
      registry,
      maxSeries: Infinity,
    });
    counterSets.forEach((set, i) => counter.inc(set, (i % 97) + 1));
  }
  const histogramSets = labelSets({ method: METHODS, route: routes(250) });
  const values = latencies(histogramSets.length * 3, 4);
  for (let f = 0; f < 5; f++) {
    const histogram = new Histogram({
      name: `bench_latency_${f}_seconds`,
      help: `Request latency of shard ${f}.`,
      labelNames: ["method", "route"],
      buckets: BUCKETS,
      registry,
      maxSeries: Infinity,
    });
    histogramSets.forEach((set, i) => {
      for (let k = 0; k < 3; k++) histogram.observe(set, values[i * 3 + k]!);
    });
  }
  return registry;
}
