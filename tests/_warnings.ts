/**
 * Test helper: what the module printed with `console.warn` while a piece of
 * code ran (warnOnce warnings, each joined into one line).
 *
 * @module
 */

/** Runs `body` and returns the lines it passed to `console.warn`. */
export function captureWarnings(body: () => void): string[] {
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    body();
  } finally {
    console.warn = warn;
  }
  return warnings;
}
