/**
 * W2: a counter with 3 labels and 1,200 label sets cycled, recorded by label
 * object and through a bound child.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import { labelSets, METHODS, routes, shuffle, statuses } from "../data.ts";
import { Counter } from "../../mod.ts";
import { LabeledFloor } from "../floors.ts";
import { measure } from "../harness.ts";
import { otelSetup, promClient, prometheusIo } from "../peers.ts";
import { NOT_OFFERED, type Row, timingRows } from "../results.ts";

const LABEL_NAMES = ["method", "route", "status"] as const;

/** Runs W2. */
export async function w2(settings: Settings): Promise<Row[]> {
  const sets = shuffle(
    labelSets({ method: METHODS, route: routes(30), status: statuses(10) }),
    2,
  );
  const values = sets.map((s) => [s.method, s.route, s.status] as const);
  const help = "W2.";
  const em = new Counter({
    name: "w2_total",
    help,
    labelNames: LABEL_NAMES,
    registry: null,
  });
  const prom = new promClient.Counter({
    name: "w2_total",
    help,
    labelNames: LABEL_NAMES,
    registers: [],
  });
  const promIo = new prometheusIo.Counter({
    name: "w2_total",
    help,
    labelNames: LABEL_NAMES,
    registers: [],
  });
  const otel = otelSetup().meter.createCounter("w2");
  const floor = new LabeledFloor(LABEL_NAMES, 1);
  const m = sets.length;

  const byLabels = await measure({
    edgemetrics: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        em.inc(sets[j]!);
      }
      return n;
    },
    "prom-client": (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        prom.inc(sets[j]!);
      }
      return n;
    },
    "@prometheus-io/client": (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        promIo.inc(sets[j]!);
      }
      return n;
    },
    OTel: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        otel.add(1, sets[j]!);
      }
      return n;
    },
    floor: (n) => {
      const data = floor.data;
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        data[floor.indexOf(sets[j]!)]! += 1;
      }
      return data[0]!;
    },
  }, settings.hotPath);

  const emChildren = values.map((v) => em.labels(...v));
  const promChildren = values.map((v) => prom.labels(...v));
  const promIoChildren = values.map((v) => promIo.labels(...v));
  // A bound floor series is its slot number: what a child holds at best.
  const slots = Int32Array.from(sets, (s) => floor.indexOf(s));
  const bound = await measure({
    edgemetrics: (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        emChildren[j]!.inc();
      }
      return n;
    },
    "prom-client": (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        promChildren[j]!.inc();
      }
      return n;
    },
    "@prometheus-io/client": (n) => {
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        promIoChildren[j]!.inc();
      }
      return n;
    },
    floor: (n) => {
      const data = floor.data;
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) {
        data[slots[j]!]! += 1;
      }
      return data[0]!;
    },
  }, settings.hotPath);

  return [
    ...timingRows("W2", "inc(labels)", byLabels, {}),
    ...timingRows("W2", "bound child inc()", bound, { OTel: NOT_OFFERED }),
  ];
}
