import assert from "node:assert/strict";
import { entriesOf, forConsumers, packageJson } from "../../.ci/build.ts";

Deno.test("entriesOf() maps deno.json exports to built files and declarations, a new entry included", () => {
  assert.deepEqual(
    entriesOf({
      ".": "./mod.ts",
      "./pull": "./src/pull.ts",
      "./otel": "./src/otel/mod.ts",
    }),
    [
      {
        subpath: ".",
        source: "./mod.ts",
        out: "edgemetrics",
        types: "./types/mod.d.ts",
      },
      {
        subpath: "./pull",
        source: "./src/pull.ts",
        out: "pull",
        types: "./types/src/pull.d.ts",
      },
      {
        subpath: "./otel",
        source: "./src/otel/mod.ts",
        out: "otel",
        types: "./types/src/otel/mod.d.ts",
      },
    ],
  );
  assert.deepEqual(entriesOf("./mod.ts").map((e) => e.out), ["edgemetrics"]);
});

Deno.test("entriesOf() rejects a subpath without ./ and a source that is not .ts", () => {
  assert.throws(
    () => entriesOf({ "pull": "./src/pull.ts" }),
    new TypeError('Cannot build entry "pull": a subpath starts with "./"'),
  );
  assert.throws(
    () => entriesOf({ ".": "./mod.js" }),
    new TypeError(
      'Cannot build entry ".": its source "./mod.js" is not a relative .ts file',
    ),
  );
});

Deno.test("packageJson() lists types before default for every entry, and no dependencies", () => {
  const pkg = packageJson(
    { name: "@a/b", version: "1.2.3", license: "MIT", exports: {} },
    entriesOf({ ".": "./mod.ts", "./push": "./src/push.ts" }),
  );
  assert.deepEqual(pkg.exports, {
    ".": { types: "./types/mod.d.ts", default: "./edgemetrics.js" },
    "./push": { types: "./types/src/push.d.ts", default: "./push.js" },
    "./package.json": "./package.json",
  });
  assert.equal(pkg.sideEffects, false);
  assert.equal(pkg.type, "module");
  assert.equal(pkg.main, "./edgemetrics.js");
  assert.equal(pkg.types, "./types/mod.d.ts");
  assert.equal("dependencies" in pkg, false);
});

Deno.test("forConsumers() renames relative .ts imports to .js and references the disposable lib only where needed", () => {
  assert.equal(
    forConsumers(
      'import type { A } from "./a.ts";\nexport * from "../b/c.ts";\n' +
        'type T = import("./d.ts").D;\nexport { x } from "other.ts";\n',
    ),
    'import type { A } from "./a.js";\nexport * from "../b/c.js";\n' +
      'type T = import("./d.js").D;\nexport { x } from "other.ts";\n',
  );
  assert.equal(
    forConsumers("export declare class E implements AsyncDisposable {}\n"),
    '/// <reference lib="esnext.disposable" />\n' +
      "export declare class E implements AsyncDisposable {}\n",
  );
});
