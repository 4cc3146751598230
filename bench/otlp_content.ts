/**
 * What an OTLP body holds, in one line, so two encoders' bodies can be
 * compared: used by W4 and by `otlp_like_for_like.ts`.
 *
 * @module
 */

import { decodeOtlpProtobuf } from "../tests/_otlp_decode.ts";

interface DecodedPoint {
  attributes?: unknown[];
  asInt?: string | number;
  asDouble?: string | number;
  count?: string | number;
  sum?: number;
  bucketCounts?: (string | number)[];
}

/**
 * What an OTLP body says, in one line: metrics, points, and the totals of
 * their values, counts and bucket counts, decoded independently of either
 * encoder (protobuf by the official generated decoder, JSON by
 * `JSON.parse`; the OTel SDK writes JSON counts as numbers, edgemetrics as
 * the strings the OTLP JSON rules ask for, so both are read as numbers).
 */
export function otlpContent(
  body: Uint8Array,
  format: "json" | "protobuf",
): string {
  // deno-lint-ignore no-explicit-any
  const request: any = format === "json"
    ? JSON.parse(new TextDecoder().decode(body))
    : decodeOtlpProtobuf(body);
  let metrics = 0, points = 0, values = 0, counts = 0, buckets = 0;
  for (const resource of request.resourceMetrics) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        metrics++;
        const data: DecodedPoint[] = metric.sum?.dataPoints ??
          metric.histogram?.dataPoints ?? [];
        for (const point of data) {
          points++;
          values += Number(point.asInt ?? point.asDouble ?? point.sum ?? 0);
          counts += Number(point.count ?? 0);
          for (const b of point.bucketCounts ?? []) buckets += Number(b);
        }
      }
    }
  }
  return `${metrics} metrics, ${points} points, values ${
    values.toFixed(3)
  }, counts ${counts}, bucket counts ${buckets}`;
}
