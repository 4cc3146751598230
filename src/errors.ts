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
   * @param name The name both metrics share.
   * @param existing The metric registered first.
   */
  constructor(name: string, existing: unknown) {
    super(
      `Cannot register metric "${name}": a metric with this name already exists`,
    );
    this.name = "DuplicateMetricError";
    this.existing = existing;
  }
}
