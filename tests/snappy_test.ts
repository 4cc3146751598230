/**
 * The hand-written snappy compressor against snappyjs, an independent
 * implementation of the block format: every output must decode to the
 * input, and on the W4 registry (bench/workloads/w4_exposition.ts: 50,000
 * counter series, 5,000 histograms of 12 buckets) as remote write requests
 * it must come within 1.3× of snappyjs's size. The ratio is printed.
 */
import assert from "node:assert/strict";
import { snappyCompress } from "../src/encoders/_snappy.ts";
import {
  encodeRemoteWrite,
  encodeRemoteWriteV2,
} from "@edgemetrics/edgemetrics";
import { w4Registry } from "../bench/w4_registry.ts";
import { snappyjs } from "./_remote_write_decode.ts";

/** mulberry32: a small seeded PRNG, so a failing input can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertRoundTrip(input: Uint8Array, what: string): Uint8Array {
  const compressed = snappyCompress(input);
  const decoded = new Uint8Array(snappyjs().uncompress(compressed));
  assert.equal(decoded.length, input.length, what);
  assert.ok(decoded.every((byte, i) => byte === input[i]), what);
  return compressed;
}

Deno.test("snappyCompress() output decodes with snappyjs for edge sizes, runs, long copies and incompressible data", () => {
  const cases: [string, Uint8Array][] = [];
  for (
    const n of [
      0,
      1,
      3,
      4,
      14,
      15,
      16,
      59,
      60,
      61,
      255,
      256,
      257,
      65535,
      65536,
      65537,
      200_000,
    ]
  ) {
    cases.push([`zeros ×${n}`, new Uint8Array(n)]);
  }
  const random = prng(7);
  const noise = new Uint8Array(150_000).map(() => Math.floor(random() * 256));
  cases.push(["incompressible", noise]);
  const text = new TextEncoder().encode(
    'http_requests_total{method="GET",route="/orders/{id}"} 42\n'.repeat(3000),
  );
  cases.push(["repeated text", text]);
  // A match that crosses the 64 KiB block boundary must not reach back over it.
  const crossing = new Uint8Array(131072);
  for (let i = 0; i < crossing.length; i++) crossing[i] = (i * 31) % 251;
  cases.push(["periodic across blocks", crossing]);
  for (const [what, input] of cases) assertRoundTrip(input, what);
  // Runs compress hard; noise grows only by the format's small overhead.
  assert.ok(snappyCompress(new Uint8Array(100_000)).length < 5_000);
  assert.ok(
    snappyCompress(noise).length <= noise.length + noise.length / 6 + 32,
  );
  assert.ok(snappyCompress(text).length < text.length / 20);
});

Deno.test("snappyCompress() round-trips 200 seeded inputs mixing literals and matches at every distance", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const random = prng(seed);
    const n = Math.floor(random() ** 3 * 200_000);
    const alphabet = 1 + Math.floor(random() * 255);
    const reach = 1 + Math.floor(random() * 70_000);
    const input = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      input[i] = i > 0 && random() < 0.6
        ? input[Math.max(0, i - 1 - Math.floor(random() * Math.min(i, reach)))]!
        : Math.floor(random() * alphabet);
    }
    assertRoundTrip(input, `seed ${seed}, ${n} bytes`);
  }
});

Deno.test("snappyCompress() on the W4 registry's remote write requests: decodes with snappyjs, within 1.3× of snappyjs's size", async () => {
  const families = await w4Registry().collect();
  const options = {
    timestampMs: 1_700_000_000_000,
    job: "w4",
    instance: "bench-1",
  };
  for (
    const [protocol, encode] of [
      ["1.0", encodeRemoteWrite],
      ["2.0", encodeRemoteWriteV2],
    ] as const
  ) {
    const requests = encode(families, options);
    let raw = 0;
    let ours = 0;
    let reference = 0;
    for (const request of requests) {
      raw += request.length;
      ours += assertRoundTrip(request, `W4 ${protocol}`).length;
      reference += snappyjs().compress(request).byteLength;
    }
    const ratio = ours / reference;
    console.log(
      `W4 remote write ${protocol}: ${requests.length} requests, ${raw} bytes raw, ` +
        `${ours} bytes snappy (edgemetrics), ${reference} bytes snappy (snappyjs 0.7.0): ` +
        `${ratio.toFixed(3)}× the reference, ${
          (raw / ours).toFixed(1)
        }:1 compression`,
    );
    assert.ok(ratio <= 1.3, `${protocol}: ${ratio} > 1.3`);
    assert.ok(raw / ours > 4, `${protocol}: compresses ${raw / ours}:1`);
  }
});
