/**
 * One worker's part in cross-worker aggregation: it opens the shared
 * channel and says hello, answers the others' requests with its registry's
 * snapshot, asks them for theirs when it collects, keeps track of who it has
 * heard from, and says goodbye when it closes. The messages themselves are
 * described in `_messages.ts`.
 *
 * @module
 */

import type { Clock } from "../clock.ts";
import type { MetricFamily } from "../model.ts";
import type { CollectFilter } from "../registry.ts";
import {
  type Message,
  type Outgoing,
  packFamilies,
  parseMessage,
  type SnapshotRequest,
  unpackFamilies,
} from "./_messages.ts";
import { Peers } from "./_peers.ts";
import { type Gathered, Gathering } from "./_gathering.ts";
import { globalEvents, openChannel, pairChannel } from "./_channels.ts";

/** How long after opening the channel a collection waits for workers it has not heard of yet. */
const DISCOVERY_MS = 200;

/** What a {@linkcode ChannelMember} works with, checked by its aggregator. */
export interface ChannelMemberSettings {
  /** What this worker answers the others with. */
  registry: {
    collect(filter?: CollectFilter): Promise<readonly MetricFamily[]>;
  };
  /** The shared channel's name. */
  name: string;
  /** How long a collection waits for the others' answers. */
  timeoutMs: number;
  /** How old a last answer may be to stand in for a worker that missed a deadline. */
  staleAfterMs: number;
  /** Times the discovery window and the age of last answers. */
  clock: Clock;
  /** This worker's unique id and readable label, read when first needed. */
  identity: { readonly id: string; readonly worker: string };
  /** Told about every answer left out and every message that cannot be sent; never throws. */
  report: (error: Error) => void;
}

/** This worker on the shared channel: its lifecycle and its side of the protocol. */
export class ChannelMember {
  #registry: ChannelMemberSettings["registry"];
  #name: string;
  #timeoutMs: number;
  #clock: Clock;
  #identity: ChannelMemberSettings["identity"];
  #report: (error: Error) => void;
  #channel: BroadcastChannel | undefined;
  #closed = false;
  #discoveryUntil = 0;
  #sequence = 0;
  #peers: Peers;
  #gatherings = new Map<string, Gathering>();
  #onUnload = (): void => this.close();

  /** Opens nothing: see {@linkcode ChannelMember.start}. */
  constructor(settings: ChannelMemberSettings) {
    this.#registry = settings.registry;
    this.#name = settings.name;
    this.#timeoutMs = settings.timeoutMs;
    this.#clock = settings.clock;
    this.#identity = settings.identity;
    this.#report = settings.report;
    this.#peers = new Peers(settings.staleAfterMs);
  }

  /** Whether it was closed and not started again since. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The ids of the other workers it knows of. */
  peers(): string[] {
    return [...this.#peers.ids()];
  }

  /**
   * Opens the channel and says hello, unless it is open; `false` where the
   * runtime has no `BroadcastChannel`.
   */
  start(): boolean {
    if (this.#channel !== undefined) return true;
    if (typeof BroadcastChannel !== "function") return false;
    this.#channel = this.#open(this.#name);
    this.#closed = false;
    this.#discoveryUntil = this.#clock.monotonic() +
      Math.min(DISCOVERY_MS, this.#timeoutMs);
    globalEvents()?.addEventListener("unload", this.#onUnload);
    this.#post({ kind: "hello", reply: false });
    return true;
  }

  /**
   * Says goodbye, closes the channel and every pair channel, and ends the
   * collections waiting for answers with what they have.
   */
  close(): void {
    this.#closed = true;
    const channel = this.#channel;
    if (channel === undefined) return;
    this.#post({ kind: "bye" });
    this.#channel = undefined;
    channel.close();
    globalEvents()?.removeEventListener("unload", this.#onUnload);
    for (const gathering of [...this.#gatherings.values()]) gathering.finish();
    this.#peers.forgetAll();
  }

  /**
   * Asks the others for their snapshots; resolves when all known answered
   * or on timeout, with the answers (and, for the workers that missed the
   * deadline, their last answer while recent), how many missed, and how
   * many answered in time.
   */
  gather(): Promise<Gathered> {
    const request = `${this.#identity.id}:${++this.#sequence}`;
    const gathering = new Gathering({
      peers: this.#peers,
      clock: this.#clock,
      timeoutMs: this.#timeoutMs,
      discoveryUntil: this.#discoveryUntil,
      onEnd: () => this.#gatherings.delete(request),
    });
    this.#gatherings.set(request, gathering);
    // the workers listed answer on the pair channels it listens on
    this.#post({ kind: "request", request, peers: gathering.expected });
    gathering.check();
    return gathering.result;
  }

  #receive(data: unknown): void {
    const packed = (data as { packed?: unknown } | null)?.packed;
    if (packed instanceof Uint8Array) {
      // checked as any answer once unpacked: bytes that do not unpack leave
      // it without families, so it is ignored like any malformed message
      const unpacked = (families: unknown) =>
        this.#receive({ ...data as object, packed: undefined, families });
      // only the requester unpacks it; to any other worker it is an answer
      // addressed elsewhere, which only makes its sender known
      if ((data as { to?: unknown }).to === this.#identity.id) {
        const from = (data as { from?: unknown }).from as string;
        const known = this.#peers.has(from);
        void unpackFamilies(packed).then((families) => {
          // a worker that said goodbye while its answer unpacked stays gone
          if (known && !this.#peers.has(from)) return;
          unpacked(families);
        });
      } else unpacked([]);
      return;
    }
    const message: Message | undefined = parseMessage(data);
    if (
      message === undefined || message.from === this.#identity.id ||
      this.#channel === undefined // closed: opens no pair channel again
    ) {
      return;
    }
    if (message.kind === "bye") {
      this.#peers.forget(message.from);
      for (const gathering of this.#gatherings.values()) {
        gathering.leave(message.from);
      }
      return;
    }
    this.#peers.meet(
      message.from,
      () =>
        this.#open(pairChannel(this.#name, message.from, this.#identity.id)),
    );
    switch (message.kind) {
      case "hello":
        if (!message.reply) this.#post({ kind: "hello", reply: true });
        return;
      case "request":
        void this.#answer(message);
        return;
      case "snapshot":
        if (message.to !== this.#identity.id) return;
        // Kept even when late: it stands in if the next deadline is missed.
        this.#peers.answered(message, this.#clock.monotonic());
        this.#gatherings.get(message.request)?.accept(message);
        return;
    }
  }

  async #answer(request: SnapshotRequest): Promise<void> {
    let families: readonly MetricFamily[];
    try {
      families = await this.#registry.collect();
    } catch (error) {
      this.#report(
        new Error(
          `Cannot answer worker "${request.worker}": collecting this worker's metrics failed: ${error}`,
        ),
      );
      return;
    }
    // On the pair channel when the requester listens on it (it listed this
    // worker), so no other worker is handed the snapshot; else on the shared one.
    const peer = this.#peers.get(request.from);
    const packed = await packFamilies(families);
    this.#post(
      {
        kind: "snapshot",
        to: request.from,
        request: request.request,
        ...packed === undefined ? { families } : { packed },
      },
      peer !== undefined && request.peers?.includes(this.#identity.id)
        ? peer.outbox ??= this.#open(
          pairChannel(this.#name, this.#identity.id, request.from),
        )
        : this.#channel,
    );
  }

  /** Opens a channel that hands what it receives to `#receive`. */
  #open(name: string): BroadcastChannel {
    return openChannel(name, (data) => this.#receive(data));
  }

  #post(message: Outgoing, channel = this.#channel): void {
    if (channel === undefined) return;
    try {
      channel.postMessage({
        edgemetrics: 1,
        from: this.#identity.id,
        worker: this.#identity.worker,
        ...message,
      });
    } catch (error) {
      this.#report(
        new Error(
          `Cannot send to the other workers: posting a ${message.kind} on channel "${this.#name}" failed: ${error}`,
        ),
      );
    }
  }
}
