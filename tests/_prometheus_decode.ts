/**
 * Test helper: decodes the Prometheus protobuf exposition with an
 * INDEPENDENT decoder. No npm package ships `io.prometheus.client`'s
 * definitions, so protobufjs (installed under `.tools/node_modules`) parses
 * the official `metrics.proto` of prometheus/client_model, kept unchanged in
 * `tests/testdata/prometheus_metrics.proto`, and decodes the length-delimited
 * `MetricFamily` stream with it.
 *
 * @module
 */

import { requirePeer } from "./_npm.ts";

interface Type {
  decodeDelimited(reader: unknown): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

interface Root {
  lookupType(name: string): Type;
  resolveAll(): unknown;
  addJSON(nested: unknown): Root;
}

interface Protobufjs {
  parse(source: string, root: Root, options?: unknown): { root: Root };
  Root: new () => Root;
  Reader: { create(bytes: Uint8Array): { pos: number; len: number } };
  common: { get(file: string): { nested: unknown } };
}

let familyType: Type | undefined;
let protobuf: Protobufjs | undefined;

function metricFamily(): Type {
  if (familyType === undefined) {
    protobuf = requirePeer<Protobufjs>("protobufjs");
    const source = Deno.readTextFileSync(
      new URL("testdata/prometheus_metrics.proto", import.meta.url),
    );
    // protobufjs ships google/protobuf/timestamp.proto as a common type.
    const root = new protobuf.Root().addJSON(
      protobuf.common.get("google/protobuf/timestamp.proto").nested,
    );
    protobuf.parse(source, root, { keepCase: true });
    root.resolveAll();
    familyType = root.lookupType("io.prometheus.client.MetricFamily");
  }
  return familyType;
}

/**
 * Decodes a delimited stream of `MetricFamily` messages into plain objects
 * with the .proto's own field names: 64-bit integers as numbers, enums as
 * names, only the fields present on the wire.
 */
export function decodePrometheusProtobuf(
  bytes: Uint8Array,
): Record<string, unknown>[] {
  const type = metricFamily();
  const reader = protobuf!.Reader.create(bytes);
  const families: Record<string, unknown>[] = [];
  while (reader.pos < reader.len) {
    const message = type.decodeDelimited(reader);
    families.push(
      type.toObject(message, {
        longs: Number,
        enums: String,
        defaults: false,
        arrays: false,
      }) as Record<string, unknown>,
    );
  }
  return families;
}
