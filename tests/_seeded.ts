/**
 * Test helper: seeded pseudo-random values, the same on every run, for
 * distributions that tests compare against peers.
 *
 * @module
 */

/** A seeded generator (mulberry32): the same values on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal sample around `median`, spread by `sigma` (natural log units). */
export function logNormal(random: () => number, median: number, sigma: number) {
  const u = Math.max(random(), 1e-12);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(sigma * z);
}
