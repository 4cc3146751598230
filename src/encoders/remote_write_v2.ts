/**
 * Prometheus remote write 2.0: a snapshot as `io.prometheus.write.v2.Request`
 * protobuf messages, hand-written, with no dependency.
 *
 * Every string (label names and values, help, unit) goes once into the
 * request's symbol table and is referenced by index; the table starts with
 * the empty string, so index 0 stands for "none". Metadata and created
 * timestamps travel inline with each series.
 *
 * The writer fills its buffer back to front (see `_protobuf.ts`), so every
 * message below writes its fields in descending field-number order and its
 * repeated fields last element first; the bytes come out in ascending order.
 *
 * @module
 */

import type { Exemplar, MetricFamily } from "../model.ts";
import {
  batches,
  DEFAULT_MAX_SERIES_PER_REQUEST,
  type FlatSeries,
  flattenSeries,
  labelsOf,
  type RemoteWriteEncodeOptions,
  sortPairs,
  wholeMs,
} from "./_remote_write.ts";
import { ProtoWriter, WIRE_FIXED64, WIRE_VARINT } from "./_protobuf.ts";
import { writeRemoteHistogram } from "./_native_protobuf.ts";

/**
 * The `Content-Type` of a remote write 2.0 request body (before snappy
 * compression).
 *
 * @example
 * ```ts
 * import { REMOTE_WRITE_V2_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   REMOTE_WRITE_V2_CONTENT_TYPE,
 *   "application/x-protobuf;proto=io.prometheus.write.v2.Request",
 * );
 * ```
 */
export const REMOTE_WRITE_V2_CONTENT_TYPE =
  "application/x-protobuf;proto=io.prometheus.write.v2.Request";

/**
 * Encodes a snapshot as remote write 2.0 `io.prometheus.write.v2.Request`
 * messages, one per batch of at most `maxSeriesPerRequest` series (default
 * 2,000), not yet compressed.
 *
 * The series are the ones {@linkcode encodeRemoteWrite} sends, with the
 * same sorted labels (`job`, `instance`, `__name__` included), written as
 * pairs of references into the request's `symbols`, which start with `""`
 * and hold each string once, in order of first use. Each series carries
 * its metadata inline (type, help and unit references; 0 when empty), its
 * created timestamp when the family has one (counters, histograms,
 * summaries), one sample at `timestampMs`, and its exemplar. Histograms go
 * as classic `_bucket`/`_sum`/`_count` series, and those with native
 * buckets also as one native histogram series (`TimeSeries.histograms`);
 * native-only ones as that series alone.
 *
 * A pure function of its arguments.
 *
 * @param families The snapshot, e.g. from `Registry#collect()`.
 * @param options Sample timestamp, `job` and `instance`, batch size.
 * @returns One `Request` per batch; none for an empty snapshot.
 * @throws {RangeError} When `maxSeriesPerRequest` is not a whole number of at least 1.
 *
 * @example A gauge as one 2.0 Request
 * ```ts
 * import { encodeRemoteWriteV2 } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const [request] = encodeRemoteWriteV2(
 *   [{ type: "gauge", name: "queue_depth", help: "Jobs waiting.", aggregation: "sum", points: [{ labels: {}, value: 7 }] }],
 *   { timestampMs: 1_700_000_000_000 },
 * );
 * // field 4 (symbols), wire type 2, then the empty first symbol
 * assert.deepEqual([...request!.subarray(0, 2)], [0x22, 0x00]);
 * ```
 */
export function encodeRemoteWriteV2(
  families: readonly MetricFamily[],
  options: RemoteWriteEncodeOptions,
): Uint8Array[] {
  const timestamp = wholeMs(options.timestampMs);
  const series = flattenSeries(families, options);
  const max = options.maxSeriesPerRequest ?? DEFAULT_MAX_SERIES_PER_REQUEST;
  return batches(series, max).map((batch) => writeRequest(batch, timestamp));
}

/** The symbol table of one request: each string once, `""` first. */
class Symbols {
  readonly list: string[] = [""];
  #index = new Map<string, number>([["", 0]]);

  ref(value: string): number {
    let ref = this.#index.get(value);
    if (ref === undefined) {
      ref = this.list.length;
      this.list.push(value);
      this.#index.set(value, ref);
    }
    return ref;
  }

  refs(labels: readonly string[]): number[] {
    return labels.map((value) => this.ref(value));
  }
}

/** A series with its strings replaced by symbol references. */
interface Referenced {
  readonly series: FlatSeries;
  readonly labels: readonly number[];
  readonly exemplar: readonly number[] | undefined;
  readonly help: number;
  readonly unit: number;
}

/** `Request`: symbols = 4 (repeated string), timeseries = 5; 1-3 reserved. */
function writeRequest(
  batch: readonly FlatSeries[],
  timestamp: number,
): Uint8Array {
  // References first, in order, so symbols are numbered by first use.
  const symbols = new Symbols();
  const scratch: string[] = [];
  const referenced: Referenced[] = batch.map((series) => ({
    series,
    labels: symbols.refs(labelsOf(series, scratch)),
    exemplar: series.exemplar === undefined
      ? undefined
      : symbols.refs(sortPairs(Object.entries(series.exemplar.labels))),
    help: symbols.ref(series.metadata.help),
    unit: symbols.ref(series.metadata.unit),
  }));
  const writer = new ProtoWriter(batch.length * 48 + 256);
  for (let i = referenced.length - 1; i >= 0; i--) {
    const mark = writer.mark();
    writeTimeSeries(writer, referenced[i]!, timestamp);
    writer.endLen(5, mark);
  }
  for (let i = symbols.list.length - 1; i >= 0; i--) {
    writer.string(4, symbols.list[i]!);
  }
  return writer.finish();
}

/**
 * `TimeSeries`: labels_refs = 1 (packed uint32), samples = 2, histograms = 3
 * (native; a native series has it instead of a sample), exemplars = 4,
 * metadata = 5, created_timestamp = 6 (int64 ms, 0 meaning unset).
 */
function writeTimeSeries(
  writer: ProtoWriter,
  item: Referenced,
  timestamp: number,
): void {
  const { series } = item;
  const created = wholeMs(series.created);
  if (created > 0) {
    writer.varint(created);
    writer.tag(6, WIRE_VARINT);
  }
  const metadata = writer.mark();
  writeMetadata(writer, series.metadata.type, item.help, item.unit);
  writer.endLen(5, metadata);
  if (series.exemplar !== undefined) {
    const mark = writer.mark();
    writeExemplar(writer, series.exemplar, item.exemplar ?? []);
    writer.endLen(4, mark);
  }
  const { histogram } = series;
  if (histogram?.native !== undefined) {
    const mark = writer.mark();
    writeRemoteHistogram(writer, histogram, histogram.native, timestamp);
    writer.endLen(3, mark);
  } else {
    const sample = writer.mark();
    // Sample: value = 1 (double), timestamp = 2 (int64 ms)
    writer.varint(timestamp);
    writer.tag(2, WIRE_VARINT);
    writer.double(series.value);
    writer.tag(1, WIRE_FIXED64);
    writer.endLen(2, sample);
  }
  writeRefs(writer, 1, item.labels);
}

/** A packed repeated uint32 field (omitted when empty). */
function writeRefs(
  writer: ProtoWriter,
  field: number,
  refs: readonly number[],
): void {
  if (refs.length === 0) return;
  const mark = writer.mark();
  for (let i = refs.length - 1; i >= 0; i--) writer.varint(refs[i]!);
  writer.endLen(field, mark);
}

/**
 * `Exemplar`: labels_refs = 1 (packed uint32), value = 2 (double),
 * timestamp = 3 (int64 ms).
 */
function writeExemplar(
  writer: ProtoWriter,
  exemplar: Exemplar,
  refs: readonly number[],
): void {
  const timestamp = wholeMs(exemplar.timestamp);
  if (timestamp > 0) {
    writer.varint(timestamp);
    writer.tag(3, WIRE_VARINT);
  }
  writer.double(exemplar.value);
  writer.tag(2, WIRE_FIXED64);
  writeRefs(writer, 1, refs);
}

/**
 * `Metadata`: type = 1 (enum MetricType: 1 COUNTER, 2 GAUGE, 3 HISTOGRAM,
 * 5 SUMMARY), help_ref = 3, unit_ref = 4 (uint32; 0, the empty symbol,
 * is left out as proto3 does).
 */
function writeMetadata(
  writer: ProtoWriter,
  type: number,
  help: number,
  unit: number,
): void {
  if (unit !== 0) {
    writer.varint(unit);
    writer.tag(4, WIRE_VARINT);
  }
  if (help !== 0) {
    writer.varint(help);
    writer.tag(3, WIRE_VARINT);
  }
  writer.varint(type);
  writer.tag(1, WIRE_VARINT);
}
