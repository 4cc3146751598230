/**
 * The naming rules every metric and label obeys, checked once when a metric
 * is declared so that no encoder ever has to reject a name.
 *
 * @module
 */

import type { MetricType } from "./model.ts";

/** The longest metric name, in characters: the OpenTelemetry instrument name limit. */
export const MAX_METRIC_NAME_LENGTH = 255;

/** The metric name rule, as error messages quote it. */
export const METRIC_NAME_RULE = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_NAME_RULE = "[a-zA-Z_][a-zA-Z0-9_]*";
const METRIC_NAME = /* @__PURE__ */ new RegExp(`^${METRIC_NAME_RULE}$`);
const LABEL_NAME = /* @__PURE__ */ new RegExp(`^${LABEL_NAME_RULE}$`);

/**
 * A value as error messages quote it: numbers as they print (`NaN`,
 * `Infinity`), a bigint with its `n` (JSON.stringify throws on one), a
 * symbol as `Symbol(description)`, a function as `function name`,
 * `undefined` as itself, anything else as JSON, or its type when JSON
 * cannot spell it (an object holding a bigint or a cycle).
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "number":
    case "symbol":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "function":
      return `function ${value.name === "" ? "(anonymous)" : value.name}`;
  }
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return `an unprintable ${typeof value}`;
  }
}

/**
 * Checks a metric name against the Prometheus rule `[a-zA-Z_:][a-zA-Z0-9_:]*`.
 *
 * @param name The metric name to check.
 * @throws {TypeError} When the name breaks the rule.
 */
export function assertMetricName(name: string): void {
  if (typeof name === "string" && name.length > MAX_METRIC_NAME_LENGTH) {
    // Quote the start only: the name may be megabytes long.
    throw new RangeError(
      `Cannot declare metric "${
        name.slice(0, 40)
      }…": a metric name must be at most ${MAX_METRIC_NAME_LENGTH} characters (the OpenTelemetry limit), got ${name.length}`,
    );
  }
  if (!isMetricName(name)) {
    throw new TypeError(
      `Cannot declare metric ${
        describe(name)
      }: a metric name must match ${METRIC_NAME_RULE}`,
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
        describe(labelNames)
      }`,
    );
  }
  const seen = new Set<string>();
  for (const label of labelNames) {
    const problem = labelNameProblem(label, reserved, seen);
    if (problem !== undefined) {
      throw new TypeError(`${what}: label name ${problem}`);
    }
    seen.add(label);
  }
}

/** What is wrong with one label name (quoted, then the rule it breaks), if anything. */
function labelNameProblem(
  label: string,
  reserved: readonly string[],
  seen: ReadonlySet<string>,
): string | undefined {
  if (typeof label !== "string" || !LABEL_NAME.test(label)) {
    return `${describe(label)} must match ${LABEL_NAME_RULE}`;
  }
  if (label.startsWith("__")) {
    return `"${label}" starts with "__", which Prometheus reserves`;
  }
  if (reserved.includes(label)) {
    return `"${label}" is reserved for this kind of metric`;
  }
  if (seen.has(label)) return `"${label}" appears more than once`;
  return undefined;
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
        describe(unit)
      } must be lowercase words joined by "_"`,
    );
  }
  if (!metric.endsWith(`_${unit}`)) {
    throw new TypeError(
      `Cannot declare metric "${metric}": a metric with unit "${unit}" must have a name ending in "_${unit}"`,
    );
  }
}

/**
 * The suffixes of the sample names a family of each kind exposes besides its
 * own name, in any format: a counter `x` (declared `x` or `x_total`) has
 * `x_total` and `x_created`, a histogram `x` has `x_bucket`, `x_sum`,
 * `x_count` and `x_created`, a summary `x_sum`, `x_count` and `x_created`.
 * The registry checks them in this order, so its duplicate error names the
 * first one taken.
 */
export const SAMPLE_SUFFIXES: Readonly<Record<MetricType, readonly string[]>> =
  {
    counter: ["_total", "_created"],
    gauge: [],
    histogram: ["_bucket", "_sum", "_count", "_created"],
    summary: ["_sum", "_count", "_created"],
  };

/** Whether `type` is one of the four kinds of metric. */
export function isMetricType(type: unknown): type is MetricType {
  return typeof type === "string" && Object.hasOwn(SAMPLE_SUFFIXES, type);
}

/** The sample names a family of this kind exposes in any format, its own first. */
export function sampleNames(name: string, type: MetricType): string[] {
  return [name, ...SAMPLE_SUFFIXES[type].map((suffix) => name + suffix)];
}
