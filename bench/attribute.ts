/**
 * Which source files the bytes of a worker bundle come from: bundles an entry
 * from source with `deno bundle` (minified, browser platform; W6 itself
 * bundles the built package with esbuild, within 0.1 kB gzip) with a source map,
 * and charges every byte of the minified output to the source file its
 * mapping points at. Also lists what each file leaves at module scope in the
 * unminified bundle, the code a bundler keeps even when nothing imports it.
 *
 *     deno run --allow-all bench/attribute.ts            # pull-only and whole module
 *     deno run --allow-all bench/attribute.ts mod.ts     # one entry
 *
 * Gzip shares are estimates: gzip compresses across files, so a file's share
 * is the gzip size of its own bytes, scaled so the shares add up to the
 * bundle's real gzip size.
 *
 * @module
 */

import { gzipSync } from "node:zlib";

const root = new URL("../", import.meta.url);

const BASE64 =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decodes one source-map `mappings` segment (base64 VLQs). */
function decodeSegment(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return values;
}

async function bundle(
  entry: string,
  out: string,
  minify: boolean,
): Promise<void> {
  const args = ["bundle", "--quiet", "--no-lock", "--platform", "browser"];
  if (minify) args.push("--minify", "--sourcemap", "external");
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...args, "--format", "esm", "-o", out, entry],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot bundle ${entry}: ${new TextDecoder().decode(stderr)}`,
    );
  }
}

/** Minified bytes per source file, from the bundle's source map. */
async function attribute(entry: string, dir: string): Promise<void> {
  const out = `${dir}/out.js`;
  await bundle(entry, out, true);
  const code = await Deno.readTextFile(out);
  const map = JSON.parse(await Deno.readTextFile(`${out}.map`)) as {
    sources: string[];
    mappings: string;
  };
  const lines = code.split("\n");
  const pieces = new Map<string, string[]>();
  let source = 0;
  for (const [lineNo, mapping] of map.mappings.split(";").entries()) {
    const line = lines[lineNo] ?? "";
    let column = 0;
    let from = 0;
    let owner: number | undefined;
    const charge = (to: number) => {
      const name = owner === undefined ? "(unmapped)" : map.sources[owner]!;
      const list = pieces.get(name) ?? [];
      list.push(line.slice(from, to));
      pieces.set(name, list);
    };
    for (const segment of mapping.split(",")) {
      if (segment === "") continue;
      const [dc, ds] = decodeSegment(segment);
      column += dc!;
      charge(column);
      from = column;
      if (ds !== undefined) source += ds;
      owner = ds === undefined ? undefined : source;
    }
    charge(line.length);
  }
  const total = new TextEncoder().encode(code).length;
  const gzipTotal = gzipSync(code, { level: 9 }).length;
  const rows = [...pieces].map(([name, list]) => {
    const text = list.join("");
    return {
      name: name.replace(/^(\.\.\/)+/, "").replace(/^.*\/main\//, ""),
      bytes: new TextEncoder().encode(text).length,
      gzip: text === "" ? 0 : gzipSync(text, { level: 9 }).length,
    };
  }).filter((row) => row.bytes > 0).sort((a, b) => b.bytes - a.bytes);
  const gzipSum = rows.reduce((sum, row) => sum + row.gzip, 0);
  console.log(
    `\n${
      entry.replace(root.pathname, "")
    }: ${total} B minified, ${gzipTotal} B gzip`,
  );
  console.log("| file | minified B | share | est. gzip B |");
  console.log("|---|---:|---:|---:|");
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${row.bytes} | ${
        (100 * row.bytes / total).toFixed(1)
      }% | ${Math.round(row.gzip * gzipTotal / gzipSum)} |`,
    );
  }
}

/** Module-scope statements other than declarations of functions and classes, per file. */
async function moduleScope(entry: string, dir: string): Promise<void> {
  const out = `${dir}/plain.js`;
  await bundle(entry, out, false);
  const text = await Deno.readTextFile(out);
  console.log(
    `\nmodule-scope code kept in the unminified bundle of ${
      entry.replace(root.pathname, "")
    }:`,
  );
  let file = "";
  for (const line of text.split("\n")) {
    const marker = /^\/\/ (\S+\.ts)$/.exec(line);
    if (marker !== null) file = marker[1]!;
    else if (/^(var|let|const|for|if|\w+\()/.test(line)) {
      console.log(`  ${file}: ${line.slice(0, 100)}`);
    }
  }
}

const dir = await Deno.makeTempDir({ prefix: "edgemetrics-attribute-" });
try {
  const entries = Deno.args.length > 0
    ? Deno.args.map((arg) => new URL(arg, `file://${Deno.cwd()}/`).pathname)
    : [
      new URL("entries/pull_only.ts", import.meta.url).pathname,
      new URL("mod.ts", root).pathname,
    ];
  for (const entry of entries) {
    await attribute(entry, dir);
    await moduleScope(entry, dir);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
