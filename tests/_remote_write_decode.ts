/**
 * Test helper: decodes remote write 1.0 and 2.0 requests with an
 * INDEPENDENT decoder, protobufjs (installed by `.ci/setup` from
 * `.ci/peers.json`), and snappy bodies with snappyjs.
 *
 * No npm package ships the remote write `.proto` files, so the schema below
 * is written here from the messages the specifications publish
 * (prometheus.io/docs/specs/remote_write_spec and remote_write_spec_2_0,
 * i.e. `prompb/types.proto`, `prompb/remote.proto` and
 * `prompb/io/prometheus/write/v2/types.proto`), leaving out only the gogo
 * options and the native histogram messages, which edgemetrics does not
 * write.
 *
 * @module
 */

import { requirePeer } from "./_npm.ts";

const PROTO = `
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
  reserved 2;
  repeated MetricMetadata metadata = 3;
}
message MetricMetadata {
  enum MetricType {
    UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3;
    GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7;
  }
  MetricType type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  repeated Exemplar exemplars = 3;
}
message Label { string name = 1; string value = 2; }
`;

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
`;

interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

interface Protobufjs {
  parse(source: string): { root: { lookupType(name: string): ProtoType } };
}

let types: { v1: ProtoType; v2: ProtoType } | undefined;

function loadTypes(): { v1: ProtoType; v2: ProtoType } {
  if (types === undefined) {
    const protobuf = requirePeer<Protobufjs>("protobufjs");
    types = {
      v1: protobuf.parse(PROTO).root.lookupType("prometheus.WriteRequest"),
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
