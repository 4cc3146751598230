/**
 * JSON that gives back exactly the values it was given: non-finite numbers,
 * `-0` and `undefined` properties, which plain JSON turns into `null`, 0 or
 * nothing, travel as tagged strings. Snapshots cross a channel or the network
 * in this form whenever a `NaN` gauge or an `+Inf` histogram sum must arrive
 * as it was.
 *
 * @module
 */

/**
 * Marks a string that stands for what JSON cannot hold: alone, `undefined`;
 * followed by a number's text (`NaN`, `Infinity`, `-Infinity`, `-0`), that
 * number. A string value that starts with it gets a second one, so no label
 * value or help text can be mistaken for a tag.
 */
const TAG = "\u0000";

/** `value` as JSON that {@linkcode parseExactJson} turns back into the same value. */
export function stringifyExactJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "number") {
      if (Object.is(item, -0)) return `${TAG}-0`;
      return Number.isFinite(item) ? item : TAG + item;
    }
    if (typeof item === "string") {
      return item.startsWith(TAG) ? TAG + item : item;
    }
    return item === undefined ? TAG : item;
  });
}

/**
 * The value that {@linkcode stringifyExactJson} wrote.
 *
 * @throws {SyntaxError} When `text` is not JSON.
 */
export function parseExactJson(text: string): unknown {
  return revive(JSON.parse(text));
}

/** Turns the tagged strings in `value` back into what they stand for, in place. */
function revive(value: unknown): unknown {
  if (typeof value === "string") {
    if (!value.startsWith(TAG)) return value;
    if (value.length === 1) return undefined;
    return value[1] === TAG ? value.slice(1) : Number(value.slice(1));
  }
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      const revived = revive(item);
      if (revived !== item) record[key] = revived;
    }
  }
  return value;
}
