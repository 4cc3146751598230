/**
 * The delivery property of `tests/_fault_property.ts` over the Pushgateway
 * client: 1,000 seeded fault sequences through an injected fetch. A push
 * replaces the group, so the property is the cumulative one: what the
 * gateway holds never goes backwards, and the last push holds every record.
 * The Pushgateway has no partial success, so that fault is left out.
 */
import assert from "node:assert/strict";
import { Pushgateway } from "../../mod.ts";
import {
  assertHeld,
  type ExporterUnderTest,
  FAULTS,
  type Points,
  runProperty,
} from "../_fault_property.ts";

/** The samples of a text 0.0.4 push, in the property's neutral form. */
function textPoints(body: Uint8Array): Points {
  const points: Points = new Map();
  const cumulative: number[] = [];
  let count: number | undefined;
  for (const line of new TextDecoder().decode(body).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${JSON.stringify(line)}`);
    const [, name, labels = "", value] = match;
    if (name === "faults_jobs_total") {
      const kind = /kind="(\w+)"/.exec(labels)![1];
      points.set(`faults_jobs{kind=${kind}}`, { values: [Number(value)] });
    } else if (name === "faults_size_bucket") {
      cumulative.push(Number(value));
    } else if (name === "faults_size_count") {
      count = Number(value);
    }
  }
  if (count !== undefined) {
    // Buckets in text are cumulative: the property counts per bucket.
    const counts = cumulative.map((c, i) =>
      c - (i === 0 ? 0 : cumulative[i - 1]!)
    );
    points.set("faults_size{}", { values: [...counts, count] });
  }
  return points;
}

const pushgateway: ExporterUnderTest = {
  name: "Pushgateway",
  path: "",
  faults: FAULTS.filter((fault) => fault !== "partial"),
  create: ({ url, registry, delivery }) => {
    const gateway = new Pushgateway({
      ...delivery,
      url,
      job: "fault-property",
      registry,
    });
    // A push is the whole group: the final push is its shutdown.
    return { flush: () => gateway.push(), shutdown: () => gateway.push() };
  },
  decode: (body) => textPoints(body),
  error:
    /^Cannot push metrics to http:\/\/receiver\.test\/metrics\/job\/fault-property: .+ after \d+ attempts?( \(not retryable\)|, the most allowed \(maxAttempts\)|; .*deadline.*)$/s,
  reportsToOnError: false,
};

Deno.test("Pushgateway keeps the delivery property through 1,000 seeded fault sequences", async () => {
  const result = await runProperty(pushgateway, "cumulative", 1000);
  assertHeld(pushgateway, result);
});
