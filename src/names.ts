/**
 * The naming rules every metric and label obeys, checked once when a metric
 * is declared so that no encoder ever has to reject a name.
 *
 * @module
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Checks a metric name against the Prometheus rule `[a-zA-Z_:][a-zA-Z0-9_:]*`.
 *
 * @param name The metric name to check.
 * @throws {TypeError} When the name breaks the rule.
 */
export function assertMetricName(name: string): void {
  if (typeof name !== "string" || !METRIC_NAME.test(name)) {
    throw new TypeError(
      `Cannot declare metric ${
        JSON.stringify(name) ?? String(name)
      }: a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*`,
    );
  }
}

/** Whether `name` is a valid metric name (or metric-name prefix). */
export function isMetricName(name: unknown): boolean {
  return typeof name === "string" && METRIC_NAME.test(name);
}

/**
 * Checks the label names of a metric: each must match `[a-zA-Z_][a-zA-Z0-9_]*`,
 * must not start with `__` (reserved for Prometheus), must not be one of
 * `reserved` (e.g. `le` on a histogram) and must appear once.
 *
 * @param metric The metric the labels belong to, named in the error.
 * @param labelNames The label names to check.
 * @param reserved Label names the metric's kind reserves for itself.
 * @param what The start of the error message; names the metric by default.
 * @throws {TypeError} When a label name breaks a rule.
 */
export function assertLabelNames(
  metric: string,
  labelNames: readonly string[],
  reserved: readonly string[] = [],
  what = `Cannot declare metric "${metric}"`,
): void {
  if (!Array.isArray(labelNames)) {
    throw new TypeError(
      `${what}: labelNames must be an array of strings, got ${
        JSON.stringify(labelNames) ?? typeof labelNames
      }`,
    );
  }
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (typeof label !== "string" || !LABEL_NAME.test(label)) {
      throw new TypeError(
        `${what}: label name ${
          JSON.stringify(label)
        } must match [a-zA-Z_][a-zA-Z0-9_]*`,
      );
    }
    if (label.startsWith("__")) {
      throw new TypeError(
        `${what}: label name "${label}" starts with "__", which Prometheus reserves`,
      );
    }
    if (reserved.includes(label)) {
      throw new TypeError(
        `${what}: label name "${label}" is reserved for this kind of metric`,
      );
    }
    if (seen.has(label)) {
      throw new TypeError(
        `${what}: label name "${label}" appears more than once`,
      );
    }
    seen.add(label);
  }
}

/**
 * Checks a declared unit: lowercase words joined by `_`, and the metric name
 * (without a counter's `_total`) must end with `_<unit>`, as OpenMetrics
 * requires for `# UNIT`.
 *
 * @param metric The family name, without a counter's `_total`.
 * @param unit The unit to check.
 * @throws {TypeError} When the unit is malformed or the name does not end with it.
 */
export function assertUnit(metric: string, unit: string): void {
  if (!/^[a-z0-9]+(_[a-z0-9]+)*$/.test(unit)) {
    throw new TypeError(
      `Cannot declare metric "${metric}": unit ${
        JSON.stringify(unit)
      } must be lowercase words joined by "_"`,
    );
  }
  if (!metric.endsWith(`_${unit}`)) {
    throw new TypeError(
      `Cannot declare metric "${metric}": a metric with unit "${unit}" must have a name ending in "_${unit}"`,
    );
  }
}
