/**
 * The one error edgemetrics expects callers to catch.
 *
 * @module
 */

/**
 * Thrown when a metric is registered under a name the registry already holds.
 * It carries the metric that is already registered, so that code declaring
 * metrics twice (hot reload, tests) can reuse it.
 *
 * @example Reuse the metric that is already there
 * ```ts
 * import { Counter, DuplicateMetricError, Registry } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const first = new Counter({ name: "jobs_total", help: "Jobs.", registry });
 * try {
 *   new Counter({ name: "jobs_total", help: "Jobs.", registry });
 *   assert.fail("expected a DuplicateMetricError");
 * } catch (error) {
 *   assert.ok(error instanceof DuplicateMetricError);
 *   assert.equal(error.existing, first);
 * }
 * ```
 */
export class DuplicateMetricError extends Error {
  /** The metric registered first under the same name. */
  readonly existing: unknown;

  /**
   * Creates the error for a metric whose name is taken.
   *
   * @param name The name of the metric that could not be registered.
   * @param existing The metric registered first.
   * @param reason Why the name is taken (the default: the same name is registered).
   */
  constructor(
    name: string,
    existing: unknown,
    reason = "a metric with this name already exists",
  ) {
    super(`Cannot register metric "${name}": ${reason}`);
    this.name = "DuplicateMetricError";
    this.existing = existing;
  }
}
