/**
 * An HTML page of a snapshot, for people: what `/metrics` shows a browser.
 *
 * @module
 */

import type {
  HistogramFamily,
  HistogramPoint,
  Labels,
  MetricFamily,
} from "../model.ts";
import { formatCanonical, formatNumber } from "./_text.ts";
import { HTML_SCRIPT, HTML_STYLE } from "./_html_assets.ts";

/**
 * The `Content-Type` of the HTML view.
 *
 * @example
 * ```ts
 * import { HTML_CONTENT_TYPE } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(HTML_CONTENT_TYPE, "text/html; charset=utf-8");
 * ```
 */
export const HTML_CONTENT_TYPE = "text/html; charset=utf-8" as const;

/**
 * Options of {@linkcode encodeHtml}.
 *
 * @example
 * ```ts
 * import type { HtmlOptions } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const options: HtmlOptions = { nonce: "r4nd0m", title: "orders service" };
 * assert.equal(options.title, "orders service");
 * ```
 */
export interface HtmlOptions {
  /**
   * The Content-Security-Policy nonce the page's one `<style>` and one
   * `<script>` carry; serve the page with `script-src 'nonce-…'` and
   * `style-src 'nonce-…'` (as `metricsHandler` does). Base64 characters only.
   */
  nonce: string;
  /** The page title (default `Metrics`). */
  title?: string;
}

/**
 * Encodes a snapshot as a self-contained HTML page: one section per family
 * with its name (as the text format writes its samples), type, unit and
 * HELP; its series as a table, one column per label; counters with a rate
 * column; histograms with count, sum, mean and an inline SVG bar chart of
 * the observations per bucket; summaries with their quantiles. A filter
 * box, counter rates since the previous refresh and a Refresh button come
 * from an inline script that needs no network but the page's own URL. All
 * text is escaped. Nothing is loaded from anywhere else.
 *
 * @param families The snapshot.
 * @param options The CSP nonce and the title.
 * @returns The page.
 * @throws {TypeError} When the nonce is empty or has characters outside base64.
 *
 * @example
 * ```ts
 * import { encodeHtml } from "@edgemetrics/edgemetrics";
 * import assert from "node:assert/strict";
 *
 * const page = encodeHtml([{
 *   type: "counter",
 *   name: "jobs",
 *   help: "Jobs <done>.",
 *   points: [{ labels: { queue: "mail" }, value: 3, created: 0 }],
 * }], { nonce: "abc123" });
 * assert.match(page, /<h2><code>jobs_total<\/code>/);
 * assert.match(page, /Jobs &lt;done&gt;\./);
 * assert.match(page, /<script nonce="abc123">/);
 * ```
 */
export function encodeHtml(
  families: readonly MetricFamily[],
  options: HtmlOptions,
): string {
  const nonce = options.nonce;
  if (typeof nonce !== "string" || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(nonce)) {
    throw new TypeError(
      `Cannot encode HTML: nonce must be base64 characters, got ${
        JSON.stringify(nonce)
      }`,
    );
  }
  const title = escape(options.title ?? "Metrics");
  const parts = [
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<meta name="referrer" content="no-referrer">`,
    `<title>${title}</title><style nonce="${nonce}">${HTML_STYLE}</style></head>\n`,
    `<body><header><h1>${title}</h1>`,
    `<input id="filter" type="search" placeholder="Filter by name, help or label" aria-label="Filter">`,
    `<span id="count">${families.length} families</span>`,
    `<button id="refresh" type="button">Refresh</button>`,
    `<label><input id="auto" type="checkbox"> every 10 s</label>`,
    `<span id="status"></span></header>\n<main id="families">\n`,
  ];
  for (const family of families) parts.push(section(family));
  if (families.length === 0) {
    parts.push(`<p class="empty">No metrics registered.</p>\n`);
  }
  parts.push(
    `</main>\n<script nonce="${nonce}">${HTML_SCRIPT}</script></body></html>\n`,
  );
  return parts.join("");
}

/** One family: heading, help and its table. */
function section(family: MetricFamily): string {
  const shown = family.type === "counter"
    ? family.name + "_total"
    : family.name;
  const name = escape(shown);
  const unit = family.unit === undefined || family.unit === ""
    ? ""
    : `<span class="unit">${escape(family.unit)}</span>`;
  const head =
    `<section class="family" id="${
      escape("family-" + shown)
    }" data-name="${name}" data-type="${family.type}">` +
    `<h2><code>${name}</code><span class="type">${family.type}</span>${unit}</h2>` +
    (family.help === "" ? "" : `<p class="help">${escape(family.help)}</p>`);
  if (family.points.length === 0) {
    return `${head}<p class="empty">No series yet.</p></section>\n`;
  }
  const labelNames = [
    ...new Set(family.points.flatMap((point) => Object.keys(point.labels))),
  ];
  const labelCells = (labels: Labels) =>
    labelNames.map((label) => `<td>${escape(labels[label] ?? "")}</td>`)
      .join("");
  const labelHeads = labelNames.map((label) => `<th>${escape(label)}</th>`)
    .join("");
  const rows: string[] = [];
  let columns: string;
  switch (family.type) {
    case "counter":
      columns = `<th class="num">total</th><th class="num">rate</th>`;
      for (const point of family.points) {
        rows.push(
          `<tr data-key="${
            escape(shown + seriesKey(point.labels))
          }" data-value="${formatNumber(point.value)}">${
            labelCells(point.labels)
          }<td class="num">${
            formatNumber(point.value)
          }</td><td class="num rate">\u2013</td></tr>`,
        );
      }
      break;
    case "gauge":
    case "updowncounter":
      columns = `<th class="num">value</th>`;
      for (const point of family.points) {
        rows.push(
          `<tr>${labelCells(point.labels)}<td class="num">${
            formatNumber(point.value)
          }</td></tr>`,
        );
      }
      break;
    case "histogram":
      columns =
        `<th class="num">count</th><th class="num">sum</th><th class="num">mean</th><th>observations per bucket</th>`;
      for (const point of family.points) {
        rows.push(
          `<tr>${labelCells(point.labels)}${countSumMean(point)}<td>${
            bars(family, point)
          }</td></tr>`,
        );
      }
      break;
    case "summary": {
      const ranks = [
        ...new Set(
          family.points.flatMap((point) =>
            point.quantiles.map((q) => q.quantile)
          ),
        ),
      ];
      columns =
        `<th class="num">count</th><th class="num">sum</th><th class="num">mean</th>` +
        ranks.map((rank) => `<th class="num">p${formatNumber(rank * 100)}</th>`)
          .join("");
      for (const point of family.points) {
        const byRank = new Map(
          point.quantiles.map((q) => [q.quantile, q.value]),
        );
        rows.push(
          `<tr>${labelCells(point.labels)}${countSumMean(point)}${
            ranks.map((rank) => {
              const value = byRank.get(rank);
              return `<td class="num">${
                value === undefined ? "" : formatNumber(value)
              }</td>`;
            }).join("")
          }</tr>`,
        );
      }
      break;
    }
  }
  return `${head}<table><thead><tr>${labelHeads}${columns}</tr></thead><tbody>${
    rows.join("")
  }</tbody></table></section>\n`;
}

function countSumMean(point: { count: number; sum: number }): string {
  const mean = point.count === 0
    ? ""
    : formatNumber(Number((point.sum / point.count).toPrecision(6)));
  return `<td class="num">${formatNumber(point.count)}</td><td class="num">${
    formatNumber(point.sum)
  }</td><td class="num">${mean}</td>`;
}

/** Bar geometry of the histogram charts. */
const BAR = { width: 22, gap: 4, height: 60, label: 14 };

/**
 * An inline SVG bar chart of a histogram series: one bar per bucket, its
 * height the bucket's own observations (not cumulative), scaled to the
 * fullest bucket, labelled with the bucket's upper bound; each bar's
 * tooltip says its range and count.
 */
function bars(family: HistogramFamily, point: HistogramPoint): string {
  const counts = point.counts;
  const top = Math.max(1, ...counts);
  const width = counts.length * (BAR.width + BAR.gap);
  const height = BAR.height + BAR.label;
  const shapes: string[] = [];
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    const upper = i < family.bounds.length
      ? formatCanonical(family.bounds[i]!)
      : "+Inf";
    const lower = i === 0 ? "" : formatCanonical(family.bounds[i - 1]!);
    const h = Math.round((count / top) * BAR.height);
    const x = i * (BAR.width + BAR.gap);
    const range = i === 0
      ? `\u2264 ${upper}`
      : i === family.bounds.length
      ? `> ${lower}`
      : `${lower} < v \u2264 ${upper}`;
    shapes.push(
      `<g class="bucket" data-le="${upper}" data-count="${count}">` +
        `<title>${escape(range)}: ${count}</title>` +
        `<rect x="${x}" y="${
          BAR.height - h
        }" width="${BAR.width}" height="${h}"></rect>` +
        `<text x="${x + BAR.width / 2}" y="${
          height - 3
        }" text-anchor="middle">${escape(upper)}</text></g>`,
    );
  }
  return `<svg class="buckets" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${
    escape(`observations per bucket of ${family.name}`)
  }">${shapes.join("")}</svg>`;
}

/** A stable key of a label set, for matching rows across refreshes. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(
    Object.entries(labels).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
  );
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for element content and double-quoted attributes. */
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
