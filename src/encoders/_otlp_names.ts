/**
 * How Prometheus names and units become OTLP ones: the unit word to UCUM
 * (`seconds` → `s`) and the name without its unit suffix, per the OTel
 * specification's Prometheus and OpenMetrics compatibility document. Split
 * from `_otlp.ts`, which maps the data.
 *
 * @module
 */

// The unit tables are the one naming rule's, in names.ts.
import { PER_UNITS, UCUM_UNITS } from "../names.ts";

/**
 * Translates a Prometheus unit word to UCUM: `seconds` → `s`, `bytes` →
 * `By`, `ratio` → `1`, `percent` → `%`, …; `<a>_per_<b>` → `<a>/<b>` with
 * each side translated (`bytes_per_second` → `By/s`, singular time words
 * `second`, `minute`, `hour`, `day` are accepted after `per`); any other word
 * passes through unchanged; no unit gives `""`.
 */
export function toUcumUnit(unit: string | undefined): string {
  if (unit === undefined || unit === "") return "";
  const known = UCUM_UNITS[unit];
  if (known !== undefined) return known;
  const per = unit.indexOf("_per_");
  if (per > 0) {
    const left = unit.slice(0, per);
    const right = unit.slice(per + 5);
    const rightUcum = PER_UNITS[right] ?? UCUM_UNITS[right] ?? right;
    return `${UCUM_UNITS[left] ?? left}/${rightUcum}`;
  }
  return unit;
}

/**
 * The OTLP metric name: the family name (counters already without `_total`)
 * without its `_<unit>` suffix when it has one.
 */
export function otlpName(name: string, unit: string | undefined): string {
  if (!unit) return name;
  const suffix = "_" + unit;
  return name.length > suffix.length && name.endsWith(suffix)
    ? name.slice(0, name.length - suffix.length)
    : name;
}
