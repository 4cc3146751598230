/**
 * The naming rules every metric and label obeys, checked once when a metric
 * is declared so that no encoder ever has to reject a name.
 *
 * @module
 */

import type { AttributeValue, MetricType } from "./model.ts";

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
    updowncounter: [],
  };

/** Whether `type` is one of the kinds of metric. */
export function isMetricType(type: unknown): type is MetricType {
  return typeof type === "string" && Object.hasOwn(SAMPLE_SUFFIXES, type);
}

/** The sample names a family of this kind exposes in any format, its own first. */
export function sampleNames(name: string, type: MetricType): string[] {
  return [name, ...SAMPLE_SUFFIXES[type].map((suffix) => name + suffix)];
}

// ---------------------------------------------------------------------------
// OpenTelemetry names, and their Prometheus translation (the OTel
// specification, "Prometheus and OpenMetrics Compatibility", OTLP metric
// points to Prometheus). Every Prometheus-side name of a family declared
// through a meter comes from these functions, once, when it is declared.

/** OTel's instrument name rule, as warnings quote it. */
export const OTEL_NAME_RULE = "[A-Za-z][A-Za-z0-9_.\\-/]{0,254}";
const OTEL_NAME = /* @__PURE__ */ new RegExp(`^${OTEL_NAME_RULE}$`);

/** Whether `name` is a valid OTel instrument name. */
export function isOtelInstrumentName(name: unknown): name is string {
  return typeof name === "string" && OTEL_NAME.test(name);
}

/**
 * Prometheus unit words and their UCUM codes, as the OTel Prometheus
 * compatibility rules and the collector's Prometheus translator pair them.
 */
export const UCUM_UNITS: Readonly<Record<string, string>> = {
  // time
  days: "d",
  hours: "h",
  minutes: "min",
  seconds: "s",
  milliseconds: "ms",
  microseconds: "us",
  nanoseconds: "ns",
  // bytes
  bytes: "By",
  kibibytes: "KiBy",
  mebibytes: "MiBy",
  gibibytes: "GiBy",
  tebibytes: "TiBy",
  kilobytes: "KBy",
  megabytes: "MBy",
  gigabytes: "GBy",
  terabytes: "TBy",
  // SI
  meters: "m",
  volts: "V",
  amperes: "A",
  joules: "J",
  watts: "W",
  grams: "g",
  celsius: "Cel",
  hertz: "Hz",
  // dimensionless
  ratio: "1",
  percent: "%",
};

/** Singular time units after `per` (`By/s` → `bytes_per_second`), word → UCUM. */
export const PER_UNITS: Readonly<Record<string, string>> = {
  second: "s",
  minute: "min",
  hour: "h",
  day: "d",
  week: "wk",
  month: "mo",
  year: "a",
};

function invert(table: Readonly<Record<string, string>>): Map<string, string> {
  return new Map(Object.entries(table).map(([word, ucum]) => [ucum, word]));
}

let wordsOfUcum: Map<string, string> | undefined;
let perWordsOfUcum: Map<string, string> | undefined;

/**
 * The Prometheus unit word of a UCUM unit: `s` → `seconds`, `By` →
 * `bytes`, `1` → `ratio`, `By/s` → `bytes_per_second`, annotations in
 * braces dropped (`{request}` → none, `{packet}/s` → `per_second`),
 * other units with their invalid characters replaced by `_`. `""` when
 * nothing is left, or when the result is not lowercase words joined by
 * `_` (OpenMetrics' `# UNIT` rule): such a unit stays in OTLP only.
 */
export function prometheusUnit(unit: string): string {
  const words = wordsOfUcum ??= invert(UCUM_UNITS);
  const perWords = perWordsOfUcum ??= invert(PER_UNITS);
  const bare = unit.replace(/\{[^}]*\}/g, "").trim();
  if (bare === "") return "";
  const slash = bare.indexOf("/");
  let word: string;
  if (slash >= 0) {
    const left = bare.slice(0, slash);
    const right = bare.slice(slash + 1);
    const leftWord = left === "" ? "" : words.get(left) ?? left;
    const rightWord = perWords.get(right) ?? words.get(right) ?? right;
    if (rightWord === "") return sanitizeUnit(leftWord);
    word = leftWord === ""
      ? `per_${rightWord}`
      : `${leftWord}_per_${rightWord}`;
  } else {
    word = words.get(bare) ?? bare;
  }
  return sanitizeUnit(word);
}

function sanitizeUnit(word: string): string {
  const clean = word.replace(/[^a-zA-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return /^[a-z0-9]+(_[a-z0-9]+)*$/.test(clean) ? clean : "";
}

/**
 * The Prometheus family name of an OTel instrument: characters outside
 * `[a-zA-Z0-9_:]` become `_`, runs of `_` one `_`, a leading digit gets a
 * `_` before it, then `_<unit>` is appended unless the name already ends
 * with it (the unit from {@linkcode prometheusUnit}). A monotonic sum's
 * family name has no `_total` (the encoders add it to the samples), so a
 * trailing `_total` is removed first: `http.server.request.duration` in
 * `s` → `http_server_request_duration_seconds`, counter `jobs.done` in
 * `{job}` → `jobs_done` (exposed `jobs_done_total`), gauge `cpu.utilization`
 * in `1` → `cpu_utilization_ratio`.
 */
export function prometheusName(
  name: string,
  unit: string,
  type: MetricType,
): string {
  let base = name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/_{2,}/g, "_");
  if (/^[0-9]/.test(base)) base = "_" + base;
  if (type === "counter") base = base.replace(/_total$/, "");
  const word = prometheusUnit(unit);
  if (word !== "" && !base.endsWith("_" + word)) base += "_" + word;
  if (base === "" || base === "_") base = "_unnamed";
  return base;
}

/**
 * The Prometheus label name of an OTel attribute key: characters outside
 * `[a-zA-Z0-9_]` become `_`, a leading digit gets `key_` before it, and a
 * key starting with `__` (reserved for Prometheus) gets `key` before it:
 * `http.route` → `http_route`, `1st` → `key_1st`, `__x` → `key__x`.
 */
export function prometheusLabelName(key: string): string {
  let label = key.replace(/[^a-zA-Z0-9_]/g, "_");
  if (label === "") return "key_";
  if (/^[0-9]/.test(label)) label = "key_" + label;
  else if (label.startsWith("__")) label = "key" + label;
  return label;
}

/**
 * Prometheus labels of typed OTel attributes: each key by
 * {@linkcode prometheusLabelName}, each value as a string (`200` → `"200"`,
 * `true` → `"true"`); keys that meet on one label name join their values
 * with `;`, in the order of their sorted original keys, as the
 * compatibility rules say.
 */
export function prometheusLabels(
  attributes: Readonly<Record<string, AttributeValue>>,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const key of Object.keys(attributes).sort()) {
    const label = prometheusLabelName(key);
    const raw = attributes[key]!;
    // An array becomes its JSON text, as OTel's Prometheus mapping has it.
    const value = Array.isArray(raw) ? JSON.stringify(raw) : String(raw);
    labels[label] = Object.hasOwn(labels, label)
      ? labels[label] + ";" + value
      : value;
  }
  return labels;
}
