/**
 * HTTP content negotiation for the metrics handler: which exposition format
 * (`Accept`) and whether to gzip (`Accept-Encoding`), q-values honoured.
 *
 * @module
 */

/**
 * One element of an `Accept`-style list: lower-cased value, `version`
 * parameter (the only one negotiation reads) and q.
 */
interface ListItem {
  value: string;
  version: string | undefined;
  /** The `proto` and `encoding` parameters, which the protobuf format needs. */
  proto?: string;
  encoding?: string;
  q: number;
}

/**
 * Splits an `Accept`-style header into items. Commas and semicolons inside
 * quoted strings do not split; a missing q is 1; an unreadable q is 0.
 */
function parseList(header: string): ListItem[] {
  const items: ListItem[] = [];
  for (const element of splitOutsideQuotes(header, ",")) {
    const parts = splitOutsideQuotes(element, ";");
    const value = parts[0]!.trim().toLowerCase();
    if (value === "") continue;
    let version: string | undefined;
    let proto: string | undefined;
    let encoding: string | undefined;
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const part = parts[i]!;
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      const name = part.slice(0, eq).trim().toLowerCase();
      let raw = part.slice(eq + 1).trim();
      if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
        raw = raw.slice(1, -1).replace(/\\(.)/g, "$1");
      }
      if (name === "q") {
        q = /^\d+(\.\d*)?$|^\.\d+$/.test(raw) ? Math.min(Number(raw), 1) : 0;
      } else if (name === "version") {
        version = raw;
      } else if (name === "proto") {
        proto = raw;
      } else if (name === "encoding") {
        encoding = raw;
      }
    }
    const item: ListItem = { value, version, q };
    if (proto !== undefined) item.proto = proto;
    if (encoding !== undefined) item.encoding = encoding;
    items.push(item);
  }
  return items;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\\" && quoted) i++;
    else if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** How well one media range matches a format: -1 none, else higher is more specific. */
function specificity(
  item: ListItem,
  type: string,
  subtype: string,
  version: string,
): number {
  if (item.value === "*/*") return 0;
  if (item.value === `${type}/*`) return 1;
  if (item.value !== `${type}/${subtype}`) return -1;
  if (item.version === undefined) return 2;
  return item.version === version ? 3 : -1;
}

/** The q the most specific matching range gives a format, and that specificity. */
function preference(
  items: readonly ListItem[],
  type: string,
  subtype: string,
  version: string,
): { q: number; specificity: number } {
  let best = -1;
  let q = 0;
  for (const item of items) {
    const s = specificity(item, type, subtype, version);
    // A range that does not match this format says nothing about it.
    if (s < 0) continue;
    if (s > best || (s === best && item.q > q)) {
      best = s;
      q = item.q;
    }
  }
  return { q, specificity: best };
}

/**
 * Whether an `Accept` header asks for OpenMetrics 1.0.0: when the client
 * prefers `application/openmetrics-text` (unversioned or `version=1.0.0`)
 * over `text/plain; version=0.0.4`; otherwise the handler serves text 0.0.4.
 * Each format takes the q of the most specific range that matches it; a tie
 * goes to the more specific match, then to text. An absent, empty or
 * unmatched header gives text, the format every scraper reads, rather than
 * a 406.
 */
export function prefersOpenMetrics(accept: string | null): boolean {
  if (accept === null) return false;
  const items = parseList(accept);
  const om = preference(items, "application", "openmetrics-text", "1.0.0");
  const text = preference(items, "text", "plain", "0.0.4");
  return om.q > 0 &&
    (om.q > text.q ||
      (om.q === text.q && om.specificity > text.specificity));
}

/**
 * Whether an `Accept-Encoding` header allows gzip: `gzip` (or `x-gzip`) with
 * q > 0, else `*` with q > 0, and not outranked by an explicit `identity`.
 */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  if (acceptEncoding === null) return false;
  let gzip: number | undefined;
  let wildcard: number | undefined;
  let identity = 0;
  for (const item of parseList(acceptEncoding)) {
    if (item.value === "gzip" || item.value === "x-gzip") {
      gzip = Math.max(gzip ?? 0, item.q);
    } else if (item.value === "*") wildcard = item.q;
    else if (item.value === "identity") identity = item.q;
  }
  const q = gzip ?? wildcard ?? 0;
  return q > 0 && q >= identity;
}

/**
 * Whether an `Accept` header asks for the Prometheus protobuf exposition
 * (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
 * encoding=delimited`, as Prometheus sends it when native histograms are
 * enabled) over both text formats. Only that exact media range counts for
 * protobuf (no wildcard: a client that reads only text gets text); its q
 * must be above the q of text 0.0.4 and of OpenMetrics.
 */
export function prefersProtobuf(accept: string | null): boolean {
  if (accept === null) return false;
  const items = parseList(accept);
  let q = 0;
  for (const item of items) {
    if (
      item.value === "application/vnd.google.protobuf" &&
      item.proto === "io.prometheus.client.MetricFamily" &&
      item.encoding === "delimited"
    ) {
      q = Math.max(q, item.q);
    }
  }
  if (q === 0) return false;
  const om = preference(items, "application", "openmetrics-text", "1.0.0");
  const text = preference(items, "text", "plain", "0.0.4");
  return q > om.q && q > text.q;
}

/**
 * Whether an `Accept` header asks for the HTML view: `text/html` named
 * explicitly (no wildcard counts: no scraper names it, every browser does)
 * with q > 0, and at least as high as the q text 0.0.4 and OpenMetrics get.
 */
export function prefersHtml(accept: string | null): boolean {
  if (accept === null) return false;
  const items = parseList(accept);
  const html = preference(items, "text", "html", "");
  if (html.specificity !== 2 || !(html.q > 0)) return false;
  const om = preference(items, "application", "openmetrics-text", "1.0.0");
  const text = preference(items, "text", "plain", "0.0.4");
  return html.q >= om.q && html.q >= text.q;
}
