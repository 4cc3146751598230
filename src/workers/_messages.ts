/**
 * The messages workers exchange on the aggregation channel, and the check
 * that a received message has that shape. Anything else posted on the same
 * channel name (by other code, or another version of this module) is
 * ignored, never trusted.
 *
 * Protocol, version 1; every message carries `edgemetrics: 1`, the sender's
 * unique `from` id and its readable `worker` label:
 *
 * - `hello` when a worker opens the channel; every worker that hears a
 *   hello answers with a hello of its own (`reply: true`), so both sides
 *   know each other from then on;
 * - `request` when a worker collects, listing the `peers` it has heard of:
 *   every other worker answers with
 * - `snapshot`, addressed (`to`) to the requester and carrying the request
 *   id and the worker's whole snapshot (filters are functions, which cannot
 *   be cloned, so the requester filters). A listed worker posts it on the
 *   channel named `<shared name>:<its id>:<requester's id>`, which only the
 *   requester listens on; a worker not listed (or asked without `peers`, by
 *   an older version) posts it on the shared channel;
 * - `bye` when a worker closes the channel, so nobody waits for it.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import { isMetricType } from "../names.ts";

/** The part of every message that says who sent it. */
interface Envelope {
  readonly edgemetrics: 1;
  /** The sender's unique id. */
  readonly from: string;
  /** The sender's readable label. */
  readonly worker: string;
}

/** A worker announces itself, or answers another's announcement. */
export interface Hello extends Envelope {
  readonly kind: "hello";
  readonly reply: boolean;
}

/** A worker asks every other worker for its snapshot. */
export interface SnapshotRequest extends Envelope {
  readonly kind: "request";
  readonly request: string;
  /** The ids of the workers that may answer on their pair channel. */
  readonly peers?: readonly string[];
}

/** A worker's answer to one request. */
export interface SnapshotAnswer extends Envelope {
  readonly kind: "snapshot";
  readonly to: string;
  readonly request: string;
  readonly families: readonly MetricFamily[];
}

/** A worker leaves. */
export interface Bye extends Envelope {
  readonly kind: "bye";
}

/** Any message of the protocol. */
export type Message = Hello | SnapshotRequest | SnapshotAnswer | Bye;

/** The message without its envelope, as a sender builds it. */
export type Outgoing =
  | Omit<Hello, keyof Envelope>
  | Omit<SnapshotRequest, keyof Envelope>
  | Omit<SnapshotAnswer, keyof Envelope>
  | Omit<Bye, keyof Envelope>;

const AGGREGATIONS: ReadonlySet<unknown> = /* @__PURE__ */ new Set([
  "sum",
  "max",
  "min",
  "all",
]);

/** Returns `data` as a message when it has the protocol's shape, else `undefined`. */
export function parseMessage(data: unknown): Message | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const message = data as Record<string, unknown>;
  if (
    message.edgemetrics !== 1 || typeof message.from !== "string" ||
    typeof message.worker !== "string"
  ) {
    return undefined;
  }
  switch (message.kind) {
    case "hello":
      return typeof message.reply === "boolean" ? data as Hello : undefined;
    case "request":
      return typeof message.request === "string" &&
          (message.peers === undefined || Array.isArray(message.peers))
        ? data as SnapshotRequest
        : undefined;
    case "snapshot":
      return typeof message.to === "string" &&
          typeof message.request === "string" &&
          Array.isArray(message.families) &&
          message.families.every(isFamily)
        ? data as SnapshotAnswer
        : undefined;
    case "bye":
      return data as Bye;
    default:
      return undefined;
  }
}

/** Enough of a family's shape that merging it cannot throw. */
function isFamily(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const family = value as Record<string, unknown>;
  if (
    typeof family.name !== "string" || typeof family.help !== "string" ||
    !isMetricType(family.type) || !Array.isArray(family.points)
  ) {
    return false;
  }
  if (family.type === "histogram" && !Array.isArray(family.bounds)) {
    return false;
  }
  if (
    family.type === "gauge" && !AGGREGATIONS.has(family.aggregation)
  ) {
    return false;
  }
  return family.points.every((point: unknown) => {
    if (typeof point !== "object" || point === null) return false;
    const { labels, counts, quantiles, exemplars } = point as Record<
      string,
      unknown
    >;
    if (typeof labels !== "object" || labels === null) return false;
    if (family.type === "histogram") {
      return Array.isArray(counts) &&
        (exemplars === undefined || Array.isArray(exemplars));
    }
    return family.type !== "summary" || Array.isArray(quantiles);
  });
}
