/**
 * Turns the labels a caller attaches to a record into an exemplar, or drops
 * them with one warning when OpenMetrics would reject them: this runs on the
 * hot path, so it never throws.
 *
 * @module
 */

import type { Exemplar, Labels } from "../model.ts";
import { warnOnce } from "../_warn.ts";

/** OpenMetrics caps an exemplar's label names and values at 128 code points. */
export const MAX_EXEMPLAR_CODE_POINTS = 128;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Builds an exemplar, or returns `undefined` (after one warning) for a label set OpenMetrics rejects. */
export function toExemplar(
  metric: string,
  labels: Labels,
  value: number,
  timestamp: number,
): Exemplar | undefined {
  let codePoints = 0;
  const copy: Record<string, string> = {};
  for (const name in labels) {
    const labelValue = labels[name];
    if (!LABEL_NAME.test(name) || typeof labelValue !== "string") {
      warnOnce(
        `exemplar-name:${metric}`,
        `dropped an exemplar of metric "${metric}": label ${
          JSON.stringify(name)
        } must match [a-zA-Z_][a-zA-Z0-9_]* and have a string value`,
      );
      return undefined;
    }
    codePoints += countCodePoints(name) + countCodePoints(labelValue);
    copy[name] = labelValue;
  }
  if (codePoints > MAX_EXEMPLAR_CODE_POINTS) {
    warnOnce(
      `exemplar-size:${metric}`,
      `dropped an exemplar of metric "${metric}": its labels have ${codePoints} code points, more than the ${MAX_EXEMPLAR_CODE_POINTS} OpenMetrics allows`,
    );
    return undefined;
  }
  return { labels: copy, value, timestamp };
}

/**
 * Code points, not UTF-16 units: a surrogate pair counts once. Indexed by
 * char code, not iterated, which would make a string per code point on
 * every record that carries an exemplar.
 */
function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}
