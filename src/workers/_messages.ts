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
 * A snapshot of at least {@linkcode PACK_MIN_CHARS} characters of JSON is
 * sent as `packed` bytes instead of `families` where `CompressionStream`
 * exists: the gzip of an exact JSON form (see {@linkcode packFamilies}).
 * Deno copies every channel message into every isolate that has any
 * channel open, so the bytes on the wire, not only who decodes them, are
 * what a scrape costs there. A receiver unpacks `packed` into `families`
 * and then checks the message as any other; bytes that do not unpack leave
 * it without families, so it is ignored like any malformed message.
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import { isMetricType } from "../names.ts";
import { canGzip, gzip } from "../_gzip.ts";
import { parseExactJson, stringifyExactJson } from "../_exact_json.ts";

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

/** A snapshot answer as sent when it is packed: `packed` in place of `families`. */
export interface PackedAnswer extends Omit<SnapshotAnswer, "families"> {
  readonly packed: Uint8Array;
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
  | Omit<PackedAnswer, keyof Envelope>
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
export function isFamily(value: unknown): boolean {
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
    const { labels, counts, quantiles, exemplars, native } = point as Record<
      string,
      unknown
    >;
    if (typeof labels !== "object" || labels === null) return false;
    if (family.type === "histogram") {
      return Array.isArray(counts) &&
        (exemplars === undefined || Array.isArray(exemplars)) &&
        (native === undefined || isNative(native));
    }
    return family.type !== "summary" || Array.isArray(quantiles);
  });
}

/** Whether a value has the shape of a point's native buckets. */
function isNative(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const native = value as Record<string, unknown>;
  const buckets = (b: unknown) =>
    typeof b === "object" && b !== null &&
    Number.isInteger((b as Record<string, unknown>).offset) &&
    Array.isArray((b as Record<string, unknown>).counts);
  return Number.isInteger(native.schema) &&
    typeof native.zeroThreshold === "number" &&
    typeof native.zeroCount === "number" &&
    buckets(native.positive) && buckets(native.negative);
}

/**
 * Snapshots whose JSON is shorter are sent as they are. Packing and
 * unpacking cost about 1 ms each however small the snapshot (the streams),
 * and Deno spends about 35 ns per byte per isolate on a message, so with a
 * few isolates gzip starts to pay at around 16 kB (measured in Deno 2.9.6).
 */
export const PACK_MIN_CHARS = 16_384;

/**
 * `families` as gzipped JSON that {@linkcode unpackFamilies} turns back into
 * exactly the same values (non-finite numbers, -0, `undefined` properties and
 * strings that start with the tag are written as tagged strings); `undefined`
 * where `CompressionStream` does not exist or the JSON is shorter than
 * {@linkcode PACK_MIN_CHARS}, so the snapshot is better sent as it is.
 */
export async function packFamilies(
  families: readonly MetricFamily[],
): Promise<Uint8Array | undefined> {
  if (!canGzip()) return undefined;
  const json = stringifyExactJson(families);
  if (json.length < PACK_MIN_CHARS) return undefined;
  return await gzip(json);
}

/**
 * The families that {@linkcode packFamilies} packed, unchecked (the message
 * check follows); `undefined` when the bytes are not gzipped JSON.
 */
export async function unpackFamilies(bytes: Uint8Array): Promise<unknown> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return parseExactJson(await new Response(stream).text());
  } catch {
    return undefined;
  }
}
