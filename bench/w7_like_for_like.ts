/**
 * W7 checked side by side outside the harness: a native histogram's
 * `observe(v)` against a classic one's (12 buckets) and the OTel SDK's
 * exponential `record(v)`, on log-normal latencies (median 50 ms, most
 * between 5 ms and 500 ms, a tail either side) rather than W7's log-uniform
 * ones, timed by this script's own loop.
 *
 *     deno run -A bench/w7_like_for_like.ts [--rounds=41]
 *
 * One instrument of each kind, each bound to its one series, fed the same
 * values in the same order, each through a call site of the same shape, in
 * three shapes a user's code takes:
 *
 * - `own loop`: a loop per instrument, each call site seeing one class
 *   (what W7 measures): V8 inlines `observe` into it.
 * - `shared loop`: one function looping over whichever child it is given,
 *   so its call site sees both bound-child classes (and V8 inlines neither).
 * - `handler`: a request handler per instrument that observes one latency
 *   per call, called by one server loop (the call site of an app: V8
 *   inlines `observe` into the handler, not the handler into the loop).
 *
 * Rounds interleave the cases in a fresh random order each time; a figure
 * is the median over the rounds of the nanoseconds per observation, and a
 * ratio is taken from those medians, all in the same run.
 *
 * @module
 */

import { BUCKETS, random } from "./data.ts";
import { Histogram, type HistogramChild } from "../mod.ts";
import { otelExponential } from "./workloads/w7_native_histogram.ts";

/** Anything that records one value. */
interface Recorder {
  observe(value: number): void;
}

const rounds = Number(
  Deno.args.find((arg) => arg.startsWith("--rounds="))?.slice(9) ?? 41,
);

/** `count` log-normal latencies in seconds around 50 ms (sigma 1), seeded. */
function logNormalLatencies(count: number): Float64Array {
  const next = random(2024);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u = Math.max(next(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    out[i] = 0.05 * Math.exp(z);
  }
  return out;
}

const VALUES = 4096;
const mask = VALUES - 1;
const values = logNormalLatencies(VALUES);

const classic: HistogramChild = new Histogram({
  name: "lfl_classic_seconds",
  help: "Classic.",
  buckets: BUCKETS,
  registry: null,
}).labels();
const native: HistogramChild = new Histogram({
  name: "lfl_native_seconds",
  help: "Native.",
  native: true,
  registry: null,
}).labels();

const otelHistogram = otelExponential("lfl");
const otel: Recorder = { observe: (value) => otelHistogram.record(value) };

// Own loops: one function per instrument, written the same way.
function ownClassic(n: number): void {
  for (let i = 0; i < n; i++) classic.observe(values[i & mask]!);
}
function ownNative(n: number): void {
  for (let i = 0; i < n; i++) native.observe(values[i & mask]!);
}
function ownOtel(n: number): void {
  for (let i = 0; i < n; i++) otelHistogram.record(values[i & mask]!);
}

// One loop for every instrument.
function shared(recorder: Recorder, n: number): void {
  for (let i = 0; i < n; i++) recorder.observe(values[i & mask]!);
}

// A request handler per instrument, each its own function (as in an app,
// where each route's code has its own call site), called by one server
// loop that does not inline them.
const handlers = {
  classic: (i: number): void => {
    const latency = values[i & mask]!;
    classic.observe(latency);
  },
  native: (i: number): void => {
    const latency = values[i & mask]!;
    native.observe(latency);
  },
  otel: (i: number): void => {
    const latency = values[i & mask]!;
    otelHistogram.record(latency);
  },
};
function serve(handle: (i: number) => void, n: number): void {
  for (let i = 0; i < n; i++) handle(i);
}

type Case = [shape: string, kind: string, run: (n: number) => void];
const cases: Case[] = [
  ["own loop", "classic", ownClassic],
  ["own loop", "native", ownNative],
  ["own loop", "OTel", ownOtel],
  ["shared loop", "classic", (n) => shared(classic, n)],
  ["shared loop", "native", (n) => shared(native, n)],
  ["shared loop", "OTel", (n) => shared(otel, n)],
  ["handler", "classic", (n) => serve(handlers.classic, n)],
  ["handler", "native", (n) => serve(handlers.native, n)],
  ["handler", "OTel", (n) => serve(handlers.otel, n)],
];

/** Calls per batch: about 5 ms of the slowest case on this machine. */
const BATCH = 50_000;
const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
const order = random(7);
for (let round = -5; round < rounds; round++) {
  const shuffled = [...cases];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(order() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  for (const c of shuffled) {
    const start = performance.now();
    c[2](BATCH);
    const ns = (performance.now() - start) * 1e6 / BATCH;
    if (round >= 0) samples.get(c)!.push(ns); // rounds below 0 warm up
  }
}

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}
const figure = (shape: string, kind: string) =>
  median(samples.get(cases.find((c) => c[0] === shape && c[1] === kind)!)!);

console.log(
  `| shape | classic ns | native ns | native ÷ classic | OTel ns | OTel ÷ native |`,
);
console.log(`|---|--:|--:|--:|--:|--:|`);
for (const shape of ["own loop", "shared loop", "handler"]) {
  const c = figure(shape, "classic");
  const n = figure(shape, "native");
  const o = figure(shape, "OTel");
  console.log(
    `| ${shape} | ${c.toFixed(1)} | ${n.toFixed(1)} | ${
      (n / c).toFixed(2)
    }× | ${o.toFixed(0)} | ${(o / n).toFixed(1)}× |`,
  );
}
console.log(
  `\n${rounds} rounds of ${BATCH} calls per case, interleaved; medians.`,
);
