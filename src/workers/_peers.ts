/**
 * The other workers an aggregator has heard from: for each, its latest
 * answer (which stands in for it while recent when it misses a deadline),
 * how many collections in a row it missed, and the pair channels the two
 * workers answer each other on.
 *
 * @module
 */

import type { SnapshotAnswer } from "./_messages.ts";

/** A known worker that missed this many collections in a row is forgotten. */
const FORGET_AFTER_MISSES = 3;

/** A worker this one has heard from. */
export interface Peer {
  misses: number;
  /** Its latest answer, and when it arrived: stands in while recent. */
  last: SnapshotAnswer | undefined;
  lastAt: number;
  /** The channel its answers to this worker arrive on (see `pairChannel`). */
  inbox: BroadcastChannel;
  /** The channel this worker answers it on, once it asked. */
  outbox?: BroadcastChannel;
}

/** The known workers, by id, in the order they were first heard from. */
export class Peers {
  #peers = new Map<string, Peer>();
  #staleAfterMs: number;

  /**
   * @param staleAfterMs How old a worker's last answer may be to stand in
   * for it when it misses a deadline.
   */
  constructor(staleAfterMs: number) {
    this.#staleAfterMs = staleAfterMs;
  }

  /** The ids of the known workers. */
  ids(): IterableIterator<string> {
    return this.#peers.keys();
  }

  /** Whether the worker `id` is known. */
  has(id: string): boolean {
    return this.#peers.has(id);
  }

  /** The worker `id`, when known. */
  get(id: string): Peer | undefined {
    return this.#peers.get(id);
  }

  /**
   * Makes the worker `id` known, opening the channel its answers arrive on,
   * unless it is known already.
   */
  meet(id: string, openInbox: () => BroadcastChannel): void {
    if (!this.#peers.has(id)) {
      this.#peers.set(id, {
        misses: 0,
        last: undefined,
        lastAt: 0,
        inbox: openInbox(),
      });
    }
  }

  /**
   * Keeps a known worker's answer, even a late one, received at `at`
   * (monotonic milliseconds): it stands in if the next deadline is missed.
   */
  answered(answer: SnapshotAnswer, at: number): void {
    const sender = this.#peers.get(answer.from)!;
    sender.misses = 0;
    sender.last = answer;
    sender.lastAt = at;
  }

  /**
   * Counts a missed deadline of the worker `id` at `at` (monotonic
   * milliseconds): forgets it after {@linkcode FORGET_AFTER_MISSES} in a
   * row, else returns its last answer while that is recent.
   */
  missed(id: string, at: number): SnapshotAnswer | undefined {
    const peer = this.#peers.get(id);
    if (peer === undefined) return undefined;
    if (++peer.misses >= FORGET_AFTER_MISSES) {
      this.forget(id);
    } else if (
      peer.last !== undefined && at - peer.lastAt <= this.#staleAfterMs
    ) {
      // Leaving it out would make the totals drop for one scrape.
      return peer.last;
    }
    return undefined;
  }

  /** Forgets a worker and closes the channels of the pair. */
  forget(id: string): void {
    const peer = this.#peers.get(id);
    peer?.inbox.close();
    peer?.outbox?.close();
    this.#peers.delete(id);
  }

  /** Forgets every worker. */
  forgetAll(): void {
    for (const id of this.#peers.keys()) this.forget(id);
  }
}
