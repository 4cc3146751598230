/**
 * Deterministic inputs shared by the workloads: label sets and observed
 * values, the same for every implementation and every run.
 *
 * @module
 */

/** Every combination of the given label values, first label varying slowest. */
export function labelSets<K extends string>(
  dims: Readonly<Record<K, readonly string[]>>,
): Record<K, string>[] {
  let sets: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries<readonly string[]>(dims)) {
    const next: Record<string, string>[] = [];
    for (const set of sets) {
      for (const value of values) next.push({ ...set, [name]: value });
    }
    sets = next;
  }
  return sets as Record<K, string>[];
}

/** `count` label values such as `/api/v1/orders_7`. */
export function routes(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `/api/v1/orders_${i}`);
}

/** `count` HTTP status codes as strings, starting at 200. */
export function statuses(count: number): string[] {
  const codes = [
    "200",
    "201",
    "204",
    "301",
    "304",
    "400",
    "401",
    "403",
    "404",
    "409",
  ];
  const out = codes.slice(0, count);
  for (let i = out.length; i < count; i++) out.push(String(500 + i));
  return out;
}

/** HTTP methods, four of them. */
export const METHODS: readonly string[] = ["GET", "POST", "PUT", "DELETE"];

/** Twelve latency buckets in seconds (prom-client's defaults and one more). */
export const BUCKETS: readonly number[] = [
  0.001,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** A small seeded generator, so every run records the same values. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same items in a seeded random order (so lookups do not walk in order). */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const next = random(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Latencies spread log-uniformly over 0.5 ms…20 s, so every bucket is hit. */
export function latencies(count: number, seed: number): Float64Array {
  const next = random(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = 0.0005 * Math.pow(40_000, next());
  return out;
}
