import assert from "node:assert/strict";
import {
  DEFAULT_BUCKETS,
  exponentialBuckets,
  linearBuckets,
} from "@edgemetrics/edgemetrics";

Deno.test("DEFAULT_BUCKETS are the 5 ms to 10 s latency buckets, frozen", () => {
  assert.deepEqual(DEFAULT_BUCKETS, [
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
  ]);
  assert.ok(Object.isFrozen(DEFAULT_BUCKETS));
});

Deno.test("linearBuckets() steps by width from start", () => {
  assert.deepEqual(linearBuckets(0, 10, 4), [0, 10, 20, 30]);
  assert.deepEqual(linearBuckets(-1, 0.5, 5), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(linearBuckets(5, 1, 1), [5]);
});

Deno.test("linearBuckets() rounds float noise away from the bounds", () => {
  // Unrounded, 0.1 + 2 * 0.1 is 0.30000000000000004 and 0.1 + 6 * 0.1 is 0.7000000000000001.
  assert.deepEqual(linearBuckets(0.1, 0.1, 9), [
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
  ]);
  assert.equal(linearBuckets(0.1, 0.2, 2)[1], 0.3);
  assert.deepEqual(
    linearBuckets(0.05, 0.05, 20).map(String),
    Array.from({ length: 20 }, (_, i) => String((i + 1) * 5 / 100)),
  );
});

Deno.test("exponentialBuckets() multiplies by factor from start", () => {
  assert.deepEqual(exponentialBuckets(1, 2, 5), [1, 2, 4, 8, 16]);
  assert.deepEqual(exponentialBuckets(100, 10, 3), [100, 1000, 10000]);
  // 0.1 * 3 ** 2 is 0.9000000000000001 unrounded.
  assert.deepEqual(exponentialBuckets(0.1, 3, 3), [0.1, 0.3, 0.9]);
  assert.deepEqual(exponentialBuckets(0.001, 1.5, 4), [
    0.001,
    0.0015,
    0.00225,
    0.003375,
  ]);
});

Deno.test("bucket helpers reject bad arguments with exact messages", async (t) => {
  const cases: [string, () => unknown, string][] = [
    [
      "linear: zero width",
      () => linearBuckets(0, 0, 3),
      "Cannot make linear buckets: width must be positive, got 0",
    ],
    [
      "linear: negative width",
      () => linearBuckets(0, -1, 3),
      "Cannot make linear buckets: width must be positive, got -1",
    ],
    [
      "linear: zero count",
      () => linearBuckets(0, 1, 0),
      "Cannot make linear buckets: count must be a whole number of at least 1, got 0",
    ],
    [
      "linear: fractional count",
      () => linearBuckets(0, 1, 2.5),
      "Cannot make linear buckets: count must be a whole number of at least 1, got 2.5",
    ],
    [
      "linear: NaN start",
      () => linearBuckets(NaN, 1, 2),
      "Cannot make linear buckets: start must be a finite number, got NaN",
    ],
    [
      "linear: infinite width",
      () => linearBuckets(0, Infinity, 2),
      "Cannot make linear buckets: width must be a finite number, got Infinity",
    ],
    [
      "linear: a width lost to rounding",
      () => linearBuckets(1, 1e-13, 2),
      "Cannot make linear buckets: bounds must be finite and strictly increasing, but bound 2 is 1 after 1; use fewer buckets or a larger step",
    ],
    [
      "exponential: zero start",
      () => exponentialBuckets(0, 2, 3),
      "Cannot make exponential buckets: start must be positive, got 0",
    ],
    [
      "exponential: negative start",
      () => exponentialBuckets(-1, 2, 3),
      "Cannot make exponential buckets: start must be positive, got -1",
    ],
    [
      "exponential: factor 1",
      () => exponentialBuckets(1, 1, 3),
      "Cannot make exponential buckets: factor must be greater than 1, got 1",
    ],
    [
      "exponential: string count",
      () => exponentialBuckets(1, 2, "3" as unknown as number),
      'Cannot make exponential buckets: count must be a whole number of at least 1, got "3"',
    ],
    [
      "exponential: overflow to Infinity",
      () => exponentialBuckets(1e300, 1e10, 3),
      "Cannot make exponential buckets: bounds must be finite and strictly increasing, but bound 2 is Infinity after 1e+300; use fewer buckets or a larger step",
    ],
  ];
  for (const [what, act, message] of cases) {
    await t.step(what, () => {
      assert.throws(act, (error: unknown) => {
        assert.ok(
          error instanceof RangeError,
          `expected RangeError, got ${error}`,
        );
        assert.equal(error.message, message);
        return true;
      });
    });
  }
});
