/**
 * Test helper: decodes remote write 1.0 and 2.0 requests with an
 * INDEPENDENT decoder, protobufjs (installed by `.ci/setup` from
 * `.ci/peers.json`), and snappy bodies with snappyjs.
 *
 * The 1.0 schema is `prom.proto` as the npm package
 * `prometheus-remote-write@0.5.1` ships it: the `prometheus.WriteRequest`,
 * `TimeSeries`, `Label`, `Sample`, `Exemplar` and `MetricMetadata`
 * messages of Prometheus' `prompb/types.proto` and `prompb/remote.proto`.
 * That file predates native histograms, so the loader below adds them from
 * `prompb/types.proto` (`HISTOGRAM` below, with its field numbers and
 * types): `TimeSeries.histograms = 4`, `Histogram` and `BucketSpan`.
 *
 * No npm package ships the 2.0 schema, so `PROTO_V2` below is written here
 * from the messages the 2.0 specification publishes
 * (prometheus.io/docs/specs/remote_write_spec_2_0, i.e.
 * `prompb/io/prometheus/write/v2/types.proto`), with the same field numbers
 * and types, leaving out only the gogo options; its `Histogram` and
 * `BucketSpan` are the 1.0 messages (the spec reuses their fields).
 *
 * @module
 */

import { requirePeer, TOOLS_MODULES } from "./_npm.ts";

/** The 1.0 schema as an npm package ships it. */
const PROTO_V1_FILE = `${TOOLS_MODULES}prometheus-remote-write/prom.proto`;

/**
 * `Histogram` and `BucketSpan` as prompb `types.proto` defines them (1.0's
 * `prometheus.Histogram`; 2.0's has the same fields), written in the
 * package of the file that includes it.
 */
const HISTOGRAM = `
message Histogram {
  enum ResetHint { UNKNOWN = 0; YES = 1; NO = 2; GAUGE = 3; }
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  repeated double positive_counts = 13;
  ResetHint reset_hint = 14;
  int64 timestamp = 15;
}
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
`;

/** The npm package's 1.0 schema with `TimeSeries.histograms = 4` and {@linkcode HISTOGRAM} added. */
function protoV1(): string {
  const source = Deno.readTextFileSync(PROTO_V1_FILE);
  const exemplars = "repeated Exemplar exemplars = 3 [(nullable) = false];";
  if (!source.includes(exemplars)) {
    throw new Error(`${PROTO_V1_FILE} changed: no TimeSeries.exemplars line`);
  }
  return source.replace(
    exemplars,
    `${exemplars}\n    repeated Histogram histograms = 4;`,
  ) + HISTOGRAM;
}

const PROTO_V2 = `
syntax = "proto3";
package io.prometheus.write.v2;

message Request {
  reserved 1 to 3;
  repeated string symbols = 4;
  repeated TimeSeries timeseries = 5;
}
message TimeSeries {
  repeated uint32 labels_refs = 1;
  repeated Sample samples = 2;
  repeated Histogram histograms = 3;
  repeated Exemplar exemplars = 4;
  Metadata metadata = 5;
  int64 created_timestamp = 6;
}
message Exemplar { repeated uint32 labels_refs = 1; double value = 2; int64 timestamp = 3; }
message Sample { double value = 1; int64 timestamp = 2; }
message Metadata {
  enum MetricType {
    METRIC_TYPE_UNSPECIFIED = 0; METRIC_TYPE_COUNTER = 1; METRIC_TYPE_GAUGE = 2;
    METRIC_TYPE_HISTOGRAM = 3; METRIC_TYPE_GAUGEHISTOGRAM = 4; METRIC_TYPE_SUMMARY = 5;
    METRIC_TYPE_INFO = 6; METRIC_TYPE_STATESET = 7;
  }
  MetricType type = 1;
  uint32 help_ref = 3;
  uint32 unit_ref = 4;
}
${HISTOGRAM}`;

interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

interface ProtoRoot {
  lookupType(name: string): ProtoType;
}

interface Protobufjs {
  parse(source: string): { root: ProtoRoot };
}

let types: { v1: ProtoType; v2: ProtoType } | undefined;

function loadTypes(): { v1: ProtoType; v2: ProtoType } {
  if (types === undefined) {
    const protobuf = requirePeer<Protobufjs>("protobufjs");
    types = {
      v1: protobuf.parse(protoV1()).root.lookupType(
        "prometheus.WriteRequest",
      ),
      v2: protobuf.parse(PROTO_V2).root.lookupType(
        "io.prometheus.write.v2.Request",
      ),
    };
  }
  return types;
}

const TO_OBJECT = {
  longs: Number,
  enums: String,
  defaults: false,
  arrays: true,
};

// deno-lint-ignore no-explicit-any
type Json = any;

/** A decoded `prometheus.WriteRequest`: 64-bit ints as numbers, enums as names. */
export function decodeWriteRequest(bytes: Uint8Array): Json {
  const { v1 } = loadTypes();
  return v1.toObject(v1.decode(bytes), TO_OBJECT);
}

/** A decoded `io.prometheus.write.v2.Request`, as {@linkcode decodeWriteRequest}. */
export function decodeWriteRequestV2(bytes: Uint8Array): Json {
  const { v2 } = loadTypes();
  return v2.toObject(v2.decode(bytes), TO_OBJECT);
}

interface SnappyJs {
  uncompress(bytes: Uint8Array): Uint8Array;
  compress(bytes: Uint8Array): Uint8Array;
}

/** snappyjs, an independent implementation of the snappy block format. */
export function snappyjs(): SnappyJs {
  return requirePeer<SnappyJs>("snappyjs");
}
