/**
 * Prometheus remote write 1.0: a snapshot as `prometheus.WriteRequest`
 * protobuf messages, hand-written, with no dependency.
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
  type FlatMetadata,
  type FlatSeries,
  flattenSeries,
  type RemoteWriteEncodeOptions,
  sortPairs,
  wholeMs,
} from "./_remote_write.ts";
import { ProtoWriter, WIRE_FIXED64, WIRE_VARINT } from "./_protobuf.ts";
import { writeRemoteHistogram } from "./_native_protobuf.ts";

export type { RemoteWriteEncodeOptions } from "./_remote_write.ts";

/**
 * The `Content-Type` of a remote write 1.0 request body (before snappy
 * compression, which `Content-Encoding: snappy` announces).
 *
 * @example
 * ```ts
 * import { REMOTE_WRITE_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(REMOTE_WRITE_CONTENT_TYPE, "application/x-protobuf");
 * ```
 */
export const REMOTE_WRITE_CONTENT_TYPE = "application/x-protobuf";

/**
 * Encodes a snapshot as remote write 1.0 `WriteRequest` messages, one per
 * batch of at most `maxSeriesPerRequest` series (default 2,000), not yet
 * compressed.
 *
 * Each time series carries the samples a text scrape would give: a
 * counter's `<name>_total`, a gauge's `<name>`, a histogram's cumulative
 * `<name>_bucket` series (one per `le`, ending with `+Inf`), `_sum` and
 * `_count`, a summary's `quantile` series, `_sum` and `_count`. A
 * histogram with native buckets also goes as one native histogram series
 * under its name (`TimeSeries.histograms`: count, sum, schema, zero bucket,
 * spans and delta-encoded counts; a schema finer than 8 written at 8,
 * exactly), as Prometheus sends it; a native-only histogram goes as that
 * series alone. Its labels
 * are complete and sorted by name in byte order, `__name__` among them,
 * with the `job` and `instance` of the options (a series' own `job` or
 * `instance` is kept as `exported_job` / `exported_instance`, as a scrape
 * does); labels with an empty value are left out. `le` and `quantile`
 * values use the canonical form of the text encoders (`le="1.0"`), so
 * pushed and scraped series match. One sample per series at
 * `timestampMs`; a counter's or a histogram bucket's exemplar goes with
 * its series; each request carries the `MetricMetadata` (type, family
 * name, help, unit) of the families it holds series of.
 *
 * A pure function of its arguments. The results are views on one buffer
 * each: compress or send them as they are.
 *
 * @param families The snapshot, e.g. from `Registry#collect()`.
 * @param options Sample timestamp, `job` and `instance`, batch size.
 * @returns One `WriteRequest` per batch; none for an empty snapshot.
 * @throws {RangeError} When `maxSeriesPerRequest` is not a whole number of at least 1.
 *
 * @example A counter as one WriteRequest
 * ```ts
 * import { encodeRemoteWrite } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const [request, ...rest] = encodeRemoteWrite(
 *   [{ type: "counter", name: "jobs", help: "Jobs.", points: [{ labels: {}, value: 3, created: 0 }] }],
 *   { timestampMs: 1_700_000_000_000, job: "import" },
 * );
 * assert.equal(rest.length, 0);
 * assert.equal(request![0], 0x0a); // field 1 (timeseries), wire type 2
 * const text = new TextDecoder().decode(request);
 * assert.ok(text.includes("__name__") && text.includes("jobs_total"));
 * ```
 */
export function encodeRemoteWrite(
  families: readonly MetricFamily[],
  options: RemoteWriteEncodeOptions,
): Uint8Array[] {
  const timestamp = wholeMs(options.timestampMs);
  const series = flattenSeries(families, options);
  const max = options.maxSeriesPerRequest ?? DEFAULT_MAX_SERIES_PER_REQUEST;
  return batches(series, max).map((batch) => writeRequest(batch, timestamp));
}

/**
 * `WriteRequest`: timeseries = 1 (repeated TimeSeries), metadata = 3
 * (repeated MetricMetadata); field 2 is reserved.
 */
function writeRequest(
  batch: readonly FlatSeries[],
  timestamp: number,
): Uint8Array {
  const writer = new ProtoWriter(batch.length * 96 + 256);
  const metadata = [...new Set(batch.map((s) => s.metadata))];
  for (let i = metadata.length - 1; i >= 0; i--) {
    const mark = writer.mark();
    writeMetadata(writer, metadata[i]!);
    writer.endLen(3, mark);
  }
  for (let i = batch.length - 1; i >= 0; i--) {
    const mark = writer.mark();
    writeTimeSeries(writer, batch[i]!, timestamp);
    writer.endLen(1, mark);
  }
  return writer.finish();
}

/**
 * `TimeSeries`: labels = 1 (repeated Label), samples = 2 (repeated Sample),
 * exemplars = 3 (repeated Exemplar), histograms = 4 (repeated Histogram,
 * native; a native series has it instead of a sample).
 */
function writeTimeSeries(
  writer: ProtoWriter,
  series: FlatSeries,
  timestamp: number,
): void {
  if (series.exemplar !== undefined) {
    const mark = writer.mark();
    writeExemplar(writer, series.exemplar);
    writer.endLen(3, mark);
  }
  const { histogram } = series;
  if (histogram?.native !== undefined) {
    const mark = writer.mark();
    writeRemoteHistogram(writer, histogram, histogram.native, timestamp);
    writer.endLen(4, mark);
  } else {
    const sample = writer.mark();
    writeSample(writer, series.value, timestamp);
    writer.endLen(2, sample);
  }
  writeSeriesLabels(writer, series);
}

/**
 * The series' complete sorted labels as repeated `Label` in field 1: its
 * base labels with `__name__` filled in and the extra label (`le`,
 * `quantile`) in its place, written last to first straight from the
 * shared base, with no array made per series.
 */
function writeSeriesLabels(writer: ProtoWriter, series: FlatSeries): void {
  const { base, extraName } = series;
  let pending = extraName !== "";
  for (let i = base.length - 2; i >= 0; i -= 2) {
    const name = base[i]!;
    if (pending && name < extraName) {
      writeLabel(writer, 1, extraName, series.extraValue);
      pending = false;
    }
    // Names sit at even indices; a label value may be "__name__" too.
    writeLabel(
      writer,
      1,
      name,
      name === "__name__" ? series.name : base[i + 1]!,
    );
  }
  if (pending) writeLabel(writer, 1, extraName, series.extraValue);
}

/** One `Label` (name = 1, value = 2) in field `field`. */
function writeLabel(
  writer: ProtoWriter,
  field: number,
  name: string,
  value: string,
): void {
  const mark = writer.mark();
  writer.string(2, value);
  writer.string(1, name);
  writer.endLen(field, mark);
}

/** Repeated `Label` (name = 1, value = 2) in field `field`, in order. */
function writeLabels(
  writer: ProtoWriter,
  field: number,
  labels: readonly string[],
): void {
  for (let i = labels.length - 2; i >= 0; i -= 2) {
    writeLabel(writer, field, labels[i]!, labels[i + 1]!);
  }
}

/** `Sample`: value = 1 (double), timestamp = 2 (int64 ms). */
function writeSample(writer: ProtoWriter, value: number, ms: number): void {
  writer.varint(ms);
  writer.tag(2, WIRE_VARINT);
  writer.double(value);
  writer.tag(1, WIRE_FIXED64);
}

/**
 * `Exemplar`: labels = 1 (repeated Label, sorted), value = 2 (double),
 * timestamp = 3 (int64 ms).
 */
function writeExemplar(writer: ProtoWriter, exemplar: Exemplar): void {
  const timestamp = wholeMs(exemplar.timestamp);
  if (timestamp > 0) {
    writer.varint(timestamp);
    writer.tag(3, WIRE_VARINT);
  }
  writer.double(exemplar.value);
  writer.tag(2, WIRE_FIXED64);
  writeLabels(writer, 1, sortPairs(Object.entries(exemplar.labels)));
}

/**
 * `MetricMetadata`: type = 1 (enum MetricType: 1 COUNTER, 2 GAUGE,
 * 3 HISTOGRAM, 5 SUMMARY), metric_family_name = 2, help = 4, unit = 5.
 */
function writeMetadata(writer: ProtoWriter, metadata: FlatMetadata): void {
  if (metadata.unit !== "") writer.string(5, metadata.unit);
  if (metadata.help !== "") writer.string(4, metadata.help);
  writer.string(2, metadata.family);
  writer.varint(metadata.type);
  writer.tag(1, WIRE_VARINT);
}
