/**
 * One collection waiting for the other workers' answers: it ends when every
 * worker it expects has answered or left (once the discovery window, in
 * which workers not heard of yet may still say hello, has passed), at its
 * deadline, or when the aggregator closes; then the workers that missed it
 * are counted and their recent last answers stand in for them.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { SnapshotAnswer } from "./_messages.ts";
import type { Peers } from "./_peers.ts";

/** What a collection gathered. */
export interface Gathered {
  /**
   * The answers, and for the workers that missed the deadline their last
   * answer while recent, sorted by worker label.
   */
  answers: SnapshotAnswer[];
  /** How many expected workers did not answer in time. */
  missing: number;
  /** How many answered in time. */
  responding: number;
}

/** Where a gathering's workers, time and limits come from. */
export interface GatheringSettings {
  /** The known workers: the ones expected, and the stand-ins of those that miss. */
  peers: Peers;
  clock: Clock;
  /** How long it waits at most, on a real timer. */
  timeoutMs: number;
  /** Until when (monotonic milliseconds) workers not heard of yet may still join. */
  discoveryUntil: number;
  /** Called once it ends, before its result is made. */
  onEnd: () => void;
}

/** One collection waiting for answers; {@linkcode Gathering.result} settles when it ends. */
export class Gathering {
  /** What it gathered, once it ended. */
  readonly result: Promise<Gathered>;
  #settings: GatheringSettings;
  #expected: Set<string>;
  #answers = new Map<string, SnapshotAnswer>();
  #discovering: boolean;
  #deadline: ReturnType<typeof setTimeout>;
  #discovery: ReturnType<typeof setTimeout> | undefined;
  #resolve!: (gathered: Gathered) => void;

  /** Starts waiting for every known worker, and for `timeoutMs` at most. */
  constructor(settings: GatheringSettings) {
    this.#settings = settings;
    this.#expected = new Set(settings.peers.ids());
    const now = settings.clock.monotonic();
    this.#discovering = now < settings.discoveryUntil;
    this.result = new Promise((resolve) => this.#resolve = resolve);
    this.#deadline = setTimeout(() => this.finish(), settings.timeoutMs);
    this.#discovery = this.#discovering
      ? setTimeout(() => {
        this.#discovering = false;
        this.check();
      }, settings.discoveryUntil - now)
      : undefined;
  }

  /** The ids of the workers it waits for. */
  get expected(): string[] {
    return [...this.#expected];
  }

  /** Takes a worker's answer to this collection. */
  accept(answer: SnapshotAnswer): void {
    this.#answers.set(answer.from, answer);
    this.check();
  }

  /** Stops waiting for a worker that left. */
  leave(peer: string): void {
    this.#expected.delete(peer);
    this.check();
  }

  /** Ends it when the discovery window has passed and every expected worker answered. */
  check(): void {
    if (this.#discovering) return;
    for (const id of this.#expected) if (!this.#answers.has(id)) return;
    this.finish();
  }

  /** Ends it now, with what it has. */
  finish(): void {
    const { peers, clock, onEnd } = this.#settings;
    clearTimeout(this.#deadline);
    clearTimeout(this.#discovery);
    onEnd();
    let missing = 0;
    const merged = [...this.#answers.values()];
    const at = clock.monotonic();
    for (const id of this.#expected) {
      if (this.#answers.has(id)) continue;
      missing++;
      const standIn = peers.missed(id, at);
      if (standIn !== undefined) merged.push(standIn);
    }
    const sorted = merged.sort((a, b) =>
      a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0
    );
    this.#resolve({ answers: sorted, missing, responding: this.#answers.size });
  }
}
