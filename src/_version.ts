/**
 * The package version, in one place: the OTLP exporter's default
 * instrumentation scope names it. `tests/version_test.ts` keeps it equal to
 * `deno.json`'s version.
 *
 * @module
 */

/** The version of this package, as published. */
export const VERSION = "0.1.0";
