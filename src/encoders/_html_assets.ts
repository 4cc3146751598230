/**
 * The style and script of the HTML view, inlined into every page (the page
 * loads nothing from anywhere, and its Content-Security-Policy admits these
 * two elements only, by nonce).
 *
 * The script works on what the encoder rendered, never on data of its own:
 * - the filter box hides families and series that do not contain its text
 *   (in the name, help, type or labels); a family whose name matches shows
 *   all its series;
 * - counters' rate: every counter row carries `data-key` and `data-value`;
 *   the values and time of the previous load are kept in `sessionStorage`
 *   (so reloading the page shows rates), and Refresh fetches the page again,
 *   swaps the families in place and shows the rate per second since the
 *   previous values;
 * - auto-refresh every 10 s when its box is ticked.
 *
 * @module
 */

/** The page's style sheet. */
export const HTML_STYLE: string = `
:root { color-scheme: light dark; --fg: #1d232b; --muted: #5b6673; --line: #d8dde3;
  --bar: #3a7bd5; --bg: #fff; --head: #f4f6f8; font: 14px/1.4 system-ui, sans-serif; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ed; --muted: #9aa5b1;
  --line: #39414b; --bar: #6ea4f0; --bg: #15191e; --head: #1e242b; } }
body { margin: 0; color: var(--fg); background: var(--bg); }
header { position: sticky; top: 0; display: flex; gap: 12px; align-items: center;
  flex-wrap: wrap; padding: 10px 16px; background: var(--head);
  border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0 8px 0 0; }
#filter { flex: 1 1 240px; max-width: 420px; padding: 5px 8px; font: inherit; }
#status { color: var(--muted); }
main { padding: 8px 16px 32px; }
section { margin: 18px 0; }
h2 { font-size: 15px; margin: 0 0 2px; }
h2 .type, h2 .unit { font-weight: normal; color: var(--muted); font-size: 12px;
  margin-left: 6px; border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; }
.help { margin: 0 0 6px; color: var(--muted); }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: var(--muted); font-style: italic; }
.hidden { display: none; }
svg.buckets { display: block; }
svg.buckets rect { fill: var(--bar); }
svg.buckets text { fill: var(--muted); font-size: 9px; }
`;

/** The page's script: filter, counter rates, refresh. */
export const HTML_SCRIPT: string = `
"use strict";
(() => {
  const storeKey = "edgemetrics:" + location.pathname + location.search;
  const filter = document.getElementById("filter");
  const status = document.getElementById("status");
  const auto = document.getElementById("auto");
  let previous = null;
  try { previous = JSON.parse(sessionStorage.getItem(storeKey) || "null"); } catch {}
  let timer = 0;

  function valuesNow() {
    const values = {};
    for (const row of document.querySelectorAll("tr[data-key]")) {
      values[row.dataset.key] = Number(row.dataset.value);
    }
    return { at: Date.now(), values };
  }

  function showRates() {
    const now = valuesNow();
    const seconds = previous === null ? 0 : (now.at - previous.at) / 1000;
    for (const row of document.querySelectorAll("tr[data-key]")) {
      const cell = row.querySelector("td.rate");
      if (cell === null) continue;
      const before = previous === null ? undefined : previous.values[row.dataset.key];
      const value = now.values[row.dataset.key];
      if (before === undefined || !(seconds > 0)) cell.textContent = "\\u2013";
      else if (value < before) cell.textContent = "reset";
      else cell.textContent = ((value - before) / seconds).toPrecision(3) + "/s";
    }
    status.textContent = (previous === null ? "loaded " : "rates over " +
      seconds.toFixed(1) + " s, ") + new Date(now.at).toLocaleTimeString();
    previous = now;
    try { sessionStorage.setItem(storeKey, JSON.stringify(now)); } catch {}
  }

  function applyFilter() {
    const text = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const section of document.querySelectorAll("section.family")) {
      const head = (section.dataset.name + " " + section.dataset.type + " " +
        (section.querySelector(".help")?.textContent ?? "")).toLowerCase();
      const whole = text === "" || head.includes(text);
      let rows = 0;
      for (const row of section.querySelectorAll("tbody tr")) {
        const match = whole || row.textContent.toLowerCase().includes(text);
        row.classList.toggle("hidden", !match);
        if (match) rows++;
      }
      const visible = whole || rows > 0;
      section.classList.toggle("hidden", !visible);
      if (visible) shown++;
    }
    document.getElementById("count").textContent = shown + " of " +
      document.querySelectorAll("section.family").length + " families";
  }

  async function refresh() {
    try {
      const response = await fetch(location.href, {
        headers: { Accept: "text/html" }, cache: "no-store",
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      // Only the families are taken, parsed inert in a template: the new
      // page's style and script (with another nonce) are never parsed here.
      const page = await response.text();
      const open = '<main id="families">';
      const start = page.indexOf(open);
      const end = page.indexOf("</main>", start);
      if (start < 0 || end < 0) throw new Error("no families in the answer");
      const template = document.createElement("template");
      template.innerHTML = page.slice(start + open.length, end);
      document.getElementById("families").replaceChildren(template.content);
      showRates();
      applyFilter();
      document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
    } catch (error) {
      status.textContent = "refresh failed: " + error.message;
    }
  }

  filter.addEventListener("input", applyFilter);
  document.getElementById("refresh").addEventListener("click", refresh);
  auto.addEventListener("change", () => {
    clearInterval(timer);
    if (auto.checked) timer = setInterval(refresh, 10000);
  });
  showRates();
  applyFilter();
  document.body.dataset.ready = "true";
})();
`;
