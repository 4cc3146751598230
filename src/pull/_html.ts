/**
 * The handler's answer to a browser: the HTML view of a snapshot, under a
 * Content-Security-Policy that admits only the page's own inline style and
 * script (by a fresh nonce) and fetches to its own origin (Refresh).
 *
 * @module
 */

import type { MetricFamily } from "../model.ts";
import { encodeHtml, HTML_CONTENT_TYPE } from "../encoders/html.ts";

/** A fresh nonce: 16 random bytes in base64 (made per page, never at import). */
function makeNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The headers of the HTML view for `nonce`: no scripts, styles, images,
 * frames, forms or connections beyond the page's own, and never cached.
 */
export function htmlHeaders(nonce: string): Record<string, string> {
  return {
    "Content-Type": HTML_CONTENT_TYPE,
    "Content-Security-Policy": [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    Vary: "Accept, Accept-Encoding",
  };
}

/**
 * The HTML view of `families` and its headers; `families` undefined gives
 * HEAD's answer (the headers a GET would have, no body).
 */
export function htmlPage(
  families: readonly MetricFamily[] | undefined,
): { body: string | null; headers: Record<string, string> } {
  const nonce = makeNonce();
  return {
    body: families === undefined ? null : encodeHtml(families, { nonce }),
    headers: htmlHeaders(nonce),
  };
}
