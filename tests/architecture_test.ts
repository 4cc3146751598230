import assert from "node:assert/strict";

const ENCODERS = new URL("../src/encoders/", import.meta.url);
const SRC = new URL("../src/", import.meta.url);

/** What an encoder must never import: instruments, the registry, transports. */
const FORBIDDEN = [
  new URL("instruments/", SRC).href,
  new URL("registry.ts", SRC).href,
  new URL("pull/", SRC).href,
  new URL("push/", SRC).href,
];

/**
 * The module specifiers of every static and dynamic import and re-export in
 * a source file, leaving out comments (JSDoc examples import the package).
 */
function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /^\s*\/\/.*$/gm,
    "",
  );
  const specifiers: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) specifiers.push(match[1]!);
  }
  return specifiers;
}

/** The imports of `source` (a file at `file`) that reach a forbidden module. */
function violationsOf(file: URL, source: string): string[] {
  const violations: string[] = [];
  for (const specifier of importsOf(source)) {
    if (!specifier.startsWith(".")) {
      violations.push(`${file.pathname} imports ${specifier} (not relative)`);
      continue;
    }
    const target = new URL(specifier, file).href;
    if (FORBIDDEN.some((forbidden) => target.startsWith(forbidden))) {
      violations.push(`${file.pathname} imports ${specifier}`);
    }
  }
  return violations;
}

async function encoderFiles(): Promise<URL[]> {
  const files: URL[] = [];
  for await (const entry of Deno.readDir(ENCODERS)) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      files.push(new URL(entry.name, ENCODERS));
    }
  }
  return files.sort((a, b) => a.href.localeCompare(b.href));
}

Deno.test("importsOf() finds static, type-only, re-export and dynamic imports", () => {
  assert.deepEqual(
    importsOf(`
      /**
       * import { X } from "@edgemetrics/edgemetrics";
       */
      // import "../registry.ts";
      import type { A } from "../model.ts";
      import { b,
        c } from './_text.ts';
      export * from "../registry.ts";
      export { d } from "../instruments/counter.ts";
      import "../pull/handler.ts";
      const e = await import("../push/otlp.ts");
    `),
    [
      "../model.ts",
      "./_text.ts",
      "../registry.ts",
      "../instruments/counter.ts",
      "../pull/handler.ts",
      "../push/otlp.ts",
    ],
  );
});

Deno.test("violationsOf() flags an encoder that imports an instrument, the registry, pull or push", () => {
  const file = new URL("made_up.ts", ENCODERS);
  assert.deepEqual(
    violationsOf(
      file,
      `import type { MetricFamily } from "../model.ts";
import { x } from "./_text.ts";
import { Counter } from "../instruments/counter.ts";
import { Registry } from "../registry.ts";
export * from "../pull/handler.ts";
const p = import("../push/otlp.ts");
import "npm:left-pad";`,
    ).map((line) => line.replace(file.pathname, "made_up.ts")),
    [
      "made_up.ts imports ../instruments/counter.ts",
      "made_up.ts imports ../registry.ts",
      "made_up.ts imports ../pull/handler.ts",
      "made_up.ts imports npm:left-pad (not relative)",
      "made_up.ts imports ../push/otlp.ts",
    ],
  );
});

Deno.test("src/encoders/ imports no instrument, registry, pull or push module", async () => {
  const files = await encoderFiles();
  assert.ok(
    files.some((file) => file.href.endsWith("/prometheus_text.ts")),
    "the encoders folder was found",
  );
  const violations: string[] = [];
  for (const file of files) {
    violations.push(...violationsOf(file, await Deno.readTextFile(file)));
  }
  assert.deepEqual(violations, []);
});

Deno.test("the text encoders import only the snapshot model, the label cache and their shared _text.ts", async () => {
  for (const name of ["prometheus_text.ts", "openmetrics.ts", "_text.ts"]) {
    const file = new URL(name, ENCODERS);
    const allowed = name === "_text.ts"
      ? ["../model.ts", "../_label_cache.ts"]
      : ["../model.ts", "./_text.ts"];
    const imports = importsOf(await Deno.readTextFile(file));
    assert.deepEqual(
      imports.filter((specifier) => !allowed.includes(specifier)),
      [],
      name,
    );
  }
});

Deno.test("src/encoders/ reaches no instrument, registry, pull or push module, even indirectly (deno info)", async () => {
  for (const file of await encoderFiles()) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", file.pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: { specifier: string }[];
    };
    assert.ok(graph.modules.length > 0, file.pathname);
    const reached = graph.modules.map((module) => module.specifier).filter(
      (specifier) =>
        FORBIDDEN.some((forbidden) => specifier.startsWith(forbidden)),
    );
    assert.deepEqual(reached, [], file.pathname);
  }
});

Deno.test("the registry imports one encoder, prometheus_text.ts for metrics(): what it shares with the encoders lives below both", async () => {
  const file = new URL("registry.ts", SRC);
  const encoders = importsOf(await Deno.readTextFile(file)).filter(
    (specifier) => new URL(specifier, file).href.startsWith(ENCODERS.href),
  );
  assert.deepEqual(encoders, ["./encoders/prometheus_text.ts"]);
});

Deno.test("src/otel/ (the OTel front end) imports no encoder, transport or worker module", async () => {
  const OTEL = new URL("otel/", SRC);
  const forbidden = ["encoders/", "pull/", "push/", "workers/"].map((dir) =>
    new URL(dir, SRC).href
  );
  const violations: string[] = [];
  let files = 0;
  for await (const entry of Deno.readDir(OTEL)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    files++;
    const file = new URL(entry.name, OTEL);
    for (const specifier of importsOf(await Deno.readTextFile(file))) {
      const target = new URL(specifier, file).href;
      if (forbidden.some((dir) => target.startsWith(dir))) {
        violations.push(`${entry.name} imports ${specifier}`);
      }
    }
  }
  assert.ok(files >= 4, "the otel folder was found");
  assert.deepEqual(violations, []);
});

Deno.test("src/aggregate/ imports no instrument and no encoder: it moves snapshots and serves them through pull/handler.ts", async () => {
  const folder = new URL("aggregate/", SRC);
  const forbidden = [
    new URL("instruments/", SRC).href,
    new URL("encoders/", SRC).href,
  ];
  const violations: string[] = [];
  let files = 0;
  for await (const entry of Deno.readDir(folder)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    files++;
    const file = new URL(entry.name, folder);
    for (const specifier of importsOf(await Deno.readTextFile(file))) {
      const target = new URL(specifier, file).href;
      if (
        !specifier.startsWith(".") ||
        forbidden.some((prefix) => target.startsWith(prefix))
      ) {
        violations.push(`${entry.name} imports ${specifier}`);
      }
    }
  }
  assert.ok(files >= 5, "the aggregate folder was found");
  assert.deepEqual(violations, []);
});
