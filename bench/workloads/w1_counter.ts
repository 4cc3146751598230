/**
 * W1: an unlabeled counter's `inc()`, the cheapest record there is.
 *
 * @module
 */

import type { Settings } from "../config.ts";
import { Counter } from "../../mod.ts";
import { counterFloor } from "../floors.ts";
import { measure } from "../harness.ts";
import { otelSetup, promClient, prometheusIo } from "../peers.ts";
import { type Row, timingRows } from "../results.ts";

/** Runs W1. */
export async function w1(settings: Settings): Promise<Row[]> {
  const em = new Counter({ name: "w1_total", help: "W1.", registry: null });
  const prom = new promClient.Counter({
    name: "w1_total",
    help: "W1.",
    registers: [],
  });
  const promIo = new prometheusIo.Counter({
    name: "w1_total",
    help: "W1.",
    registers: [],
  });
  const otel = otelSetup().meter.createCounter("w1");
  const floor = counterFloor();
  // Each case has its own loop so no call site is shared between libraries.
  const measured = await measure({
    edgemetrics: (n) => {
      for (let i = 0; i < n; i++) em.inc();
      return n;
    },
    "prom-client": (n) => {
      for (let i = 0; i < n; i++) prom.inc();
      return n;
    },
    "@prometheus-io/client": (n) => {
      for (let i = 0; i < n; i++) promIo.inc();
      return n;
    },
    OTel: (n) => {
      for (let i = 0; i < n; i++) otel.add(1);
      return n;
    },
    floor: (n) => {
      for (let i = 0; i < n; i++) floor.value++;
      return floor.value;
    },
  }, settings.hotPath);
  return timingRows("W1", "counter.inc()", measured, {});
}
