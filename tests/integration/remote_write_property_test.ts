/**
 * The delivery property of `tests/_fault_property.ts` over the remote write
 * exporter: 1,000 seeded fault sequences through an injected fetch, half of
 * them in protocol 1.0 and half in 2.0 (a 2.0 receiver's 2xx carries the
 * `*-Written` headers here). Remote write sends cumulative values, so the
 * property is the cumulative one: what the receiver holds never goes
 * backwards, and the last write holds every record.
 *
 * What differs by design from OTLP, as the remote write specification
 * says: every 5xx is retried, 500 included (`transient`); a 400 drops the
 * batch with a warning instead of failing the flush, so `400` and `400-cut`
 * are left out here (tests/remote_write_exporter_test.ts and the Prometheus
 * test prove that behaviour); remote write has no partial success.
 */
import assert from "node:assert/strict";
import { RemoteWriteExporter } from "../../mod.ts";
import {
  assertHeld,
  type ExporterUnderTest,
  FAULTS,
  type Points,
  runProperty,
} from "../_fault_property.ts";
import {
  decodeWriteRequest,
  decodeWriteRequestV2,
  snappyjs,
} from "../_remote_write_decode.ts";

/** One decoded series: its labels by name and its sample value. */
interface Series {
  labels: Record<string, string>;
  value: number;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** The series of a 1.0 or 2.0 body, whichever its content type says. */
function seriesOf(body: Uint8Array, contentType: string): Series[] {
  const raw = new Uint8Array(snappyjs().uncompress(body));
  if (contentType.includes("io.prometheus.write.v2.Request")) {
    const request = decodeWriteRequestV2(raw);
    return request.timeseries.map((s: Json) => {
      const labels: Record<string, string> = {};
      const refs: number[] = s.labelsRefs ?? [];
      for (let i = 0; i < refs.length; i += 2) {
        labels[request.symbols[refs[i]!]] = request.symbols[refs[i + 1]!];
      }
      return { labels, value: s.samples[0].value };
    });
  }
  return decodeWriteRequest(raw).timeseries.map((s: Json) => ({
    labels: Object.fromEntries(
      s.labels.map((l: Json) => [l.name, l.value ?? ""]),
    ),
    value: s.samples[0].value,
  }));
}

/** A remote write body in the property's neutral form. */
function remoteWritePoints(body: Uint8Array, contentType: string): Points {
  const points: Points = new Map();
  const buckets = new Map<string, number>();
  let count: number | undefined;
  for (const { labels, value } of seriesOf(body, contentType)) {
    assert.equal(labels.job, "fault-property");
    switch (labels.__name__) {
      case "faults_jobs_total":
        points.set(`faults_jobs{kind=${labels.kind}}`, { values: [value] });
        break;
      case "faults_size_bucket":
        buckets.set(labels.le!, value);
        break;
      case "faults_size_count":
        count = value;
        break;
    }
  }
  if (count !== undefined) {
    // Cumulative buckets, in le order, made per bucket.
    const cumulative = ["1.0", "2.0", "5.0", "+Inf"].map((le) =>
      buckets.get(le)!
    );
    const counts = cumulative.map((c, i) =>
      c - (i === 0 ? 0 : cumulative[i - 1]!)
    );
    points.set("faults_size{}", { values: [...counts, count] });
  }
  return points;
}

/** A 2.0 receiver confirms what it wrote; a 1.0 receiver's answer is as scripted. */
function confirming(
  fetch: (request: Request) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const response = await fetch(request);
    if (!response.ok) return response;
    const headers = new Headers(response.headers);
    headers.set("X-Prometheus-Remote-Write-Samples-Written", "9");
    return new Response(response.body, { status: response.status, headers });
  };
}

const remoteWrite: ExporterUnderTest = {
  name: "RemoteWriteExporter",
  path: "/api/v1/write",
  faults: FAULTS.filter((fault) =>
    fault !== "partial" && fault !== "400" && fault !== "400-cut"
  ),
  transient: [
    "429-0s",
    "429-1s",
    "429-date",
    "500",
    "502",
    "503",
    "504",
    "reset-before",
    "hang",
  ],
  create: ({ url, registry, delivery, onError, seed }) => {
    const protocol = seed % 2 === 0 ? "2.0" : "1.0";
    const exporter = new RemoteWriteExporter({
      ...delivery,
      ...(protocol === "2.0" && delivery.fetch !== undefined
        ? { fetch: confirming(delivery.fetch) }
        : {}),
      url,
      job: "fault-property",
      registry,
      protocol,
      onError,
    });
    return {
      flush: () => exporter.flush(),
      shutdown: () => exporter.shutdown(),
    };
  },
  decode: remoteWritePoints,
  error:
    /^Cannot write metrics to http:\/\/receiver\.test\/api\/v1\/write: .+ after \d+ attempts?( \(not retryable\)|, the most allowed \(maxAttempts\)|; .*deadline.*)$/s,
  reportsToOnError: false,
};

Deno.test("RemoteWriteExporter keeps the delivery property through 1,000 seeded fault sequences, protocols 1.0 and 2.0", async () => {
  const result = await runProperty(remoteWrite, "cumulative", 1000);
  assertHeld(remoteWrite, result);
});
