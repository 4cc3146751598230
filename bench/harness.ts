/**
 * The timing core: every case of a workload runs in the same process, in
 * interleaved rounds (one batch of each case per round, in a fresh random
 * order every round), so drift in machine load hits every implementation
 * alike and no case always runs right after the same other one.
 * A figure is the median of the per-round batch times.
 *
 * @module
 */

import { random } from "./data.ts";

/**
 * One implementation's loop: performs `n` operations and returns a number
 * derived from the state it touched. The harness consumes that number so the
 * optimiser cannot prove the loop dead and remove it.
 */
export type Batch = (n: number) => number | Promise<number>;

/** How long and how often to measure. */
export interface MeasureOptions {
  /** Timed rounds; each runs one batch of every case. */
  rounds: number;
  /**
   * Untimed running per case first. Time, not rounds: V8 optimises on a
   * background thread, which a loaded machine starves, so optimised code
   * arrives after a wall-clock delay rather than after a number of calls.
   */
  warmupMs: number;
  /** Batch length to aim for: long enough for the timer, short enough to interleave. */
  targetBatchMs: number;
}

/** What one case measured. */
export interface Measurement {
  /** Median time per operation, in nanoseconds. */
  nsPerOp: number;
  /** Time per operation of each timed round, in nanoseconds. */
  samples: number[];
  /** Operations per batch, as calibrated. */
  opsPerBatch: number;
}

let sink = 0;

/**
 * The indices `0…n-1` in a random order drawn from `next`: a fresh order per
 * round, so no case always follows the same one (a rotation would keep every
 * neighbour, and with it whatever one case leaves behind for the next).
 */
export function roundOrder(n: number, next: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Folds a result into a global the report prints, so no result is dead. */
export function consume(value: number): void {
  sink = (sink + value) % 1_000_003;
}

/** The folded results: printed in the JSON so the sink is observably used. */
export function checksum(): number {
  return sink;
}

/** The median of a list of numbers (the mean of the middle two when even). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value at rank `q` (0…1) of a list, by linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

async function timeBatch(batch: Batch, n: number): Promise<number> {
  const start = performance.now();
  let result = batch(n);
  // Awaiting only real promises keeps microtask overhead out of sync batches.
  if (result instanceof Promise) result = await result;
  const elapsed = performance.now() - start;
  consume(result);
  return elapsed;
}

/** Runs a case, untimed, for at least `ms` milliseconds. */
async function warmUp(batch: Batch, ms: number): Promise<void> {
  const end = performance.now() + ms;
  for (let n = 1; performance.now() < end; n = Math.min(n * 2, 1 << 20)) {
    await timeBatch(batch, n);
  }
}

/** Doubles the batch size until one batch takes the target time. */
async function calibrate(batch: Batch, targetMs: number): Promise<number> {
  let n = 1;
  for (;;) {
    const elapsed = await timeBatch(batch, n);
    if (elapsed >= targetMs || n >= 1 << 30) return n;
    n = elapsed < targetMs / 16 ? n * 8 : n * 2;
  }
}

/**
 * Measures every case of one workload, interleaved.
 *
 * @param cases The implementations' loops, by implementation name.
 * @returns Median nanoseconds per operation, by implementation name.
 */
export async function measure(
  cases: Readonly<Record<string, Batch>>,
  options: MeasureOptions,
): Promise<Record<string, Measurement>> {
  const names = Object.keys(cases);
  for (const name of names) await warmUp(cases[name]!, options.warmupMs);
  const sizes: Record<string, number> = {};
  for (const name of names) {
    sizes[name] = await calibrate(cases[name]!, options.targetBatchMs);
  }
  const samples: Record<string, number[]> = {};
  for (const name of names) samples[name] = [];
  const next = random(names.length);
  for (let round = 0; round < options.rounds; round++) {
    for (const k of roundOrder(names.length, next)) {
      const name = names[k]!;
      const n = sizes[name]!;
      const elapsed = await timeBatch(cases[name]!, n);
      samples[name]!.push(elapsed * 1e6 / n);
    }
  }
  const out: Record<string, Measurement> = {};
  for (const name of names) {
    out[name] = {
      nsPerOp: median(samples[name]!),
      samples: samples[name]!,
      opsPerBatch: sizes[name]!,
    };
  }
  return out;
}
