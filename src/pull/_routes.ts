/**
 * Route templates for `instrument()`: match a request path against
 * `/orders/:id`-style templates and name it `/orders/{id}`, so raw paths never
 * become label values.
 *
 * @module
 */

/** The part of URLPattern this module uses (not in every runtime's types). */
interface PatternLike {
  test(input: { pathname: string }): boolean;
}
type PatternConstructor = new (init: { pathname: string }) => PatternLike;

/** How the errors of `instrument()` start. */
export const CANNOT_INSTRUMENT = "Cannot instrument handler";

/** One compiled template: its label, and a test of a pathname. */
export interface CompiledRoute {
  readonly label: string;
  readonly test: (pathname: string) => boolean;
}

/**
 * Renders a template as a label: `:name` parameters (with an optional
 * `(regex)` and modifier) become `{name}`.
 */
export function routeLabel(template: string): string {
  return template.replace(
    /:([A-Za-z_$][\w$]*)(?:\((?:\\.|[^\\)])*\))?[?*+]?/g,
    "{$1}",
  );
}

/**
 * Compiles templates, with `URLPattern` when the runtime has it; without it,
 * with a small matcher that understands literal segments, `:name` segments and
 * a final `*`.
 *
 * @throws {TypeError} When a template does not start with `/`, or URLPattern rejects it.
 */
export function compileRoutes(templates: readonly string[]): CompiledRoute[] {
  const Pattern = (globalThis as { URLPattern?: PatternConstructor })
    .URLPattern;
  return templates.map((template) => {
    if (typeof template !== "string" || !template.startsWith("/")) {
      throw new TypeError(
        `${CANNOT_INSTRUMENT}: a route must start with "/", got ${
          JSON.stringify(template)
        }`,
      );
    }
    const label = routeLabel(template);
    if (typeof Pattern === "function") {
      let pattern: PatternLike;
      try {
        pattern = new Pattern({ pathname: template });
      } catch (error) {
        throw new TypeError(
          `${CANNOT_INSTRUMENT}: route ${
            JSON.stringify(template)
          } is not a valid URLPattern pathname: ${(error as Error).message}`,
        );
      }
      const input = { pathname: "" };
      return {
        label,
        test: (pathname: string) => {
          input.pathname = pathname;
          return pattern.test(input);
        },
      };
    }
    return { label, test: segmentMatcher(template) };
  });
}

/** The fallback matcher for runtimes without URLPattern. */
function segmentMatcher(template: string): (pathname: string) => boolean {
  const parts = template.split("/");
  const rest = parts[parts.length - 1] === "*";
  if (rest) parts.pop();
  return (pathname) => {
    const segments = pathname.split("/");
    if (
      rest ? segments.length < parts.length : segments.length !== parts.length
    ) {
      return false;
    }
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const segment = segments[i]!;
      if (part.startsWith(":") ? segment === "" : part !== segment) {
        return false;
      }
    }
    return true;
  };
}

/**
 * The path of an absolute URL string, without query or fragment, as
 * `new URL(url).pathname` gives it for the URLs a `Request` carries.
 */
export function pathnameOf(url: string): string {
  const authority = url.indexOf("//");
  const start = url.indexOf("/", authority < 0 ? 0 : authority + 2);
  if (start < 0) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query >= 0) end = query;
  const hash = url.indexOf("#", start);
  if (hash >= 0 && hash < end) end = hash;
  return url.slice(start, end);
}

/** W3C trace context: version-traceid-parentid-flags, lower-case hex. */
const TRACEPARENT =
  /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|$)/;

/**
 * The exemplar labels of a sampled W3C `traceparent` header: `trace_id` and
 * `span_id`; `undefined` when the header is absent, malformed, all-zero, or
 * not sampled (an unsampled trace is not stored, so there is nothing to link).
 */
export function traceparentExemplar(
  request: Request,
): { trace_id: string; span_id: string } | undefined {
  const header = request.headers.get("traceparent");
  if (header === null) return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (match === null || match[1] === "ff") return undefined;
  const traceId = match[2]!;
  const spanId = match[3]!;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  if ((parseInt(match[4]!, 16) & 1) === 0) return undefined;
  return { trace_id: traceId, span_id: spanId };
}
