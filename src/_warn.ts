/**
 * One warning per cause, so bad runtime data is reported without flooding
 * the log of a service that records it a million times.
 *
 * @module
 */

const warned = new Set<string>();

/** Writes `message` with `console.warn` the first time `key` is seen. */
export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`edgemetrics: ${message}`);
}
