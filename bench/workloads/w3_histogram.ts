/**
 * W3: a histogram with 2 labels, 200 label sets and 12 buckets, recorded by
 * label object and through a bound child.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import {
  BUCKETS,
  labelSets,
  latencies,
  METHODS,
  routes,
  shuffle,
} from "../data.ts";
import { Histogram } from "../../mod.ts";
import { histogramStride, LabeledFloor, observeFloor } from "../floors.ts";
import { measure } from "../harness.ts";
import { otelSetup, promClient, prometheusIo } from "../peers.ts";
import { NOT_OFFERED, type Row, timingRows } from "../results.ts";

const LABEL_NAMES = ["method", "route"] as const;
/** A power of two, so the value index wraps with a mask. */
const VALUES = 4096;

/** Runs W3. */
export async function w3(settings: Settings): Promise<Row[]> {
  const sets = shuffle(labelSets({ method: METHODS, route: routes(50) }), 3);
  const m = sets.length;
  const values = latencies(VALUES, 3);
  const mask = VALUES - 1;
  const help = "W3.";
  const em = new Histogram({
    name: "w3_seconds",
    help,
    labelNames: LABEL_NAMES,
    buckets: BUCKETS,
    registry: null,
  });
  const prom = new promClient.Histogram({
    name: "w3_seconds",
    help,
    labelNames: LABEL_NAMES,
    buckets: [...BUCKETS],
    registers: [],
  });
  const promIo = new prometheusIo.Histogram({
    name: "w3_seconds",
    help,
    labelNames: LABEL_NAMES,
    buckets: [...BUCKETS],
    registers: [],
  });
  const otel = otelSetup().meter.createHistogram("w3", {
    advice: { explicitBucketBoundaries: [...BUCKETS] },
  });
  const bounds = Float64Array.from(BUCKETS);
  const stride = histogramStride(bounds);
  const floor = new LabeledFloor(LABEL_NAMES, stride);

  const byLabels = await measure({
    edgemetrics: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        em.observe(sets[j]!, values[i & mask]!);
      }
      return n;
    },
    "prom-client": (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        prom.observe(sets[j]!, values[i & mask]!);
      }
      return n;
    },
    "@prometheus-io/client": (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        promIo.observe(sets[j]!, values[i & mask]!);
      }
      return n;
    },
    OTel: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        otel.record(values[i & mask]!, sets[j]!);
      }
      return n;
    },
    floor: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        const base = floor.indexOf(sets[j]!) * stride;
        observeFloor(floor.data, base, bounds, values[i & mask]!);
      }
      return floor.data[stride - 1]!;
    },
  }, settings.hotPath);

  const promChildren = sets.map((s) => prom.labels(s.method, s.route));
  const promIoChildren = sets.map((s) => promIo.labels(s.method, s.route));
  const bases = Int32Array.from(sets, (s) => floor.indexOf(s) * stride);
  const children = sets.map((s) => em.labels(s.method, s.route));
  const bound = await measure({
    edgemetrics: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        children[j]!.observe(values[i & mask]!);
      }
      return n;
    },
    "prom-client": (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        promChildren[j]!.observe(values[i & mask]!);
      }
      return n;
    },
    "@prometheus-io/client": (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        promIoChildren[j]!.observe(values[i & mask]!);
      }
      return n;
    },
    floor: (n) => {
      const data = floor.data;
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        observeFloor(data, bases[j]!, bounds, values[i & mask]!);
      }
      return data[stride - 1]!;
    },
  }, settings.hotPath);

  return [
    ...timingRows("W3", "observe(labels, v)", byLabels, {}),
    // OTel has no bound instruments: its goal compares against record(v, attrs).
    ...timingRows("W3", "bound child observe(v)", bound, { OTel: NOT_OFFERED }),
  ];
}
