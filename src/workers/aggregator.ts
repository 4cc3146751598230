/**
 * Cross-worker aggregation over `BroadcastChannel`: any worker that is
 * scraped asks the others for their snapshots and serves the service-wide
 * totals, the edge analogue of a multiprocess mode, with no files.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";
import type { Labels, MetricFamily } from "../model.ts";
import { type CollectFilter, defaultRegistry } from "../registry.ts";
import { warnOnce } from "../_warn.ts";
import { mergeSnapshots, type WorkerSnapshot } from "./merge.ts";
import {
  type Message,
  type Outgoing,
  packFamilies,
  parseMessage,
  type SnapshotAnswer,
  type SnapshotRequest,
  unpackFamilies,
} from "./_messages.ts";

/**
 * Options of a {@linkcode WorkerAggregator}.
 *
 * @example
 * ```ts
 * import { Registry, WorkerAggregator, type WorkerAggregatorOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: WorkerAggregatorOptions = {
 *   registry: new Registry(),
 *   channel: "shop-metrics",
 *   timeoutMs: 500,
 *   worker: "api-1",
 * };
 * assert.equal(new WorkerAggregator(options).worker, "api-1");
 * ```
 */
export interface WorkerAggregatorOptions {
  /** What this worker collects and answers with; the default registry when omitted. */
  registry?: {
    collect(filter?: CollectFilter): Promise<readonly MetricFamily[]>;
  };
  /** The `BroadcastChannel` name the workers share (default `"edgemetrics"`). */
  channel?: string;
  /** How long a collection waits for the other workers' answers (default 1,000 ms). */
  timeoutMs?: number;
  /**
   * This worker's readable label, used as the `worker` label of gauges of
   * aggregation `all`; default: the first 8 characters of its unique id.
   */
  worker?: string;
  /**
   * Told about every answer left out (an unmergeable family, a failed
   * collection, a message that cannot be sent); the default warns once per
   * message with `console.warn`.
   */
  onError?: (error: Error) => void;
  /**
   * The clock that times the discovery window and the age of other
   * workers' snapshots (default: the system clock); answers are still
   * awaited on real timers.
   */
  clock?: Clock;
  /**
   * How old (in milliseconds, default 300,000: Prometheus's staleness
   * lookback) a worker's last answer may be to stand in for it when it
   * misses a collection's deadline, so its counters do not drop out of the
   * totals (which Prometheus would read as a counter reset).
   */
  staleAfterMs?: number;
}

/** A worker this one has heard from. */
interface Peer {
  misses: number;
  /** Its latest answer, and when it arrived: stands in while recent. */
  last: SnapshotAnswer | undefined;
  lastAt: number;
  /** The channel its answers to this worker arrive on (see `#pair`). */
  inbox: BroadcastChannel;
  /** The channel this worker answers it on, once it asked. */
  outbox?: BroadcastChannel;
}

/** One collection waiting for answers. */
interface Gathering {
  accept(answer: SnapshotAnswer): void;
  leave(peer: string): void;
  finish(): void;
}

/** A known worker that missed this many collections in a row is forgotten. */
const FORGET_AFTER_MISSES = 3;
/** How long after opening the channel a collection waits for workers it has not heard of yet. */
const DISCOVERY_MS = 200;
const RESPONDING = "edgemetrics_workers_responding";
const MISSING = "edgemetrics_workers_missing";
const CANNOT_CREATE = "Cannot create worker aggregator";

/**
 * Serves the totals of every worker (isolate, thread) that shares a
 * `BroadcastChannel`, such as the workers of `deno serve --parallel`: pass
 * it to `metricsHandler` in place of a registry, and whichever worker a
 * scrape lands on answers for all of them.
 *
 * `collect()` broadcasts a request, collects the local registry meanwhile,
 * waits until every known worker has answered or `timeoutMs` has passed,
 * and merges the snapshots with {@linkcode mergeSnapshots} (the local one
 * first). A known worker that misses the deadline is merged from its last
 * answer while that is at most `staleAfterMs` old, so service-wide counters
 * do not drop for one scrape (Prometheus would read that as a reset); older
 * than that, it is left out. Two gauges describe the result:
 * `edgemetrics_workers_responding` (workers that answered in time, this one
 * included) and `edgemetrics_workers_missing` (known workers that did not),
 * with the registry's default labels. A scrape never waits longer than
 * `timeoutMs` for the others. A worker that missed three collections in a
 * row is forgotten, with its last answer, until it is heard from again; one
 * snapshot is kept per known worker.
 *
 * Requests, greetings and goodbyes go to every worker on the shared
 * channel; answers do not. Each pair of workers that know each other
 * shares a channel of its own for one's answers to the other (named after
 * the shared channel and both workers' ids), so a scrape hands each
 * snapshot to the requesting worker only: N - 1 snapshots are decoded for
 * N workers, not N * (N - 1) (in Node and Bun the others never see them;
 * Deno, up to 2.9.6 at least, still copies every channel message into
 * every isolate that has a channel open, whatever its name, and skips only
 * the decoding). A worker answers on the shared channel only a request
 * from a worker that has not heard of it yet.
 *
 * Because Deno copies every message into every isolate, what an answer
 * weighs on the wire is what a scrape costs there: with N workers, N - 1
 * answers are each copied N times. So an answer whose snapshot is 16 kB or
 * more as JSON is sent gzipped (`CompressionStream`) where the runtime has
 * it, as bytes that decode to exactly the same snapshot (non-finite
 * numbers, -0 and absent fields included), typically a tenth to a
 * twentieth of the size; smaller ones, and all answers where there is no
 * `CompressionStream`, are sent as they are. Receivers take both forms.
 * Measured in Deno 2.9.6, 4 and 8 isolates of about 6,000 series each: a
 * scrape costs 60-75% less CPU than with uncompressed answers.
 *
 * Every worker that has called {@linkcode WorkerAggregator.start} (or
 * collected once) answers the others' requests with its whole registry, so
 * call `start()` when each worker starts: a worker that has not opened the
 * channel is not heard of and not counted. Nothing happens at construction:
 * no id, channel, timer or listener (Cloudflare Workers forbid them at module
 * scope). Where `BroadcastChannel` does not exist, `collect()` returns the
 * local snapshot only.
 *
 * In Deno an open channel keeps a worker's event loop alive: call `close()`
 * on shutdown. The channel is also closed on the global `unload` event where
 * there is one, but `deno serve` fires it only once the event loop is empty,
 * which an open channel prevents, so there close it on `SIGTERM` (see the
 * example). In Node and Bun the channel is `unref()`ed and never keeps the
 * process alive by itself.
 *
 * @example Two aggregators in one isolate see each other's counts
 * ```ts
 * import { Counter, Registry, WorkerAggregator } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const channel = `doc-aggregator-${crypto.randomUUID()}`;
 * const [a, b] = [new Registry(), new Registry()];
 * new Counter({ name: "jobs_total", help: "Jobs.", registry: a }).inc(2);
 * new Counter({ name: "jobs_total", help: "Jobs.", registry: b }).inc(3);
 * using workerA = new WorkerAggregator({ registry: a, channel, worker: "a" });
 * using workerB = new WorkerAggregator({ registry: b, channel, worker: "b" });
 * workerA.start();
 * workerB.start();
 *
 * const families = await workerA.collect();
 * const jobs = families.find((family) => family.name === "jobs");
 * assert.equal(jobs?.type === "counter" && jobs.points[0]?.value, 5);
 * ```
 *
 * @example `deno serve --parallel` with service-wide totals
 * ```ts ignore
 * import { metricsHandler, WorkerAggregator } from "@edgemetrics/edgemetrics";
 *
 * const workers = new WorkerAggregator();
 * workers.start(); // in Deno, module scope is fine
 * // an open channel keeps the worker alive: close it when deno serve stops
 * Deno.addSignalListener("SIGTERM", () => workers.close());
 * const metrics = metricsHandler(workers);
 * export default {
 *   fetch: (request: Request) =>
 *     new URL(request.url).pathname === "/metrics" ? metrics(request) : new Response("ok"),
 * };
 * ```
 */
export class WorkerAggregator {
  #registry: {
    collect(filter?: CollectFilter): Promise<readonly MetricFamily[]>;
  };
  #name: string;
  #timeoutMs: number;
  #label: string | undefined;
  #onError: (error: Error) => void;
  #clock: Clock;
  #staleAfterMs: number;
  #id: string | undefined;
  #channel: BroadcastChannel | undefined;
  #closed = false;
  #discoveryUntil = 0;
  #sequence = 0;
  #peers = new Map<string, Peer>();
  #gatherings = new Map<string, Gathering>();
  #onUnload = (): void => this.close();

  /**
   * Creates an aggregator; nothing is opened or generated until
   * {@linkcode WorkerAggregator.start} or the first `collect()`.
   *
   * @param options The registry, channel name, timeout and worker label.
   * @throws {TypeError} When `channel` or `worker` is not a non-empty string.
   * @throws {RangeError} When `timeoutMs` is not a positive, finite number,
   * or `staleAfterMs` is below 0.
   */
  constructor(options: WorkerAggregatorOptions = {}) {
    this.#registry = options.registry ?? defaultRegistry;
    this.#name = checkText("channel", options.channel ?? "edgemetrics");
    if (options.worker !== undefined) {
      this.#label = checkText("worker", options.worker);
    }
    const timeoutMs = options.timeoutMs ?? 1000;
    if (
      typeof timeoutMs !== "number" || !(timeoutMs > 0) ||
      !Number.isFinite(timeoutMs)
    ) {
      throw new RangeError(
        `${CANNOT_CREATE}: timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`,
      );
    }
    this.#timeoutMs = timeoutMs;
    this.#onError = options.onError ??
      ((error) => warnOnce(`aggregator:${error.message}`, error.message));
    this.#clock = options.clock ?? systemClock;
    const staleAfterMs = options.staleAfterMs ?? 300_000;
    if (typeof staleAfterMs !== "number" || !(staleAfterMs >= 0)) {
      throw new RangeError(
        `${CANNOT_CREATE}: staleAfterMs must be a number of milliseconds of at least 0, got ${staleAfterMs}`,
      );
    }
    this.#staleAfterMs = staleAfterMs;
  }

  /**
   * This worker's unique id, generated on first use.
   *
   * @example
   * ```ts
   * import { WorkerAggregator } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const workers = new WorkerAggregator();
   * assert.equal(workers.id, workers.id);
   * assert.notEqual(workers.id, new WorkerAggregator().id);
   * ```
   */
  get id(): string {
    return this.#id ??= newId();
  }

  /**
   * This worker's readable label: the `worker` option, or the first 8
   * characters of {@linkcode WorkerAggregator.id}.
   *
   * @example
   * ```ts
   * import { WorkerAggregator } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const workers = new WorkerAggregator();
   * assert.equal(workers.worker, workers.id.slice(0, 8));
   * ```
   */
  get worker(): string {
    return this.#label ??= this.id.slice(0, 8);
  }

  /**
   * The ids of the other workers this one knows of (heard from and not yet
   * gone or forgotten).
   *
   * @example
   * ```ts
   * import { Registry, WorkerAggregator } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const channel = `doc-peers-${crypto.randomUUID()}`;
   * using a = new WorkerAggregator({ registry: new Registry(), channel });
   * using b = new WorkerAggregator({ registry: new Registry(), channel });
   * a.start();
   * b.start();
   * await a.collect(); // the first collection waits until the others said hello
   * assert.deepEqual(a.peers, [b.id]);
   * ```
   */
  get peers(): string[] {
    return [...this.#peers.keys()];
  }

  /**
   * Opens the channel and announces this worker, so it answers the others'
   * collections from now on; `collect()` does it too when needed. Calling it
   * again does nothing; after `close()` it opens the channel again.
   *
   * @returns Whether cross-worker aggregation is available (`false` where
   * the runtime has no `BroadcastChannel`).
   *
   * @example
   * ```ts
   * import { Registry, WorkerAggregator } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * using workers = new WorkerAggregator({ registry: new Registry(), channel: `doc-start-${crypto.randomUUID()}` });
   * assert.equal(workers.start(), true);
   * ```
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
   * Collects the service-wide snapshot: this worker's families merged with
   * every other worker's that answers within `timeoutMs`, plus the
   * `edgemetrics_workers_responding` and `edgemetrics_workers_missing`
   * gauges. Never throws for what other workers send; unmergeable parts are
   * left out and reported to `onError`. After `close()` (or without
   * `BroadcastChannel`) it returns the local snapshot only.
   *
   * @param filter Which families to include, by name and kind; all when omitted.
   * @returns The merged snapshot.
   *
   * @example
   * ```ts
   * import { Counter, Registry, WorkerAggregator } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const registry = new Registry();
   * new Counter({ name: "alone_total", help: "Alone.", registry }).inc();
   * using workers = new WorkerAggregator({ registry, channel: `doc-collect-${crypto.randomUUID()}` });
   * const families = await workers.collect((_name, type) => type === "counter");
   * assert.deepEqual(families.map((family) => family.name), ["alone"]);
   * ```
   */
  async collect(filter?: CollectFilter): Promise<MetricFamily[]> {
    if (this.#closed || !this.start()) {
      return [...await this.#registry.collect(filter)];
    }
    const [local, { answers, missing, responding }] = await Promise.all([
      this.#registry.collect(filter),
      this.#gather(),
    ]);
    const snapshots: WorkerSnapshot[] = [{
      worker: this.worker,
      families: local,
    }];
    const labels = new Set([this.worker]);
    for (const answer of answers) {
      // labels must be distinct, or gauges of aggregation "all" would clash
      let label = answer.worker;
      if (labels.has(label)) label = `${answer.worker}-${answer.from}`;
      for (let n = 2; labels.has(label); n++) label = `${answer.worker}-${n}`;
      labels.add(label);
      snapshots.push({
        worker: label,
        families: filter === undefined
          ? answer.families
          : answer.families.filter((family) =>
            filter(family.name, family.type)
          ),
      });
    }
    const { families, conflicts } = mergeSnapshots(snapshots);
    for (const conflict of conflicts) this.#report(new Error(conflict.message));
    // like the registry's own families, these carry its default labels
    const defaults = (this.#registry as { defaultLabels?: Labels })
      .defaultLabels ?? {};
    const gauge = (name: string, help: string, value: number) => {
      if (filter !== undefined && !filter(name, "gauge")) return;
      families.push({
        type: "gauge",
        name,
        help,
        aggregation: "max",
        points: [{ labels: { ...defaults }, value }],
      });
    };
    gauge(
      RESPONDING,
      "Workers that answered this scrape in time, the one answering included.",
      1 + responding,
    );
    gauge(
      MISSING,
      "Known workers that did not answer in time; their last answer stands in while recent, else their metrics are left out.",
      missing,
    );
    return families;
  }

  /**
   * Says goodbye to the other workers and closes the channel, so it no
   * longer keeps the event loop alive; collections waiting for answers
   * finish at once with what they have. `collect()` then serves the local
   * snapshot only, until `start()` is called again.
   *
   * @example
   * ```ts
   * import { Registry, WorkerAggregator } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * const workers = new WorkerAggregator({ registry: new Registry(), channel: `doc-close-${crypto.randomUUID()}` });
   * workers.start();
   * workers.close();
   * assert.deepEqual(await workers.collect(), []);
   * ```
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
    for (const id of this.#peers.keys()) this.#forget(id);
  }

  /**
   * Closes the channel, for `using`.
   *
   * @example
   * ```ts
   * import { Registry, WorkerAggregator } from "@edgemetrics/edgemetrics";
   * import assert from "node:assert/strict";
   *
   * {
   *   using workers = new WorkerAggregator({ registry: new Registry(), channel: `doc-using-${crypto.randomUUID()}` });
   *   assert.equal(workers.start(), true);
   * } // closed here
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Asks the others for their snapshots; resolves when all known answered
   * or on timeout, with the answers (and, for the workers that missed the
   * deadline, their last answer while recent), how many missed, and how
   * many answered in time.
   */
  #gather(): Promise<
    { answers: SnapshotAnswer[]; missing: number; responding: number }
  > {
    const request = `${this.id}:${++this.#sequence}`;
    const expected = new Set(this.#peers.keys());
    const answers = new Map<string, SnapshotAnswer>();
    const now = this.#clock.monotonic();
    let discovering = now < this.#discoveryUntil;
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(deadline);
        clearTimeout(discovery);
        this.#gatherings.delete(request);
        let missing = 0;
        const merged = [...answers.values()];
        const at = this.#clock.monotonic();
        for (const id of expected) {
          if (answers.has(id)) continue;
          missing++;
          const peer = this.#peers.get(id);
          if (peer === undefined) continue;
          if (++peer.misses >= FORGET_AFTER_MISSES) {
            this.#forget(id);
          } else if (
            peer.last !== undefined && at - peer.lastAt <= this.#staleAfterMs
          ) {
            // Leaving it out would make the totals drop for one scrape.
            merged.push(peer.last);
          }
        }
        const sorted = merged.sort((a, b) =>
          a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0
        );
        resolve({ answers: sorted, missing, responding: answers.size });
      };
      const check = () => {
        if (discovering) return;
        for (const id of expected) if (!answers.has(id)) return;
        finish();
      };
      const deadline = setTimeout(finish, this.#timeoutMs);
      const discovery = discovering
        ? setTimeout(() => {
          discovering = false;
          check();
        }, this.#discoveryUntil - now)
        : undefined;
      this.#gatherings.set(request, {
        accept: (answer) => {
          answers.set(answer.from, answer);
          check();
        },
        leave: (peer) => {
          expected.delete(peer);
          check();
        },
        finish,
      });
      // the workers listed answer on the pair channels it listens on
      this.#post({ kind: "request", request, peers: [...expected] });
      check();
    });
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
      if ((data as { to?: unknown }).to === this.id) {
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
      message === undefined || message.from === this.id ||
      this.#channel === undefined // closed: opens no pair channel again
    ) {
      return;
    }
    if (message.kind === "bye") {
      this.#forget(message.from);
      for (const gathering of this.#gatherings.values()) {
        gathering.leave(message.from);
      }
      return;
    }
    if (!this.#peers.has(message.from)) {
      this.#peers.set(message.from, {
        misses: 0,
        last: undefined,
        lastAt: 0,
        inbox: this.#open(this.#pair(message.from, this.id)),
      });
    }
    switch (message.kind) {
      case "hello":
        if (!message.reply) this.#post({ kind: "hello", reply: true });
        return;
      case "request":
        void this.#answer(message);
        return;
      case "snapshot":
        if (message.to !== this.id) return;
        {
          // Kept even when late: it stands in if the next deadline is missed.
          const sender = this.#peers.get(message.from)!;
          sender.misses = 0;
          sender.last = message;
          sender.lastAt = this.#clock.monotonic();
        }
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
      peer !== undefined && request.peers?.includes(this.id)
        ? peer.outbox ??= this.#open(this.#pair(this.id, request.from))
        : this.#channel,
    );
  }

  /** Opens a channel that hands what it receives to `#receive`. */
  #open(name: string): BroadcastChannel {
    const channel = new BroadcastChannel(name);
    channel.onmessage = (event: MessageEvent) => this.#receive(event.data);
    // Node and Bun let a channel stop keeping the process alive; Deno cannot.
    (channel as { unref?: () => void }).unref?.();
    return channel;
  }

  /**
   * The name of the channel that `answerer`'s answers to `requester` take:
   * only `requester` listens on it and only `answerer` posts on it. A
   * channel opened just to post once and closed at once would do in Deno
   * 2.8.2+, Node and Bun, but Deno 2.6 to 2.8.1 drop a message posted to
   * other isolates right before `close()`.
   */
  #pair(answerer: string, requester: string): string {
    return `${this.#name}:${answerer}:${requester}`;
  }

  /** Forgets a worker and closes the channels of the pair. */
  #forget(id: string): void {
    const peer = this.#peers.get(id);
    peer?.inbox.close();
    peer?.outbox?.close();
    this.#peers.delete(id);
  }

  #post(message: Outgoing, channel = this.#channel): void {
    if (channel === undefined) return;
    try {
      channel.postMessage({
        edgemetrics: 1,
        from: this.id,
        worker: this.worker,
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

  #report(error: Error): void {
    try {
      this.#onError(error);
    } catch { /* a failing reporter must not break the scrape */ }
  }
}

function checkText(option: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `${CANNOT_CREATE}: ${option} must be a non-empty string, got ${
        JSON.stringify(value)
      }`,
    );
  }
  return value;
}

/** The global scope's event target, where the runtime has one. */
function globalEvents(): EventTarget | undefined {
  const scope = globalThis as Partial<EventTarget>;
  return typeof scope.addEventListener === "function" &&
      typeof scope.removeEventListener === "function"
    ? scope as EventTarget
    : undefined;
}

/** A unique id: `crypto.randomUUID()` where it exists (it needs a secure context in browsers). */
function newId(): string {
  const random = globalThis.crypto;
  if (typeof random?.randomUUID === "function") return random.randomUUID();
  const bytes = new Uint8Array(16);
  random.getRandomValues(bytes);
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
