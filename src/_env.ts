/**
 * Reading the environment where the runtime has one, feature-detected in this
 * one place: `Deno.env` (only when permission is already granted, so reading
 * never prompts and never throws `NotCapable`), then `process.env` (Node, Bun,
 * Workers with `nodejs_compat`). Runtimes without either simply have no
 * environment: every read returns `undefined`.
 *
 * No `Deno` identifier appears at type level, so this file type-checks with
 * only the web libraries.
 *
 * @module
 */

/** The shape of `Deno` this file relies on, feature-detected at run time. */
interface DenoLike {
  env?: { get?(name: string): string | undefined };
  permissions?: {
    querySync?(
      descriptor: { name: "env"; variable: string },
    ): { state: string };
  };
}

/** The shape of `process` this file relies on. */
interface ProcessLike {
  env?: Record<string, string | undefined>;
}

/**
 * Returns the environment variable `name`, or `undefined` when it is unset,
 * empty, or the runtime has no environment or no permission to read it.
 */
export function readEnv(name: string): string | undefined {
  const runtime = globalThis as { Deno?: DenoLike; process?: ProcessLike };
  const deno = runtime.Deno;
  if (deno !== undefined && typeof deno.env?.get === "function") {
    try {
      const query = deno.permissions?.querySync;
      if (
        typeof query === "function" &&
        query.call(deno.permissions, { name: "env", variable: name }).state !==
          "granted"
      ) {
        return undefined;
      }
      return nonEmpty(deno.env.get(name));
    } catch {
      // NotCapable / PermissionDenied: no environment for us.
      return undefined;
    }
  }
  try {
    return nonEmpty(runtime.process?.env?.[name]);
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * Parses an OpenTelemetry key-value list such as `OTEL_RESOURCE_ATTRIBUTES`
 * or `OTEL_EXPORTER_OTLP_HEADERS`: comma-separated `key=value` pairs, keys
 * and values percent-decoded and trimmed. Pairs without `=` or with an empty
 * key or a malformed percent-escape are skipped and listed in `invalid`.
 */
export function parseKeyValueList(
  text: string,
): { entries: Record<string, string>; invalid: string[] } {
  const entries: Record<string, string> = {};
  const invalid: string[] = [];
  for (const raw of text.split(",")) {
    const pair = raw.trim();
    if (pair === "") continue;
    const at = pair.indexOf("=");
    if (at <= 0) {
      invalid.push(pair);
      continue;
    }
    try {
      const key = decodeURIComponent(pair.slice(0, at).trim());
      const value = decodeURIComponent(pair.slice(at + 1).trim());
      if (key === "") {
        invalid.push(pair);
        continue;
      }
      entries[key] = value;
    } catch {
      invalid.push(pair);
    }
  }
  return { entries, invalid };
}
